package sweep

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// decodeStrict decodes a manifest's documents with Kubernetes' own types
// and decoder (k8s.io/api, k8s.io/apimachinery), strict as the API server
// is with fieldValidation=Strict: an unknown or duplicate field is an error,
// as is a value of the wrong type or a malformed quantity.
func decodeStrict(manifest string) ([]runtime.Object, error) {
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := batchv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	dec := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(manifest)))
	var objs []runtime.Object
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		obj, _, err := dec.Decode(doc, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		objs = append(objs, obj)
	}
}

// The manifest decodes strictly into a ConfigMap and a batch/v1 Indexed
// Job, and these say what K8sManifest promises: completions and parallelism
// of Shards, the shard count in the environment beside the index Kubernetes
// sets (ResolveShard reads the pair as shard i/Shards), the ConfigMap's
// sweep file mounted where the command reads it, the claim mounted at Out,
// and the resources as quantities.
func TestK8sManifestKubernetesTypes(t *testing.T) {
	content := []byte(sweepJSON(`{"path": "seed", "values": [1, 2]}`) + "\n")
	for _, o := range []K8sOptions{
		{JobOptions: JobOptions{Name: "EOS sweep_1", File: "s.json", Out: "/sweep", Shards: 4, Workers: 2, CPUs: 4, Mem: "4Gi", GPUs: 1, Runs: 8,
			DType: "float32", Device: "cuda", TF32: true, NoPlot: true}, Content: content, Image: "reg.example/curvprobe:1", PVC: "runs.shared"},
		{JobOptions: JobOptions{File: "s.json", Out: `/data/it's "here" é`, Shards: 3, Runs: 8, Mem: "512M", Bin: "/opt/curvprobe/bin/curvprobe"},
			Content: []byte("name: x # é\n---\n\"\\\t\u2028"), Image: "img:1"},
		{JobOptions: JobOptions{File: "s.json", Out: "/o", Shards: 1, Runs: 1}, Content: content, Image: "i"},
	} {
		var b strings.Builder
		if err := K8sManifest(&b, o); err != nil {
			t.Fatal(err)
		}
		objs, err := decodeStrict(b.String())
		if err != nil {
			t.Fatalf("strict decoding with k8s.io/api: %v\n%s", err, b.String())
		}
		if len(objs) != 2 {
			t.Fatalf("%d objects, want a ConfigMap and a Job", len(objs))
		}
		cm, ok1 := objs[0].(*corev1.ConfigMap)
		job, ok2 := objs[1].(*batchv1.Job)
		if !ok1 || !ok2 {
			t.Fatalf("objects %T, %T: want *v1.ConfigMap, *batchv1.Job", objs[0], objs[1])
		}
		for _, n := range []string{cm.Name, job.Name} {
			if errs := validation.IsDNS1123Label(n); len(errs) > 0 {
				t.Errorf("name %q: %v", n, errs)
			}
		}
		if got := cm.Data["sweep.json"]; got != string(content) && got != string(o.Content) {
			t.Errorf("ConfigMap data %q, want the sweep file %q", got, o.Content)
		}
		s := job.Spec
		if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
			t.Errorf("completionMode %v, want Indexed", s.CompletionMode)
		}
		if s.Completions == nil || int(*s.Completions) != o.Shards || s.Parallelism == nil || int(*s.Parallelism) != o.Shards {
			t.Errorf("completions %v, parallelism %v, want %d", s.Completions, s.Parallelism, o.Shards)
		}
		if s.BackoffLimit == nil || *s.BackoffLimit < 1 {
			t.Errorf("backoffLimit %v: a failed pod is never retried", s.BackoffLimit)
		}
		pod := s.Template.Spec
		if pod.RestartPolicy != corev1.RestartPolicyNever || len(pod.Containers) != 1 {
			t.Fatalf("restartPolicy %q, %d containers", pod.RestartPolicy, len(pod.Containers))
		}
		c := pod.Containers[0]
		if c.Image != o.Image {
			t.Errorf("image %q, want %q", c.Image, o.Image)
		}
		wantCmd := append([]string{o.bin()}, o.args(k8sSweepDir+"/sweep.json", false)...)
		if !slices.Equal(c.Command, wantCmd) || len(c.Args) != 0 {
			t.Errorf("command %q args %q, want %q", c.Command, c.Args, wantCmd)
		}
		// The index variable: Kubernetes sets JOB_COMPLETION_INDEX in each
		// pod of an Indexed Job; with the env the manifest sets, pod i
		// resolves to shard i/Shards.
		env := map[string]string{}
		for _, e := range c.Env {
			if e.ValueFrom != nil {
				t.Errorf("env %s: valueFrom, want a value", e.Name)
			}
			env[e.Name] = e.Value
		}
		if env[EnvK8sIndex] != "" {
			t.Errorf("the manifest sets %s, which Kubernetes sets", EnvK8sIndex)
		}
		for i := range o.Shards {
			env[EnvK8sIndex] = fmt.Sprint(i)
			sh, _, err := ResolveShard("", 0, func(k string) string { return env[k] })
			if err != nil || sh != (Shard{Index: i, Count: o.Shards}) {
				t.Errorf("pod %d resolves to shard %v (%v), want %d/%d", i, sh, err, i, o.Shards)
			}
		}
		// Volumes: the claim at Out, the ConfigMap where the command reads
		// the sweep file.
		vols := map[string]corev1.Volume{}
		for _, v := range pod.Volumes {
			vols[v.Name] = v
		}
		pvc := o.PVC
		if pvc == "" {
			pvc = "curvprobe-sweep"
		}
		mounts := map[string]string{}
		for _, m := range c.VolumeMounts {
			v, ok := vols[m.Name]
			if !ok {
				t.Errorf("volumeMount %q: no such volume", m.Name)
				continue
			}
			switch {
			case v.PersistentVolumeClaim != nil:
				if v.PersistentVolumeClaim.ClaimName != pvc || m.ReadOnly {
					t.Errorf("claim %q read-only %v, want %q writable", v.PersistentVolumeClaim.ClaimName, m.ReadOnly, pvc)
				}
				mounts["out"] = m.MountPath
			case v.ConfigMap != nil:
				if v.ConfigMap.Name != cm.Name || !m.ReadOnly {
					t.Errorf("configMap volume of %q read-only %v, want %q read-only", v.ConfigMap.Name, m.ReadOnly, cm.Name)
				}
				mounts["file"] = m.MountPath
			default:
				t.Errorf("volume %q: neither the claim nor the ConfigMap", m.Name)
			}
		}
		if len(pod.Volumes) != 2 || mounts["out"] != o.Out || mounts["file"] != k8sSweepDir {
			t.Errorf("%d volumes, mounts %v: want the claim at %q and the ConfigMap at %q", len(pod.Volumes), mounts, o.Out, k8sSweepDir)
		}
		if i := slices.Index(c.Command, "--out"); i < 0 || c.Command[i+1] != mounts["out"] || c.Command[3] != filepath.Join(mounts["file"], "sweep.json") {
			t.Errorf("command %q does not read the mounted file or write to the claim", c.Command)
		}
		// Resources, as Kubernetes parsed them.
		want := corev1.ResourceList{}
		if o.CPUs > 0 {
			want[corev1.ResourceCPU] = *resource.NewQuantity(int64(o.CPUs), resource.DecimalSI)
		}
		if o.Mem != "" {
			want[corev1.ResourceMemory] = resource.MustParse(o.Mem)
		}
		for name, q := range want {
			if got, ok := c.Resources.Requests[name]; !ok || got.Cmp(q) != 0 {
				t.Errorf("request %s %v, want %v", name, got.String(), q.String())
			}
		}
		if o.GPUs > 0 {
			if got := c.Resources.Limits["nvidia.com/gpu"]; got.Value() != int64(o.GPUs) {
				t.Errorf("limit nvidia.com/gpu %v, want %d", got.String(), o.GPUs)
			}
		}
	}
}

