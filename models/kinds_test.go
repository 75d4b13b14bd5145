package models

import (
	"encoding/json"
	"strings"
	"testing"
)

// ParseSchedule reads the --schedule forms; a bad one is an error naming
// it. The kinds marshal as the strings they are.
func TestParseSchedule(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Schedule
	}{
		{"", Schedule{}}, {"constant", Schedule{}},
		{"cosine", Schedule{Kind: CosineLR, Total: 50}}, {"cosine:0.01", Schedule{Kind: CosineLR, Total: 50, MinLR: 0.01}},
		{"step:10:0.5", Schedule{Kind: StepLR, Every: 10, Gamma: 0.5}},
	} {
		got, err := ParseSchedule(tc.in, 50)
		if err != nil || got != tc.want {
			t.Errorf("ParseSchedule(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"cosine:x", "step:10", "linear", "step:a:b"} {
		if _, err := ParseSchedule(bad, 50); err == nil || !strings.HasPrefix(err.Error(), `schedule "`+bad+`": want `) {
			t.Errorf("ParseSchedule(%q): %v", bad, err)
		}
	}
	b, err := json.Marshal(OptimizerSettings{Kind: Adam, LR: 1, Schedule: Schedule{Kind: StepLR, Every: 2, Gamma: 0.5}})
	if want := `{"kind":"adam","lr":1,"schedule":{"kind":"step","every":2,"gamma":0.5}}`; err != nil || string(b) != want {
		t.Errorf("marshal: %s, %v; want %s", b, err, want)
	}
}
