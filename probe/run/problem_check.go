package run

import (
	"errors"
	"fmt"
)

// CheckGiven reports missing, conflicting and invalid settings of s as a
// command gives them, before anything is read: a batch below 1 or a
// negative subset (*SettingError), and, with RunDir and no Data, data
// options that would be ignored; without RunDir, a missing Model, Weights
// or Data. inferred says that the model is to be read from the weights'
// shapes (the command's --act and --loss), which stands for Model but
// conflicts with it. Errors name the flags with their dashes.
func (s ProblemSettings) CheckGiven(inferred bool) error {
	if s.Batch < 1 {
		return &SettingError{"batch", fmt.Sprint(s.Batch), errors.New("want at least 1 sample per pass")}
	}
	if s.Subset < 0 {
		return &SettingError{"subset", fmt.Sprint(s.Subset), errors.New("want 0 (all samples) or a positive count")}
	}
	if s.RunDir != "" {
		// Without --data the run's own data, subset and standardisation
		// are used; these flags would be ignored.
		if s.Data == "" {
			for _, fl := range []struct {
				name string
				set  bool
			}{{"--subset", s.Subset != 0}, {"--standardize", s.Standardize}, {"--data-format", s.DataFormat != ""}} {
				if fl.set {
					return fmt.Errorf("%s applies to --data; with --run alone the run's own data settings are used", fl.name)
				}
			}
		}
		return nil
	}
	switch {
	case s.Model == "" && !inferred:
		return errors.New("--model is required (or --act and --loss, the widths read from --weights; or --run DIR)")
	case s.Weights == "":
		return errors.New("--weights is required (or --run DIR)")
	case s.Data == "":
		return errors.New("--data is required (or --run DIR)")
	case s.Model != "" && inferred:
		return errors.New("--act and --loss apply without --model (the model file names them)")
	}
	return nil
}
