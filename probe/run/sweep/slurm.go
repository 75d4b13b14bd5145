package sweep

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
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
	Mem       string // memory per task, e.g. "8G" (Slurm) or "8Gi" (Kubernetes)
	GPUs      int    // GPUs per task
	Partition string // Slurm partition
	Account   string // Slurm account
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
	// Values written into #SBATCH lines or YAML unquoted: one line of
	// ordinary characters each.
	for _, f := range []struct{ name, v string }{
		{"name", o.Name}, {"time", o.Time}, {"mem", o.Mem}, {"partition", o.Partition}, {"account", o.Account}, {"dtype", o.DType}, {"device", o.Device},
	} {
		if strings.IndexFunc(f.v, func(r rune) bool { return r < ' ' || r == 0x7f || r == '\'' || r == '"' || r == '\\' }) >= 0 {
			return fmt.Errorf("%s %q: control characters and quotes are not allowed", f.name, f.v)
		}
	}
	if o.Time != "" && !slurmTime.MatchString(o.Time) {
		return fmt.Errorf("time %q: want minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS", o.Time)
	}
	if o.Mem != "" && !memSize.MatchString(o.Mem) {
		return fmt.Errorf("mem %q: want a size such as 8G, 512M (Slurm) or 8Gi (Kubernetes)", o.Mem)
	}
	switch o.DType {
	case "", "float32", "float64":
	default:
		return fmt.Errorf("dtype %q: want float32 or float64", o.DType)
	}
	if o.Device != "" && !deviceName.MatchString(o.Device) {
		return fmt.Errorf("device %q: want auto, cpu, cuda or cuda:N", o.Device)
	}
	return nil
}

var (
	slurmTime  = regexp.MustCompile(`^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+(:\d{1,2}(:\d{1,2})?)?|UNLIMITED|INFINITE)$`)
	memSize    = regexp.MustCompile(`^\d+([KMGT]i?)?B?$`)
	deviceName = regexp.MustCompile(`^(auto|cpu|cuda|gpu|cuda:\d+)$`)
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
func SlurmScript(w io.Writer, o JobOptions) error {
	if err := o.check(); err != nil {
		return err
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
	p("#   %s", o.Out)
	p("# Submit with: sbatch THIS_FILE. Tasks skip finished runs and resume half-done ones,")
	p("# so resubmitting finishes an interrupted sweep; then: curvprobe sweep report %s", o.Out)
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

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
