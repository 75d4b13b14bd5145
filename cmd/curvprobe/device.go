package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/device"
)

// deviceFlags are --device, --tf32 and --threads.
type deviceFlags struct {
	name    string
	tf32    bool
	threads int
}

// register adds the flags to fs, --device defaulting to def.
func (d *deviceFlags) register(fs *flag.FlagSet, def string) {
	fs.StringVar(&d.name, "device", def, device.Help)
	fs.IntVar(&d.threads, "threads", 0, "threads on the CPU, shared by OpenBLAS and curvprobe's own loops, never both at once (0: one per core)")
	fs.BoolVar(&d.tf32, "tf32", false, "on the GPU, let cuBLAS use TF32 tensor cores for float32 GEMMs (faster; products then carry ~1e-3 relative error, so off by default)")
}

// settings returns the parsed --device and the options of the others,
// auto's choice said on notes; errors name the flag.
func (d *deviceFlags) settings(notes io.Writer) (device.Name, device.Options, error) {
	n, err := device.Parse(d.name)
	if err != nil {
		return n, device.Options{}, fmt.Errorf("--%w", err) // device's errors begin "device"
	}
	if d.threads < 0 {
		return n, device.Options{}, fmt.Errorf("--threads %d: want 0 (one per core) or more", d.threads)
	}
	return n, device.Options{TF32: d.tf32, Threads: d.threads, Notes: notes}, nil
}

// backends returns the device.Backends the flags name, auto's choice said
// on notes; errors name the flag.
func (d *deviceFlags) backends(notes io.Writer) (device.Backends, error) {
	n, o, err := d.settings(notes)
	if err != nil {
		return device.Backends{}, err
	}
	return device.On(n, o), nil
}

// errorOf names the flag at fault in err: --device for a failure to open
// it, a setting's flag (flagError), else err as it is.
func (d *deviceFlags) errorOf(err error) error {
	var oe *device.OpenError
	if errors.As(err, &oe) {
		return fmt.Errorf("--device %s: %w", d.name, oe.Err)
	}
	return flagError(err)
}

// parseDType parses a --dtype value, naming the flag.
func parseDType(s string) (kernels.DType, error) {
	dt, err := kernels.ParseDType(s)
	if err != nil {
		return dt, fmt.Errorf("--%w", err)
	}
	return dt, nil
}
