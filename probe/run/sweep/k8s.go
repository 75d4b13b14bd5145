package sweep

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// k8sSweepDir is where the ConfigMap with the sweep file is mounted in the
// pods.
const k8sSweepDir = "/etc/curvprobe-sweep"

// K8sOptions describe a Kubernetes Indexed Job running a sweep.
type K8sOptions struct {
	JobOptions
	// Content is the sweep file, shipped to the pods in a ConfigMap (so
	// every pod reads the same file, however the original changes).
	Content []byte
	// Image is the container image holding the curvprobe binary (Bin).
	Image string
	// PVC names a ReadWriteMany PersistentVolumeClaim mounted at Out in
	// every pod: the shared output directory. Empty means
	// "curvprobe-sweep".
	PVC string
}

// K8sManifest writes a Kubernetes manifest (YAML, two documents): a
// ConfigMap holding the sweep file, and an Indexed Job (completionMode:
// Indexed) with completions and parallelism o.Shards whose pod i runs shard
// i/Shards: Kubernetes sets JOB_COMPLETION_INDEX and the manifest sets
// CURVPROBE_SHARDS. The output directory is the claim o.PVC mounted at
// o.Out. Pods restart on failure up to backoffLimit times; a restarted pod
// skips finished runs and resumes half-done ones. Every value is written by
// yamlQuote, as a double-quoted scalar in printable ASCII, in comments too.
func K8sManifest(w io.Writer, o K8sOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	if o.Image == "" {
		return fmt.Errorf("image: a container image is required")
	}
	for _, f := range []struct{ name, v string }{{"image", o.Image}, {"pvc", o.PVC}} {
		if err := oneLine(f.name, f.v); err != nil {
			return err
		}
	}
	if o.Mem != "" && !k8sMem.MatchString(o.Mem) {
		return fmt.Errorf("mem %q: Kubernetes wants a quantity such as 8Gi, 512Mi or 8G (units Ki Mi Gi Ti Pi Ei, k M G T P E; not 8GB or 512K)", o.Mem)
	}
	if !utf8.Valid(o.Content) {
		return fmt.Errorf("sweep file %s: not valid UTF-8 (a ConfigMap holds text)", o.File)
	}
	name := dnsName(o.name())
	pvc := o.PVC
	if pvc == "" {
		pvc = "curvprobe-sweep"
	}
	if !dns1123.MatchString(pvc) {
		return fmt.Errorf("pvc %q: a claim name is lower-case letters, digits, '-' and '.', starting and ending alphanumeric (RFC 1123)", pvc)
	}
	q := yamlQuote
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	p("# curvprobe sweep: %d runs in an Indexed Job of %d pods; pod i runs shard i/%d", o.Runs, o.Shards, o.Shards)
	p("# (JOB_COMPLETION_INDEX of CURVPROBE_SHARDS). Output: the ReadWriteMany volume claim")
	p("# %s, mounted at %s in every pod; create it first. Apply with: kubectl apply -f THIS_FILE", q(pvc), q(o.Out))
	p("# Then, from a pod or machine with the volume: curvprobe sweep report %s", q(o.Out))
	p("apiVersion: v1")
	p("kind: ConfigMap")
	p("metadata:")
	p("  name: %s", q(name+"-file"))
	p("data:")
	p("  sweep.json: %s", q(string(o.Content)))
	p("---")
	p("apiVersion: batch/v1")
	p("kind: Job")
	p("metadata:")
	p("  name: %s", q(name))
	p("spec:")
	p("  completionMode: Indexed")
	p("  completions: %d", o.Shards)
	p("  parallelism: %d", o.Shards)
	p("  backoffLimit: %d", 2*o.Shards)
	p("  template:")
	p("    spec:")
	p("      restartPolicy: Never")
	p("      containers:")
	p("      - name: sweep")
	p("        image: %s", q(o.Image))
	cmd := append([]string{o.bin()}, o.args(k8sSweepDir+"/sweep.json", false)...)
	qc := make([]string, len(cmd))
	for i, c := range cmd {
		qc[i] = q(c)
	}
	p("        command: [%s]", strings.Join(qc, ", "))
	p("        env:")
	p("        - name: %s", q(EnvShards))
	p("          value: %s", q(strconv.Itoa(o.Shards)))
	threads := 1
	if o.CPUs > 0 {
		threads = max(o.CPUs/max(o.Workers, 1), 1)
	}
	p("        - name: \"OPENBLAS_NUM_THREADS\"")
	p("          value: %s", q(strconv.Itoa(threads)))
	if o.CPUs > 0 || o.Mem != "" || o.GPUs > 0 {
		p("        resources:")
		if o.CPUs > 0 || o.Mem != "" {
			p("          requests:")
			if o.CPUs > 0 {
				p("            cpu: %s", q(strconv.Itoa(o.CPUs)))
			}
			if o.Mem != "" {
				p("            memory: %s", q(o.Mem))
			}
		}
		if o.Mem != "" || o.GPUs > 0 {
			p("          limits:")
			if o.Mem != "" {
				p("            memory: %s", q(o.Mem))
			}
			if o.GPUs > 0 {
				p("            nvidia.com/gpu: %d", o.GPUs)
			}
		}
	}
	p("        volumeMounts:")
	p("        - name: out")
	p("          mountPath: %s", q(o.Out))
	p("        - name: sweep-file")
	p("          mountPath: %s", q(k8sSweepDir))
	p("          readOnly: true")
	p("      volumes:")
	p("      - name: out")
	p("        persistentVolumeClaim:")
	p("          claimName: %s", q(pvc))
	p("      - name: sweep-file")
	p("        configMap:")
	p("          name: %s", q(name+"-file"))
	_, err := io.WriteString(w, b.String())
	return err
}

// yamlQuote writes s as a YAML double-quoted scalar in printable ASCII: '"'
// and '\' are escaped, newline and tab as \n and \t, and every other
// character outside printable ASCII as \uXXXX or \UXXXXXXXX (one form that
// YAML 1.1 and 1.2 read alike, and that no parser takes for a line break or a
// document marker). Invalid UTF-8, which YAML cannot hold, comes out as
// U+FFFD: callers refuse it first (oneLine).
func yamlQuote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r >= ' ' && r < 0x7f:
			b.WriteRune(r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// dnsName makes s a DNS-1123 label of at most 52 characters (Job names
// longer than that cannot label their pods): lower case letters, digits
// and '-', starting and ending with a letter or digit.
func dnsName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	out := b.String()
	if len(out) > 52 {
		out = out[:52]
	}
	out = strings.Trim(out, "-")
	if out == "" {
		return "curvprobe-sweep"
	}
	return out
}

// dns1123 matches a Kubernetes object name (RFC 1123 subdomain).
var dns1123 = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)
