package run

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"

	"github.com/curvprobe/curvprobe/data"
	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
)

// TrainConfig is everything that determines a training run. It is written
// to RUN_DIR/config.json; a resumed run reads it back. Zero values mean the
// defaults noted.
type TrainConfig struct {
	Model models.Spec `json:"model"`
	// Data is a dataset path (file or folder, see data.Load) or a
	// generator: "synthetic:gaussian" (Gaussian classes, one per output)
	// or "synthetic:teacher" (a random tanh teacher's regression targets).
	Data       string `json:"data"`
	DataFormat string `json:"data_format,omitempty"`
	// Subset takes a seeded, class-balanced subset of this many samples
	// (0: all); for generators it is the number of samples (0: 1000).
	Subset int `json:"subset,omitempty"`
	// Standardize scales each feature to zero mean and unit variance
	// (statistics of the training set).
	Standardize bool `json:"standardize,omitempty"`
	// Test is an optional test set (path), evaluated on probed steps;
	// TestSubset takes a class-balanced subset of it.
	Test       string `json:"test,omitempty"`
	TestSubset int    `json:"test_subset,omitempty"`

	Optimizer models.OptimizerSettings `json:"optimizer"`
	Steps     int                      `json:"steps"`
	// Epochs, when Steps is 0, sets Steps to Epochs passes over the
	// training set (Epochs × ceil(N/Batch) steps; Epochs steps full-batch).
	Epochs int `json:"epochs,omitempty"`
	// Batch is the mini-batch size; 0 (or >= N) means full-batch.
	Batch int `json:"batch,omitempty"`

	// ProbeEvery probes every this many steps, and on the first and last;
	// 0 means every 10 steps.
	ProbeEvery int `json:"probe_every"`
	// ProbeSet is the size of the fixed, seeded probe subset of the
	// training set (0: the whole training set).
	ProbeSet     int     `json:"probe_set,omitempty"`
	ProbeBottom  bool    `json:"probe_bottom,omitempty"`
	ProbeTopK    int     `json:"probe_top_k,omitempty"`
	ProbeTrace   bool    `json:"probe_trace,omitempty"`
	TraceProbes  int     `json:"trace_probes,omitempty"`
	ProbeDensity bool    `json:"probe_density,omitempty"`
	PowerTol     float64 `json:"power_tol,omitempty"`      // 0: 1e-5
	PowerMaxIter int     `json:"power_max_iter,omitempty"` // 0: 200
	// SharpnessMethod is how a probe finds λmax: "lanczos" (Lanczos from
	// the previous probe's eigenvector, testing convergence every step),
	// "power" (power iteration from it, handing over to Lanczos only at
	// power_max_iter, as before 2026-12), or "power-handover" (power
	// iteration handing over to Lanczos as soon as its residual falls too
	// slowly). "" picks "lanczos" where a basis of power_max_iter (at most
	// 80) vectors fits the memory and "power-handover" otherwise, whose
	// Lanczos then stores no basis: the fewest products in each case on
	// the edge-of-stability run (probes.go). See probe.SharpnessSettings.
	SharpnessMethod string `json:"sharpness_method,omitempty"`
	// LogEvery logs every this many steps (probed steps are always
	// logged); 0 means every step.
	LogEvery int `json:"log_every,omitempty"`
	// CheckpointEvery writes a checkpoint every this many steps; 0 means
	// at probes, at most once a minute. An interrupted run (a cancelled
	// context: SIGINT, SIGTERM) checkpoints before it stops either way.
	CheckpointEvery int    `json:"checkpoint_every,omitempty"`
	Seed            uint64 `json:"seed"`
	// PlanBatch is the number of samples per backend pass (0: 512).
	PlanBatch int `json:"plan_batch,omitempty"`
	// DType is the run's float type (unset: float32, as `curvprobe train`
	// defaults).
	DType kernels.DType `json:"dtype,omitempty"`

	// ProbePerLayer also probes each layer's sharpness, the largest
	// eigenvalue of its diagonal Hessian block (Record.LayerLambdaMax).
	ProbePerLayer bool `json:"probe_per_layer,omitempty"`
	// WeightsFormat "safetensors" also writes the final weights as
	// RUN_DIR/weights.safetensors, in PyTorch's layout (models.SaveSafetensors);
	// "" or "npz" writes weights.npz alone, which is always written.
	WeightsFormat string `json:"weights_format,omitempty"`
}

