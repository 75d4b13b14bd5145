package errtest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// recorder is a testing.TB that keeps what Errorf is given.
type recorder struct {
	testing.TB
	msgs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

// Mentions fails for a nil error and for each missing word, naming it, and
// passes an error that holds every word.
func TestMentions(t *testing.T) {
	for _, tc := range []struct {
		err  error
		ok   bool
		msgs []string
	}{
		{nil, false, []string{"load: no error"}},
		{errors.New(`data: d.npz: no array "x"`), true, nil},
		{errors.New("data: d.npz: bad"), true, []string{`load: error "data: d.npz: bad" does not mention "no array \"x\""`}},
	} {
		var r recorder
		if ok := Mentions(&r, "load", tc.err, "d.npz", `no array "x"`); ok != tc.ok || !slices.Equal(r.msgs, tc.msgs) {
			t.Errorf("%v: %v, %q; want %v, %q", tc.err, ok, r.msgs, tc.ok, tc.msgs)
		}
	}
}
