package sweep

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestSlurmScript(t *testing.T) {
	var b strings.Builder
	err := SlurmScript(&b, JobOptions{Name: "eos", File: "/shared/my sweep.json", Out: "/shared/out", Shards: 3, Workers: 2,
		Time: "1:00:00", CPUs: 4, Mem: "4G", GPUs: 1, Partition: "gpu", DType: "float64", Device: "cuda:1", TF32: true, Runs: 8})
	if err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{
		"#!/bin/bash\n", "#SBATCH --array=0-2\n", "#SBATCH --time=1:00:00\n", "#SBATCH --cpus-per-task=4\n",
		"#SBATCH --mem=4G\n", "#SBATCH --gpus=1\n", "#SBATCH --partition=gpu\n", "#SBATCH --job-name=eos\n",
		`OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}"`,
		"exec curvprobe sweep run '/shared/my sweep.json' --out /shared/out --workers 2 --shards 3 --dtype float64 --device cuda:1 --tf32\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
	// The #SBATCH lines come before the first command, or sbatch ignores them.
	first := strings.Index(s, "\nset ")
	if last := strings.LastIndex(s, "#SBATCH"); last > first {
		t.Error("an #SBATCH line after a command")
	}
	if err := SlurmScript(&b, JobOptions{File: "f", Out: "o"}); err == nil {
		t.Error("0 shards: no error")
	}
	if _, err := exec.LookPath("bash"); err == nil {
		if out, err := exec.Command("bash", "-n", "-c", s).CombinedOutput(); err != nil {
			t.Errorf("bash -n: %v\n%s", err, out)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"abc/d-e.json": "abc/d-e.json", "": "''", "a b": "'a b'", "it's": `'it'\''s'`, "$HOME": "'$HOME'"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestK8sManifest(t *testing.T) {
	content := []byte(sweepJSON(`{"path": "seed", "values": [1, 2]}`) + "\n")
	var b strings.Builder
	err := K8sManifest(&b, K8sOptions{JobOptions: JobOptions{Name: "EOS sweep_1", File: "s.json", Out: "/sweep", Shards: 4, Workers: 2,
		CPUs: 4, Mem: "4Gi", GPUs: 1, Runs: 8}, Content: content, Image: "reg.example/curvprobe:1"})
	if err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{"completionMode: Indexed", "completions: 4", "parallelism: 4", `name: "eos-sweep-1"`,
		`"CURVPROBE_SHARDS"`, `value: "4"`, `mountPath: "/sweep"`, `claimName: "curvprobe-sweep"`, "nvidia.com/gpu: 1",
		`command: ["curvprobe", "sweep", "run", "/etc/curvprobe-sweep/sweep.json", "--out", "/sweep", "--workers", "2"]`} {
		if !strings.Contains(s, want) {
			t.Errorf("manifest lacks %q:\n%s", want, s)
		}
	}
	// Parse it as YAML where PyYAML is at hand.
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 to parse the YAML")
	}
	cmd := exec.Command(py, "-c", `import sys, json, yaml; print(json.dumps(list(yaml.safe_load_all(sys.stdin))))`)
	cmd.Stdin = strings.NewReader(s)
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("python3 with yaml: %v", err)
	}
	var docs []map[string]any
	if err := json.Unmarshal(out, &docs); err != nil || len(docs) != 2 {
		t.Fatalf("%v: %s", err, out)
	}
	cm, job := docs[0], docs[1]
	if cm["kind"] != "ConfigMap" || cm["data"].(map[string]any)["sweep.json"] != string(content) {
		t.Errorf("the ConfigMap does not hold the sweep file: %v", cm)
	}
	spec := job["spec"].(map[string]any)
	if job["kind"] != "Job" || spec["completionMode"] != "Indexed" || spec["completions"] != 4.0 || spec["parallelism"] != 4.0 {
		t.Errorf("job spec %v", spec)
	}
	pod := spec["template"].(map[string]any)["spec"].(map[string]any)
	c := pod["containers"].([]any)[0].(map[string]any)
	if c["image"] != "reg.example/curvprobe:1" || len(c["command"].([]any)) != 8 {
		t.Errorf("container %v", c)
	}
}

// Job options that would write a broken or unsafe script are refused by
// name: a newline in a #SBATCH value would start a shell command.
func TestJobOptionsChecked(t *testing.T) {
	base := JobOptions{File: "s.yaml", Out: "/o", Shards: 2, Runs: 4}
	for _, tc := range []struct {
		edit func(o *JobOptions)
		want string
	}{
		{func(o *JobOptions) { o.Partition = "p\nq" }, "partition"},
		{func(o *JobOptions) { o.Account = "a'b" }, "account"},
		{func(o *JobOptions) { o.Time = "abc" }, "time"},
		{func(o *JobOptions) { o.Mem = "lots" }, "mem"},
		{func(o *JobOptions) { o.Device = "foo" }, "device"},
		{func(o *JobOptions) { o.DType = "float16" }, "dtype"},
		{func(o *JobOptions) { o.CPUs = -2 }, "cpus -2"},
		{func(o *JobOptions) { o.GPUs = -1 }, "gpus -1"},
		{func(o *JobOptions) { o.Shards = 100 }, "only 4 runs"},
	} {
		o := base
		tc.edit(&o)
		var b strings.Builder
		if err := SlurmScript(&b, o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v; want an error naming %q", o, err, tc.want)
		}
	}
	for _, good := range []string{"90", "1:30:00", "2-12", "2-12:30:00"} {
		o := base
		o.Time, o.Mem, o.Device = good, "8G", "cuda:1"
		if err := SlurmScript(io.Discard, o); err != nil {
			t.Errorf("time %q: %v", good, err)
		}
	}
	var b strings.Builder
	if err := K8sManifest(&b, K8sOptions{JobOptions: base, Image: "img", PVC: "Bad_Name"}); err == nil || !strings.Contains(err.Error(), "pvc") {
		t.Errorf("pvc Bad_Name: %v", err)
	}
}

// Issue 10: --out $'/shared/a\ntouch PWNED' was written unescaped into the
// script's comments, and a newline and "---" in a Kubernetes value added
// YAML documents. Every string option with a control character is refused,
// naming the option.
func TestJobOptionsControlCharacters(t *testing.T) {
	inject := "/shared/a\ntouch PWNED"
	doc := "/sweep\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: evil}\nspec: {containers: [{name: x, image: x, securityContext: {privileged: true}}]}"
	base := JobOptions{File: "/s.json", Out: "/o", Shards: 2, Runs: 4}
	for _, tc := range []struct {
		edit func(o *JobOptions)
		want string
	}{
		{func(o *JobOptions) { o.Out = inject }, "out"},
		{func(o *JobOptions) { o.Out = doc }, "out"},
		{func(o *JobOptions) { o.Out = "/o\rx" }, "out"},
		{func(o *JobOptions) { o.Out = "/o\x00x" }, "out"},
		{func(o *JobOptions) { o.Out = "/o\u2028x" }, "out"},
		{func(o *JobOptions) { o.Out = "/o\u0085x" }, "out"},
		{func(o *JobOptions) { o.Out = "/o\xffx" }, "out"},
		{func(o *JobOptions) { o.File = "/s\n.json" }, "sweep file"},
		{func(o *JobOptions) { o.Bin = "curvprobe\ntouch PWNED" }, "bin"},
		{func(o *JobOptions) { o.Name = "n\x7f" }, "name"},
		{func(o *JobOptions) { o.Device = "cpu\n" }, "device"},
	} {
		o := base
		tc.edit(&o)
		var b strings.Builder
		if err := SlurmScript(&b, o); err == nil || !strings.HasPrefix(err.Error(), tc.want+" ") {
			t.Errorf("slurm %+v: %v; want an error naming %q", o, err, tc.want)
		}
		b.Reset()
		if err := K8sManifest(&b, K8sOptions{JobOptions: o, Image: "img"}); err == nil || !strings.HasPrefix(err.Error(), tc.want+" ") {
			t.Errorf("k8s %+v: %v; want an error naming %q", o, err, tc.want)
		}
	}
	for _, img := range []string{"img\n---", "img\x00"} {
		if err := K8sManifest(io.Discard, K8sOptions{JobOptions: base, Image: img}); err == nil || !strings.HasPrefix(err.Error(), "image ") {
			t.Errorf("image %q: %v", img, err)
		}
	}
	if err := K8sManifest(io.Discard, K8sOptions{JobOptions: base, Image: "img", Content: []byte("{\"name\": \"\xff\"}")}); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("content not UTF-8: %v", err)
	}
	// #SBATCH values are read by sbatch, not bash: single plain words.
	for _, edit := range []func(o *JobOptions){
		func(o *JobOptions) { o.Name = "my sweep" },
		func(o *JobOptions) { o.Partition = "gpu #x" },
		func(o *JobOptions) { o.Account = `a"b` },
	} {
		o := base
		edit(&o)
		if err := SlurmScript(io.Discard, o); err == nil || !strings.Contains(err.Error(), "#SBATCH") {
			t.Errorf("%+v: %v, want an #SBATCH value error", o, err)
		}
	}
}

// Hostile but printable values are quoted wherever they appear: the script,
// run by bash in a directory of its own with a stand-in curvprobe, passes
// each to the command as one argument and runs nothing else.
func TestSlurmScriptQuotesEverything(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "fake bin's $(touch PWNED0)")
	argsFile := filepath.Join(dir, "args")
	fake := "#!/bin/bash\nprintf '%s\\n' \"$@\" > " + shellQuote(argsFile) + "\n"
	if err := os.WriteFile(bin, []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	o := JobOptions{
		File:   "/s/`touch PWNED1`; touch PWNED2 #.json",
		Out:    `/shared/a' $(touch PWNED3) "x" \ ; touch PWNED4 && echo #`,
		Bin:    bin,
		Shards: 2, Workers: 1, Runs: 4, Device: "cpu",
	}
	var b strings.Builder
	if err := SlurmScript(&b, o); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "x.sbatch")
	os.WriteFile(script, []byte(b.String()), 0o644)
	cmd := exec.Command("bash", script)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bash: %v\n%s\n%s", err, out, b.String())
	}
	got, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join(o.args(o.File, true), "\n") + "\n"
	if string(got) != want {
		t.Errorf("arguments\n%s\nwant\n%s", got, want)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "PWNED") {
			t.Errorf("the script ran an injected command: %s exists\n%s", e.Name(), b.String())
		}
	}
}

