package torchfile

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"
)

// The values of the restricted unpickler: string, int64, float64, bool,
// nil, ptuple, *plist, *pdict, pglobal, *storage, *ptensor.
type (
	ptuple  []any
	plist   []any
	pglobal struct{ module, name string }
	pdict   struct{ keys, vals []any }
)

// maxStack bounds the unpickler's stack: a state_dict's pickle holds two
// entries a tensor there.
const maxStack = 1 << 20

// typeName names the Python type of an unpickled value, for errors.
func typeName(v any) string {
	switch v := v.(type) {
	case string:
		return "str"
	case int64:
		return "int"
	case float64:
		return "float"
	case bool:
		return "bool"
	case nil:
		return "None"
	case ptuple:
		return "tuple"
	case *plist:
		return "list"
	case *pdict:
		return "dict"
	case pglobal:
		return v.module + "." + v.name
	case *storage:
		return "storage"
	case *ptensor:
		return "tensor"
	}
	return fmt.Sprintf("%T", v)
}

// unpickle runs the pickle program code with the opcodes torch.save writes
// for dictionaries of tensors (protocols 2 to 5) and returns the object it
// builds. Globals other than those torch.save uses for tensors are refused;
// nothing is executed.
func unpickle(code []byte) (any, error) {
	u := &unpickler{code: code, memo: map[uint64]any{}}
	v, err := u.run()
	if err != nil {
		return nil, fmt.Errorf("pickle: at byte %d: %w", u.op, err)
	}
	return v, nil
}

type unpickler struct {
	code  []byte
	pos   int
	op    int // position of the current opcode
	stack []any
	marks []int
	memo  map[uint64]any
}

type mark struct{}

func (u *unpickler) take(n uint64) ([]byte, error) {
	if n > uint64(len(u.code)-u.pos) {
		return nil, fmt.Errorf("truncated: %d bytes wanted, %d left", n, len(u.code)-u.pos)
	}
	b := u.code[u.pos : u.pos+int(n)]
	u.pos += int(n)
	return b, nil
}