// Validate reports bad settings, naming the field.
func (c *TrainConfig) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return fmt.Errorf("model: %w", err)
	}
	if err := c.Optimizer.Validate(); err != nil {
		return err
	}
	if c.Optimizer.Kind == "gd" && c.Batch > 0 {
		return fmt.Errorf("optimizer gd is full-batch; use sgd for --batch %d", c.Batch)
	}
	if c.Steps < 0 || c.Epochs < 0 || c.Steps == 0 && c.Epochs == 0 {
		return fmt.Errorf("steps %d, epochs %d: give a positive number of steps or of epochs", c.Steps, c.Epochs)
	}
	if c.Data == "" {
		return fmt.Errorf("data: a path or synthetic:gaussian / synthetic:teacher is required")
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"batch", c.Batch}, {"probe_every", c.ProbeEvery}, {"probe_set", c.ProbeSet}, {"probe_top_k", c.ProbeTopK},
		{"subset", c.Subset}, {"test_subset", c.TestSubset}, {"log_every", c.LogEvery}, {"checkpoint_every", c.CheckpointEvery}} {
		if f.v < 0 {
			return fmt.Errorf("%s %d: must be >= 0", f.name, f.v)
		}
	}
	if c.TraceProbes < 0 || c.PowerMaxIter < 0 || c.PlanBatch < 0 {
		return fmt.Errorf("trace_probes %d, power_max_iter %d, plan_batch %d: must be >= 0", c.TraceProbes, c.PowerMaxIter, c.PlanBatch)
	}
	switch c.SharpnessMethod {
	case "", "lanczos", "power", "power-handover":
	default:
		return fmt.Errorf("sharpness_method %q: want lanczos, power or power-handover", c.SharpnessMethod)
	}
	if !(c.PowerTol >= 0 && c.PowerTol < 1) {
		return fmt.Errorf("power_tol %v: want 0 <= power_tol < 1 (0: 1e-5)", c.PowerTol)
	}
	// Lanczos finds at most as many eigenvalues as there are parameters.
	bottom := 0
	if c.ProbeBottom {
		bottom = 1
	}
	if n := c.Model.NumParams(); c.ProbeTopK+bottom > n {
		return fmt.Errorf("probe_top_k %d: the model has only %d parameters", c.ProbeTopK, n)
	}
	if !c.DType.Valid() {
		return fmt.Errorf("dtype %s: want float32 or float64", c.DType)
	}
	switch c.WeightsFormat {
	case "", "npz", "safetensors":
	default:
		return fmt.Errorf("weights_format %q: want npz or safetensors", c.WeightsFormat)
	}
	return nil
}

// CheckGiven reports options given for an optimizer or a probe of c that
// does not take them: an option that only qualifies another is an error
// without it, not ignored. given reports whether a setting was given, by
// its flag's name (trace-probes, test-subset, beta1, beta2, momentum);
// errors name the flags as the command line spells them, e.g. "--momentum
// applies only with --optimizer sgd (heavy ball) or nesterov, not
// --optimizer gd". Each optimizer takes only its own options
// (models.OptimizerSettings).
func (c *TrainConfig) CheckGiven(given func(name string) bool) error {
	kind := string(c.Optimizer.Kind)
	adam, heavy := c.Optimizer.Kind == models.Adam, c.Optimizer.Kind == models.SGD || c.Optimizer.Kind == models.Nesterov
	for _, dep := range []struct {
		flag, needs, got string
		ok               bool
	}{
		{"trace-probes", "--probe-trace", "", c.ProbeTrace},
		{"test-subset", "--test", "", c.Test != ""},
		{"beta1", "--optimizer adam", kind, adam},
		{"beta2", "--optimizer adam", kind, adam},
		{"momentum", "--optimizer sgd (heavy ball) or nesterov", kind, heavy},
	} {
		if given(dep.flag) && !dep.ok {
			if dep.got != "" {
				return fmt.Errorf("--%s applies only with %s, not --optimizer %s", dep.flag, dep.needs, dep.got)
			}
			return fmt.Errorf("--%s applies only with %s", dep.flag, dep.needs)
		}
	}
	return nil
}

func (c *TrainConfig) probeEvery() int {
	if c.ProbeEvery <= 0 {
		return 10
	}
	return c.ProbeEvery
}

// resumable lists the config.json fields that a resumed run may change,
// since they change no record: the run's length (a checkpoint past it is
// refused on its own), the checkpoint cadence and the final weights' format.
var resumable = map[string]bool{"steps": true, "epochs": true, "checkpoint_every": true, "weights_format": true}

