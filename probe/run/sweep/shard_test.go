package sweep

import (
	"fmt"
	"strings"
	"testing"
)

func fakeRuns(n int) []Point {
	runs := make([]Point, n)
	for i := range runs {
		// Ids out of order, to check Select sorts.
		runs[i].ID = fmt.Sprintf("%012x", (i*7919)%1000003)
	}
	return runs
}

// Shards are disjoint, cover the runs and differ in size by at most one.
func TestShardsPartition(t *testing.T) {
	for _, total := range []int{0, 1, 2, 7, 8, 25} {
		runs := fakeRuns(total)
		for n := 1; n <= 9; n++ {
			seen := map[string]int{}
			lo, hi := total, 0
			for i := range n {
				sel := Shard{Index: i, Count: n}.Select(runs)
				lo, hi = min(lo, len(sel)), max(hi, len(sel))
				for j, r := range sel {
					seen[r.ID]++
					if j > 0 && sel[j-1].ID >= r.ID {
						t.Errorf("%d runs, shard %d/%d not in id order", total, i, n)
					}
				}
			}
			if len(seen) != total {
				t.Errorf("%d runs in %d shards: %d covered", total, n, len(seen))
			}
			for id, c := range seen {
				if c != 1 {
					t.Errorf("%d runs in %d shards: %s in %d shards", total, n, id, c)
				}
			}
			if total > 0 && hi-lo > 1 {
				t.Errorf("%d runs in %d shards: sizes from %d to %d", total, n, lo, hi)
			}
		}
		if got := (Shard{}).Select(runs); len(got) != total {
			t.Errorf("the zero shard selects %d of %d", len(got), total)
		}
	}
}

func TestParseShard(t *testing.T) {
	if s, err := ParseShard("2/5"); err != nil || s != (Shard{2, 5}) || s.String() != "2/5" {
		t.Errorf("2/5: %v %v", s, err)
	}
	for _, bad := range []string{"", "2", "5/5", "-1/3", "a/3", "1/0", "1/2/3"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestResolveShard(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, c := range []struct {
		name     string
		explicit string
		shards   int
		env      func(string) string
		want     Shard
		err      string
	}{
		{"nothing", "", 0, env(), Shard{}, ""},
		{"explicit", "1/4", 0, env(EnvSlurmTaskID, "3", EnvSlurmTaskCount, "8"), Shard{1, 4}, ""},
		{"slurm count", "", 0, env(EnvSlurmTaskID, "3", EnvSlurmTaskCount, "8", EnvSlurmTaskMin, "0", EnvSlurmTaskMax, "7"), Shard{3, 8}, ""},
		{"slurm min max", "", 0, env(EnvSlurmTaskID, "12", EnvSlurmTaskMin, "10", EnvSlurmTaskMax, "15"), Shard{2, 6}, ""},
		{"slurm step", "", 0, env(EnvSlurmTaskID, "4", EnvSlurmTaskMin, "0", EnvSlurmTaskMax, "6", EnvSlurmTaskStep, "2"), Shard{2, 4}, ""},
		{"slurm off step", "", 0, env(EnvSlurmTaskID, "3", EnvSlurmTaskMin, "0", EnvSlurmTaskMax, "6", EnvSlurmTaskStep, "2"), Shard{}, "not in the range"},
		{"slurm no count", "", 0, env(EnvSlurmTaskID, "3", EnvSlurmTaskMin, "0"), Shard{}, slurmMaxHint},
		// With --shards the task id is the index: a task resubmitted
		// alone (--array=3, so MIN=MAX=3, COUNT=1) keeps its shard.
		{"slurm shards", "", 5, env(EnvSlurmTaskID, "3", EnvSlurmTaskCount, "1", EnvSlurmTaskMin, "3", EnvSlurmTaskMax, "3"), Shard{3, 5}, ""},
		{"slurm env shards", "", 0, env(EnvSlurmTaskID, "3", EnvShards, "5"), Shard{3, 5}, ""},
		{"slurm out of range", "", 3, env(EnvSlurmTaskID, "3"), Shard{}, "index 3 of 3"},
		{"k8s", "", 0, env(EnvK8sIndex, "2", EnvShards, "4"), Shard{2, 4}, ""},
		{"k8s flag", "", 6, env(EnvK8sIndex, "5", EnvShards, "4"), Shard{5, 6}, ""},
		{"k8s no count", "", 0, env(EnvK8sIndex, "2"), Shard{}, EnvShards},
		{"bad shards env", "", 0, env(EnvK8sIndex, "2", EnvShards, "x"), Shard{}, EnvShards},
	} {
		got, _, err := ResolveShard(c.explicit, c.shards, c.env)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}

// slurmMaxHint is in the error when Slurm gives neither the count nor the
// range's end.
const slurmMaxHint = EnvSlurmTaskMax + " is not set"
