package cpu

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/cpu"
)

// EnvCoreType is OpenBLAS's own variable that chooses its kernels in a
// DYNAMIC_ARCH build (Debian's): read once, when the library is loaded.
// curvprobe never overrides a value the user set.
const EnvCoreType = "OPENBLAS_CORETYPE"

// EnvCoreTypeSet marks a process whose OPENBLAS_CORETYPE curvprobe itself
// set (see CoreTypeRemedy); its value says why, for BLASName.
const EnvCoreTypeSet = "CURVPROBE_CORETYPE_SET"

// envCoreTypeTest, for tests only, makes CoreTypeRemedy take OpenBLAS's
// detection to be the core it names, so that the remedy's path (re-exec
// with OPENBLAS_CORETYPE set, and OpenBLAS honouring it) can be tested on
// any CPU.
const envCoreTypeTest = "CURVPROBE_TEST_OPENBLAS_DETECTED"

// coreClass ranks OpenBLAS's x86-64 core names (driver/others/dynamic.c,
// corename[]) by the vector instructions their kernels use: 0 SSE only,
// 1 AVX, 2 AVX2 and FMA, 3 AVX-512. Names not listed have no rank, and
// curvprobe then leaves OpenBLAS's choice alone.
var coreClass = map[string]int{
	"katmai": 0, "coppermine": 0, "northwood": 0, "prescott": 0, "banias": 0,
	"atom": 0, "core2": 0, "penryn": 0, "dunnington": 0, "nehalem": 0,
	"athlon": 0, "opteron": 0, "opteron_sse3": 0, "barcelona": 0, "nano": 0, "bobcat": 0,
	"sandybridge": 1, "bulldozer": 1, "piledriver": 1, "steamroller": 1,
	"haswell": 2, "excavator": 2, "zen": 2,
	"skylakex": 3, "cooperlake": 3, "sapphirerapids": 3,
}

// cpuFeatures is what the remedy needs to know of the CPU.
type cpuFeatures struct {
	avx, avx2, fma, avx512, avx512bf16 bool
	amd                                bool
}

// hostFeatures reads the CPU's features (as the OS enables them: AVX-512
// counts only where the OS saves its registers) and its vendor.
func hostFeatures() cpuFeatures {
	x := cpu.X86
	return cpuFeatures{
		avx:        x.HasAVX,
		avx2:       x.HasAVX2,
		fma:        x.HasFMA,
		avx512:     x.HasAVX512F && x.HasAVX512BW && x.HasAVX512VL && x.HasAVX512DQ && x.HasAVX512CD,
		avx512bf16: x.HasAVX512BF16,
		amd:        cpuVendor() == "AuthenticAMD",
	}
}

// cpuVendor returns /proc/cpuinfo's vendor_id, or "" where there is none.
func cpuVendor() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "vendor_id" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// bestCore returns the OpenBLAS core whose kernels this CPU's features
// support best, its class and the features that justify it; "" when the
// CPU has no more than SSE.
func bestCore(f cpuFeatures) (name string, class int, why string) {
	switch {
	case f.avx512 && f.avx512bf16:
		return "Cooperlake", 3, "AVX-512 with BF16"
	case f.avx512:
		return "SkylakeX", 3, "AVX-512"
	case f.avx2 && f.fma && f.amd:
		return "Zen", 2, "AVX2 and FMA"
	case f.avx2 && f.fma:
		return "Haswell", 2, "AVX2 and FMA"
	case f.avx:
		return "Sandybridge", 1, "AVX"
	}
	return "", 0, ""
}

// coreRemedy returns the OPENBLAS_CORETYPE to use when OpenBLAS detected
// the core named detected but the CPU supports a higher class of kernels,
// with the reason; "" when detected is right, or not a core it knows.
func coreRemedy(detected string, f cpuFeatures) (coretype, why string) {
	have, known := coreClass[strings.ToLower(detected)]
	best, class, feats := bestCore(f)
	if !known || best == "" || have >= class {
		return "", ""
	}
	return best, fmt.Sprintf("OpenBLAS detected %s, this CPU has %s", detected, feats)
}

// coreNote says which kernel class OpenBLAS runs and why, for BLASName.
func coreNote(corename string) string {
	if corename == "" {
		return ""
	}
	set := os.Getenv(EnvCoreType)
	switch {
	case set != "" && os.Getenv(EnvCoreTypeSet) != "":
		return fmt.Sprintf("core %s (%s=%s set by curvprobe: %s)", corename, EnvCoreType, set, os.Getenv(EnvCoreTypeSet))
	case set != "":
		return fmt.Sprintf("core %s (%s=%s set by the user)", corename, EnvCoreType, set)
	}
	if ct, why := coreRemedy(corename, hostFeatures()); ct != "" {
		return fmt.Sprintf("core %s, detected by OpenBLAS: WARNING %s; %s=%s would be faster", corename, why, EnvCoreType, ct)
	}
	return fmt.Sprintf("core %s, detected by OpenBLAS", corename)
}