// configChanges returns, in JSON's dotted names with old and new values,
// the fields of now that differ from was, leaving out the resumable ones.
func configChanges(was, now *TrainConfig) []string {
	tree := func(c *TrainConfig) map[string]any {
		b, err := json.Marshal(c)
		if err != nil {
			panic("run: a validated TrainConfig does not marshal: " + err.Error())
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			panic("run: " + err.Error())
		}
		return m
	}
	var out []string
	var diff func(path string, a, b any)
	diff = func(path string, a, b any) {
		am, aok := a.(map[string]any)
		bm, bok := b.(map[string]any)
		if aok && bok {
			keys := map[string]bool{}
			for k := range am {
				keys[k] = true
			}
			for k := range bm {
				keys[k] = true
			}
			names := make([]string, 0, len(keys))
			for k := range keys {
				if path != "" || !resumable[k] {
					names = append(names, k)
				}
			}
			sort.Strings(names)
			for _, k := range names {
				p := k
				if path != "" {
					p = path + "." + k
				}
				diff(p, am[k], bm[k])
			}
			return
		}
		if reflect.DeepEqual(a, b) {
			return
		}
		show := func(v any) string {
			if v == nil {
				return "unset"
			}
			b, _ := json.Marshal(v)
			return string(b)
		}
		out = append(out, fmt.Sprintf("%s (%s, now %s)", path, show(a), show(b)))
	}
	diff("", tree(was), tree(now))
	return out
}

// LoadTrainConfig reads a config.json.
func LoadTrainConfig(path string) (*TrainConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseTrainConfig(b, path)
}

// ParseTrainConfig parses and validates the config.json text b; name (the
// file's path) prefixes every error. Unknown fields and anything after the
// JSON object are errors.
func ParseTrainConfig(b []byte, name string) (*TrainConfig, error) {
	var c TrainConfig
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("config %s: text after the JSON object at byte %d", name, dec.InputOffset())
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	return &c, nil
}

// LoadTrainData returns the training and (optional) test sets of c.
func LoadTrainData(c *TrainConfig) (train, test *data.Dataset, err error) {
	spec := c.Model
	switch c.Data {
	case "synthetic:gaussian":
		n := c.Subset
		if n == 0 {
			n = 1000
		}
		train, err = data.GaussianClasses(n, spec.Inputs(), spec.Outputs(), 2, c.Seed)
	case "synthetic:teacher":
		n := c.Subset
		if n == 0 {
			n = 1000
		}
		train, err = data.TeacherStudent(n, spec.Inputs(), spec.Outputs(), 32, c.Seed)
	default:
		train, err = loadSubset(c.Data, c.DataFormat, c.Subset, c.Seed)
	}
	if err != nil {
		return nil, nil, err
	}
	if c.Test != "" {
		if test, err = loadSubset(c.Test, c.DataFormat, c.TestSubset, c.Seed+1); err != nil {
			return nil, nil, err
		}
	}
	if c.Standardize {
		mean, std := train.Standardize()
		if test != nil {
			test.ApplyStandardize(mean, std)
		}
	}
	return train, test, nil
}

func loadSubset(path, format string, n int, seed uint64) (*data.Dataset, error) {
	ds, err := data.Load(path, format)
	if err != nil {
		return nil, err
	}
	if ds, err = ds.Sample(n, seed); err != nil {
		return nil, fmt.Errorf("subset %d of %s: %w", n, path, err)
	}
	return ds, nil
}

// DemoConfig is the run of `curvprobe demo`: the edge of stability on 300
// of the embedded 8x8 digits, full-batch GD at learning rate lr for steps
// steps on a 64x64x64x10 tanh MLP with MSE, in float64, probing the top 3
// and the bottom eigenvalue every 20 steps.
func DemoConfig(lr float64, steps int) TrainConfig {
	return TrainConfig{
		Model:       models.Spec{Layers: []int{64, 64, 64, 10}, Activation: kernels.Tanh, Loss: models.MSE, Bias: true},
		Data:        "builtin:digits",
		Subset:      300,
		Standardize: true,
		Optimizer:   models.OptimizerSettings{Kind: "gd", LR: lr},
		Steps:       steps,
		ProbeEvery:  20,
		ProbeTopK:   3,
		ProbeBottom: true,
		PowerTol:    1e-3,
		Seed:        1,
		DType:       kernels.Float64,
	}
}
