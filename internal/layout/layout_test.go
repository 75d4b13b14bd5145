package layout

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/curvprobe/curvprobe"

// allowed lists, per package, the third-party module prefixes and the
// curvprobe packages it may depend on (DESIGN.md's table). The standard
// library is always allowed; "*" allows everything. Only the packages'
// own files are checked (go list's Imports): tests may use any package as an
// oracle, e.g. models' tests run probe's estimators on exact Hessians.
var allowed = map[string][]string{
	"kernels":      {"gonum.org/", "github.com/ebitengine/purego"},
	"kernels/cuda": {"kernels", "github.com/ebitengine/purego"},
	// golang.org/x/sys/cpu is the Go team's CPU feature detection (the
	// standard library keeps its own internal): the CPU backend compares
	// the CPU's vector instructions with OpenBLAS's kernel class, and picks
	// its own vectorised loops, with it.
	"kernels/cpu":              {"gonum.org/", "kernels", "github.com/ebitengine/purego", "golang.org/x/sys/cpu"},
	"kernels/cpu/openblaslink": {},
	// github.com/chewxy/hm is Gorgonia's type system: a custom op (gelu) must
	// return its types, so it is part of the Gorgonia API models uses.
	// internal/npyfile is npyio's header reader made safe on corrupt files,
	// shared by the two packages that read .npy: part of the npyio layer.
	// internal/torchfile reads PyTorch's weight files (safetensors,
	// torch.save) for models' LoadWeights, with the standard library only.
	"models":             {"kernels", "gorgonia.org/", "gonum.org/", "github.com/sbinet/npyio", "github.com/chewxy/hm", "internal/npyfile", "internal/torchfile"},
	"internal/torchfile": {"internal/half"},
	// internal/half converts float16 and bfloat16 for data's and
	// torchfile's readers, with the standard library only.
	"internal/half":   {},
	"probe":           {"gonum.org/v1/gonum/"},
	"data":            {"gonum.org/", "github.com/sbinet/npyio", "internal/npyfile", "internal/half"},
	"probe/run":       {"probe", "models", "kernels", "data", "gonum.org/"},
	"probe/run/sweep": {"probe", "probe/run", "models", "kernels", "data", "gonum.org/"},
	"probe/probetest": {"probe", "gonum.org/v1/gonum/"},
	"bench":           {"*"},
	"cmd/curvprobe":   {"*"},
}

type pkg struct {
	ImportPath string
	Imports    []string
}

func TestImportBoundaries(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", module+"/...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		rules, ok := allowed[rel]
		if !ok {
			continue
		}
		seen++
		for _, imp := range p.Imports {
			if !strings.Contains(strings.Split(imp, "/")[0], ".") {
				continue // standard library
			}
			if !permitted(imp, rules) {
				t.Errorf("%s imports %s; DESIGN.md allows only %v", rel, imp, rules)
			}
		}
	}
	if seen < 6 {
		t.Fatalf("checked only %d packages: the test is not seeing the tree", seen)
	}
}

func permitted(imp string, rules []string) bool {
	for _, r := range rules {
		switch {
		case r == "*":
			return true
		case strings.Contains(r, "."):
			if strings.HasPrefix(imp, r) {
				return true
			}
		default:
			if imp == module+"/"+r || strings.HasPrefix(imp, module+"/"+r+"/") && r != "probe" && r != "kernels" {
				return true
			}
		}
	}
	return false
}
