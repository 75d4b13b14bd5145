package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/curvprobe/curvprobe/data"
	"github.com/curvprobe/curvprobe/models"
)

// executeFails runs the command line args in-process and returns its
// error, failing the test when there is none. A regression that starts the
// work instead of refusing the arguments is cut short after 20 s rather
// than left running; its error then lacks what the caller looks for.
func executeFails(t *testing.T, args []string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := execute(ctx, args, &stdout, &stderr)
	if err == nil {
		t.Fatalf("no error\nstderr: %s", stderr.String())
	}
	return err
}

// writeWeights saves params as spec's weights in path (NPZ), failing t on
// an error.
func writeWeights(t *testing.T, path string, spec models.Spec, params []float64) {
	t.Helper()
	if err := models.SaveWeights(path, spec, params); err != nil {
		t.Fatal(err)
	}
}

// writeData saves ds, which a generator returned with err, to path (NPZ),
// failing t on either error.
func writeData(t *testing.T, path string, ds *data.Dataset, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if err := data.SaveNPZ(path, ds); err != nil {
		t.Fatal(err)
	}
}
