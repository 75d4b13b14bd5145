package layout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/curvprobe/curvprobe"

// allowed lists, per package, the third-party module prefixes and the
// curvprobe packages it may depend on (DESIGN.md's table; the rules are in
// the package doc).
var allowed = map[string][]string{
	"kernels":      {"gonum.org/", "github.com/ebitengine/purego"},
	"kernels/cuda": {"kernels", "github.com/ebitengine/purego"},
	// golang.org/x/sys/cpu is the Go team's CPU feature detection (the
	// standard library keeps its own internal): the CPU backend compares
	// the CPU's vector instructions with OpenBLAS's kernel class, and picks
	// its own vectorised loops, with it. With -tags openblas it links
	// OpenBLAS through openblaslink (cgo may not share a package with Go
	// assembly).
	"kernels/cpu": {"gonum.org/", "kernels", "kernels/cpu/openblaslink", "github.com/ebitengine/purego", "golang.org/x/sys/cpu"},
	// openblaslink holds only the cgo link to libopenblas.
	"kernels/cpu/openblaslink": {},
	// The device layer: the grammar of device names, opening a GPU once,
	// the backend of a float type on it.
	"kernels/device": {"kernels", "kernels/cpu", "kernels/cuda"},
	// kerneltest is the conformance suite every backend runs: it sees
	// backends only through the kernels interfaces.
	"kernels/kerneltest": {"kernels"},
	// github.com/chewxy/hm is Gorgonia's type system: a custom op (gelu) must
	// return its types, so it is part of the Gorgonia API models uses.
	// internal/npyfile is npyio's header reader made safe on corrupt files,
	// shared by the two packages that read .npy: part of the npyio layer.
	// internal/atomicfile is the one atomic file writer.
	"models": {"kernels", "gorgonia.org/", "gonum.org/", "github.com/sbinet/npyio", "github.com/chewxy/hm", "internal/npyfile", "internal/atomicfile", "internal/torchfile"},
	// internal/torchfile reads PyTorch's weight files (safetensors,
	// torch.save) for models' LoadWeights, with the standard library only.
	"internal/torchfile": {"internal/half"},
	// internal/half converts float16 and bfloat16 for data's and
	// torchfile's readers, with the standard library only.
	"internal/half": {},
	"probe":         {"gonum.org/v1/gonum/"},
	"data":          {"gonum.org/", "github.com/sbinet/npyio", "internal/npyfile", "internal/atomicfile", "internal/half"},
	"probe/run":     {"probe", "models", "kernels", "kernels/device", "data", "gonum.org/", "internal/atomicfile"},
	// probe/run/sweep reads sweep files written in YAML as well as JSON
	// (Load, FileJSON): yaml.v3 converts them, and only there.
	"probe/run/sweep": {"probe", "probe/run", "models", "kernels", "kernels/device", "data", "gonum.org/", "internal/atomicfile", "gopkg.in/yaml.v3"},
	// probetest is the suite every Operator runs: probe's interfaces only.
	"probe/probetest": {"probe", "gonum.org/v1/gonum/"},
	"bench":           {"*"},
	"cmd/curvprobe":   {"*"},
	// internal packages are leaves shared by the packages above: the
	// standard library and, for npyfile, the npyio layer it hardens.
	"internal/atomicfile": {},
	"internal/npyfile":    {"github.com/sbinet/npyio"},
	// npytest builds corrupt .npy files for models' and data's tests.
	"internal/npytest": {},
	// errtest checks that an error names what is at fault, for tests.
	"internal/errtest": {},
	// layout itself holds only this test.
	"internal/layout": {},
}

// buildTags are the tag sets whose imports are checked: the default build
// and every build the Makefile runs.
var buildTags = []string{"", "openblas"}

type pkg struct {
	ImportPath string
	Imports    []string
}

func TestImportBoundaries(t *testing.T) {
	for _, tags := range buildTags {
		t.Run("tags="+tags, func(t *testing.T) {
			pkgs, err := list(tags, module+"/...")
			if err != nil {
				t.Fatal(err)
			}
			checkBoundaries(t, pkgs)
		})
	}
}

// list runs go list on pattern with the build tags. It asks for pkg's
// fields only: plain -json also computes fields such as Stale, which
// hash every package's files, doubling go list's time.
func list(tags, pattern string) ([]pkg, error) {
	cmd := exec.Command("go", "list", "-tags", tags, "-json=ImportPath,Imports", pattern)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -tags %q: %v\n%s", tags, err, stderr.Bytes())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("go list -tags %q: %v", tags, err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// checkBoundaries reports, through t, every package of pkgs without a row
// in allowed, every row without a package, and every import a row does
// not allow.
func checkBoundaries(t testing.TB, pkgs []pkg) {
	seen := map[string]bool{}
	for _, p := range pkgs {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		rules, ok := allowed[rel]
		if !ok {
			t.Errorf("package %s has no row in internal/layout's table: say what it may import, and why", rel)
			continue
		}
		seen[rel] = true
		for _, imp := range p.Imports {
			if !strings.Contains(strings.Split(imp, "/")[0], ".") {
				continue // standard library, cgo's "C"
			}
			if !permitted(imp, rules) {
				t.Errorf("%s imports %s; DESIGN.md allows only %v", rel, imp, rules)
			}
		}
	}
	for rel := range allowed {
		if !seen[rel] {
			t.Errorf("internal/layout's table has a row for %s, which go list does not show: remove it", rel)
		}
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

// recorder is a testing.TB that keeps the errors it is given.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// The boundary check fails on a package missing from the table, on a row
// whose package is gone, and on a forbidden import; the whole tree passes.
func TestCheckBoundariesFailsOnUnknown(t *testing.T) {
	// tree is the whole table as packages, with extra imports for one.
	tree := func(rel string, imports ...string) []pkg {
		var pkgs []pkg
		for r := range allowed {
			p := pkg{ImportPath: module + "/" + r}
			if r == rel {
				p.Imports = imports
			}
			pkgs = append(pkgs, p)
		}
		return pkgs
	}
	for _, c := range []struct {
		name string
		pkgs []pkg
		want string // in the one error, "" for none
	}{
		{"tree", tree("probe", "gonum.org/v1/gonum/mat", "math"), ""},
		{"unknown package", append(tree(""), pkg{ImportPath: module + "/kernels/nosuch"}), "kernels/nosuch has no row"},
		{"row without package", tree("")[1:], "which go list does not show"},
		{"forbidden import", tree("probe", module+"/kernels"), "probe imports"},
		{"forbidden subpackage", tree("kernels/cuda", module+"/kernels/cpu"), "kernels/cuda imports"},
	} {
		r := &recorder{TB: t}
		checkBoundaries(r, c.pkgs)
		switch {
		case c.want == "" && len(r.errs) != 0:
			t.Errorf("%s: errors %q, want none", c.name, r.errs)
		case c.want != "" && (len(r.errs) != 1 || !strings.Contains(r.errs[0], c.want)):
			t.Errorf("%s: errors %q, want one containing %q", c.name, r.errs, c.want)
		}
	}
}

// list fails, naming go list's complaint, rather than letting the test
// skip itself.
func TestListFails(t *testing.T) {
	_, err := list("", module+"/no/such/package")
	if err == nil || !strings.Contains(err.Error(), "go list") {
		t.Fatalf("go list of a missing package returned %v, want an error", err)
	}
}
