package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/curvprobe/curvprobe/probe/run/sweep"
)

// sweepStatusUsage documents `sweep status` and its JSON.
const sweepStatusUsage = `status DIR [--json]

Where a sweep stands, read from DIR (its sweep.json and runs/<id>/) without
changing anything: each run is done (or diverged), running (a process holds
its lock), failed (a rerun retries it) or left (not started, or interrupted:
a rerun resumes it). The table has a line per run (its axis values, state,
last logged step of its steps, attempts, the latest attempt and a failed
run's error) and a summary line.

--json prints one object:
  dir, name, axes          the sweep directory, its name, its varied paths
  runs                     number of runs; done + running + failed + left = runs
  done, diverged           runs complete; how many of them diverged
  running, failed, left    runs by state, as above
  attempts, retried        attempts at all runs; runs with more than one
  run_states               one object per run, in plan order:
    id, values             the run's id; its value of each of axes
    state, status          done|running|failed|left; the run directory's status:
                           pending|incomplete|done|diverged|failed
    step, steps            last logged step (absent without a log); the run's length
    attempts, last_attempt number of attempts; the latest (attempts.jsonl line:
                           attempt, mode fresh|resume, shard, pid, host, time)
    error                  a failed run's error (first line), or what was unreadable`

// sweepStatus implements `curvprobe sweep status DIR [--json]`.
func sweepStatus(args []string, stdout, stderr io.Writer) error {
	fs := newSweepFlags("status", sweepStatusUsage, stderr)
	asJSON := fs.Bool("json", false, "print the progress as one JSON object (fields above)")
	dir, err := parseWithArg(fs, args, "sweep directory")
	if err != nil {
		return err
	}
	pr, err := sweep.ReadProgress(dir)
	if err != nil {
		return fmt.Errorf("sweep status: %w", err)
	}
	if *asJSON {
		b, err := json.MarshalIndent(pr, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	return pr.WriteTable(stdout)
}
