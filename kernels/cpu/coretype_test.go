package cpu

import "testing"

// The remedy raises OpenBLAS's kernel class to the best the CPU supports
// only when the detected class is lower and known, and names both.
func TestCoreRemedy(t *testing.T) {
	avx512 := cpuFeatures{avx: true, avx2: true, fma: true, avx512: true}
	bf16 := avx512
	bf16.avx512bf16 = true
	zen := cpuFeatures{avx: true, avx2: true, fma: true, amd: true}
	intel2 := cpuFeatures{avx: true, avx2: true, fma: true}
	sandy := cpuFeatures{avx: true}
	for _, c := range []struct {
		detected string
		f        cpuFeatures
		want     string
	}{
		{"Prescott", bf16, "Cooperlake"}, // the Xeon (family 6, model 207)
		{"Prescott", avx512, "SkylakeX"},
		{"Haswell", avx512, "SkylakeX"},
		{"SkylakeX", avx512, ""},
		{"Cooperlake", avx512, ""}, // never lowered
		{"Core2", zen, "Zen"},
		{"Sandybridge", intel2, "Haswell"},
		{"Zen", zen, ""},
		{"Haswell", zen, ""}, // same class: OpenBLAS's choice stands
		{"Nehalem", sandy, "Sandybridge"},
		{"Prescott", cpuFeatures{}, ""}, // SSE only: nothing better
		{"SomeFutureCore", bf16, ""},    // unknown names are left alone
		{"", bf16, ""},
	} {
		got, why := coreRemedy(c.detected, c.f)
		if got != c.want {
			t.Errorf("coreRemedy(%q, %+v) = %q, want %q", c.detected, c.f, got, c.want)
		}
		if (why == "") != (c.want == "") {
			t.Errorf("coreRemedy(%q): reason %q with remedy %q", c.detected, why, got)
		}
	}
}
