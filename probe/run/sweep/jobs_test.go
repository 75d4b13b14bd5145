package sweep

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
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
