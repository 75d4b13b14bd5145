package run

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/models"
)

// fill sets every field reachable from v to a random finite value (or,
// now and then, leaves it zero or nil, to exercise omitempty).
func fill(v reflect.Value, r *rand.Rand, depth int) {
	if r.IntN(6) == 0 {
		return // zero value
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		v.SetFloat(r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20)))
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(r.IntN(2000) - 1000))
	case reflect.Uint64, reflect.Uint:
		v.SetUint(r.Uint64())
	case reflect.String:
		v.SetString([]string{"a", "<b>&", "λmax", ""}[r.IntN(4)])
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Pointer:
		if depth > 4 {
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), r, depth+1)
		v.Set(p)
	case reflect.Slice:
		if depth > 4 {
			return
		}
		n := r.IntN(4)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			fill(s.Index(i), r, depth+1)
		}
		v.Set(s)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), r, depth+1)
			}
		}
	}
}

// embedded exercises encoding/json's struct rules: an embedded pointer, a
// name conflict the shallower field wins, omitempty, ",string", "-",
// bytes, maps, interfaces and a type with its own MarshalJSON.
type embedded struct {
	*SaddleReport
	LambdaMax float64            `json:"lambda_max"`
	Count     int                `json:"count,string"`
	Skip      float64            `json:"-"`
	Raw       []byte             `json:"raw,omitempty"`
	M         map[string]float64 `json:"m,omitempty"`
	Any       any                `json:"any,omitempty"`
	Spec      models.Spec        `json:"spec"`
	Arr       [2]float64         `json:"arr"`
	Untagged  float32
}

// For finite values MarshalJSON writes exactly what encoding/json writes,
// compact and indented, for every type curvprobe writes as JSON.
func TestMarshalJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	types := []reflect.Type{
		reflect.TypeFor[Record](), reflect.TypeFor[Summary](), reflect.TypeFor[SpectrumReport](),
		reflect.TypeFor[DensityReport](), reflect.TypeFor[TaylorReport](), reflect.TypeFor[SaddleReport](),
		reflect.TypeFor[embedded](),
	}
	for _, typ := range types {
		for trial := 0; trial < 50; trial++ {
			v := reflect.New(typ)
			fill(v.Elem(), r, 0)
			if e, ok := v.Interface().(*embedded); ok {
				e.Spec = models.Spec{Layers: []int{2, 3}, Activation: kernels.Tanh, Loss: models.MSE, Bias: true}
				e.M = map[string]float64{"b": 1, "a": 2}
				e.Raw = []byte{1, 2, 3}
				if trial%2 == 0 {
					e.Any = []float64{1.5}
				}
			}
			for _, indent := range []string{"", "  "} {
				want, err := json.Marshal(v.Interface())
				if indent != "" {
					want, err = json.MarshalIndent(v.Interface(), "", indent)
				}
				if err != nil {
					t.Fatal(err)
				}
				got, err := MarshalJSON(v.Interface(), indent)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != string(want) {
					t.Fatalf("%v (indent %q):\n got %s\nwant %s", typ, indent, got, want)
				}
			}
		}
	}
}

