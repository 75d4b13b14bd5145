package sweep

import (
	"fmt"
	"io"
	"path/filepath"
)

// WriteJobFile is WriteJob for the sweep file at path, read with Load
// (o.DType overriding its runs' float type): `curvprobe sweep slurm|k8s`
// after its flags. o.Out is required; o.Shards must be 0 or more and
// o.Workers at least 1; errors name the flags.
func WriteJobFile(w, notes io.Writer, kind, path string, o K8sOptions) error {
	if o.Out == "" {
		return fmt.Errorf("sweep %s: --out is required", kind)
	}
	if o.Shards < 0 || o.Workers < 1 {
		return fmt.Errorf("sweep %s: --shards must be >= 0 and --workers >= 1", kind)
	}
	f, p, content, err := Load(path, o.DType)
	if err != nil {
		return err
	}
	o.Content = content
	return WriteJob(w, notes, kind, path, f, p, o)
}

// WriteJob writes to w the Slurm array script (kind "slurm") or the
// Kubernetes Indexed Job manifest (kind "k8s") that runs plan p of sweep
// file f, read from path, as `curvprobe sweep slurm|k8s` prints it. Of o,
// Runs is set from p; Shards 0 means one task per run, and more shards
// than runs are cut to one run each, said on notes; an empty Name is the
// sweep's (JobName). Slurm gets absolute paths of the file and of Out; a
// Kubernetes Out must be absolute already (the volume's mount path), and
// o.Content (the file's JSON) goes into the manifest.
func WriteJob(w, notes io.Writer, kind, path string, f *File, p *Grid, o K8sOptions) error {
	o.Runs = len(p.Runs)
	if o.Shards == 0 {
		o.Shards = len(p.Runs)
	}
	if o.Shards > len(p.Runs) {
		fmt.Fprintf(notes, "curvprobe: sweep %s: --shards %d > %d runs: %d tasks, one run each\n", kind, o.Shards, len(p.Runs), len(p.Runs))
		o.Shards = len(p.Runs)
	}
	if o.Name == "" && f.Name != "" {
		o.Name = JobName(f.Name)
	}
	if kind == "slurm" {
		var err error
		if o.File, err = filepath.Abs(path); err != nil {
			return err
		}
		if o.Out, err = filepath.Abs(o.Out); err != nil {
			return err
		}
		if err := SlurmScript(w, o.JobOptions); err != nil {
			return fmt.Errorf("sweep slurm: %w", err)
		}
		return nil
	}
	if !filepath.IsAbs(o.Out) {
		return fmt.Errorf("sweep k8s: --out %q: want the absolute path where the volume is mounted in the pods", o.Out)
	}
	o.File = path
	if err := K8sManifest(w, o); err != nil {
		return fmt.Errorf("sweep k8s: %w", err)
	}
	return nil
}
