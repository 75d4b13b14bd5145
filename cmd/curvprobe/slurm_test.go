package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/curvprobe/curvprobe/probe/run/sweep"
)

// slurmCluster is a one-node Slurm cluster started by
// scripts/slurm-cluster.sh for a test.
type slurmCluster struct {
	dir string
	env []string // os.Environ() with SLURM_CONF
}

// slurmCommands are the programs the Slurm test needs: the daemons (Debian
// installs them in /usr/sbin) and the user commands.
var slurmCommands = []string{"munged", "slurmctld", "slurmd", "sinfo", "sbatch", "squeue", "scancel", "scontrol"}

// needSlurm skips the test where Slurm cannot run it: the programs are not
// installed, or the test does not run as root (slurmd must). REQUIRE_SLURM=1
// (CI, which installs slurm-wlm and munge as root) makes that a failure.
func needSlurm(t *testing.T) {
	t.Helper()
	var missing []string
	for _, c := range slurmCommands {
		if !onPath(slurmPATH(), c) {
			missing = append(missing, c)
		}
	}
	why := ""
	switch {
	case len(missing) > 0:
		why = fmt.Sprintf("not installed: %s (Debian: apt-get install slurm-wlm munge)", strings.Join(missing, " "))
	case os.Geteuid() != 0:
		why = "a one-node Slurm cluster needs root (slurmd)"
	}
	if why == "" {
		return
	}
	if os.Getenv("REQUIRE_SLURM") == "1" {
		t.Fatalf("REQUIRE_SLURM=1 but %s", why)
	}
	t.Skip(why)
}

// slurmPATH is PATH with the daemons' directories (Debian installs them in
// /usr/sbin), for the cluster's processes: the test itself leaves the
// environment alone, so that it can run in parallel.
func slurmPATH() string { return os.Getenv("PATH") + ":/usr/sbin:/sbin" }

// onPath reports whether an executable file name is in one of path's
// directories.
func onPath(path, name string) bool {
	for _, d := range filepath.SplitList(path) {
		if fi, err := os.Stat(filepath.Join(d, name)); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return true
		}
	}
	return false
}

// freePort returns a TCP port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startSlurm starts a cluster in a temporary directory on free ports, and
// stops it when the test ends, passed or failed.
func startSlurm(t *testing.T) *slurmCluster {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "slurm-cluster.sh"))
	if err != nil {
		t.Fatal(err)
	}
	// Not t.TempDir: the daemons' state must outlive the test's other
	// files until stop has run, and stop runs in a Cleanup too.
	dir, err := os.MkdirTemp("", "curvprobe-slurm")
	if err != nil {
		t.Fatal(err)
	}
	c := &slurmCluster{dir: dir}
	t.Cleanup(func() {
		stop := exec.Command(script, "stop", dir)
		stop.Env = append(os.Environ(), "PATH="+slurmPATH())
		out, err := stop.CombinedOutput()
		if err != nil {
			t.Errorf("%s stop %s: %v\n%s", script, dir, err, out)
			return
		}
		if !t.Failed() {
			os.RemoveAll(dir)
		} else {
			t.Logf("the cluster's files are kept in %s", dir)
		}
	})
	cmd := exec.Command(script, "start", dir)
	cmd.Env = append(os.Environ(), "PATH="+slurmPATH(), fmt.Sprintf("SLURM_CTLD_PORT=%d", freePort(t)), fmt.Sprintf("SLURMD_PORT=%d", freePort(t)))
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s start %s: %v\n%s%s", script, dir, err, so.String(), se.String())
	}
	conf := ""
	for _, line := range strings.Split(so.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "export SLURM_CONF="); ok {
			conf = v
		}
	}
	if conf == "" {
		t.Fatalf("%s start printed no SLURM_CONF:\n%s", script, so.String())
	}
	c.env = append(os.Environ(), "PATH="+slurmPATH(), "SLURM_CONF="+conf)
	return c
}

// command runs a Slurm command on the cluster and returns its output.
func (c *slurmCluster) command(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env, cmd.Dir = c.env, dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, c.logs())
	}
	return strings.TrimSpace(string(out))
}

