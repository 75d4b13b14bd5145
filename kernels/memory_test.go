package kernels

import (
	"strings"
	"testing"
)

// parseMeminfo takes MemAvailable and MemTotal in kB and refuses a file
// without them.
func TestParseMeminfo(t *testing.T) {
	mi, err := parseMeminfo(strings.NewReader("MemTotal:       24514624 kB\nMemFree:        1000 kB\nMemAvailable:   20000000 kB\n"))
	if err != nil {
		t.Fatal(err)
	}
	if mi.Total != 24514624<<10 || mi.Available != 20000000<<10 || !mi.Host {
		t.Errorf("got %+v", mi)
	}
	for _, bad := range []string{"", "MemTotal: 10 kB\n", "MemTotal: x kB\nMemAvailable: 5 kB\n", "MemTotal: 10 MB\nMemAvailable: 5 kB\n"} {
		if _, err := parseMeminfo(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if _, err := HostMemInfo(); err != nil {
		t.Logf("no host memory information here: %v", err)
	}
}
