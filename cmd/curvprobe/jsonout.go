package main

import (
	"io"

	"github.com/curvprobe/curvprobe/probe/run"
)

// writeJSON writes v as one line of JSON under run.MarshalJSON's rule: a
// number JSON cannot hold (NaN, ±Inf) is null, so no result is lost to one
// undefined value (the standard error of a single probe).
func writeJSON(w io.Writer, v any) error {
	b, err := run.MarshalJSON(v, "")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
