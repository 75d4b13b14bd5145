//go:build !openblas

package cpu

import "os"

// CoreTypeRemedy reports whether the OpenBLAS this process loaded runs
// kernels of a lower class than the CPU supports (OpenBLAS misdetects CPUs
// newer than itself, e.g. 0.3.21 takes Xeons of family 6 model 207 for a
// Prescott and runs SSE3 kernels 2-4x slower than their AVX-512 ones) and,
// if so, returns the OPENBLAS_CORETYPE value that fixes it and why.
//
// OpenBLAS reads OPENBLAS_CORETYPE only when it is loaded, so the remedy
// takes a new process: the CLI re-executes itself with OPENBLAS_CORETYPE
// set and EnvCoreTypeSet recording why. It returns "" when the user set
// OPENBLAS_CORETYPE (never overridden), when curvprobe already set it, when
// OpenBLAS is not in use, and when its choice is right.
func CoreTypeRemedy() (coretype, why string) {
	if os.Getenv(EnvCoreType) != "" || os.Getenv(EnvCoreTypeSet) != "" {
		return "", ""
	}
	rt := loadOpenBLAS()
	if rt.err != nil || rt.corename == "" {
		return "", ""
	}
	detected := rt.corename
	if s := os.Getenv(envCoreTypeTest); s != "" {
		detected = s
	}
	return coreRemedy(detected, hostFeatures())
}
