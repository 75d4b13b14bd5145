package torchfile

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type wantTensor struct {
	Shape  []int     `json:"shape"`
	Values []float64 `json:"values"`
}

// The torch.save fixtures (testdata/make_fixtures.py, PyTorch's own
// writer): every dtype read, transposed and offset views, a scalar, an
// empty tensor, pickle protocols 2 and 4, a Sequential's state_dict in its
// order. Widening to float64 is exact, so values compare exactly.
func TestTorchSaveFixtures(t *testing.T) {
	b, err := os.ReadFile("testdata/want.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]json.RawMessage
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, set string }{{"views.pt", "views"}, {"views_proto4.pt", "views"}, {"seq.pt", "seq"}} {
		var w map[string]wantTensor
		if err := json.Unmarshal(want[tc.set], &w); err != nil {
			t.Fatal(err)
		}
		f, err := Open(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		if f.Format != TorchZip || len(f.Tensors) != len(w) {
			t.Fatalf("%s: format %v, %d tensors; want %d", tc.file, f.Format, len(f.Tensors), len(w))
		}
		if tc.set == "seq" {
			var names []string
			for _, x := range f.Tensors {
				names = append(names, x.Name)
			}
			if !slices.Equal(names, []string{"0.weight", "0.bias", "2.weight", "2.bias"}) {
				t.Errorf("seq.pt order %v", names)
			}
		}
		for _, x := range f.Tensors {
			wt, ok := w[x.Name]
			if !ok {
				t.Fatalf("%s: unexpected tensor %s", tc.file, x.Name)
			}
			got, err := x.Floats(nil)
			if err != nil {
				t.Fatalf("%s: %v", tc.file, err)
			}
			if !slices.Equal(x.Shape, wt.Shape) || !slices.Equal(got, wt.Values) {
				t.Errorf("%s: %s shape %v values %v; want %v %v", tc.file, x.Name, x.Shape, got, wt.Shape, wt.Values)
			}
		}
		f.Close()
	}
}

// stFile builds a safetensors file byte by byte: the header text as given,
// its length in front.
func stFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func le(vals ...any) []byte {
	var b bytes.Buffer
	for _, v := range vals {
		binary.Write(&b, binary.LittleEndian, v)
	}
	return b.Bytes()
}

// A safetensors file written by hand, byte by byte, in every float dtype:
// values known exactly (bfloat16 0x3fc0 is 1.5, float16 0x3c00 is 1, 0x0001
// the smallest subnormal 2^-24, 0x7bff the largest 65504).
func TestSafetensorsByteByByte(t *testing.T) {
	header := `{"__metadata__":{"format":"pt"},` +
		`"w":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]},` +
		`"h":{"dtype":"F16","shape":[4],"data_offsets":[8,16]},` +
		`"b":{"dtype":"BF16","shape":[2],"data_offsets":[16,20]},` +
		`"d":{"dtype":"F64","shape":[],"data_offsets":[20,28]}}`
	data := le(float32(0.5), float32(-3), uint16(0x3c00), uint16(0x0001), uint16(0x7bff), uint16(0xc000),
		uint16(0x3fc0), uint16(0xbf80), float64(math.Pi))
	f, err := OpenReader(bytes.NewReader(stFile(header, data)), int64(len(header)+8+len(data)), "hand.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float64{"w": {0.5, -3}, "h": {1, 0x1p-24, 65504, -2}, "b": {1.5, -1}, "d": {math.Pi}}
	if f.Metadata["format"] != "pt" || len(f.Tensors) != 4 {
		t.Fatalf("metadata %v, %d tensors", f.Metadata, len(f.Tensors))
	}
	for _, x := range f.Tensors {
		got, err := x.Floats(nil)
		if err != nil || !slices.Equal(got, want[x.Name]) {
			t.Errorf("%s: %v, %v; want %v", x.Name, got, err, want[x.Name])
		}
	}
	if s := f.Tensor("w").Shape; !slices.Equal(s, []int{2, 1}) {
		t.Errorf("shape %v", s)
	}
}

// Header lengths whose first bytes look like a pickle's PROTO opcode
// (0x80 0x02) are still safetensors: detection once took a 128-byte header
// for a legacy torch.save file.
func TestDetectSafetensorsLikePickle(t *testing.T) {
	for _, n := range []int{0x80, 0x280, 0x380} {
		hdr := `{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}`
		hdr += strings.Repeat(" ", n-len(hdr))
		b := stFile(hdr, nil)
		if got := Detect(b, nil); got != Safetensors {
			t.Errorf("header of %d bytes: %v", n, got)
		}
		if _, err := OpenReader(bytes.NewReader(b), int64(len(b)), "x"); err != nil {
			t.Errorf("header of %d bytes: %v", n, err)
		}
	}
}

func TestWriteSafetensorsRoundTrip(t *testing.T) {
	arrays := []Array{{"0.weight", []int{2, 3}, []float64{1, 2, 3, 4, 5, math.SmallestNonzeroFloat64}, false}, {"0.bias", []int{2}, []float64{-1, 0.1}, false},
		{"s", nil, []float64{7}, false}, {"e", []int{0}, nil, false}, {"t", []int{3, 2}, []float64{1, 2, 3, 4, 5, 6}, true}}
	for _, dt := range []DType{F64, F32} {
		var buf bytes.Buffer
		if err := WriteSafetensors(&buf, arrays, dt, map[string]string{"a": "b"}); err != nil {
			t.Fatal(err)
		}
		if hl := binary.LittleEndian.Uint64(buf.Bytes()); hl%8 != 0 {
			t.Errorf("header length %d is not a multiple of 8", hl)
		}
		f, err := OpenReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "rt")
		if err != nil {
			t.Fatal(err)
		}
		if f.Metadata["a"] != "b" || len(f.Tensors) != len(arrays) {
			t.Fatalf("%v: metadata %v, %d tensors", dt, f.Metadata, len(f.Tensors))
		}
		for i, a := range arrays {
			x := f.Tensors[i]
			got, err := x.Floats(nil)
			want := a.Values
			if a.Transposed { // [3, 2] written from the values of its [2, 3] transpose
				want = []float64{1, 4, 2, 5, 3, 6}
			}
			if dt == F32 {
				var w32 []float64
				for _, v := range want {
					w32 = append(w32, float64(float32(v)))
				}
				want = w32
			}
			if err != nil || x.Name != a.Name || x.DType != dt || len(got) != len(want) || (len(want) > 0 && !slices.Equal(got, want)) {
				t.Errorf("%v: %s %v %v %v; want %s %v", dt, x.Name, x.DType, got, err, a.Name, want)
			}
		}
	}
}

// Corrupt safetensors files are errors that name the file and what is
// wrong, with the tensor's key where there is one.
func TestSafetensorsErrors(t *testing.T) {
	ok := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	data8 := make([]byte, 8)
	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"truncated data", stFile(ok, data8[:5]), `"a": data_offsets [0, 8] run past the end of the data (5 bytes)`},
		{"truncated header", stFile(ok, nil)[:20], "header length 54 runs past the end"},
		{"huge header", append(le(uint64(1<<40)), '{', '}'), "exceeds the limit"},
		{"unknown dtype", stFile(`{"a":{"dtype":"F7","shape":[2],"data_offsets":[0,8]}}`, data8), `tensor "a": unknown dtype "F7"`},
		{"wrong size", stFile(`{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}`, data8), `tensor "a": shape [2] of F64 needs 16 bytes`},
		{"overlap", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, data8), `tensor "b" (bytes 4-8) overlaps tensor "a"`},
		{"hole", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, data8), "bytes 0-4 of the data belong to no tensor"},
		{"trailing data", stFile(ok, make([]byte, 12)), "the tensors end at byte 8 of the data, the file holds 12"},
		{"duplicate", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, data8), `key "a" appears twice`},
		{"negative dim", stFile(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, data8), "negative dimension"},
		{"huge shape", stFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, data8), "too large"},
		{"backwards offsets", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}`, data8), "end before they begin"},
		{"unknown field", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}`, data8), `unknown field "x"`},
		{"not an object", stFile(`{"a":[1,2]}`, nil), `tensor "a"`},
		{"bad metadata", stFile(`{"__metadata__":{"a":1}}`, nil), "__metadata__"},
		{"garbage after", stFile(ok+`xx`, data8), "after the JSON object"},
		{"no shape", stFile(`{"a":{"dtype":"F32","data_offsets":[0,8]}}`, data8), "no shape"},
		{"neither", []byte("hello world, not a tensor file"), "neither safetensors nor a torch.save zip"},
	} {
		_, err := OpenReader(bytes.NewReader(tc.file), int64(len(tc.file)), "bad.safetensors")
		if err == nil || !strings.HasPrefix(err.Error(), "bad.safetensors: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want bad.safetensors: ...%s", tc.name, err, tc.want)
		}
	}
	// A non-float dtype parses but is not read as floats.
	ints := stFile(`{"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, data8)
	f, err := OpenReader(bytes.NewReader(ints), int64(len(ints)), "ints")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Tensors[0].Floats(nil); err == nil || !strings.Contains(err.Error(), "tensor i has dtype I64") {
		t.Errorf("I64: %v", err)
	}
}

// torchZip builds a torch.save-style archive: records name -> content,
// stored (uncompressed) as torch.save does.
func torchZip(t *testing.T, records ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < len(records); i += 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: records[i], Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(records[i+1]))
	}
	zw.Close()
	return buf.Bytes()
}

// pklTensor is the pickle torch.save writes for {"w": FloatStorage key "0"
// of numel elements, viewed with shape and strides}, protocol 2.
func pklTensor(numel, offset byte, shape, strides string) string {
	return "\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01(X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n" +
		"((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK" + string(numel) + "tQK" + string(offset) +
		shape + strides + "\x89h\x00)RtRu."
}

// deflated is torchZip with deflated records.
func deflated(t *testing.T, records ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < len(records); i += 2 {
		w, err := zw.Create(records[i])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(records[i+1]))
	}
	zw.Close()
	return buf.Bytes()
}

// claimed rewrites the sizes the central directory claims for the last
// record of a zip archive (no comment, no zip64) to n: a 300-byte file
// that says it holds n bytes.
func claimed(z []byte, n uint64) []byte {
	z = bytes.Clone(z)
	end := len(z) - 22 // end of central directory record
	dir := int(binary.LittleEndian.Uint32(z[end+16:]))
	count := int(binary.LittleEndian.Uint16(z[end+10:]))
	for i := 0; i < count; i++ {
		nameLen := int(binary.LittleEndian.Uint16(z[dir+28:]))
		extra := int(binary.LittleEndian.Uint16(z[dir+30:]))
		comment := int(binary.LittleEndian.Uint16(z[dir+32:]))
		if i == count-1 {
			// Sizes over 32 bits need a zip64 extra field; 0xffffffff
			// with none is what a crafted file may say: give both.
			binary.LittleEndian.PutUint32(z[dir+20:], uint32(min(n, 0xfffffffe)))
			binary.LittleEndian.PutUint32(z[dir+24:], uint32(min(n, 0xfffffffe)))
		}
		dir += 46 + nameLen + extra + comment
	}
	return z
}

func TestTorchZipErrors(t *testing.T) {
	four := string(le(float32(1), float32(2), float32(3), float32(4)))
	good := pklTensor(4, 0, "K\x02K\x02\x86", "K\x02K\x01\x86")
	// The hand-made archive reads, transposed view included.
	for _, tc := range []struct {
		pkl  string
		want []float64
	}{{good, []float64{1, 2, 3, 4}}, {pklTensor(4, 0, "K\x02K\x02\x86", "K\x01K\x02\x86"), []float64{1, 3, 2, 4}}, {pklTensor(4, 1, "K\x03\x85", "K\x01\x85"), []float64{2, 3, 4}}} {
		z := torchZip(t, "a/data.pkl", tc.pkl, "a/data/0", four)
		f, err := OpenReader(bytes.NewReader(z), int64(len(z)), "m.pt")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := f.Tensors[0].Floats(nil); err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%v, %v; want %v", got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"truncated storage", torchZip(t, "a/data.pkl", good, "a/data/0", four[:12]), "tensor w: storage data/0 holds 12 bytes, want 4 elements of F32 (16 bytes)"},
		{"missing storage", torchZip(t, "a/data.pkl", good), "tensor w: storage record data/0 is missing"},
		{"view past storage", torchZip(t, "a/data.pkl", pklTensor(4, 1, "K\x02K\x02\x86", "K\x02K\x01\x86"), "a/data/0", four), "tensor w: shape [2 2] with strides [2 1] at offset 1 runs past its storage of 4 elements"},
		{"expanded view", torchZip(t, "a/data.pkl", pklTensor(4, 0, "K\x09\x85", "K\x00\x85"), "a/data/0", four), "shape [9] holds more elements than its storage of 4"},
		{"no data.pkl", torchZip(t, "x.npy", "abc"), "without data.pkl"},
		{"compressed storage", deflated(t, "a/data.pkl", good, "a/data/0", four), "storage record data/0 is compressed (method 8)"},
		// 2^29 float32 elements claimed by the pickle and the directory,
		// 16 bytes present: refused before 4 GiB are allocated.
		{"size claim", claimed(torchZip(t, "a/data.pkl", strings.Replace(pklTensor(4, 0, "J\x00\x00\x00\x20\x85", "K\x01\x85"), "K\x04t", "J\x00\x00\x00\x20t", 1), "a/data/0", four), 1<<31),
			"claims 2147483648 bytes in an archive of"},
		{"torchscript", torchZip(t, "a/data.pkl", good, "a/constants.pkl", "", "a/data/0", four), "TorchScript"},
		{"big endian", torchZip(t, "a/data.pkl", good, "a/byteorder", "big", "a/data/0", four), `byte order "big"`},
		{"evil global", torchZip(t, "a/data.pkl", "\x80\x02cos\nsystem\nX\x02\x00\x00\x00lsR."), "global os.system is not read"},
		{"not a dict", torchZip(t, "a/data.pkl", "\x80\x02K\x01."), "holds a int, want a dictionary of tensors"},
		{"not a tensor", torchZip(t, "a/data.pkl", "\x80\x02}X\x01\x00\x00\x00aK\x01s."), `state_dict entry "a" is a int, not a tensor`},
		{"truncated pickle", torchZip(t, "a/data.pkl", good[:40], "a/data/0", four), "pickle: at byte"},
		{"unknown opcode", torchZip(t, "a/data.pkl", "\x80\x02\xff."), "opcode 0xff is not read"},
		{"empty stack", torchZip(t, "a/data.pkl", "\x80\x02."), "pops an empty stack"},
		{"legacy", []byte("\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."), "legacy torch.save file"},
	} {
		_, err := OpenReader(bytes.NewReader(tc.file), int64(len(tc.file)), "bad.pt")
		if err == nil || !strings.HasPrefix(err.Error(), "bad.pt: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want bad.pt: ...%s", tc.name, err, tc.want)
		}
	}
}
