// Package sweep runs grids of training runs: a sweep file names a base run
// configuration (run.TrainConfig) and axes to vary; Expand turns it into a
// Grid of runs with stable ids; Execute trains them, several at a time,
// resumably, on a slice (Shard) of the grid per process; SlurmScript and
// K8sManifest write the job files that run the shards on a Slurm array or
// a Kubernetes Indexed Job; BuildReport and WriteReport tabulate the
// results and PlotReport draws them.
//
// # Sweep files
//
// A sweep file is JSON (YAML is not read: gopkg.in/yaml.v3 is in the module
// graph but not required by go.mod):
//
//	{
//	  "name": "eos-lr",
//	  "base": {"model": {"layers": [10, 16, 16, 3], "activation": "tanh", "loss": "cross_entropy"},
//	           "data": "synthetic:gaussian", "subset": 200,
//	           "optimizer": {"kind": "gd", "lr": 0.1}, "steps": 60, "probe_every": 10,
//	           "seed": 1, "dtype": "float64"},
//	  "axes": [
//	    {"path": "optimizer.lr", "logrange": {"start": 0.05, "stop": 0.4, "num": 4}},
//	    {"path": "seed", "values": [1, 2]},
//	    {"path": "model.layers.1", "range": {"start": 16, "stop": 64, "step": 16}}
//	  ]
//	}
//
// Each axis is a dotted path of JSON field names (a number indexes a list)
// with "values" (any JSON), "range" {start, stop, step} (stop included) or
// "logrange" {start, stop, num} (geometric, both ends included). The grid is
// the Cartesian product of the axes.
//
// # Run ids
//
// A run's id is the first 12 hex digits of the SHA-256 of its configuration's
// JSON, after decoding into a TrainConfig (ConfigID): it depends on nothing
// but the configuration, so appending a value to an axis, or reordering the
// axes, renames no run, and the runs of an extended sweep that were already
// trained are found in place. Range values are rounded to 12 significant
// digits so that they hash like the literal numbers. The dtype is part of
// the configuration; a run without one is float32, as with
// `curvprobe train`.
//
// # Sweep directories
//
//	DIR/sweep.json            the expanded grid (Grid), written by every Execute
//	DIR/runs/<id>/            a plain run directory (config.json, log.jsonl,
//	                          checkpoint.json, summary.json, weights.npz, plots/)
//	DIR/runs/<id>/attempts.jsonl   one line per attempt: fresh or resume, shard, pid, host
//	DIR/runs/<id>/error.txt   the error of a failed attempt
//	DIR/report.csv, report.md, plots/   written by WriteReport
//
// # Completion and retries
//
// A run is complete when its summary.json has no error (done) or says it
// diverged (diverged: a result, never rerun). Any other error makes it
// failed, and a rerun tries it again. A run with a checkpoint but no summary
// (killed, interrupted) is incomplete, and a rerun resumes it from the
// checkpoint with run.TrainOptions.Resume, so no step is logged twice; one
// killed before its first checkpoint starts again in an emptied directory.
// RunStatus states the rules.
//
// # Sharding
//
// A Shard i/n takes the runs sorted by id whose position is i modulo n: the
// shards are disjoint, cover the grid and differ in size by at most one.
// ResolveShard reads it from --shard, a Slurm array task's environment or a
// Kubernetes Indexed Job's. Tasks share one output directory; a run being
// trained is locked (flock on DIR/runs/<id>/sweep.lock), so overlapping
// processes leave each other's runs alone.
//
// # Progress
//
// ReadProgress says, without changing the directory, which runs are done,
// running (their lock held: LockHeld), failed or left, with their attempts
// and last logged steps (`curvprobe sweep status`). LockHeld holds a shared
// lock for an instant; Execute tries a run's lock a few times, 25 ms apart,
// before leaving the run to another process, so a reader never makes a
// worker skip a run.
//
// # Job files
//
// SlurmScript and K8sManifest refuse any option value that is not UTF-8 or
// holds a control character (a newline, a NUL), naming the option, and quote
// every value they write, in comments too: shellQuote for the script (a bash
// word), yamlQuote for the manifest (a double-quoted scalar in printable
// ASCII). #SBATCH values, which sbatch reads, must be single plain words. So
// no value, whatever it holds, can start a command or a YAML document.
// Memory sizes take each scheduler's form: sbatch's --mem (8G, 512M; not
// 8Gi) and a Kubernetes quantity (8Gi, 8G, 100k; not 8GB or 512K). Tests
// submit the script to a one-node Slurm cluster (scripts/slurm-cluster.sh)
// and decode the manifest with Kubernetes' own types.
//
// Nothing here prints: progress goes to a Reporter.
package sweep
