package run

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
)

// configFieldNames are the JSON names of config.json's fields, nested ones
// included (the model file's too).
func configFieldNames() []string {
	names := []string{"layers", "activation", "loss", "bias", "init", "dtype"}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			if n, _, _ := strings.Cut(f.Tag.Get("json"), ","); n != "" && n != "-" {
				names = append(names, n)
			}
			if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(models.Spec{}) {
				walk(f.Type)
			}
		}
	}
	walk(reflect.TypeOf(TrainConfig{}))
	return names
}

// ParseTrainConfig never panics; every error names the file, and an error
// of a config that is well-formed JSON of the right shape (a Validate
// error) names a field; a config that parses marshals to text that parses
// to the same config, and marshals again to the same text.
func FuzzTrainConfig(f *testing.F) {
	for _, s := range []string{
		`{"model":{"layers":[5,7,2],"activation":"tanh","loss":"cross_entropy"},"data":"synthetic:gaussian","subset":40,"optimizer":{"kind":"gd","lr":0.1},"steps":5,"probe_every":5,"seed":1}`,
		`{"model":{"layers":[64,32,10],"activation":"relu","loss":"mse","bias":false,"init":"pytorch"},"data":"builtin:digits","subset":100,"standardize":true,"optimizer":{"kind":"sgd","lr":0.05,"momentum":0.9,"weight_decay":0.001,"schedule":{"kind":"step","every":10,"gamma":0.5,"warmup":3}},"steps":50,"batch":32,"probe_every":10,"probe_set":50,"probe_bottom":true,"probe_top_k":3,"probe_trace":true,"trace_probes":5,"probe_density":true,"power_tol":0.001,"power_max_iter":50,"log_every":2,"checkpoint_every":5,"seed":7,"plan_batch":64,"dtype":"float64"}`,
		`{"model":{"layers":[4,3],"activation":"gelu","loss":"mse"},"data":"synthetic:teacher","optimizer":{"kind":"adam","lr":0.001,"beta1":0.8,"beta2":0.99,"eps":1e-6,"schedule":{"kind":"cosine","total":100,"min_lr":0.0001}},"epochs":3,"probe_every":0,"seed":0}`,
		`{"model":{"layers":[4,3],"activation":"tanh","loss":"mse"},"data":"x.npz","optimizer":{"kind":"nesterov","lr":0.1,"momentum":0.5},"steps":1,"probe_every":1,"seed":1,"test":"t.npz","test_subset":10}`,
		`{"model":{"layers":[4,3],"activation":"tanh","loss":"mse"},"data":"x","optimizer":{"kind":"gd","lr":0.02,"momentum":0.9},"steps":1,"probe_every":1,"seed":1}`,
		`{"model":{"layers":[6,5,4,3],"activation":"relu","loss":"cross_entropy"},"data":"synthetic:gaussian","optimizer":{"kind":"gd","lr":0.1},"steps":10,"probe_every":5,"seed":2,"probe_per_layer":true}`,
		`{"model":{"layers":[4,3],"activation":"tanh","loss":"mse"},"data":"x","optimizer":{"kind":"gd","lr":0.1},"steps":1,"probe_every":1,"seed":1,"probe_per_layer":1}`,
		`{"model":{"layers":[4,3],"activation":"tanh","loss":"mse"},"data":"x","optimizer":{"kind":"adam","lr":0.02,"beta1":1},"steps":1,"probe_every":1,"seed":1}`,
		`{"model":{"layers":[8,9223372036854775807,3],"activation":"tanh","loss":"mse"},"data":"x","optimizer":{"kind":"gd","lr":1},"steps":1,"probe_every":1,"seed":1}`,
		`{"model":{"layers":[4,3],"activation":"tanh","loss":"mse"},"data":"x","optimizer":{"kind":"gd","lr":1},"steps":1,"probe_every":1,"seed":1} {}`,
		`{"model":{"layers":[4,3],"activation":"tanh","loss":"mse"},"data":"x","optimizer":{"kind":"gd","lr":1},"steps":1,"probe_every":1,"seed":1,"sharpness_method":"power-handover"}`,
		`{"model":{"layers":[4,3],"activation":"tanh","loss":"mse"},"data":"x","optimizer":{"kind":"gd","lr":1},"steps":1,"probe_every":1,"seed":1,"sharpness_method":"arnoldi"}`,
		`{"steps":-1}`, `{"bogus":1}`, `[]`, `null`, `{"optimizer":{"lr":"fast"}}`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	fields := configFieldNames()
	f.Fuzz(func(t *testing.T, b []byte) {
		const name = "runs/x/config.json"
		c, err := ParseTrainConfig(b, name)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config "+name+": ") {
				t.Fatalf("error %q does not name the file", err)
			}
			// Well-formed JSON of the right shape: a Validate error.
			var raw TrainConfig
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if dec.Decode(&raw) != nil {
				return
			}
			if _, terr := dec.Token(); terr == io.EOF {
				msg := strings.TrimPrefix(err.Error(), "config "+name+": ")
				named := false
				for _, n := range fields {
					named = named || strings.Contains(msg, n)
				}
				if !named {
					t.Fatalf("error %q names no field", err)
				}
			}
			return
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("a valid config does not marshal: %v", err)
		}
		c2, err := ParseTrainConfig(out, name)
		if err != nil {
			t.Fatalf("a valid config, re-marshalled, is refused: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip changed the config:\n%+v\n%+v", c, c2)
		}
		if out2, _ := json.Marshal(c2); !bytes.Equal(out, out2) {
			t.Fatalf("marshal is not stable:\n%s\n%s", out, out2)
		}
	})
}

