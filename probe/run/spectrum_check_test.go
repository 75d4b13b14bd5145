package run

import (
	"errors"
	"math"
	"testing"
)

// TestSpectrumSettingsValidate checks that each invalid setting is a
// *SettingError whose text names it as the flag is spelled, and that the
// defaults (zeros) and ordinary values pass.
func TestSpectrumSettingsValidate(t *testing.T) {
	for _, c := range []struct {
		s    SpectrumSettings
		want string
	}{
		{SpectrumSettings{}, ""},
		{SpectrumSettings{TopK: 5, MaxSteps: 5, Tol: 1e-6, HutchPP: true, TraceProbes: 3, SLQSigma: 0.1, LearningRate: 0.5}, ""},
		{SpectrumSettings{Tol: math.NaN()}, "tol NaN: want a finite number"},
		{SpectrumSettings{SLQSigma: math.Inf(1)}, "sigma +Inf: want a finite number"},
		{SpectrumSettings{LearningRate: math.Inf(-1)}, "lr -Inf: want a finite number"},
		{SpectrumSettings{TopK: -1}, "top-k -1: want 0 or more"},
		{SpectrumSettings{BottomK: -2}, "bottom-k -2: want 0 or more"},
		{SpectrumSettings{TopK: 3, BottomK: 2, MaxSteps: 4}, "max-steps 4: want 0 (automatic) or at least 5 (--top-k + --bottom-k)"},
		{SpectrumSettings{Tol: 1}, "tol 1: want 0 (automatic) or a relative residual in (0, 1)"},
		{SpectrumSettings{TraceProbes: -1}, "trace-probes -1: want 0 (automatic) or more"},
		{SpectrumSettings{HutchPP: true, TraceProbes: 2}, "trace-probes 2: Hutch++ needs at least 3 (0: 99)"},
		{SpectrumSettings{SLQProbes: -1}, "slq-probes -1: want 0 (10) or more"},
		{SpectrumSettings{SLQSteps: -1}, "slq-steps -1: want 0 (80) or more"},
		{SpectrumSettings{SLQSigma: -0.5}, "sigma -0.5: want 0 (1% of the spectral range) or a positive width"},
		{SpectrumSettings{LearningRate: -1}, "lr -1: want 0 (no stability verdict) or a positive step"},
	} {
		err := c.s.Validate()
		if c.want == "" {
			if err != nil {
				t.Errorf("%+v: unexpected error %v", c.s, err)
			}
			continue
		}
		var se *SettingError
		if err == nil || err.Error() != c.want || !errors.As(err, &se) {
			t.Errorf("%+v: got %v, want *SettingError %q", c.s, err, c.want)
		}
	}
}