// The decoder is strict: a field Kubernetes does not know, a duplicate
// field, or a malformed quantity in the manifest is an error (so the test
// above would see a misspelt field).
func TestDecodeStrictRefuses(t *testing.T) {
	var b strings.Builder
	if err := K8sManifest(&b, K8sOptions{JobOptions: JobOptions{File: "s.json", Out: "/o", Shards: 2, Runs: 2, Mem: "1Gi"},
		Content: []byte("{}"), Image: "i"}); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, c := range []struct{ name, from, to string }{
		{"unknown field", "  parallelism: 2", "  paralelism: 2"},
		{"unknown field in the pod", "      restartPolicy: Never", "      restartPolicy: Never\n      restartpolicy: Never"},
		{"duplicate field", "  completions: 2", "  completions: 2\n  completions: 3"},
		{"malformed quantity", `memory: "1Gi"`, `memory: "1GB"`},
	} {
		bad := strings.Replace(s, c.from, c.to, 1)
		if bad == s {
			t.Fatalf("%s: %q not in the manifest", c.name, c.from)
		}
		if _, err := decodeStrict(bad); err == nil {
			t.Errorf("%s: decoded without error", c.name)
		}
	}
}

// The memory sizes K8sManifest accepts are Kubernetes quantities, and those
// Kubernetes refuses (8GB, 512K: its kilo is k) are refused with an error
// naming the flag.
func TestK8sManifestMemoryQuantity(t *testing.T) {
	for _, mem := range []string{"8Gi", "512Mi", "8G", "512M", "100k", "1Ti", "2048"} {
		var b strings.Builder
		o := K8sOptions{JobOptions: JobOptions{File: "s.json", Out: "/o", Shards: 1, Runs: 1, Mem: mem}, Content: []byte("{}"), Image: "i"}
		if err := K8sManifest(&b, o); err != nil {
			t.Errorf("mem %q: %v", mem, err)
			continue
		}
		if _, err := decodeStrict(b.String()); err != nil {
			t.Errorf("mem %q: %v", mem, err)
		}
	}
	for _, mem := range []string{"8GB", "512K", "8KB", "8gi", "1.5.2G"} {
		var b strings.Builder
		o := K8sOptions{JobOptions: JobOptions{File: "s.json", Out: "/o", Shards: 1, Runs: 1, Mem: mem}, Content: []byte("{}"), Image: "i"}
		err := K8sManifest(&b, o)
		if err == nil || !strings.Contains(err.Error(), "mem") || b.Len() > 0 {
			t.Errorf("mem %q: error %v, output %d bytes: want an error naming mem and no output", mem, err, b.Len())
		}
	}
}

