package models

import (
	"fmt"
	"math"
	"strings"

	"github.com/curvprobe/curvprobe/kernels"
)

// OptimizerSettings configure an Optimizer. Zero values mean the defaults noted.
type OptimizerSettings struct {
	// Kind is "gd" (full-batch gradient descent, no momentum), "sgd" (plain,
	// or heavy-ball momentum when Momentum > 0), "nesterov" or "adam". Each
	// takes only its own options: Momentum is an error for gd and adam, and
	// Beta1, Beta2 and Eps for all but adam.
	Kind OptimizerKind `json:"kind"`
	// LR is the base learning rate η.
	LR float64 `json:"lr"`
	// Momentum is β for sgd and nesterov (only).
	Momentum float64 `json:"momentum,omitempty"`
	// Beta1, Beta2, Eps are Adam's (only); 0 means 0.9, 0.999, 1e-8.
	Beta1 float64 `json:"beta1,omitempty"`
	Beta2 float64 `json:"beta2,omitempty"`
	Eps   float64 `json:"eps,omitempty"`
	// WeightDecay adds wd*θ to the gradient for gd, sgd and nesterov (L2
	// regularisation) and is decoupled for adam (AdamW).
	WeightDecay float64 `json:"weight_decay,omitempty"`
	// Schedule varies the learning rate with the step.
	Schedule Schedule `json:"schedule"`
}

// Schedule is a learning-rate schedule: an optional linear warm-up from
// 0 over Warmup steps, then Kind: "constant" (or ""), "step" (multiply by
// Gamma every Every steps), or "cosine" (from LR down to MinLR over Total
// steps, then MinLR).
type Schedule struct {
	Kind   ScheduleKind `json:"kind,omitempty"`
	Warmup int          `json:"warmup,omitempty"`
	Every  int          `json:"every,omitempty"`
	Gamma  float64      `json:"gamma,omitempty"`
	Total  int          `json:"total,omitempty"`
	MinLR  float64      `json:"min_lr,omitempty"`
}

// LR returns the learning rate at step (counted from 0) for base rate base.
func (s Schedule) LR(base float64, step int) float64 {
	if s.Warmup > 0 && step < s.Warmup {
		return base * float64(step+1) / float64(s.Warmup)
	}
	t := step - s.Warmup
	switch s.Kind {
	case "step":
		return base * math.Pow(s.Gamma, float64(t/s.Every))
	case "cosine":
		if t >= s.Total {
			return s.MinLR
		}
		return s.MinLR + 0.5*(base-s.MinLR)*(1+math.Cos(math.Pi*float64(t)/float64(s.Total)))
	}
	return base
}

