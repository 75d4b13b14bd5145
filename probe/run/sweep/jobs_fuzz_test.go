package sweep

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// hostile reports whether a value must be refused: not UTF-8, or holding a
// control character.
func hostile(vs ...string) bool {
	for _, v := range vs {
		if !utf8.ValidString(v) || strings.IndexFunc(v, isControl) >= 0 {
			return true
		}
	}
	return false
}

// shellWords splits one line of the script into bash words as bash would,
// for the forms shellQuote writes (plain words, '...', \' and $'...' with
// \\, \' and \xHH); anything else a shell would treat specially (an
// unquoted $, ;, |, #, backquote, ...) is an error.
func shellWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	in := false
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == ' ':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
			i++
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated ' at %d", i)
			}
			cur.WriteString(line[i+1 : i+1+end])
			i += end + 2
			in = true
		case c == '\\' && i+1 < len(line) && line[i+1] == '\'':
			cur.WriteByte('\'')
			i += 2
			in = true
		case c == '$' && i+1 < len(line) && line[i+1] == '\'':
			i += 2
			for {
				if i >= len(line) {
					return nil, fmt.Errorf("unterminated $' in %q", line)
				}
				if line[i] == '\'' {
					i++
					break
				}
				if line[i] != '\\' {
					cur.WriteByte(line[i])
					i++
					continue
				}
				if i+1 >= len(line) {
					return nil, fmt.Errorf("trailing \\ in %q", line)
				}
				switch e := line[i+1]; e {
				case '\\', '\'':
					cur.WriteByte(e)
					i += 2
				case 'x':
					if i+4 > len(line) {
						return nil, fmt.Errorf("short \\x in %q", line)
					}
					v, err := strconv.ParseUint(line[i+2:i+4], 16, 8)
					if err != nil {
						return nil, err
					}
					cur.WriteByte(byte(v))
					i += 4
				default:
					return nil, fmt.Errorf("escape \\%c in %q", e, line)
				}
			}
			in = true
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_./=:,+@%", c) >= 0:
			cur.WriteByte(c)
			i++
			in = true
		default:
			return nil, fmt.Errorf("unquoted %q at %d in %q", c, i, line)
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

var sbatchLine = regexp.MustCompile(`^#SBATCH --([a-z-]+)=(.*)$`)

// FuzzSlurmScript: for any option values, SlurmScript either refuses them
// (always when one holds a control character or is not UTF-8) or writes a
// script with the template's lines: as many, comments where the template
// has comments, and as commands only the template's three, the last of which
// bash splits into exactly the binary and its arguments; each #SBATCH value
// is the option's, as one plain word.
func FuzzSlurmScript(f *testing.F) {
	f.Add("/shared/out", "/shared/s.json", "curvprobe", "eos", "gpu", "acct", "1:00:00", "4G", "cuda:1", uint8(3), uint8(4), uint8(0))
	f.Add("/shared/a\ntouch PWNED", "/s.yaml", "", "", "", "", "", "", "", uint8(2), uint8(0), uint8(1))
	f.Add(`/a' $(touch X) "b" \ ; #`, "/s/`x`.json", "/opt/my bin", "n", "p", "a", "90", "512M", "cpu", uint8(1), uint8(1), uint8(0xfc))
	f.Add("/o\xff\u2028", "/f\x00", "b\r", "my sweep", "p q", "a'b", "2-12", "8Gi", "auto", uint8(0), uint8(0), uint8(2))
	f.Add("$'x'\\x0a", "'", "\\'", "%", "=", ",", "UNLIMITED", "1", "gpu", uint8(5), uint8(9), uint8(6))
	f.Fuzz(func(t *testing.T, out, file, bin, name, partition, account, tm, mem, device string, shards, cpus, flags uint8) {
		o := JobOptions{Name: name, File: file, Out: out, Shards: int(shards % 8), Workers: int(flags>>4) % 4, Bin: bin,
			DType: []string{"", "float32", "float64", "float16"}[flags&3], Device: device, TF32: flags&4 != 0, NoPlot: flags&8 != 0,
			Runs: 8, Time: tm, CPUs: int(cpus % 16), Mem: mem, GPUs: int(flags >> 6), Partition: partition, Account: account}
		var b strings.Builder
		err := SlurmScript(&b, o)
		if hostile(out, file, bin, name, partition, account, tm, mem, device) && err == nil {
			t.Fatalf("a control character or bad UTF-8 was accepted: %+v", o)
		}
		if refused(t, err, b.String()) {
			return
		}
		// The template: the same options with plain stand-ins.
		ref := o
		standInJob(&ref)
		standIn(&ref.File, "/f")
		standIn(&ref.Partition, "p")
		standIn(&ref.Account, "a")
		standIn(&ref.Time, "1")
		var rb strings.Builder
		if err := SlurmScript(&rb, ref); err != nil {
			t.Fatalf("template: %v", err)
		}
		s, rs := b.String(), rb.String()
		if !strings.HasSuffix(s, "\n") {
			t.Fatal("no final newline")
		}
		lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		refLines := strings.Split(strings.TrimSuffix(rs, "\n"), "\n")
		if len(lines) != len(refLines) {
			t.Fatalf("%d lines, the template %d:\n%s", len(lines), len(refLines), s)
		}
		var commands []string
		for i, l := range lines {
			if strings.HasPrefix(l, "#") != strings.HasPrefix(refLines[i], "#") {
				t.Fatalf("line %d %q vs the template's %q", i+1, l, refLines[i])
			}
			if strings.HasPrefix(l, "#") {
				if m := sbatchLine.FindStringSubmatch(l); m != nil {
					want := map[string]string{"job-name": o.name(), "time": o.Time, "mem": o.Mem, "partition": o.Partition, "account": o.Account}[m[1]]
					if want != "" && m[2] != want || !sbatchWord.MatchString(m[2]) {
						t.Fatalf("line %d %q: want the value %q as one word", i+1, l, want)
					}
				}
				continue
			}
			commands = append(commands, l)
		}
		if len(commands) != 3 || commands[0] != "set -euo pipefail" || !strings.HasPrefix(commands[1], `export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-`) {
			t.Fatalf("commands %q", commands)
		}
		words, err := shellWords(commands[2])
		if err != nil {
			t.Fatalf("exec line: %v", err)
		}
		want := append([]string{"exec", o.bin()}, o.args(o.File, true)...)
		if !slices.Equal(words, want) {
			t.Fatalf("exec line %q splits into %q, want %q", commands[2], words, want)
		}
	})
}

