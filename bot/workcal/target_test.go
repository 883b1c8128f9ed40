package workcal

import (
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in      string
		want    Target
		norm    string
		working bool
	}{
		{"72 hours", Target{72, UnitHour}, "72 hours", false},
		{"1 hour", Target{1, UnitHour}, "1 hour", false},
		{"1 working hour", Target{1, UnitWorkingHour}, "1 working hour", true},
		{"1 working hours", Target{1, UnitWorkingHour}, "1 working hour", true},
		{"4 working hours", Target{4, UnitWorkingHour}, "4 working hours", true},
		{"4 Working Hour", Target{4, UnitWorkingHour}, "4 working hours", true},
		{"  2\tWORKING   days ", Target{2, UnitWorkingDay}, "2 working days", true},
		{"1 working day", Target{1, UnitWorkingDay}, "1 working day", true},
		{"3 working days", Target{3, UnitWorkingDay}, "3 working days", true},
		{"2 working weeks", Target{2, UnitWorkingWeek}, "2 working weeks", true},
		{"1 working week", Target{1, UnitWorkingWeek}, "1 working week", true},
		{"007 hours", Target{7, UnitHour}, "7 hours", false},
		{"9999 working weeks", Target{9999, UnitWorkingWeek}, "9999 working weeks", true},
	}
	for _, tc := range tests {
		got, err := ParseTarget(tc.in)
		if err != nil {
			t.Errorf("ParseTarget(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want || got.String() != tc.norm || got.Working() != tc.working {
			t.Errorf("ParseTarget(%q) = %+v (%q, working %v), want %+v (%q, working %v)",
				tc.in, got, got, got.Working(), tc.want, tc.norm, tc.working)
		}
		again, err := ParseTarget(got.String())
		if err != nil || again != got {
			t.Errorf("round trip of %q = %+v, %v", got, again, err)
		}
	}
}

func TestParseTargetErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty"},
		{"   ", "empty"},
		{"hours", "want a number and a unit"},
		{"4", "want a number and a unit"},
		{"4 working hours please", "want a number and a unit"},
		{"four working hours", `number "four" must be digits only`},
		{"2.5 working hours", `number "2.5" must be digits only`},
		{"-1 working hours", "digits only"},
		{"+2 hours", "digits only"},
		{"４ hours", "digits only"},
		{"0 working hours", "at least 1"},
		{"10000 hours", "too large"},
		{"99999999999999999999 hours", "too large"},
		{"2 days", `days must be working days (e.g. "2 working days")`},
		{"1 week", "week must be working week"},
		{"2 business days", `unknown word "business"`},
		{"2 working minutes", `unknown unit "minutes"`},
		{"2 working", `unknown unit "working"`},
		{"3 fortnights", `unknown unit "fortnights"`},
	}
	for _, tc := range tests {
		_, err := ParseTarget(tc.in)
		if err == nil || !strings.HasPrefix(err.Error(), "workcal: target ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseTarget(%q) error = %v, want one containing %q", tc.in, err, tc.want)
		}
	}
}

func TestTargetText(t *testing.T) {
	var tg Target
	if err := tg.UnmarshalText([]byte("4 Working Hours")); err != nil || tg != (Target{4, UnitWorkingHour}) {
		t.Fatalf("UnmarshalText = %+v, %v", tg, err)
	}
	if b, _ := tg.MarshalText(); string(b) != "4 working hours" {
		t.Errorf("MarshalText = %q", b)
	}
	if err := tg.UnmarshalText([]byte("2 days")); err == nil {
		t.Error("UnmarshalText(2 days) succeeded")
	}
	if tg != (Target{4, UnitWorkingHour}) {
		t.Errorf("failed UnmarshalText changed the target to %+v", tg)
	}
}
