package sweep

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/device"
)

// JobOptions describe the tasks of a cluster job that runs a sweep: each
// task runs `BIN sweep run FILE --out OUT --workers W --shards N` on its
// shard, which it reads from the scheduler's environment (ResolveShard).
type JobOptions struct {
	// Name names the job; empty means "curvprobe-sweep".
	Name string
	// File and Out are the sweep file and the output directory as the
	// tasks see them: on a file system every task shares.
	File, Out string
	// Shards is the number of tasks (array size, Job completions); each
	// runs about 1/Shards of the runs. Required.
	Shards int
	// Workers is the number of runs each task trains at once; 0 means 1.
	Workers int
	// Bin is the curvprobe command; empty means "curvprobe".
	Bin string
	// DType and Device are passed on to `sweep run` when set.
	DType, Device string
	// TF32 passes --tf32 (TF32 tensor cores for float32 GEMMs on the GPU).
	TF32 bool
	// NoPlot passes --no-plot (no per-run figures).
	NoPlot bool
	// Runs is the number of runs in the sweep, for the comments.
	Runs int

	// Resources of each task. Empty or 0 leaves the scheduler's default.
	Time      string // Slurm time limit, e.g. "2:00:00"
	CPUs      int    // CPUs per task
	Mem       string // memory per task: "8G", "512M" (Slurm); "8Gi", "8G", "100k" (Kubernetes)
	GPUs      int    // GPUs per task
	Partition string // Slurm partition
	Account   string // Slurm account
}

// JobName is the default job name of a sweep named sweepName:
// "curvprobe-" and the name with every character but letters, digits, '.',
// '_' and '-' made '-', so that it is one word in an #SBATCH line; an empty
// name gives "curvprobe-sweep".
func JobName(sweepName string) string {
	if sweepName == "" {
		return "curvprobe-sweep"
	}
	return "curvprobe-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '-'
	}, sweepName)
}

func (o *JobOptions) name() string {
	if o.Name == "" {
		return "curvprobe-sweep"
	}
	return o.Name
}

func (o *JobOptions) check() error {
	if o.Shards < 1 {
		return fmt.Errorf("shards %d: want at least 1", o.Shards)
	}
	if o.File == "" || o.Out == "" {
		return fmt.Errorf("the sweep file and the output directory are required")
	}
	if o.Runs > 0 && o.Shards > o.Runs {
		return fmt.Errorf("shards %d: the sweep has only %d runs (a task per run at most)", o.Shards, o.Runs)
	}
	if o.Workers < 0 || o.CPUs < 0 || o.GPUs < 0 {
		return fmt.Errorf("workers %d, cpus %d, gpus %d: must be >= 0", o.Workers, o.CPUs, o.GPUs)
	}
	// Every string that reaches a script or a manifest is one line of text:
	// the job files quote each value (shellQuote, yamlQuote), and a control
	// character (a newline, a NUL) has no use in any of them.
	for _, f := range o.strings() {
		if err := oneLine(f.name, f.v); err != nil {
			return err
		}
	}
	if o.Time != "" && !slurmTime.MatchString(o.Time) {
		return fmt.Errorf("time %q: want minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS", o.Time)
	}
	if o.Mem != "" && !memSize.MatchString(o.Mem) {
		return fmt.Errorf("mem %q: want a size such as 8G, 512M (Slurm) or 8Gi, 512Mi (Kubernetes)", o.Mem)
	}
	if _, err := kernels.ParseDType(o.DType); err != nil {
		return err
	}
	if o.Device != "" {
		if _, err := device.Parse(o.Device); err != nil {
			return err
		}
	}
	return nil
}

// strings returns the options' string values with their names, as the
// command-line flags name them.
func (o *JobOptions) strings() []struct{ name, v string } {
	return []struct{ name, v string }{
		{"out", o.Out}, {"sweep file", o.File}, {"bin", o.Bin}, {"name", o.Name}, {"time", o.Time}, {"mem", o.Mem},
		{"partition", o.Partition}, {"account", o.Account}, {"dtype", o.DType}, {"device", o.Device},
	}
}

// oneLine refuses a value that is not valid UTF-8 or holds a control
// character (C0, DEL, C1, or a Unicode line or paragraph separator).
func oneLine(name, v string) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("%s %q: not valid UTF-8", name, v)
	}
	if i := strings.IndexFunc(v, isControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(v[i:])
		return fmt.Errorf("%s %q: control character %U at byte %d: newlines, NUL and other control characters are not allowed", name, v, r, i)
	}
	return nil
}

func isControl(r rune) bool {
	return r < ' ' || r >= 0x7f && r <= 0x9f || r == 0x2028 || r == 0x2029
}