// logs returns the last lines of the daemons' logs, for errors.
func (c *slurmCluster) logs() string {
	var b strings.Builder
	for _, f := range []string{"slurmctld.log", "slurmd.log"} {
		data, err := os.ReadFile(filepath.Join(c.dir, "log", f))
		if err != nil {
			fmt.Fprintf(&b, "\n%s: %v", f, err)
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		fmt.Fprintf(&b, "\n--- last lines of %s:\n%s", f, strings.Join(lines[max(0, len(lines)-20):], "\n"))
	}
	return b.String()
}

// terminal reports whether a job state (squeue %T) is final.
func terminal(state string) bool {
	switch state {
	case "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL", "DEADLINE":
		return true
	}
	return false
}

// jobStates returns the states of a job's array tasks, by "JOBID_TASK".
func (c *slurmCluster) jobStates(t *testing.T, job string) map[string]string {
	t.Helper()
	out := c.command(t, "", "squeue", "-h", "-t", "all", "-j", job, "-o", "%i %T")
	states := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if id, st, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
			states[id] = st
		}
	}
	return states
}

// wait polls squeue until every task of job has ended (want of them, none
// pending), and returns their states; past timeout it fails with squeue's,
// scontrol's and the daemons' view and the tasks' output.
func (c *slurmCluster) wait(t *testing.T, job string, want int, timeout time.Duration, submitDir string) map[string]string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		states := c.jobStates(t, job)
		ended := 0
		for _, st := range states {
			if terminal(st) {
				ended++
			}
		}
		if ended == want && len(states) == want {
			return states
		}
		if time.Now().After(deadline) {
			show := exec.Command("scontrol", "show", "job", job)
			show.Env = c.env
			out, _ := show.CombinedOutput()
			t.Fatalf("job %s: %d of %d array tasks ended after %v: %v\nscontrol show job:\n%s%s%s",
				job, ended, want, timeout, states, out, c.logs(), taskOutputs(submitDir, job))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// jobID is the job id in sbatch --parsable's output ("ID" or "ID;CLUSTER").
func jobID(out string) string {
	id, _, _ := strings.Cut(strings.TrimSpace(out), ";")
	return id
}

// taskOutputs returns the tasks' output files of a job, for failures.
func taskOutputs(dir, job string) string {
	var b strings.Builder
	files, _ := filepath.Glob(filepath.Join(dir, "slurm-"+job+"_*.out"))
	for _, f := range files {
		out, _ := os.ReadFile(f)
		fmt.Fprintf(&b, "\n--- %s:\n%s", filepath.Base(f), out)
	}
	return b.String()
}

// asMainScript writes an executable script at path that runs this test
// binary as the curvprobe command (TestMain's CURVPROBE_AS_MAIN=1), for
// programs that take curvprobe's path, such as the tasks of an sbatch
// script: no `go build` of a second binary (5 s and more of CPU). It execs,
// so a signal to the script's process reaches curvprobe. It returns path.
func asMainScript(t *testing.T, path string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(exe, "'\n") {
		t.Fatalf("test binary %q: a quote or newline in its path", exe)
	}
	script := fmt.Sprintf("#!/bin/sh\nCURVPROBE_AS_MAIN=1 exec '%s' \"$@\"\n", exe)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// The sbatch script of `curvprobe sweep slurm`, submitted to a real
// one-node Slurm cluster (scripts/slurm-cluster.sh), runs the 8-run sweep in
// 3 array tasks to the report of a local `sweep run`. Then a second sweep
// has one array task cancelled with scancel while it has a run done and one
// half done; resubmitted alone, that task skips the done run, resumes the
// half-done one and starts the rest: no run is trained twice (attempts.jsonl),
// and every log equals the uninterrupted sweep's byte for byte.
func TestSweepOnSlurm(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Slurm cluster")
	}
	needSlurm(t)
	// The cluster starts before t.Parallel, among the package's serial
	// tests, which hide the 3 s slurmctld takes before its first
	// scheduling pass (a job submitted sooner waits for it).
	t0 := time.Now()
	c := startSlurm(t)
	tUp := time.Now()
	t.Parallel() // mostly waits on the Slurm daemons: overlaps the PyTorch tests
	refDir, refCSV := reference(t)
	tRef := time.Now()
	tmp := t.TempDir()
	bin := asMainScript(t, filepath.Join(tmp, "curvprobe"))
	file := writeTestSweep(t)
	p := testPlan(t, file)
	submit := filepath.Join(tmp, "submit")
	os.Mkdir(submit, 0o755)

	// sbatchSweep writes the sweep's script for out and submits it; it
	// returns the script and the job id.
	sbatchSweep := func(out string) (string, string) {
		t.Helper()
		cmd := exec.Command(bin, "sweep", "slurm", file, "--out", out, "--shards", "3", "--workers", "1",
			"--cpus", "1", "--time", "0:10:00", "--bin", bin, "--device", "cpu", "--no-plot")
		var so, se bytes.Buffer
		cmd.Stdout, cmd.Stderr = &so, &se
		if err := cmd.Run(); err != nil {
			t.Fatalf("sweep slurm: %v\n%s", err, se.String())
		}
		script := filepath.Join(submit, filepath.Base(out)+".sbatch")
		if err := os.WriteFile(script, so.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		job := c.command(t, submit, "sbatch", "--parsable", script)
		return script, jobID(job)
	}
	checkTasks := func(job string, states map[string]string) {
		t.Helper()
		for id, st := range states {
			if st != "COMPLETED" {
				t.Fatalf("array task %s: %s\n%s", id, st, taskOutputs(submit, job))
			}
		}
	}

	// The #SBATCH forms the script writes are ones sbatch reads.
	for _, flags := range [][]string{{"--mem", "512M", "--time", "90"}, {"--mem", "1G", "--time", "1:30:00", "--partition", "debug"},
		{"--mem", "100", "--time", "0-1", "--name", "my.sweep_1"}, {"--mem", "64MB", "--time", "UNLIMITED", "--gpus", "0"}} {
		cmd := exec.Command(bin, append([]string{"sweep", "slurm", file, "--out", filepath.Join(tmp, "x"), "--shards", "3", "--bin", bin}, flags...)...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sweep slurm %q: %v", flags, err)
		}
		script := filepath.Join(tmp, "test-only.sbatch")
		os.WriteFile(script, out, 0o644)
		c.command(t, submit, "sbatch", "--test-only", script)
	}
	tChecked := time.Now()

	// 1. The whole sweep.
	dir1 := filepath.Join(tmp, "out1")
	_, job := sbatchSweep(dir1)
	checkTasks(job, c.wait(t, job, 3, 5*time.Minute, submit))
	tSweep1 := time.Now()
	checkComplete(t, p, dir1, refDir)
	if got := report(t, dir1); !bytes.Equal(got, refCSV) {
		t.Fatalf("report of the Slurm sweep differs from a local sweep run's:\n%s\nwant\n%s", got, refCSV)
	}
	for _, r := range p.Runs {
		if a, err := sweep.ReadAttempts(sweep.RunDir(dir1, r.ID)); err != nil || len(a) != 1 {
			t.Errorf("run %s: %d attempts (%v), want 1", r.ID, len(a), err)
		}
	}

	// 2. Task 1 cancelled with one of its runs done and one half done.
	dir2 := filepath.Join(tmp, "out2")
	const victim = 1
	mine := (sweep.Shard{Index: victim, Count: 3}).Select(p.Runs)
	script, job2 := sbatchSweep(dir2)
	task := fmt.Sprintf("%s_%d", job2, victim)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		done, half := runState(&sweep.Grid{Runs: mine}, dir2)
		if len(done) >= 1 && len(half) >= 1 {
			break
		}
		if len(done) == len(mine) || time.Now().After(deadline) {
			t.Fatalf("could not catch array task %s with a run done and one half done (%d done, %d half done)%s", task, len(done), len(half), taskOutputs(submit, job2))
		}
		time.Sleep(2 * time.Millisecond)
	}
	c.command(t, submit, "scancel", task)
	// sweep status on the live, half-done sweep.
	status, err := exec.Command(bin, "sweep", "status", dir2).CombinedOutput()
	if err != nil {
		t.Fatalf("sweep status: %v\n%s", err, status)
	}
	states := c.wait(t, job2, 3, 5*time.Minute, submit)
	if states[task] != "CANCELLED" {
		t.Fatalf("array task %s is %s after scancel, want CANCELLED", task, states[task])
	}
	// At the cancel: the runs of the task done, half done (a checkpoint,
	// no summary), and the rest (not started, or stopped before a
	// checkpoint: a rerun trains those from the start, which is no repeat).
	doneAt, halfAt := runState(&sweep.Grid{Runs: mine}, dir2)
	nDone, nHalf := len(doneAt), len(halfAt)
	statusJSON, err := exec.Command(bin, "sweep", "status", "--json", dir2).Output()
	if err != nil {
		t.Fatalf("sweep status --json: %v", err)
	}
	var pr sweep.Progress
	if err := json.Unmarshal(statusJSON, &pr); err != nil || pr.Done+pr.Running+pr.Failed+pr.Left != len(p.Runs) || pr.Running != 0 || pr.Failed != 0 || pr.Left < len(mine)-nDone {
		t.Errorf("sweep status --json after scancel: %s (%v), want no run running or failed and task %d's left", pr.Summary(), err, victim)
	}
	if nDone == 0 || nDone == len(mine) || nHalf == 0 {
		t.Fatalf("after scancel task %d's runs are %d done and %d half done of %d: want some done and one half done", victim, nDone, nHalf, len(mine))
	}
	for id, st := range states {
		if id != task && st != "COMPLETED" {
			t.Fatalf("array task %s: %s\n%s", id, st, taskOutputs(submit, job2))
		}
	}
	job3 := jobID(c.command(t, submit, "sbatch", "--parsable", fmt.Sprintf("--array=%d", victim), script))
	checkTasks(job3, c.wait(t, job3, 1, 5*time.Minute, submit))
	tSweep2 := time.Now()
	checkComplete(t, p, dir2, refDir)
	attempts, resumed, duplicates := 0, 0, 0
	for _, r := range p.Runs {
		a, err := sweep.ReadAttempts(sweep.RunDir(dir2, r.ID))
		if err != nil {
			t.Fatal(err)
		}
		attempts += len(a)
		fresh := 0
		for _, x := range a {
			if x.Mode == "fresh" {
				fresh++
			} else {
				resumed++
			}
		}
		// A duplicate: a complete run attempted again, a run with a
		// checkpoint started afresh, or a run begun from the start twice
		// after its cancelled attempt.
		var ok bool
		switch {
		case slices.Contains(halfAt, r.ID):
			ok = len(a) == 2 && a[1].Mode == "resume"
		case slices.ContainsFunc(mine, func(m sweep.Point) bool { return m.ID == r.ID }) && !slices.Contains(doneAt, r.ID):
			ok = len(a) >= 1 && len(a) <= 2 && fresh == len(a)
		default:
			ok = len(a) == 1
		}
		if !ok {
			duplicates++
			t.Errorf("run %s trained again: attempts %+v", r.ID, a)
		}
	}
	if got := report(t, dir2); !bytes.Equal(got, refCSV) {
		t.Errorf("report after scancel and resubmission differs from the uninterrupted sweep's:\n%s\nwant\n%s", got, refCSV)
	}
	t.Logf("sweep status while array task %s was being cancelled:\n%s", task, status)
	t.Logf("Slurm: cluster up %.1fs; after t.Parallel and the local reference sweep (%.1fs later): sbatch --test-only of 4 scripts %.1fs, 8-run sweep in 3 array tasks %.1fs, scancel+resubmit sweep %.1fs, in all %.1fs",
		tUp.Sub(t0).Seconds(), tRef.Sub(tUp).Seconds(), tChecked.Sub(tRef).Seconds(), tSweep1.Sub(tChecked).Seconds(), tSweep2.Sub(tSweep1).Seconds(), time.Since(t0).Seconds())
	t.Logf("scancel %s with %d runs done and %d half done of its %d; resubmitted with sbatch --array=%d: runs %d, attempts %d (%d resumed), duplicates %d",
		task, nDone, nHalf, len(mine), victim, len(p.Runs), attempts, resumed, duplicates)
}
