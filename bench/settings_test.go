package bench

import (
	"errors"
	"testing"

	"github.com/curvprobe/curvprobe/probe/run"
)

// TestValidateNamesFlag checks that each refused setting of bench hvp and
// bench lambda is a *run.SettingError naming its flag, with the text the
// command prints after "--".
func TestValidateNamesFlag(t *testing.T) {
	lambda := LambdaSettings{Samples: 32, Batch: 16, Tol: 1e-3, MaxIter: 10, Method: "lanczos"}
	for _, c := range []struct {
		err  error
		want string
	}{
		{HVPSettings{Batch: 0, Repeats: 1}.Validate(), "batch 0: want at least 1"},
		{HVPSettings{Batch: 1, Repeats: -2}.Validate(), "repeats -2: want at least 1"},
		{with(lambda, func(s *LambdaSettings) { s.Samples = 0 }).Validate(), "samples 0: want at least 1"},
		{with(lambda, func(s *LambdaSettings) { s.Batch = -5 }).Validate(), "batch -5: want at least 1"},
		{with(lambda, func(s *LambdaSettings) { s.Tol = 1 }).Validate(), "tol 1: want a relative residual in (0, 1)"},
		{with(lambda, func(s *LambdaSettings) { s.MaxIter = 0 }).Validate(), "max-iter 0: want at least 1"},
		{with(lambda, func(s *LambdaSettings) { s.Method = "arnoldi" }).Validate(), `method "arnoldi": want lanczos or power`},
		{errOf(CacheBytes(-5)), "cache-mib -5: want 0 or -1 (never) or a positive size in MiB"},
	} {
		var se *run.SettingError
		if !errors.As(c.err, &se) || c.err.Error() != c.want {
			t.Errorf("got %v, want the *run.SettingError %q", c.err, c.want)
		}
	}
	if err := (HVPSettings{Batch: 1, Repeats: 1}).Validate(); err != nil {
		t.Errorf("HVPSettings: %v", err)
	}
	if err := lambda.Validate(); err != nil {
		t.Errorf("LambdaSettings: %v", err)
	}
	for mib, want := range map[int64]int64{-1: -1, 0: -1, 1: 1 << 20} {
		if got, err := CacheBytes(mib); got != want || err != nil {
			t.Errorf("CacheBytes(%d) = %d, %v; want %d", mib, got, err, want)
		}
	}
}

func with(s LambdaSettings, f func(*LambdaSettings)) LambdaSettings { f(&s); return s }

func errOf(_ int64, err error) error { return err }
