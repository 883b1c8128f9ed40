package config

import (
	"slices"
	"strings"
	"testing"

	"rfadesk/bot"
)

// TestConfigOutages: organisation contacts and [outages] inbound_subjects
// load, default, and bad values are named.
func TestConfigOutages(t *testing.T) {
	good := loopbackTOML + "password = \"x\"\n" +
		"[[organisation]]\nname = \"Oak\"\ndomains = [\"oakprimary.sch.uk\"]\ncontacts = [\"Head <Head@OakPrimary.sch.uk>\"]\n" +
		"[[organisation]]\nname = \"Elm\"\ndomains = [\"elmpark.sch.uk\"]\n"
	cfg, err := Load(writeConfig(t, good), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.Desk.Organisations[0].Contacts; len(c) != 1 || c[0] != (bot.Address{Name: "Head", Email: "head@oakprimary.sch.uk"}) {
		t.Errorf("contacts %+v", c)
	}
	if cfg.Desk.Organisations[1].Contacts != nil {
		t.Errorf("Elm has contacts %+v", cfg.Desk.Organisations[1].Contacts)
	}
	if !slices.Equal(cfg.Desk.Outages.InboundSubjects, bot.DefaultInboundOutageSubjects) {
		t.Errorf("default inbound subjects %q", cfg.Desk.Outages.InboundSubjects)
	}

	set := good + "[outages]\ninbound_subjects = [\" Down: \"]\n"
	if cfg, err = Load(writeConfig(t, set), noEnv); err != nil || !slices.Equal(cfg.Desk.Outages.InboundSubjects, []string{"Down:"}) {
		t.Errorf("inbound subjects %v, %v", cfg, err)
	}

	bad := loopbackTOML + "password = \"x\"\n" +
		"[[organisation]]\nname = \"Oak\"\ndomains = [\"oakprimary.sch.uk\"]\ncontacts = [\"nobody\"]\n" +
		"[outages]\ninbound_subjects = [\"\"]\n"
	_, err = Load(writeConfig(t, bad), noEnv)
	for _, want := range []string{`organisation[0].contacts[0]: "nobody" is not an email address`, `outages.inbound_subjects[0]`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}
