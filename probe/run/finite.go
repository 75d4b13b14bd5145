package run

import (
	"bytes"
	"encoding"
	"encoding/json"
	"math"
	"reflect"
	"strings"
)

// MarshalJSON is json.Marshal of v (json.MarshalIndent with a non-empty
// indent) under curvprobe's one rule for numbers that JSON cannot hold:
//
//	A NaN or an infinity is written as null, wherever it occurs (a field,
//	an element of an array, a nested object), and an optional field (one
//	tagged omitempty, left out when not measured) that would be null is
//	left out. null and an absent field mean the same: the value is not
//	defined — a standard error from a single probe, a ratio over zero, a
//	quantity that overflowed on a diverging run.
//
// So no output fails, or loses the rest of its results, over one
// non-finite value. Every JSON curvprobe writes goes through it: the
// training log, summary.json, the density files, and the --json output of
// spectrum, taylor and bench. For finite values the bytes are those of
// encoding/json. Types with their own MarshalJSON or MarshalText are left
// to it, and maps other than string-keyed ones to encoding/json.
func MarshalJSON(v any, indent string) ([]byte, error) {
	t := finiteTree(reflect.ValueOf(v))
	if indent != "" {
		return json.MarshalIndent(t, "", indent)
	}
	return json.Marshal(t)
}

// object is a JSON object that keeps its members in order.
type object []member

type member struct {
	key string
	val any
}

// MarshalJSON writes the members in order.
func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(m.key)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		val, err := json.Marshal(m.val)
		if err != nil {
			return nil, err
		}
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// finiteTree returns a value that encoding/json writes as it writes v,
// except that non-finite floats become nil (null).
func finiteTree(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	t := v.Type()
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface &&
		(t.Implements(jsonMarshaler) || t.Implements(textMarshaler) ||
			v.CanAddr() && (reflect.PointerTo(t).Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(textMarshaler))) {
		if v.CanAddr() {
			return v.Addr().Interface()
		}
		return v.Interface()
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		if v.Kind() == reflect.Pointer && (t.Implements(jsonMarshaler) || t.Implements(textMarshaler)) {
			return v.Interface()
		}
		return finiteTree(v.Elem())
	case reflect.Float32, reflect.Float64:
		if x := v.Float(); math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return v.Interface()
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		if t.Elem().Kind() == reflect.Uint8 {
			return v.Interface() // base64, as encoding/json
		}
		fallthrough
	case reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = finiteTree(v.Index(i))
		}
		return out
	case reflect.Map:
		if t.Key().Kind() != reflect.String || t.Key().Implements(textMarshaler) {
			return v.Interface()
		}
		if v.IsNil() {
			return nil
		}
		out := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			out[it.Key().String()] = finiteTree(it.Value())
		}
		return out
	case reflect.Struct:
		var o object
		for _, f := range jsonFields(t) {
			fv, ok := fieldByIndex(v, f.index)
			if !ok || f.omitEmpty && isEmpty(fv) {
				continue
			}
			val := finiteTree(fv)
			if val == nil && f.omitEmpty {
				continue
			}
			if f.quoted && val != nil {
				// ",string": the scalar's JSON inside a string.
				b, err := json.Marshal(val)
				if err == nil {
					val = string(b)
				}
			}
			o = append(o, member{f.name, val})
		}
		if o == nil {
			o = object{}
		}
		return o
	}
	return v.Interface()
}

// jsonField is a field of a struct as encoding/json sees it.
type jsonField struct {
	name      string
	index     []int
	tagged    bool
	omitEmpty bool
	quoted    bool
}

// jsonFields lists the fields encoding/json writes for t, in its order:
// embedded structs flattened, and of fields with the same name the
// shallowest (a tagged one among equals; none if that is ambiguous).
func jsonFields(t reflect.Type) []jsonField {
	var all []jsonField
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(append([]int(nil), index...), i)
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if sf.Anonymous && name == "" && ft.Kind() == reflect.Struct {
				walk(ft, idx)
				continue
			}
			if !sf.IsExported() {
				continue
			}
			f := jsonField{name: name, index: idx, tagged: name != ""}
			if name == "" {
				f.name = sf.Name
			}
			for _, o := range strings.Split(opts, ",") {
				switch o {
				case "omitempty":
					f.omitEmpty = true
				case "string":
					f.quoted = true
				}
			}
			all = append(all, f)
		}
	}
	walk(t, nil)
	var out []jsonField
	for i, f := range all {
		keep := true
		for j, g := range all {
			if i == j || g.name != f.name {
				continue
			}
			switch {
			case len(g.index) < len(f.index):
				keep = false
			case len(g.index) == len(f.index) && (g.tagged == f.tagged || g.tagged):
				keep = false
			}
		}
		if keep {
			out = append(out, f)
		}
	}
	return out
}

// fieldByIndex is v.FieldByIndex that reports false through a nil
// embedded pointer.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

// isEmpty is encoding/json's test for omitempty.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}
