package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/curvprobe/curvprobe/probe/run/sweep"
)

// cmdSweep implements `curvprobe sweep plan|run|report|status|slurm|k8s`.
func cmdSweep(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, sweep.Usage)
		return errUsage
	}
	switch args[0] {
	case "plan":
		return sweepPlan(args[1:], stdout, stderr)
	case "run":
		return sweepRun(ctx, args[1:], stdout, stderr)
	case "report":
		return sweepReport(args[1:], stdout, stderr)
	case "status":
		return sweepStatus(args[1:], stdout, stderr)
	case "slurm":
		return sweepJob("slurm", args[1:], stdout, stderr)
	case "k8s":
		return sweepJob("k8s", args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, sweep.Usage)
		return nil
	}
	fmt.Fprintf(stderr, "curvprobe sweep: unknown command %q\n\n%s", args[0], sweep.Usage)
	return errUsage
}

// parseWithArg parses flags that may come before or after the positional
// arguments, and wants exactly one of these.
func parseWithArg(fs *flag.FlagSet, args []string, what string) (string, error) {
	pos, err := positional(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		fmt.Fprintf(fs.Output(), "curvprobe sweep %s: want one %s, got %d arguments\n", fs.Name(), what, len(pos))
		fs.Usage()
		return "", errUsage
	}
	return pos[0], nil
}

// positional parses flags that may come before or after the positional
// arguments, and returns these.
func positional(fs *flag.FlagSet, args []string) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		return nil, errUsage
	}
	var pos []string
	for fs.NArg() > 0 {
		pos = append(pos, fs.Arg(0))
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return nil, errUsage
		}
	}
	return pos, nil
}

func newSweepFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: curvprobe sweep %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

const dtypeHelp = "override every run's dtype, float32 or float64 (part of each run's id: pass the same to plan, run, slurm and k8s)"

func sweepPlan(args []string, stdout, stderr io.Writer) error {
	fs := newSweepFlags("plan", "plan FILE [--dtype D] [--json]", stderr)
	dtype := fs.String("dtype", "", dtypeHelp)
	asJSON := fs.Bool("json", false, "print the expanded plan as JSON (as DIR/sweep.json)")
	file, err := parseWithArg(fs, args, "sweep file")
	if err != nil {
		return err
	}
	_, p, _, err := sweep.Load(file, *dtype)
	if err != nil {
		return err
	}
	if *asJSON {
		return p.WriteJSON(stdout)
	}
	return p.WriteTable(stdout)
}

func sweepRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newSweepFlags("run", "run FILE --out DIR [flags]", stderr)
	out := fs.String("out", "", "sweep directory (required); runs go to DIR/runs/<id>")
	workers := fs.Int("workers", 1, "runs trained at once")
	dtype := fs.String("dtype", "", dtypeHelp)
	var dev deviceFlags
	dev.register(fs, "auto")
	shardFlag := fs.String("shard", "", "run only shard i/n (0-based) of the runs sorted by id; overrides the Slurm and Kubernetes environment")
	shards := fs.Int("shards", 0, "number of shards when the index comes from the environment (SLURM_ARRAY_TASK_ID is then the index; Kubernetes: else CURVPROBE_SHARDS)")
	noPlot := fs.Bool("no-plot", false, "do not draw each run's figures")
	file, err := parseWithArg(fs, args, "sweep file")
	if err != nil {
		return err
	}
	if *out == "" {
		return errors.New("sweep run: --out is required")
	}
	if *workers < 1 {
		return fmt.Errorf("sweep run: --workers %d: want at least 1", *workers)
	}
	_, p, _, err := sweep.Load(file, *dtype)
	if err != nil {
		return err
	}
	shard, from, err := sweep.ResolveShard(*shardFlag, *shards, os.Getenv)
	if err != nil {
		return fmt.Errorf("sweep run: %w", err)
	}
	n, o, err := dev.settings(stderr)
	if err != nil {
		return err
	}
	backends, err := sweep.OpenBackends(n, o, *workers)
	if err != nil {
		return dev.errorOf(err)
	}
	where := "all runs"
	if !shard.All() {
		where = fmt.Sprintf("shard %s (from %s)", shard, from)
	}
	fmt.Fprintf(stderr, "sweep: %d runs in %s; %s: %d runs -> %s\n", len(p.Runs), file, where, len(shard.Select(p.Runs)), *out)
	rep := sweep.NewLines(stderr, p.Axes)
	res, err := sweep.Execute(ctx, p, *out, sweep.Options{Workers: *workers, Shard: shard, Backends: backends, Plot: !*noPlot, Reporter: rep})
	if res == nil {
		return err
	}
	fmt.Fprintf(stderr, "sweep: %s\n", res)
	if err := res.Outcome(*out, err); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sweep %s: %d runs complete; report with: curvprobe sweep report %s\n", *out, res.Complete+res.Done+res.Diverged, *out)
	return nil
}