// Non-finite numbers are null wherever they are, optional fields holding
// them are left out, and the output parses.
func TestMarshalJSONNonFinite(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	e := embedded{
		SaddleReport: &SaddleReport{Loss: nan, Steps: []SaddleStep{{Eps: 1, Measured: inf, RelErr: -inf}}},
		LambdaMax:    inf,
		M:            map[string]float64{"x": nan},
		Any:          []float64{1, nan},
		Arr:          [2]float64{inf, 2},
		Untagged:     float32(math.Inf(-1)),
	}
	b, err := MarshalJSON(&e, "")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"loss":null`, `"measured":null`, `"rel_err":null`, `"lambda_max":null`, `"m":{"x":null}`, `"any":[1,null]`, `"arr":[null,2]`, `"Untagged":null`} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s in %s", want, s)
		}
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	// Optional fields: a pointer to +Inf and an omitempty float NaN.
	rep := SpectrumReport{Sharpness: nan, EdgeOfStability: &inf, TopEigenvalues: []float64{nan}, Trace: &TraceReport{Value: 3, StdErr: inf, Probes: 1}}
	b, err = MarshalJSON(&rep, "")
	if err != nil {
		t.Fatal(err)
	}
	s = string(b)
	if strings.Contains(s, "sharpness") || strings.Contains(s, "max_stable_lr") || !strings.Contains(s, `"top_eigenvalues":[null]`) || !strings.Contains(s, `"stderr":null`) {
		t.Errorf("report JSON %s", s)
	}
}

// The log writer keeps a record with non-finite values (a required loss,
// an element of top_k) and ReadLog reads it back.
func TestLogWriterNonFinite(t *testing.T) {
	path := filepath.Join(t.TempDir(), LogFile)
	w, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	se := math.Inf(1)
	if err := w.Write(&Record{Step: 3, Loss: math.NaN(), LR: 0.1, TopK: []float64{2, math.Inf(-1)}, TraceStdErr: &se}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `"loss":null`) || !strings.Contains(string(b), `"top_k":[2,null]`) || strings.Contains(string(b), "trace_stderr") {
		t.Errorf("log line %s", b)
	}
	recs, err := ReadLog(path)
	if err != nil || len(recs) != 1 || recs[0].Step != 3 {
		t.Errorf("read back %+v, %v", recs, err)
	}
}

// summary.json is written by MarshalJSON: a non-finite final loss (a run
// that diverged at its last step) is null, not a lost summary.
func TestSummaryNonFinite(t *testing.T) {
	b, err := MarshalJSON(&Summary{Steps: 5, FinalLoss: math.Inf(1), Diverged: true}, "  ")
	if err != nil || !strings.Contains(string(b), `"final_loss": null`) {
		t.Errorf("summary %s, %v", b, err)
	}
}

// One probe (PyHessian's default) gives standard errors that are not
// defined: the spectrum report, and the density file a training probe
// writes, hold null for them.
func TestSpectrumOneProbeJSON(t *testing.T) {
	be := cpu.New[float64]()
	p, err := models.Build(be, models.Spec{Layers: []int{3, 4, 2}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}, models.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	p.Init(1)
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float64, 3*10)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	d, err := p.NewData(x, 10, []int{0, 1, 0, 1, 0, 1, 0, 1, 0, 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Spectrum(context.Background(), p, d, SpectrumSettings{Trace: true, TraceProbes: 1, Density: true, SLQProbes: 1, SLQSteps: 10, Exact: ExactNever})
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsInf(rep.Trace.StdErr, 1) || !math.IsInf(rep.Density.MomentStdErrs[0], 1) {
		t.Fatalf("standard errors %v %v: the test wants them infinite", rep.Trace.StdErr, rep.Density.MomentStdErrs)
	}
	if _, err := json.Marshal(rep); err == nil {
		t.Fatal("encoding/json took +Inf: the test shows nothing")
	}
	b, err := MarshalJSON(rep, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"stderr":null`) || !strings.Contains(string(b), `"moment_stderrs":[null,null,null,null]`) {
		t.Errorf("spectrum JSON %s", b)
	}
}

// float32 Lanczos bounds keep falling far below what float32 products
// resolve (5.6e-18 was printed); the report raises them to ε32·max|λ|.
func TestSpectrumResidualFloor(t *testing.T) {
	for _, tc := range []struct {
		name string
		eps  float64
		run  func(spec models.Spec, params, x []float64, labels []int) (*SpectrumReport, error)
	}{
		{"float32", 0x1p-23, spectrumIn[float32]},
		{"float64", 0x1p-52, spectrumIn[float64]},
	} {
		spec := models.Spec{Layers: []int{5, 7, 3}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
		r := rand.New(rand.NewPCG(3, 4))
		params := make([]float64, spec.NumParams())
		for i := range params {
			params[i] = r.NormFloat64()
		}
		x := make([]float64, 5*30)
		for i := range x {
			x[i] = r.NormFloat64()
		}
		labels := make([]int, 30)
		for i := range labels {
			labels[i] = r.IntN(3)
		}
		rep, err := tc.run(spec, params, x, labels)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		norm := math.Max(math.Abs(rep.TopEigenvalues[0]), math.Abs(rep.BottomEigenvalues[0]))
		if want := tc.eps * norm; math.Abs(rep.ResidualFloor-want) > 1e-12*want {
			t.Errorf("%s: floor %.3g, want %.3g", tc.name, rep.ResidualFloor, want)
		}
		for _, b := range append(append([]float64(nil), rep.TopResiduals...), rep.BottomResiduals...) {
			if b < rep.ResidualFloor {
				t.Errorf("%s: residual bound %.3g below the floor %.3g", tc.name, b, rep.ResidualFloor)
			}
		}
		t.Logf("%s: bounds %v %v, floor %.3g", tc.name, rep.TopResiduals, rep.BottomResiduals, rep.ResidualFloor)
	}
}

func spectrumIn[T kernels.Float](spec models.Spec, params, x []float64, labels []int) (*SpectrumReport, error) {
	p, err := models.Build(cpu.New[T](), spec, models.Settings{})
	if err != nil {
		return nil, err
	}
	if err := p.SetParams(params); err != nil {
		return nil, err
	}
	d, err := p.NewData(x, len(labels), labels, nil)
	if err != nil {
		return nil, err
	}
	return Spectrum(context.Background(), p, d, SpectrumSettings{TopK: 3, BottomK: 2, Exact: ExactNever})
}