// yamlSkeleton replaces each double-quoted scalar of a line by "Q", or
// fails on an unterminated one.
func yamlSkeleton(line string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		if line[i] != '"' {
			b.WriteByte(line[i])
			continue
		}
		j := i + 1
		for ; j < len(line) && line[j] != '"'; j++ {
			if line[j] == '\\' {
				j++
			}
		}
		if j >= len(line) {
			return "", fmt.Errorf("unterminated scalar in %q", line)
		}
		b.WriteString(`"Q"`)
		i = j
	}
	return b.String(), nil
}

// FuzzK8sManifest: for any option values and sweep file, K8sManifest either
// refuses them (always when an option holds a control character or is not
// UTF-8) or writes printable ASCII whose lines are the template's with only
// the quoted scalars differing, that YAML reads as the template's two
// documents with the template's top-level keys, and that gives back the
// values: the sweep file, the image, the command and the mount path.
func FuzzK8sManifest(f *testing.F) {
	f.Add("/sweep", "curvprobe", "eos", "img:1", "curvprobe-sweep", "4Gi", "cuda:1", "{\"a\": 1}\n", uint8(3), uint8(4), uint8(0))
	f.Add("/sweep\n---\napiVersion: v1\nkind: Pod", "", "", "i", "", "", "", "", uint8(2), uint8(0), uint8(1))
	f.Add(`/a"b\c: d # e --- f`, "b'\" ---", "x ---", "reg/img:1 # c", "a.b-c", "1", "cpu", "---\n...\n# x\n\t\"\\é\u2028\ufeff", uint8(1), uint8(1), uint8(0xfc))
	f.Add("/o\u0085", "b", "n", "i\x00", "Bad_Name", "x", "auto", "\xff", uint8(4), uint8(2), uint8(0x40))
	f.Add("/é☃𝄞", "{", "[", "*a", "b", "8G", "gpu", "!tag %x @y `z`", uint8(7), uint8(15), uint8(0xfe))
	// Sizes Kubernetes refuses (its kilo is k; no GB).
	f.Add("/s", "c", "n", "i", "p", "512K", "cpu", "{}", uint8(1), uint8(1), uint8(0))
	f.Add("/s", "c", "n", "i", "p", "8GB", "cpu", "{}", uint8(1), uint8(1), uint8(0))
	f.Fuzz(func(t *testing.T, out, bin, name, image, pvc, mem, device, content string, shards, cpus, flags uint8) {
		o := K8sOptions{JobOptions: JobOptions{Name: name, File: "s.json", Out: out, Shards: int(shards % 8), Workers: int(flags>>4) % 4,
			Bin: bin, DType: []string{"", "float32", "float64", "float16"}[flags&3], Device: device, TF32: flags&4 != 0,
			NoPlot: flags&8 != 0, Runs: 8, CPUs: int(cpus % 16), Mem: mem, GPUs: int(flags >> 6)},
			Content: []byte(content), Image: image, PVC: pvc}
		var b strings.Builder
		err := K8sManifest(&b, o)
		if hostile(out, bin, name, image, pvc, mem, device) && err == nil {
			t.Fatalf("a control character or bad UTF-8 was accepted: %+v", o)
		}
		if refused(t, err, b.String()) {
			return
		}
		ref := o
		standInJob(&ref.JobOptions)
		standIn(&ref.Image, "i")
		standIn(&ref.PVC, "p")
		ref.Content = []byte("c")
		var rb strings.Builder
		if err := K8sManifest(&rb, ref); err != nil {
			t.Fatalf("template: %v", err)
		}
		s := b.String()
		lines := strings.Split(s, "\n")
		refLines := strings.Split(rb.String(), "\n")
		if len(lines) != len(refLines) {
			t.Fatalf("%d lines, the template %d:\n%s", len(lines), len(refLines), s)
		}
		for i, l := range lines {
			if strings.IndexFunc(l, func(r rune) bool { return r < ' ' || r > '~' }) >= 0 {
				t.Fatalf("line %d %q: not printable ASCII", i+1, l)
			}
			sk, err := yamlSkeleton(l)
			if err != nil {
				t.Fatal(err)
			}
			rk, _ := yamlSkeleton(refLines[i])
			if sk != rk {
				t.Fatalf("line %d %q vs the template's %q", i+1, l, refLines[i])
			}
		}
		docs := yamlDocs(t, s)
		if len(docs) != 2 {
			t.Fatalf("%d documents", len(docs))
		}
		for i, want := range [][]string{{"apiVersion", "data", "kind", "metadata"}, {"apiVersion", "kind", "metadata", "spec"}} {
			var keys []string
			for k := range docs[i] {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, want) {
				t.Fatalf("document %d has keys %q, want %q", i, keys, want)
			}
		}
		if got := docs[0]["data"].(map[string]any)["sweep.json"]; got != content {
			t.Fatalf("ConfigMap data %q, want %q", got, content)
		}
		c := docs[1]["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
		var cmd []string
		for _, w := range c["command"].([]any) {
			cmd = append(cmd, w.(string))
		}
		if want := append([]string{o.bin()}, o.args(k8sSweepDir+"/sweep.json", false)...); !slices.Equal(cmd, want) {
			t.Fatalf("command %q, want %q", cmd, want)
		}
		if c["image"] != image || c["volumeMounts"].([]any)[0].(map[string]any)["mountPath"] != out {
			t.Fatalf("image %q, mountPath %q", c["image"], c["volumeMounts"])
		}
		// Kubernetes' own decoder (k8s.io/api types, strict) reads the
		// same objects and values.
		objs, err := decodeStrict(s)
		if err != nil || len(objs) != 2 {
			t.Fatalf("Kubernetes' strict decoding: %d objects, %v\n%s", len(objs), err, s)
		}
		cm, ok1 := objs[0].(*corev1.ConfigMap)
		job, ok2 := objs[1].(*batchv1.Job)
		if !ok1 || !ok2 {
			t.Fatalf("objects %T, %T", objs[0], objs[1])
		}
		if cm.Data["sweep.json"] != content {
			t.Fatalf("Kubernetes reads ConfigMap data %q, want %q", cm.Data["sweep.json"], content)
		}
		kc := job.Spec.Template.Spec.Containers[0]
		if kc.Image != image || !slices.Equal(kc.Command, cmd) || kc.VolumeMounts[0].MountPath != out ||
			int(*job.Spec.Completions) != o.Shards || *job.Spec.CompletionMode != batchv1.IndexedCompletion {
			t.Fatalf("Kubernetes reads image %q, command %q, mount %q, completions %d", kc.Image, kc.Command, kc.VolumeMounts[0].MountPath, *job.Spec.Completions)
		}
		if o.Mem != "" {
			if q := kc.Resources.Limits[corev1.ResourceMemory]; q.Cmp(resource.MustParse(o.Mem)) != 0 {
				t.Fatalf("memory limit %s, want %s", q.String(), o.Mem)
			}
		}
	})
}

// standIn replaces a set option with a plain stand-in, for the template a
// job file is compared with.
func standIn(v *string, s string) {
	if *v != "" {
		*v = s
	}
}

// standInJob replaces the string options that both the Slurm script and
// the Kubernetes manifest write (out, bin, name, mem, device) by plain
// stand-ins, as standIn does.
func standInJob(o *JobOptions) {
	standIn(&o.Out, "/o")
	standIn(&o.Bin, "b")
	standIn(&o.Name, "n")
	standIn(&o.Mem, "1G")
	standIn(&o.Device, "cpu")
}

// refused reports whether err refused the options, failing t when it did
// so without a message or after writing output.
func refused(t *testing.T, err error, out string) bool {
	t.Helper()
	if err == nil {
		return false
	}
	if err.Error() == "" || out != "" {
		t.Fatalf("error %q with output %q", err, out)
	}
	return true
}
