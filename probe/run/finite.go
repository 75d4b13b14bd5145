package run

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
)

// marshalFinite is json.Marshal (json.MarshalIndent with indent) of the
// struct v, with every optional (*float64) field that holds NaN or ±Inf
// left out: JSON has no such numbers, and an overflowing derived value
// (lr·λmax of a run that blew up, 2/lr of a tiny lr) must not cost the
// record. A required float64 that is not finite is an error naming it.
func marshalFinite(v any, indent string) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return nil, fmt.Errorf("marshalFinite: %T is not a struct", v)
	}
	cp := reflect.New(rv.Type()).Elem()
	cp.Set(rv)
	for i := 0; i < cp.NumField(); i++ {
		f, sf := cp.Field(i), cp.Type().Field(i)
		if !sf.IsExported() {
			continue
		}
		switch {
		case f.Kind() == reflect.Pointer && f.Type().Elem().Kind() == reflect.Float64 && !f.IsNil():
			if x := f.Elem().Float(); math.IsNaN(x) || math.IsInf(x, 0) {
				f.Set(reflect.Zero(f.Type()))
			}
		case f.Kind() == reflect.Float64:
			if x := f.Float(); math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("%s is %v: not representable in JSON", sf.Name, x)
			}
		}
	}
	if indent != "" {
		return json.MarshalIndent(cp.Interface(), "", indent)
	}
	return json.Marshal(cp.Interface())
}
