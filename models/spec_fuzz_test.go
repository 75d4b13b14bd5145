package models

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzSpecJSON feeds model files to the parser. A file either is refused
// with an error, or yields a valid Spec whose parameter count is positive
// and within MaxParams, whose memory estimate is positive (or a clean
// overflow error, never a wrapped-around number), and which re-marshals to
// a file that parses back to the same Spec.
func FuzzSpecJSON(f *testing.F) {
	for _, seed := range []string{
		`{"layers":[784,200,10],"activation":"gelu","loss":"mse"}`,
		`{"layers":[4,8,2],"activation":"tanh","loss":"cross_entropy","bias":true}`,
		`{"layers":[5,3],"activation":"relu","loss":"cross_entropy","bias":false,"init":"pytorch","dtype":"float32"}`,
		`{"layers":[64,64,64,10],"activation":"Softplus","loss":"CE","init":"xavier","dtype":"float64"}`,
		// The reproductions of issue 10.
		`{"layers":[8,1000000000,3],"activation":"tanh","loss":"cross_entropy"}`,
		`{"layers":[100000,100000,100000,3],"activation":"tanh","loss":"cross_entropy"}`,
		`{"layers":[8,9223372036854775807,3],"activation":"tanh","loss":"cross_entropy"}`,
		`{"layers":[1073741824,1073741824,2],"activation":"linear","loss":"mse"}`,
		`{"layers":[8,-3,3],"activation":"tanh","loss":"mse"}`,
		`{"layers":[8,1e3,3],"activation":"tanh","loss":"mse"}`,
		`{"layers":[4],"activation":"tanh","loss":"mse"}`,
		`{"layers":[4,1],"activation":"tanh","loss":"cross_entropy"}`,
		`{"layers":[4,2],"activation":"tanh","loss":"mse","dropout":0.1}`,
		`{"layers":null,"activation":"tanh","loss":"mse"}`,
		`null`,
		`[]`,
		`{}`,
		`{"layers":[4,2],"activation":"tanh","loss":"mse"} {}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Spec
		if err := json.Unmarshal(data, &s); err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("%s parsed to an invalid spec: %v", data, err)
		}
		n := s.NumParams()
		if n <= 0 || n > MaxParams {
			t.Fatalf("%s: %d parameters", data, n)
		}
		for _, elem := range []int{4, 8} {
			u := Usage{ElemSize: elem, Vectors: 4, HostVectors: 1, Samples: 1000, Rows: 512}
			fp, err := s.Footprint(u)
			var me *MemoryError
			switch {
			case errors.As(err, &me) && me.Overflow:
			case err != nil:
				t.Fatalf("%s: footprint: %v", data, err)
			case fp.Params != int64(4*n*elem) || fp.Pass <= 0 || fp.Data <= 0 || fp.Total() < fp.Params+fp.Pass:
				t.Fatalf("%s: footprint %+v for %d parameters", data, fp, n)
			}
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("%s: marshal: %v", data, err)
		}
		var back Spec
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s re-marshalled to %s, which does not parse: %v", data, b, err)
		}
		if !reflect.DeepEqual(back, s) {
			t.Fatalf("%s: %+v re-marshalled to %s, which parses to %+v", data, s, b, back)
		}
	})
}
