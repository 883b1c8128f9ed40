package config

import (
	"strings"
	"testing"
)

// TestLifecycleConfig: [lifecycle] keys as written, their defaults, "off",
// and the school holidays reachable per organisation from the policy.
func TestLifecycleConfig(t *testing.T) {
	for _, tc := range []struct {
		name                string
		toml                string
		wantWindow, wantGrc string
	}{
		{"defaults", "", "5 working days", "20 working days"},
		{"custom", "[lifecycle]\nconfirm_window = \"3 working days\"\nreopen_grace = \"2 working weeks\"\n", "3 working days", "2 working weeks"},
		{"off", "[lifecycle]\nconfirm_window = \"off\"\nreopen_grace = \"Off\"\n", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load(writeConfig(t, slaBase+tc.toml), noEnv)
			if err != nil {
				t.Fatal(err)
			}
			p := cfg.Desk.SLA
			if got := targetString(p.ConfirmWindow.N, p.ConfirmWindow.String()); got != tc.wantWindow {
				t.Errorf("confirm window = %q, want %q", got, tc.wantWindow)
			}
			if got := targetString(p.ReopenGrace.N, p.ReopenGrace.String()); got != tc.wantGrc {
				t.Errorf("reopen grace = %q, want %q", got, tc.wantGrc)
			}
		})
	}
}

func targetString(n int, s string) string {
	if n == 0 {
		return ""
	}
	return s
}

func TestLifecycleConfigErrors(t *testing.T) {
	for _, tc := range []struct{ toml, want string }{
		{"[lifecycle]\nconfirm_window = \"5 days\"\n", `lifecycle.confirm_window: "5 days" is not a target`},
		{"[lifecycle]\nconfirm_window = \"40 hours\"\n", `lifecycle.confirm_window: "40 hours" must be in working time: write "40 working hours"`},
		{"[lifecycle]\nreopen_grace = \"soon\"\n", `lifecycle.reopen_grace: "soon" is not a target`},
		{"[lifecycle]\nreopen = \"1 working day\"\n", `lifecycle.reopen: unknown key`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			_, err := Load(writeConfig(t, slaBase+tc.toml), noEnv)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestExampleConfigLifecycle(t *testing.T) {
	cfg, err := Load("../config.example.toml", func(k string) string {
		return map[string]string{"RFADESK_IMAP_PASSWORD": "pw"}[k]
	})
	if err != nil {
		t.Fatalf("config.example.toml does not load: %v", err)
	}
	p := cfg.Desk.SLA
	if p.ConfirmWindow.String() != "5 working days" || p.ReopenGrace.String() != "20 working days" {
		t.Errorf("lifecycle = %v, %v", p.ConfirmWindow, p.ReopenGrace)
	}
	// The example's default school holidays reach every organisation.
	if hs := p.SchoolHolidays(cfg.Desk.Organisations[0].Name); len(hs) != 1 || hs[0].Name != "Christmas holidays" {
		t.Errorf("school holidays of %s = %v", cfg.Desk.Organisations[0].Name, hs)
	}
}

// TestSchoolHolidaysPerOrganisation: an organisation's own list replaces
// the default for it; others keep the default. The fingerprint follows.
func TestSchoolHolidaysPerOrganisation(t *testing.T) {
	body := slaBase + `[[organisation]]
name = "Elm Park Academy"
domains = ["elmpark.org.uk"]

[[calendar.school_holidays]]
name = "Christmas"
from = "2026-12-19"
to = "2027-01-04"

[[calendar.school_holidays]]
organisation = "Elm Park Academy"
name = "Elm Christmas"
from = "2026-12-12"
to = "2027-01-10"
`
	cfg, err := Load(writeConfig(t, body), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Desk.SLA
	if hs := p.SchoolHolidays("Elm Park Academy"); len(hs) != 1 || hs[0].Name != "Elm Christmas" {
		t.Errorf("Elm Park = %v", hs)
	}
	if hs := p.SchoolHolidays("Oak Primary School"); len(hs) != 1 || hs[0].Name != "Christmas" {
		t.Errorf("Oak = %v", hs)
	}
	before := p.Fingerprint()
	p.Holidays["Elm Park Academy"][0].To.Day = 11
	if p.Fingerprint() == before {
		t.Error("the fingerprint ignores a school holiday")
	}
	p.Holidays["Elm Park Academy"][0].To.Day = 10
	p.ConfirmWindow.N++
	if p.Fingerprint() == before {
		t.Error("the fingerprint ignores confirm_window")
	}
}
