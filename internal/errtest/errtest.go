// Package errtest checks, for the tests of every package, that an error
// for the world's mistakes says what it must: the file, field, flag or
// value at fault.
package errtest

import (
	"strings"
	"testing"
)

// Mentions reports whether err is not nil, failing t (prefixing its
// messages with what) when it is nil and for each of words that err's
// message does not contain. Callers skip their further checks of err when
// it returns false.
func Mentions(t testing.TB, what string, err error, words ...string) bool {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return false
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q does not mention %q", what, err, w)
		}
	}
	return true
}