func (u *unpickler) uint(n int) (uint64, error) {
	b, err := u.take(uint64(n))
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

func (u *unpickler) push(v any) error {
	if len(u.stack) >= maxStack {
		return fmt.Errorf("stack deeper than %d", maxStack)
	}
	u.stack = append(u.stack, v)
	return nil
}

func (u *unpickler) pop() (any, error) {
	if len(u.stack) == 0 || (len(u.marks) > 0 && len(u.stack) == u.marks[len(u.marks)-1]) {
		return nil, fmt.Errorf("opcode %q pops an empty stack", u.code[u.op])
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

func (u *unpickler) top() (any, error) {
	if len(u.stack) == 0 || (len(u.marks) > 0 && len(u.stack) == u.marks[len(u.marks)-1]) {
		return nil, fmt.Errorf("opcode %q reads an empty stack", u.code[u.op])
	}
	return u.stack[len(u.stack)-1], nil
}

// popMark pops the values above the last mark, and the mark.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, fmt.Errorf("opcode %q without a mark", u.code[u.op])
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	vals := append([]any(nil), u.stack[m:]...)
	u.stack = u.stack[:m]
	return vals, nil
}

func (u *unpickler) str(n uint64) error {
	b, err := u.take(n)
	if err != nil {
		return err
	}
	if !utf8.Valid(b) {
		return fmt.Errorf("string is not UTF-8")
	}
	return u.push(string(b))
}

func (u *unpickler) run() (any, error) {
	for u.pos < len(u.code) {
		u.op = u.pos
		op := u.code[u.pos]
		u.pos++
		var err error
		switch op {
		case 0x80: // PROTO
			var v uint64
			if v, err = u.uint(1); err == nil && v > 5 {
				err = fmt.Errorf("pickle protocol %d", v)
			}
		case 0x95: // FRAME: a length, for buffering only
			_, err = u.uint(8)
		case '.': // STOP
			v, err := u.pop()
			if err != nil {
				return nil, err
			}
			if len(u.marks) > 0 {
				return nil, fmt.Errorf("STOP inside a mark")
			}
			return v, nil
		case '(': // MARK
			u.marks = append(u.marks, len(u.stack))
			if len(u.marks) > maxStack {
				err = fmt.Errorf("marks nested deeper than %d", maxStack)
			}
		case ')':
			err = u.push(ptuple{})
		case '}':
			err = u.push(&pdict{})
		case ']':
			err = u.push(&plist{})
		case 't': // TUPLE
			var vals []any
			if vals, err = u.popMark(); err == nil {
				err = u.push(ptuple(vals))
			}
		case 0x85, 0x86, 0x87: // TUPLE1, TUPLE2, TUPLE3
			n := int(op - 0x84)
			t := make(ptuple, n)
			for i := n - 1; i >= 0 && err == nil; i-- {
				t[i], err = u.pop()
			}
			if err == nil {
				err = u.push(t)
			}
		case 'N':
			err = u.push(nil)
		case 0x88:
			err = u.push(true)
		case 0x89:
			err = u.push(false)
		case 'J': // BININT: 4 bytes, signed
			var v uint64
			if v, err = u.uint(4); err == nil {
				err = u.push(int64(int32(uint32(v))))
			}
		case 'K': // BININT1
			var v uint64
			if v, err = u.uint(1); err == nil {
				err = u.push(int64(v))
			}
		case 'M': // BININT2
			var v uint64
			if v, err = u.uint(2); err == nil {
				err = u.push(int64(v))
			}
		case 0x8a: // LONG1: n bytes, little-endian two's complement
			var n uint64
			if n, err = u.uint(1); err != nil {
				break
			}
			if n > 8 {
				err = fmt.Errorf("integer of %d bytes", n)
				break
			}
			var v uint64
			if v, err = u.uint(int(n)); err == nil {
				if n > 0 && n < 8 && v&(1<<(8*n-1)) != 0 {
					v |= ^uint64(0) << (8 * n)
				}
				err = u.push(int64(v))
			}
		case 'G': // BINFLOAT: 8 bytes, big-endian
			var b []byte
			if b, err = u.take(8); err == nil {
				err = u.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
			}
		case 'X': // BINUNICODE
			var n uint64
			if n, err = u.uint(4); err == nil {
				err = u.str(n)
			}
		case 0x8c: // SHORT_BINUNICODE
			var n uint64
			if n, err = u.uint(1); err == nil {
				err = u.str(n)
			}
		case 0x8d: // BINUNICODE8
			var n uint64
			if n, err = u.uint(8); err == nil {
				err = u.str(n)
			}
		case 'c': // GLOBAL: module\nname\n
			var mod, name string
			if mod, err = u.line(); err == nil {
				if name, err = u.line(); err == nil {
					err = u.global(mod, name)
				}
			}
		case 0x93: // STACK_GLOBAL
			var n, m any
			if n, err = u.pop(); err != nil {
				break
			}
			if m, err = u.pop(); err != nil {
				break
			}
			mod, ok1 := m.(string)
			name, ok2 := n.(string)
			if !ok1 || !ok2 {
				err = fmt.Errorf("STACK_GLOBAL of a %s and a %s", typeName(m), typeName(n))
				break
			}
			err = u.global(mod, name)
		case 'q', 'r', 0x94: // BINPUT, LONG_BINPUT, MEMOIZE
			var k uint64
			switch op {
			case 'q':
				k, err = u.uint(1)
			case 'r':
				k, err = u.uint(4)
			default:
				k = uint64(len(u.memo))
			}
			if err != nil {
				break
			}
			var v any
			if v, err = u.top(); err == nil {
				u.memo[k] = v
			}
		case 'h', 'j': // BINGET, LONG_BINGET
			var k uint64
			if op == 'h' {
				k, err = u.uint(1)
			} else {
				k, err = u.uint(4)
			}
			if err != nil {
				break
			}
			v, ok := u.memo[k]
			if !ok {
				err = fmt.Errorf("memo %d is unset", k)
				break
			}
			err = u.push(v)
		case 'Q': // BINPERSID
			var pid any
			if pid, err = u.pop(); err == nil {
				var st *storage
				if st, err = persistent(pid); err == nil {
					err = u.push(st)
				}
			}
		case 'R': // REDUCE
			var args, f any
			if args, err = u.pop(); err != nil {
				break
			}
			if f, err = u.pop(); err != nil {
				break
			}
			var v any
			if v, err = call(f, args); err == nil {
				err = u.push(v)
			}
		case 's': // SETITEM
			var k, v, d any
			if v, err = u.pop(); err != nil {
				break
			}
			if k, err = u.pop(); err != nil {
				break
			}
			if d, err = u.top(); err != nil {
				break
			}
			err = setItems(d, []any{k, v})
		case 'u': // SETITEMS
			var kv []any
			if kv, err = u.popMark(); err != nil {
				break
			}
			var d any
			if d, err = u.top(); err == nil {
				err = setItems(d, kv)
			}
		case 'a', 'e': // APPEND, APPENDS
			var vals []any
			if op == 'a' {
				var v any
				v, err = u.pop()
				vals = []any{v}
			} else {
				vals, err = u.popMark()
			}
			if err != nil {
				break
			}
			var l any
			if l, err = u.top(); err != nil {
				break
			}
			pl, ok := l.(*plist)
			if !ok {
				err = fmt.Errorf("APPEND to a %s", typeName(l))
				break
			}
			*pl = append(*pl, vals...)
		case 'b': // BUILD: the state of an OrderedDict (state_dict's _metadata) is dropped
			var state, obj any
			if state, err = u.pop(); err != nil {
				break
			}
			if obj, err = u.top(); err != nil {
				break
			}
			if _, ok := obj.(*pdict); !ok {
				err = fmt.Errorf("BUILD of a %s with a %s", typeName(obj), typeName(state))
			}
		default:
			err = fmt.Errorf("opcode 0x%02x is not read (only the opcodes torch.save writes for tensors)", op)
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("no STOP opcode: truncated")
}

// line reads a GLOBAL argument up to its newline.
func (u *unpickler) line() (string, error) {
	for i := u.pos; i < len(u.code) && i-u.pos < 256; i++ {
		if u.code[i] == '\n' {
			s := string(u.code[u.pos:i])
			u.pos = i + 1
			return s, nil
		}
	}
	return "", fmt.Errorf("GLOBAL argument without a newline")
}

// global pushes one of the globals torch.save uses for tensors.
func (u *unpickler) global(mod, name string) error {
	ok := false
	switch mod {
	case "collections":
		ok = name == "OrderedDict"
	case "torch._utils":
		ok = name == "_rebuild_tensor_v2" || name == "_rebuild_parameter"
	case "torch":
		_, ok = storageDTypes[name]
	}
	if !ok {
		return fmt.Errorf("global %s.%s is not read (only dictionaries of tensors: torch.save(model.state_dict(), path))", mod, name)
	}
	return u.push(pglobal{mod, name})
}

// persistent resolves torch.save's persistent id ('storage', StorageClass,
// key, location, numel).
func persistent(pid any) (*storage, error) {
	t, ok := pid.(ptuple)
	if !ok || len(t) != 5 || t[0] != "storage" {
		return nil, fmt.Errorf("persistent id %s: want ('storage', class, key, location, numel)", typeName(pid))
	}
	g, ok1 := t[1].(pglobal)
	key, ok2 := t[2].(string)
	numel, ok3 := t[4].(int64)
	if !ok1 || !ok2 || !ok3 || g.module != "torch" {
		return nil, fmt.Errorf("persistent id (storage, %s, %s, %s, %s): want ('storage', class, key, location, numel)",
			typeName(t[1]), typeName(t[2]), typeName(t[3]), typeName(t[4]))
	}
	dt, ok := storageDTypes[g.name]
	if !ok {
		return nil, fmt.Errorf("storage class %s", g.name)
	}
	if numel < 0 {
		return nil, fmt.Errorf("storage %s of %d elements", key, numel)
	}
	return &storage{dtype: dt, key: key, numel: numel}, nil
}

// call applies one of the callable globals to args.
func call(f, args any) (any, error) {
	g, ok := f.(pglobal)
	a, ok2 := args.(ptuple)
	if !ok || !ok2 {
		return nil, fmt.Errorf("REDUCE of a %s with a %s", typeName(f), typeName(args))
	}
	switch g.module + "." + g.name {
	case "collections.OrderedDict":
		if len(a) != 0 {
			return nil, fmt.Errorf("OrderedDict with %d arguments", len(a))
		}
		return &pdict{}, nil
	case "torch._utils._rebuild_parameter": // (tensor, requires_grad, hooks)
		if len(a) != 3 {
			return nil, fmt.Errorf("_rebuild_parameter with %d arguments", len(a))
		}
		if t, ok := a[0].(*ptensor); ok {
			return t, nil
		}
		return nil, fmt.Errorf("_rebuild_parameter of a %s", typeName(a[0]))
	case "torch._utils._rebuild_tensor_v2": // (storage, offset, size, stride, requires_grad, hooks[, metadata])
		if len(a) != 6 && len(a) != 7 {
			return nil, fmt.Errorf("_rebuild_tensor_v2 with %d arguments", len(a))
		}
		st, ok1 := a[0].(*storage)
		off, ok2 := a[1].(int64)
		shape, ok3 := ints(a[2])
		strides, ok4 := ints(a[3])
		if !ok1 || !ok2 || !ok3 || !ok4 {
			return nil, fmt.Errorf("_rebuild_tensor_v2(%s, %s, %s, %s, ...): want (storage, offset, size, stride, ...)",
				typeName(a[0]), typeName(a[1]), typeName(a[2]), typeName(a[3]))
		}
		return &ptensor{st: st, offset: off, shape: shape, strides: strides}, nil
	}
	return nil, fmt.Errorf("%s.%s is not callable", g.module, g.name)
}

func ints(v any) ([]int64, bool) {
	t, ok := v.(ptuple)
	if !ok {
		return nil, false
	}
	out := make([]int64, len(t))
	for i, x := range t {
		if out[i], ok = x.(int64); !ok {
			return nil, false
		}
	}
	return out, true
}

// setItems adds key, value pairs kv to the dictionary d.
func setItems(d any, kv []any) error {
	pd, ok := d.(*pdict)
	if !ok {
		return fmt.Errorf("SETITEM on a %s", typeName(d))
	}
	if len(kv)%2 != 0 {
		return fmt.Errorf("SETITEMS with an odd number (%d) of keys and values", len(kv))
	}
	for i := 0; i < len(kv); i += 2 {
		pd.keys = append(pd.keys, kv[i])
		pd.vals = append(pd.vals, kv[i+1])
	}
	return nil
}