// Validate reports bad settings, naming the field.
func (s OptimizerSettings) Validate() error {
	switch s.Kind {
	case "gd", "sgd", "nesterov", "adam":
	default:
		return fmt.Errorf("optimizer %q: want gd, sgd, nesterov or adam", s.Kind)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"lr", s.LR}, {"momentum", s.Momentum}, {"beta1", s.Beta1}, {"beta2", s.Beta2}, {"eps", s.Eps},
		{"weight_decay", s.WeightDecay}, {"schedule gamma", s.Schedule.Gamma}, {"schedule min_lr", s.Schedule.MinLR}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("optimizer %s %v: must be a finite number", f.name, f.v)
		}
	}
	// An option of another optimizer is an error, not ignored: a run must
	// log the stability bound of the update it takes.
	if s.Momentum != 0 && s.Kind != "sgd" && s.Kind != "nesterov" {
		hint := "use sgd with momentum for heavy ball (full-batch without batch)"
		if s.Kind == "adam" {
			hint = "adam's momentum is beta1"
		}
		return fmt.Errorf("optimizer %s: momentum %v applies only to sgd (heavy ball) and nesterov; %s", s.Kind, s.Momentum, hint)
	}
	if s.Kind != "adam" {
		for _, f := range []struct {
			name string
			v    float64
		}{{"beta1", s.Beta1}, {"beta2", s.Beta2}, {"eps", s.Eps}} {
			if f.v != 0 {
				return fmt.Errorf("optimizer %s: %s %v applies only to adam", s.Kind, f.name, f.v)
			}
		}
	}
	if s.Momentum < 0 || s.Momentum >= 1 {
		return fmt.Errorf("optimizer momentum %v: want 0 <= momentum < 1", s.Momentum)
	}
	if s.Kind == "nesterov" && s.Momentum == 0 {
		return fmt.Errorf("optimizer nesterov needs momentum > 0")
	}
	if s.Beta1 < 0 || s.Beta1 >= 1 {
		return fmt.Errorf("optimizer beta1 %v: want 0 <= beta1 < 1 (0: 0.9)", s.Beta1)
	}
	if s.Beta2 < 0 || s.Beta2 >= 1 {
		return fmt.Errorf("optimizer beta2 %v: want 0 <= beta2 < 1 (0: 0.999)", s.Beta2)
	}
	if s.Eps < 0 {
		return fmt.Errorf("optimizer eps %v: must be positive (0: 1e-8)", s.Eps)
	}
	if !(s.LR > 0) {
		return fmt.Errorf("optimizer lr %v: must be positive", s.LR)
	}
	if b := s.StabilityBound(s.LR); math.IsInf(b, 0) {
		return fmt.Errorf("optimizer lr %v: too small (the stability bound %s overflows)", s.LR, s.boundFormula())
	}
	if s.WeightDecay < 0 {
		return fmt.Errorf("optimizer weight_decay %v: must be >= 0", s.WeightDecay)
	}
	switch s.Schedule.Kind {
	case "", "constant":
	case "step":
		if s.Schedule.Every <= 0 || !(s.Schedule.Gamma > 0) {
			return fmt.Errorf("schedule step needs every > 0 and gamma > 0")
		}
	case "cosine":
		if s.Schedule.Total <= 0 {
			return fmt.Errorf("schedule cosine needs total > 0 steps")
		}
		if s.Schedule.MinLR < 0 || s.Schedule.MinLR > s.LR {
			return fmt.Errorf("schedule cosine min_lr %v: want 0 <= min_lr <= lr (%v)", s.Schedule.MinLR, s.LR)
		}
	default:
		return fmt.Errorf("schedule %q: want constant, step or cosine", s.Schedule.Kind)
	}
	if s.Schedule.Warmup < 0 {
		return fmt.Errorf("schedule warmup %d: must be >= 0", s.Schedule.Warmup)
	}
	return nil
}

func (s OptimizerSettings) adam() (b1, b2, eps float64) {
	b1, b2, eps = s.Beta1, s.Beta2, s.Eps
	if b1 == 0 {
		b1 = 0.9
	}
	if b2 == 0 {
		b2 = 0.999
	}
	if eps == 0 {
		eps = 1e-8
	}
	return b1, b2, eps
}

// StabilityBound returns the largest sharpness for which the optimizer at
// learning rate lr is stable on a quadratic (Cohen et al. 2021, 2022):
// 2/lr for gd and sgd, (2+2β)/lr for heavy-ball momentum,
// (2+2β)/((1+2β) lr) for Nesterov momentum, and, for adam, (2+2β1)/((1-β1) lr),
// to be compared with the preconditioned sharpness λmax(P^-1 H).
func (s OptimizerSettings) StabilityBound(lr float64) float64 {
	switch s.Kind {
	case "gd", "sgd":
		// gd takes no momentum (Validate): 2/lr.
		return (2 + 2*s.Momentum) / lr
	case "nesterov":
		return (2 + 2*s.Momentum) / ((1 + 2*s.Momentum) * lr)
	case "adam":
		b1, _, _ := s.adam()
		return (2 + 2*b1) / ((1 - b1) * lr)
	}
	return 2 / lr
}

