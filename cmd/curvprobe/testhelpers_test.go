package main

import (
	"bytes"
	"context"
	"testing"
	"time"
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