func sweepReport(args []string, stdout, stderr io.Writer) error {
	fs := newSweepFlags("report", "report DIR", stderr)
	dir, err := parseWithArg(fs, args, "sweep directory")
	if err != nil {
		return err
	}
	rep, paths, err := sweep.WriteReport(dir)
	if rep == nil {
		return err
	}
	if werr := rep.WriteMarkdown(stdout); werr != nil {
		return werr
	}
	for _, p := range paths {
		fmt.Fprintln(stderr, "wrote", p)
	}
	return err
}

// sweepJob prints a Slurm script or a Kubernetes manifest.
func sweepJob(kind string, args []string, stdout, stderr io.Writer) error {
	fs := newSweepFlags(kind, kind+" FILE --out DIR [flags]", stderr)
	var o sweep.JobOptions
	fs.StringVar(&o.Out, "out", "", "sweep directory as the tasks see it (required; Slurm: made absolute; Kubernetes: the shared volume's mount path)")
	fs.IntVar(&o.Shards, "shards", 0, "number of tasks, each running one shard (0: one per run)")
	fs.IntVar(&o.Workers, "workers", 1, "runs each task trains at once")
	fs.StringVar(&o.Name, "name", "", "job name (default: the sweep's name, else curvprobe-sweep)")
	fs.StringVar(&o.Bin, "bin", "curvprobe", "the curvprobe command the tasks run")
	fs.StringVar(&o.DType, "dtype", "", dtypeHelp)
	fs.StringVar(&o.Device, "device", "", "device for the runs: auto, cpu, cuda or cuda:N (default: sweep run's, auto)")
	fs.BoolVar(&o.TF32, "tf32", false, "pass --tf32 to the runs (TF32 tensor cores for float32 GEMMs on the GPU)")
	fs.BoolVar(&o.NoPlot, "no-plot", false, "no per-run figures")
	fs.IntVar(&o.CPUs, "cpus", 0, "CPUs per task")
	fs.StringVar(&o.Mem, "mem", "", "memory per task (Slurm: 8G; Kubernetes: 8Gi)")
	fs.IntVar(&o.GPUs, "gpus", 0, "GPUs per task")
	var image, pvc string
	if kind == "slurm" {
		fs.StringVar(&o.Time, "time", "", "time limit per task, e.g. 2:00:00")
		fs.StringVar(&o.Partition, "partition", "", "Slurm partition")
		fs.StringVar(&o.Account, "account", "", "Slurm account")
	} else {
		fs.StringVar(&image, "image", "curvprobe:latest", "container image holding the curvprobe binary")
		fs.StringVar(&pvc, "pvc", "curvprobe-sweep", "ReadWriteMany PersistentVolumeClaim mounted at --out in every pod")
	}
	file, err := parseWithArg(fs, args, "sweep file")
	if err != nil {
		return err
	}
	return sweep.WriteJobFile(stdout, stderr, kind, file, sweep.K8sOptions{JobOptions: o, Image: image, PVC: pvc})
}