// boundFormula names the formula of StabilityBound for s.Kind.
func (s OptimizerSettings) boundFormula() string {
	switch {
	case s.Kind == "nesterov":
		return "(2+2β)/((1+2β) lr)"
	case s.Kind == "adam":
		return "(2+2β1)/((1-β1) lr)"
	case s.Momentum != 0:
		return "(2+2β)/lr"
	}
	return "2/lr"
}

// OptimizerBackend is the part of a kernels.Backend an Optimizer uses:
// memory for its state, vector updates, and Adam's fused kernels.
type OptimizerBackend[T kernels.Float] interface {
	kernels.Memory[T]
	kernels.Level1
	kernels.Adam
}

// Optimizer updates a Plan's flat parameters from gradients, keeping its
// state (momentum buffer, Adam moments, step count) on the backend.
type Optimizer[T kernels.Float] struct {
	be    OptimizerBackend[T]
	s     OptimizerSettings
	buf   kernels.Buffer // momentum (sgd, nesterov) or Adam's m
	v     kernels.Buffer // Adam's v
	Steps int            // updates taken
}

// NewOptimizer returns an optimizer for n parameters on be.
func NewOptimizer[T kernels.Float](be OptimizerBackend[T], n int, s OptimizerSettings) (*Optimizer[T], error) {
	s.Kind = OptimizerKind(strings.ToLower(string(s.Kind)))
	if err := s.Validate(); err != nil {
		return nil, err
	}
	o := &Optimizer[T]{be: be, s: s}
	if s.Kind == "adam" || s.Momentum > 0 {
		o.buf = be.Alloc(n)
	}
	if s.Kind == "adam" {
		o.v = be.Alloc(n)
	}
	return o, nil
}

// Settings returns the optimizer's settings.
func (o *Optimizer[T]) Settings() OptimizerSettings { return o.s }

// Step applies one update to params with gradient g (which is modified when
// weight decay is on) at learning rate lr.
func (o *Optimizer[T]) Step(params, g kernels.Buffer, lr float64) {
	be, s := o.be, o.s
	o.Steps++
	if s.Kind == "adam" {
		b1, b2, eps := s.adam()
		t := float64(o.Steps)
		be.AdamUpdate(params, g, o.buf, o.v, lr, b1, b2, eps, 1-math.Pow(b1, t), 1-math.Pow(b2, t), s.WeightDecay)
		return
	}
	if s.WeightDecay > 0 {
		be.Axpy(s.WeightDecay, params, g)
	}
	if o.buf == nil {
		be.Axpy(-lr, g, params)
		return
	}
	// Heavy ball: b = βb + g; θ -= η b.  Nesterov: b = βb + g; θ -= η (g + βb).
	be.Scale(s.Momentum, o.buf)
	be.Axpy(1, g, o.buf)
	if s.Kind == "nesterov" {
		be.Axpy(-lr, g, params)
		be.Axpy(-lr*s.Momentum, o.buf, params)
		return
	}
	be.Axpy(-lr, o.buf, params)
}

// Preconditioner sets dst to the diagonal of P^(-1/2) of Adam's current
// preconditioner and reports true, or reports false for other optimizers.
func (o *Optimizer[T]) Preconditioner(dst kernels.Buffer) bool {
	if o.s.Kind != "adam" || o.Steps == 0 {
		return false
	}
	_, b2, eps := o.s.adam()
	o.be.AdamPrecondition(dst, o.v, 1-math.Pow(b2, float64(o.Steps)), eps)
	return true
}

// State returns the optimizer's state buffers by name ("buf", "v"), for
// checkpoints; absent buffers are omitted.
func (o *Optimizer[T]) State() map[string]kernels.Buffer {
	st := map[string]kernels.Buffer{}
	if o.buf != nil {
		st["buf"] = o.buf
	}
	if o.v != nil {
		st["v"] = o.v
	}
	return st
}
