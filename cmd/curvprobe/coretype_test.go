package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/kernels/cpu"
)

// When OpenBLAS runs kernels below the CPU's class, curvprobe restarts
// itself with OPENBLAS_CORETYPE set, OpenBLAS honours it, and `devices` says
// so; a value the user set is never overridden. The misdetection is
// simulated (the test hook makes curvprobe take OpenBLAS's detection for a
// Prescott); the restart and OpenBLAS's kernels are real.
func TestCoreTypeMismatchRestarts(t *testing.T) {
	if !strings.Contains(cpu.BLASName(), "core ") {
		if os.Getenv("REQUIRE_OPENBLAS") == "1" {
			t.Fatalf("REQUIRE_OPENBLAS=1 but the BLAS is %s", cpu.BLASName())
		}
		t.Skipf("needs OpenBLAS with openblas_get_corename: %s", cpu.BLASName())
	}
	if os.Getenv(cpu.EnvCoreType) != "" {
		t.Skipf("%s is set for the tests", cpu.EnvCoreType)
	}
	devices := func(env ...string) string {
		t.Helper()
		cmd := exec.Command(os.Args[0], "devices")
		cmd.Env = append(os.Environ(), append(env, "CURVPROBE_AS_MAIN=1")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("devices: %v\n%s", err, out)
		}
		return string(out)
	}
	out := devices()
	if !strings.Contains(out, "detected by OpenBLAS") {
		t.Fatalf("devices does not say which kernels OpenBLAS runs:\n%s", out)
	}
	if strings.Contains(out, "WARNING") {
		t.Fatalf("devices, unmodified, still runs slower kernels than the CPU's:\n%s", out)
	}
	out = devices("CURVPROBE_TEST_OPENBLAS_DETECTED=Prescott")
	if !strings.Contains(out, "set by curvprobe: OpenBLAS detected Prescott") {
		t.Fatalf("no restart with %s after a simulated misdetection:\n%s", cpu.EnvCoreType, out)
	}
	// The core OpenBLAS now reports is the one set, not the one detected.
	i := strings.Index(out, "core ")
	core := strings.Fields(out[i+len("core "):])[0]
	if !strings.Contains(out, cpu.EnvCoreType+"="+core+" ") {
		t.Fatalf("OpenBLAS runs core %s, not the one curvprobe set:\n%s", core, out)
	}
	out = devices("CURVPROBE_TEST_OPENBLAS_DETECTED=Prescott", cpu.EnvCoreType+"=Prescott")
	if !strings.Contains(out, "core Prescott ("+cpu.EnvCoreType+"=Prescott set by the user)") {
		t.Fatalf("the user's %s was not kept:\n%s", cpu.EnvCoreType, out)
	}
}