// shellQuote keeps a value with a control character on one line ($'...'),
// so that even in a comment it starts no command.
func TestShellQuoteControl(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	for _, v := range []string{"/shared/a\ntouch PWNED", "a'\r\n\tb\\c\x01\x7f\xff é", "\n"} {
		q := shellQuote(v)
		if strings.ContainsAny(q, "\n\r") {
			t.Errorf("shellQuote(%q) = %s spans lines", v, q)
		}
		cmd := exec.Command("bash", "-c", "# "+q+"\nprintf %s "+q)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil || string(out) != v {
			t.Errorf("bash printf %s: %q, %v; want %q", q, out, err, v)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "PWNED")); err == nil {
		t.Error("PWNED created")
	}
}

// yamlDocs decodes every document of a YAML stream.
func yamlDocs(t testing.TB, s string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(s))
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if err == io.EOF {
			return docs
		}
		if err != nil {
			t.Fatalf("YAML: %v\n%s", err, s)
		}
		docs = append(docs, d)
	}
}

// Printable values with YAML's markers ("---", "#", ": ", quotes) stay inside
// their scalars: the manifest has its two documents, and reads back the
// values given.
func TestK8sManifestQuotesEverything(t *testing.T) {
	out := `/sweep/"a" \ b: c # d --- e ... é ☃ 𝄞`
	bin := "curv'probe\" ---"
	content := "{\"name\": \"a\\nb\", \"x\": \"---\\n...\\n\u00e9\u2028\"}\n---\n# c\n\t"
	var b strings.Builder
	err := K8sManifest(&b, K8sOptions{JobOptions: JobOptions{Name: "x\n---", File: "s.json", Out: out, Bin: bin, Shards: 2, Runs: 2},
		Content: []byte(content), Image: "reg/img:1 # not a comment"})
	if err == nil {
		t.Fatal("a name with a newline was accepted")
	}
	b.Reset()
	err = K8sManifest(&b, K8sOptions{JobOptions: JobOptions{Name: "x ---", File: "s.json", Out: out, Bin: bin, Shards: 2, Runs: 2},
		Content: []byte(content), Image: "reg/img:1 # not a comment"})
	if err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for i, line := range strings.Split(s, "\n") {
		if line == "---" && i != strings.Count(s[:strings.Index(s, "\n---\n")+1], "\n") {
			t.Errorf("line %d is a document marker", i+1)
		}
		for _, c := range line {
			if c < ' ' || c > '~' {
				t.Errorf("line %d has %U", i+1, c)
			}
		}
	}
	docs := yamlDocs(t, s)
	if len(docs) != 2 {
		t.Fatalf("%d documents:\n%s", len(docs), s)
	}
	if got := docs[0]["data"].(map[string]any)["sweep.json"]; got != content {
		t.Errorf("ConfigMap data %q, want %q", got, content)
	}
	pod := docs[1]["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	c := pod["containers"].([]any)[0].(map[string]any)
	if c["image"] != "reg/img:1 # not a comment" {
		t.Errorf("image %q", c["image"])
	}
	cmd := c["command"].([]any)
	if cmd[0] != bin || cmd[5] != out {
		t.Errorf("command %q", cmd)
	}
	if m := c["volumeMounts"].([]any)[0].(map[string]any); m["mountPath"] != out {
		t.Errorf("mountPath %q", m["mountPath"])
	}
}

func TestYAMLQuote(t *testing.T) {
	for _, v := range []string{"", "a", "\"\\", "\n---\n", "\x00\x01\x7f\u0085\u2028\u2029\ufeff", "é☃𝄞", "\t"} {
		q := yamlQuote(v)
		var got string
		if err := yaml.Unmarshal([]byte("v: "+q), &struct{ V *string }{&got}); err != nil || got != v {
			t.Errorf("yamlQuote(%q) = %s reads back as %q, %v", v, q, got, err)
		}
		if strings.IndexFunc(q, func(r rune) bool { return r < ' ' || r > '~' }) >= 0 {
			t.Errorf("yamlQuote(%q) = %s: not printable ASCII", v, q)
		}
	}
}

// The --mem of an sbatch script is one sbatch reads (checked against
// sbatch 22.05 --test-only): Kubernetes' 8Gi, which it refuses, is refused
// naming mem.
func TestSlurmScriptMemory(t *testing.T) {
	base := JobOptions{File: "s.yaml", Out: "/o", Shards: 2, Runs: 4}
	for _, mem := range []string{"8G", "512M", "8GB", "512k", "100", "1T"} {
		o := base
		o.Mem = mem
		var b strings.Builder
		if err := SlurmScript(&b, o); err != nil || !strings.Contains(b.String(), "#SBATCH --mem="+mem+"\n") {
			t.Errorf("mem %q: %v", mem, err)
		}
	}
	for _, mem := range []string{"8Gi", "512Mi", "1.5G", "8P"} {
		o := base
		o.Mem = mem
		var b strings.Builder
		if err := SlurmScript(&b, o); err == nil || !strings.Contains(err.Error(), "mem") || b.Len() > 0 {
			t.Errorf("mem %q: error %v, %d bytes written: want an error naming mem", mem, err, b.Len())
		}
	}
}
