package models

import (
	"fmt"
	"strings"
)

// OptimizerKind names an optimizer: its JSON form (config.json's
// optimizer.kind) is the string itself. OptimizerSettings.Validate checks
// it.
type OptimizerKind string

// The optimizers.
const (
	// GD is full-batch gradient descent, no momentum.
	GD OptimizerKind = "gd"
	// SGD is plain stochastic gradient descent, or heavy ball with
	// momentum.
	SGD OptimizerKind = "sgd"
	// Nesterov is SGD with Nesterov momentum.
	Nesterov OptimizerKind = "nesterov"
	// Adam is Adam (AdamW with weight decay).
	Adam OptimizerKind = "adam"
)

// ScheduleKind names a learning-rate schedule (config.json's
// optimizer.schedule.kind); "" is ConstantLR.
type ScheduleKind string

// The schedules.
const (
	// ConstantLR keeps the learning rate.
	ConstantLR ScheduleKind = "constant"
	// StepLR multiplies it by Gamma every Every steps.
	StepLR ScheduleKind = "step"
	// CosineLR anneals it from LR to MinLR over Total steps.
	CosineLR ScheduleKind = "cosine"
)

// InitKind names an initialisation (the model file's "init"); "" is
// InitHe for relu networks and InitLeCun otherwise.
type InitKind string

// The initialisations (see Inits).
const (
	// InitLeCun draws weights N(0, 1/fan_in).
	InitLeCun InitKind = "lecun"
	// InitHe draws weights N(0, 2/fan_in) (Kaiming).
	InitHe InitKind = "he"
	// InitXavier draws weights N(0, 2/(fan_in+fan_out)) (Glorot).
	InitXavier InitKind = "xavier"
	// InitPyTorch draws weights and biases U(-1/sqrt(fan_in),
	// 1/sqrt(fan_in)), nn.Linear's default.
	InitPyTorch InitKind = "pytorch"
)

// ParseSchedule returns the schedule written s: constant (or ""),
// step:EVERY:GAMMA or cosine[:MIN_LR], cosine annealing over steps. The
// error names s; the schedule's values are checked by
// OptimizerSettings.Validate.
func ParseSchedule(s string, steps int) (Schedule, error) {
	var every int
	var gamma, minLR float64
	switch {
	case s == "" || s == string(ConstantLR):
		return Schedule{}, nil
	case strings.HasPrefix(s, string(CosineLR)):
		if s != string(CosineLR) {
			if _, err := fmt.Sscanf(s, "cosine:%g", &minLR); err != nil {
				return Schedule{}, fmt.Errorf("schedule %q: want cosine or cosine:MIN_LR", s)
			}
		}
		return Schedule{Kind: CosineLR, Total: steps, MinLR: minLR}, nil
	}
	if _, err := fmt.Sscanf(s, "step:%d:%g", &every, &gamma); err != nil {
		return Schedule{}, fmt.Errorf("schedule %q: want constant, step:EVERY:GAMMA or cosine[:MIN_LR]", s)
	}
	return Schedule{Kind: StepLR, Every: every, Gamma: gamma}, nil
}