// kubectl, where installed, reads the manifest: offline, `kubectl label
// --local`, which maps the kinds with kubectl's built-in types; and, with
// CURVPROBE_KUBECTL_APPLY=1, `kubectl apply --dry-run=client` against the
// cluster of the user's kubeconfig (kubectl needs an API server to map
// kinds, even for a client dry run, so CI has none to use).
func TestK8sManifestKubectl(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("no kubectl (Debian: apt-get install kubernetes-client)")
	}
	var b strings.Builder
	if err := K8sManifest(&b, K8sOptions{JobOptions: JobOptions{Name: "eos", File: "s.json", Out: "/sweep", Shards: 3, Runs: 8, CPUs: 2, Mem: "2Gi"},
		Content: []byte("{}\n"), Image: "img:1"}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "sweep.yaml")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(isolated bool, args ...string) ([]byte, error) {
		cmd := exec.Command(kubectl, args...)
		if isolated {
			home := t.TempDir() // no user's kubeconfig, no discovery cache
			cmd.Env = append(os.Environ(), "HOME="+home, "KUBECONFIG="+filepath.Join(home, "none"))
		}
		var se bytes.Buffer
		cmd.Stderr = &se
		out, err := cmd.Output()
		if err != nil {
			return out, fmt.Errorf("kubectl %s: %v\n%s", strings.Join(args, " "), err, se.String())
		}
		return out, nil
	}
	out, err := run(true, "label", "--local", "-f", file, "curvprobe-check=1", "-o", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	// kubectl writes both objects back (as a List): they decode strictly too.
	objs, err := decodeStrict(strings.ReplaceAll(string(out), "\napiVersion: ", "\n---\napiVersion: "))
	if err != nil || len(objs) != 2 {
		t.Fatalf("kubectl's output: %d objects, %v\n%s", len(objs), err, out)
	}
	if job, ok := objs[1].(*batchv1.Job); !ok || job.Labels["curvprobe-check"] != "1" || *job.Spec.Completions != 3 {
		t.Errorf("kubectl's Job: %+v", objs[1])
	}
	if os.Getenv("CURVPROBE_KUBECTL_APPLY") != "1" {
		t.Log("kubectl apply --dry-run=client skipped: it needs an API server (set CURVPROBE_KUBECTL_APPLY=1 to use your kubeconfig's)")
		return
	}
	if out, err := run(false, "apply", "--dry-run=client", "-f", file); err != nil {
		t.Error(err)
	} else {
		t.Logf("%s", out)
	}
}
