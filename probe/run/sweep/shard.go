package sweep

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Environment variables a task reads its shard from.
const (
	// Slurm job arrays (sbatch --array): the task's id, and the array's
	// count, or its lowest and highest ids and step where the count is not
	// set (older Slurm releases).
	EnvSlurmTaskID    = "SLURM_ARRAY_TASK_ID"
	EnvSlurmTaskCount = "SLURM_ARRAY_TASK_COUNT"
	EnvSlurmTaskMin   = "SLURM_ARRAY_TASK_MIN"
	EnvSlurmTaskMax   = "SLURM_ARRAY_TASK_MAX"
	EnvSlurmTaskStep  = "SLURM_ARRAY_TASK_STEP"
	// EnvK8sIndex is set by Kubernetes in the pods of an Indexed Job.
	EnvK8sIndex = "JOB_COMPLETION_INDEX"
	// EnvShards gives the number of shards (a Job's completions), which
	// Kubernetes does not pass to its pods.
	EnvShards = "CURVPROBE_SHARDS"
)

// Shard is the slice Index of Count of a sweep's runs: those whose position
// in the runs sorted by id is Index modulo Count. The zero Shard (Count 0)
// means all runs. Shards of one sweep are disjoint and cover it, and each
// holds ⌊N/Count⌋ or ⌈N/Count⌉ of its N runs.
type Shard struct {
	Index, Count int
}

// All reports whether s selects every run.
func (s Shard) All() bool { return s.Count <= 1 }

// String is "i/n", or "all".
func (s Shard) String() string {
	if s.All() {
		return "all"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Select returns the runs of shard s, in id order.
func (s Shard) Select(runs []Point) []Point {
	sorted := slices.Clone(runs)
	slices.SortFunc(sorted, func(a, b Point) int { return strings.Compare(a.ID, b.ID) })
	if s.All() {
		return sorted
	}
	var out []Point
	for i, r := range sorted {
		if i%s.Count == s.Index {
			out = append(out, r)
		}
	}
	return out
}

// ParseShard parses "i/n" with 0 <= i < n.
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: want i/n, e.g. 0/4", s)
	}
	return newShard(i, n, "shard "+s)
}

func newShard(i, n int, what string) (Shard, error) {
	if n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("%s: want 0 <= index < count, got index %d of %d", what, i, n)
	}
	return Shard{Index: i, Count: n}, nil
}

// ResolveShard picks a task's shard. In order:
//
//  1. explicit, the --shard flag ("i/n"), when not empty;
//  2. a Slurm array task (SLURM_ARRAY_TASK_ID set): with shards > 0 (the
//     --shards flag, or CURVPROBE_SHARDS) the task id itself is the index
//     and shards the count, so that a task resubmitted alone
//     (sbatch --array=3) still runs shard 3; otherwise the index is
//     (ID - MIN)/STEP and the count SLURM_ARRAY_TASK_COUNT, or
//     (MAX - MIN)/STEP + 1 where Slurm does not set the count. The array must
//     then be a range (0-7 or 0-14:2, a %throttle is fine), not a list;
//  3. a Kubernetes Indexed Job's pod (JOB_COMPLETION_INDEX set): that index,
//     of shards (the --shards flag, or CURVPROBE_SHARDS), which is required;
//  4. otherwise every run.
//
// getenv is os.Getenv in production. The string says where the shard came
// from, for the progress output.
func ResolveShard(explicit string, shards int, getenv func(string) string) (Shard, string, error) {
	if explicit != "" {
		s, err := ParseShard(explicit)
		return s, "--shard", err
	}
	if shards == 0 {
		if v := getenv(EnvShards); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return Shard{}, "", fmt.Errorf("%s=%q: want a positive integer", EnvShards, v)
			}
			shards = n
		}
	}
	if id := getenv(EnvSlurmTaskID); id != "" {
		s, err := slurmShard(id, shards, getenv)
		return s, "Slurm array task " + id, err
	}
	if idx := getenv(EnvK8sIndex); idx != "" {
		i, err := strconv.Atoi(idx)
		if err != nil {
			return Shard{}, "", fmt.Errorf("%s=%q: want an integer", EnvK8sIndex, idx)
		}
		if shards == 0 {
			return Shard{}, "", fmt.Errorf("%s is set but the number of shards is not: pass --shards N or set %s to the Job's completions", EnvK8sIndex, EnvShards)
		}
		s, err := newShard(i, shards, EnvK8sIndex)
		return s, "Kubernetes index " + idx, err
	}
	return Shard{}, "", nil
}

func slurmShard(idStr string, shards int, getenv func(string) string) (Shard, error) {
	num := func(name string, def int) (int, error) {
		v := getenv(name)
		if v == "" {
			if def < 0 {
				return 0, fmt.Errorf("%s is not set", name)
			}
			return def, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("%s=%q: want an integer", name, v)
		}
		return n, nil
	}
	id, err := num(EnvSlurmTaskID, -1)
	if err != nil {
		return Shard{}, err
	}
	if shards > 0 {
		return newShard(id, shards, EnvSlurmTaskID)
	}
	lo, err := num(EnvSlurmTaskMin, -1)
	if err != nil {
		return Shard{}, fmt.Errorf("%w (or pass --shards N)", err)
	}
	step, err := num(EnvSlurmTaskStep, 1)
	if err != nil {
		return Shard{}, err
	}
	if step < 1 || (id-lo)%step != 0 {
		return Shard{}, fmt.Errorf("Slurm array task %d is not in the range %d-?:%d; use a range --array, or pass --shards N", id, lo, step)
	}
	count, err := num(EnvSlurmTaskCount, 0)
	if err != nil {
		return Shard{}, err
	}
	if count == 0 {
		hi, err := num(EnvSlurmTaskMax, -1)
		if err != nil {
			return Shard{}, fmt.Errorf("%w (and %s is not set either; pass --shards N)", err, EnvSlurmTaskCount)
		}
		count = (hi-lo)/step + 1
	}
	return newShard((id-lo)/step, count, EnvSlurmTaskID)
}
