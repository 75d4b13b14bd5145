package sweep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/curvprobe/curvprobe/kernels"
	"gopkg.in/yaml.v3"
)

// FileHelp describes a sweep file for a command's usage text: its format,
// an example, and how runs are named.
const FileHelp = `Grids of training runs. A sweep file (YAML or JSON) holds a base run configuration
(as RUN_DIR/config.json) and axes, each a dotted path with values, a range
or a log-range:

  {"name": "lr", "base": {"model": {"layers": [10,16,16,3], "activation": "tanh",
     "loss": "cross_entropy"}, "data": "synthetic:gaussian", "subset": 200,
     "optimizer": {"kind": "gd", "lr": 0.1}, "steps": 60, "probe_every": 10, "seed": 1},
   "axes": [{"path": "optimizer.lr", "logrange": {"start": 0.05, "stop": 0.4, "num": 4}},
            {"path": "seed", "values": [1, 2]},
            {"path": "model.layers.1", "range": {"start": 16, "stop": 64, "step": 16}}]}

A run's id is a hash of its configuration: adding values or reordering axes
renames no run.
`

// ExecuteHelp says, for a command's usage text, what Execute does with
// runs already there and where its shard comes from (ResolveShard).
const ExecuteHelp = `'sweep run' skips complete runs (done, or diverged), resumes half-done ones
from their checkpoints and retries failed ones, so rerunning it finishes a
sweep. Its shard comes from --shard i/n, else a Slurm array task
(SLURM_ARRAY_TASK_ID with --shards or SLURM_ARRAY_TASK_COUNT/MIN/MAX), else a
Kubernetes Indexed Job (JOB_COMPLETION_INDEX of --shards or CURVPROBE_SHARDS);
otherwise it runs every run.
`

// Usage is the usage text of `curvprobe sweep`: the sweep file
// (FileHelp), the commands, and what sweep run does (ExecuteHelp).
const Usage = `usage: curvprobe sweep COMMAND ...

` + FileHelp + `
Commands:
  plan FILE [--dtype D] [--json]      list the runs with their ids; check every configuration
  run FILE --out DIR [--workers N] [--dtype D] [--device DEV] [--shard i/n] [--shards n] [--no-plot]
                                      train the runs (of this task's shard) in DIR/runs/<id>
  report DIR                          table (DIR/report.csv, DIR/report.md, printed) and DIR/plots
  status DIR [--json]                 runs done, running, failed and left, with attempts
  slurm FILE --out DIR [--shards n] [--workers W] [--time T] [--cpus C] [--mem M]
        [--partition P] [--account A] [--gpus G] [--bin PATH]   print an sbatch array script
  k8s FILE --out DIR [--shards n] [--image IMG] [--pvc CLAIM] [--workers W] [--cpus C]
        [--mem M] [--gpus G] [--bin PATH]                        print an Indexed Job manifest

` + ExecuteHelp + `
Run 'curvprobe sweep COMMAND -h' for a command's flags.
`

// Load reads the sweep file path (JSON, or YAML: see FileJSON), checks it
// and expands it into its grid, every run's float type overridden by dtype
// unless it is empty. It returns the file, the grid and the file as JSON
// (what a Slurm or Kubernetes job carries). Errors name the file.
func Load(path, dtype string) (*File, *Grid, []byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, err
	}
	if b, err = FileJSON(path, b); err != nil {
		return nil, nil, nil, err
	}
	f, err := ParseFile(b)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("sweep file %s: %w", path, err)
	}
	dt, err := kernels.ParseDType(dtype)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("sweep file %s: %w", path, err)
	}
	g, err := Expand(f, GridOptions{DType: dt})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("sweep file %s: %w", path, err)
	}
	return f, g, b, nil
}

// FileJSON returns the contents b of sweep file path as JSON: a file whose
// first non-space character is '{' is JSON; anything else is read as YAML
// and converted. Errors name the file.
func FileJSON(path string, b []byte) ([]byte, error) {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		return b, nil
	}
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("sweep file %s: not JSON, and as YAML: %w", path, err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("sweep file %s: YAML that has no JSON form: %w", path, err)
	}
	return j, nil
}
