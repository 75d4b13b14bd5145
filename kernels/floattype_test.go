package kernels

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// ParseDType, String, Size, Eps and the JSON form agree, and a name that
// is not a float type is an error naming it.
func TestDType(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    DType
		size int
		eps  float64
	}{{"", DTypeUnset, 0, 0}, {"float32", Float32, 4, 0x1p-23}, {"float64", Float64, 8, 0x1p-52}} {
		d, err := ParseDType(tc.name)
		if err != nil || d != tc.d || d.String() != tc.name || d.Size() != tc.size || d.Eps() != tc.eps || !d.Valid() {
			t.Errorf("ParseDType(%q) = %v, %v: size %d eps %g", tc.name, d, err, d.Size(), d.Eps())
		}
		var v struct {
			D DType `json:"d,omitempty"`
		}
		v.D = d
		b, err := json.Marshal(v)
		want := `{"d":"` + tc.name + `"}`
		if tc.name == "" {
			want = `{}`
		}
		if err != nil || string(b) != want {
			t.Errorf("%v marshals as %s, %v; want %s", d, b, err, want)
		}
		v.D = 99
		if err := json.Unmarshal([]byte(`{"d":"`+tc.name+`"}`), &v); err != nil || v.D != d {
			t.Errorf("unmarshal %q: %v, %v", tc.name, v.D, err)
		}
	}
	for _, bad := range []string{"float16", "Float32", "f32", " float64"} {
		if _, err := ParseDType(bad); err == nil || err.Error() != `dtype "`+bad+`": want float32 or float64` {
			t.Errorf("ParseDType(%q): %v", bad, err)
		}
		var d DType
		if err := json.Unmarshal([]byte(`"`+bad+`"`), &d); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("unmarshal %q: %v", bad, err)
		}
	}
	if DType(3).Valid() || DType(3).String() != "DType(3)" {
		t.Errorf("DType(3): %v", DType(3))
	}
	if _, err := json.Marshal(DType(3)); err == nil {
		t.Error("an invalid DType marshals")
	}
	if DTypeOf[float32]() != Float32 || DTypeOf[myFloat32]() != Float32 || DTypeOf[float64]() != Float64 {
		t.Error("DTypeOf")
	}
	if DTypeUnset.Or(Float64) != Float64 || Float32.Or(Float64) != Float32 {
		t.Error("Or")
	}
}

// ParseDType never panics; a name it accepts is written back by String
// and read back the same, also through JSON; an error names the input.
func FuzzParseDType(f *testing.F) {
	for _, s := range []string{"", "float32", "float64", "float16", "FLOAT32", "float32\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDType(s)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("error %q does not name %q", err, s)
			}
			return
		}
		if !d.Valid() || d.String() != s {
			t.Fatalf("ParseDType(%q) = %v", s, d)
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back DType
		if err := json.Unmarshal(b, &back); err != nil || back != d {
			t.Fatalf("JSON round trip of %v: %s -> %v, %v", d, b, back, err)
		}
	})
}