// Text after the config's JSON object is an error, not silently ignored.
func TestParseTrainConfigTrailingText(t *testing.T) {
	ok := `{"model":{"layers":[4,3],"activation":"tanh","loss":"mse"},"data":"x","optimizer":{"kind":"gd","lr":1},"steps":1,"probe_every":1,"seed":1}`
	if _, err := ParseTrainConfig([]byte(ok+"\n"), "c.json"); err != nil {
		t.Fatal(err)
	}
	for _, tail := range []string{` {"seed":7}`, ` x`, `]`} {
		if _, err := ParseTrainConfig([]byte(ok+tail), "c.json"); err == nil || !strings.Contains(err.Error(), "c.json") || !strings.Contains(err.Error(), "after the JSON object") {
			t.Errorf("config with %q after it: %v", tail, err)
		}
	}
}

// config.json's dtype reads and writes the same strings as before it was
// typed: "float32", "float64", absent when unset; another value is an
// error naming it and the file.
func TestTrainConfigDType(t *testing.T) {
	const base = `{"model":{"layers":[4,3],"activation":"tanh","loss":"mse"},"data":"x","optimizer":{"kind":"gd","lr":1},"steps":1,"probe_every":1,"seed":1`
	for _, tc := range []struct {
		dtype string
		want  kernels.DType
	}{{"", kernels.DTypeUnset}, {`,"dtype":"float32"`, kernels.Float32}, {`,"dtype":"float64"`, kernels.Float64}} {
		c, err := ParseTrainConfig([]byte(base+tc.dtype+"}"), "c.json")
		if err != nil || c.DType != tc.want {
			t.Fatalf("dtype %q: %v, %v", tc.dtype, c, err)
		}
		b, err := json.Marshal(c)
		if err != nil || !strings.HasSuffix(string(b), tc.dtype+"}") {
			t.Errorf("dtype %q marshals as %s, %v", tc.dtype, b, err)
		}
	}
	_, err := ParseTrainConfig([]byte(base+`,"dtype":"float16"}`), "c.json")
	if want := `config c.json: dtype "float16": want float32 or float64`; err == nil || err.Error() != want {
		t.Errorf("dtype float16: %v; want %s", err, want)
	}
}

// sharpness_method takes the three methods and "", and names itself when
// it is anything else.
func TestSharpnessMethodConfig(t *testing.T) {
	base := `{"model":{"layers":[4,3],"activation":"tanh","loss":"mse"},"data":"x","optimizer":{"kind":"gd","lr":1},"steps":1,"probe_every":1,"seed":1`
	for _, m := range []string{"", "lanczos", "power", "power-handover"} {
		c, err := ParseTrainConfig([]byte(base+`,"sharpness_method":"`+m+`"}`), "c.json")
		if err != nil || c.SharpnessMethod != m {
			t.Errorf("sharpness_method %q: %v", m, err)
		}
	}
	_, err := ParseTrainConfig([]byte(base+`,"sharpness_method":"arnoldi"}`), "c.json")
	if err == nil || !strings.Contains(err.Error(), "sharpness_method") || !strings.Contains(err.Error(), "arnoldi") {
		t.Errorf("sharpness_method arnoldi: %v", err)
	}
}

// TestDemoConfigValid checks that the demo's run is a valid configuration
// at its default learning rate and length, and that both settings reach it.
func TestDemoConfigValid(t *testing.T) {
	c := DemoConfig(0.5, 30)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Optimizer.LR != 0.5 || c.Steps != 30 || c.Data != "builtin:digits" {
		t.Errorf("DemoConfig(0.5, 30): lr %v, steps %d, data %q", c.Optimizer.LR, c.Steps, c.Data)
	}
}