var (
	// sbatchWord is a value written as it is into an #SBATCH line, which
	// sbatch, not the shell, reads: one word of ordinary characters.
	sbatchWord = regexp.MustCompile(`^[A-Za-z0-9._+@%:,=/-]+$`)
	slurmTime  = regexp.MustCompile(`^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+(:\d{1,2}(:\d{1,2})?)?|UNLIMITED|INFINITE)$`)
	// memSize is a size either scheduler reads (checked again by each:
	// slurmMem, k8sMem).
	memSize = regexp.MustCompile(`^\d+([KMGTkmgt][Bb]?|[KMGTPE]i|[PE])?$`)
	// slurmMem is sbatch's --mem: a whole number of megabytes, or with a
	// unit K, M, G or T (either case, an optional B). sbatch 22.05 refuses
	// 8Gi and 1.5G.
	slurmMem = regexp.MustCompile(`^\d+([KMGTkmgt][Bb]?)?$`)
	// k8sMem is a Kubernetes quantity in whole units: bytes, or a binary
	// (Ki Mi Gi Ti Pi Ei) or decimal (k M G T P E) suffix. Kubernetes
	// refuses 8GB and 512K (its kilo is k).
	k8sMem = regexp.MustCompile(`^\d+([KMGTPE]i|[kMGTPE])?$`)
)

// args is the `sweep run` command line of a task, after the binary;
// withShards adds --shards (Slurm: the task id is then the shard index).
func (o *JobOptions) args(file string, withShards bool) []string {
	a := []string{"sweep", "run", file, "--out", o.Out, "--workers", strconv.Itoa(max(o.Workers, 1))}
	if withShards {
		a = append(a, "--shards", strconv.Itoa(o.Shards))
	}
	if o.DType != "" {
		a = append(a, "--dtype", o.DType)
	}
	if o.Device != "" {
		a = append(a, "--device", o.Device)
	}
	if o.TF32 {
		a = append(a, "--tf32")
	}
	if o.NoPlot {
		a = append(a, "--no-plot")
	}
	return a
}

func (o *JobOptions) bin() string {
	if o.Bin == "" {
		return "curvprobe"
	}
	return o.Bin
}

// SlurmScript writes an sbatch script for a job array of o.Shards tasks
// (#SBATCH --array=0-(Shards-1)). Task i runs shard i/Shards: the script
// passes --shards, so the task id is the shard index and a task resubmitted
// alone (sbatch --array=3 FILE) runs the same shard. Rerunning the whole
// script finishes an interrupted sweep. The script sets
// OPENBLAS_NUM_THREADS to the CPUs per worker (unless already set) and
// execs curvprobe, so that scancel's SIGTERM stops it cleanly.
//
// Every value in the script is quoted by shellQuote, in comments too, except
// those of the #SBATCH lines, which must be single words of ordinary
// characters (Name, Partition, Account; Time and Mem have their own forms).
func SlurmScript(w io.Writer, o JobOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"name", o.Name}, {"partition", o.Partition}, {"account", o.Account}} {
		if f.v != "" && !sbatchWord.MatchString(f.v) {
			return fmt.Errorf("%s %q: an #SBATCH value is one word of letters, digits and ._+@%%:,=/-", f.name, f.v)
		}
	}
	if o.Mem != "" && !slurmMem.MatchString(o.Mem) {
		return fmt.Errorf("mem %q: sbatch wants whole megabytes or a unit K, M, G or T, e.g. 8G or 512M (8Gi is Kubernetes' form)", o.Mem)
	}
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	p("#!/bin/bash")
	p("#SBATCH --job-name=%s", o.name())
	p("#SBATCH --array=0-%d", o.Shards-1)
	if o.Time != "" {
		p("#SBATCH --time=%s", o.Time)
	}
	if o.CPUs > 0 {
		p("#SBATCH --cpus-per-task=%d", o.CPUs)
	}
	if o.Mem != "" {
		p("#SBATCH --mem=%s", o.Mem)
	}
	if o.GPUs > 0 {
		p("#SBATCH --gpus=%d", o.GPUs)
	}
	if o.Partition != "" {
		p("#SBATCH --partition=%s", o.Partition)
	}
	if o.Account != "" {
		p("#SBATCH --account=%s", o.Account)
	}
	p("#")
	p("# curvprobe sweep: %d runs in %d array tasks; task i runs shard i/%d (the runs", o.Runs, o.Shards, o.Shards)
	p("# sorted by id whose position is i modulo %d), writing into one shared directory:", o.Shards)
	p("#   %s", shellQuote(o.Out))
	p("# Submit with: sbatch THIS_FILE. Tasks skip finished runs and resume half-done ones,")
	p("# so resubmitting finishes an interrupted sweep; then: curvprobe sweep report %s", shellQuote(o.Out))
	p("# Logs: slurm-%%A_%%a.out in the submission directory (Slurm's default).")
	p("set -euo pipefail")
	threads := "1"
	if o.CPUs > 0 {
		threads = strconv.Itoa(max(o.CPUs/max(o.Workers, 1), 1))
	}
	p("export OPENBLAS_NUM_THREADS=\"${OPENBLAS_NUM_THREADS:-%s}\"", threads)
	args := o.args(o.File, true)
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	p("exec %s %s", shellQuote(o.bin()), strings.Join(q, " "))
	_, err := io.WriteString(w, b.String())
	return err
}

// shellQuote quotes s as one bash word: as it is when it holds only
// characters no shell treats specially; else in single quotes; and, when it
// holds a control character (which JobOptions refuse, but the quoting does
// not rely on that), in bash's $'...' with every byte outside printable
// ASCII escaped, so that a quoted value never spans two lines, in a comment
// or in a command.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	if strings.IndexFunc(s, isControl) < 0 && utf8.ValidString(s) {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= ' ' && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
