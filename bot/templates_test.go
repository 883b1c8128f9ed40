package bot_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"rfadesk/bot"
)

var updateTemplates = flag.Bool("update", false, "rewrite testdata/templates/*.golden from the embedded templates")

// Every embedded template renders realistic data exactly as its golden
// file says; a wording change shows up here for review.
func TestTemplatesRenderSamples(t *testing.T) {
	got, err := bot.DefaultTemplates().RenderSamples()
	if err != nil {
		t.Fatal(err)
	}
	names := bot.DefaultTemplates().Names()
	if len(names) < 11 {
		t.Fatalf("only %d templates: %v", len(names), names)
	}
	for _, name := range names {
		path := filepath.Join("testdata", "templates", name+".golden")
		if *updateTemplates {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got[name]), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if got[name] != string(want) {
			t.Errorf("%s renders:\n%s\nwant:\n%s", name, got[name], want)
		}
		if strings.Contains(got[name], "<no value>") {
			t.Errorf("%s renders a missing value:\n%s", name, got[name])
		}
	}
}

func TestParseTemplatesOverride(t *testing.T) {
	tmpl, err := bot.ParseTemplates(fstest.MapFS{
		"closure.txt.tmpl": {Data: []byte("Closed {{.Ref}}. Reply to reopen.\n{{.Desk}}\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.RenderSamples()
	if err != nil {
		t.Fatal(err)
	}
	if want := "Closed RFA-000042. Reply to reopen.\nExample Service Desk\n"; got["closure.txt.tmpl"] != want {
		t.Errorf("override renders %q, want %q", got["closure.txt.tmpl"], want)
	}
	if o := tmpl.Overridden(); len(o) != 1 || o[0] != "closure.txt.tmpl" {
		t.Errorf("Overridden() = %v", o)
	}
	def, _ := bot.DefaultTemplates().RenderSamples()
	if got["ack.txt.tmpl"] != def["ack.txt.tmpl"] {
		t.Error("a template without an override changed")
	}
}

// An unknown name, a parse error and a render error are each reported,
// naming the file.
func TestParseTemplatesRefusesBadOverrides(t *testing.T) {
	_, err := bot.ParseTemplates(fstest.MapFS{
		"acknowledgment.txt.tmpl": {Data: []byte("hi")},
		"reopen.txt.tmpl":         {Data: []byte("{{if .Ref}}unclosed")},
		"closure.txt.tmpl":        {Data: []byte("{{.NoSuchField}}")},
		"ack.html.tmpl":           {Data: []byte("<p>{{.Ref}}</p>")},
	})
	if err == nil {
		t.Fatal("bad overrides accepted")
	}
	for _, want := range []string{"acknowledgment.txt.tmpl: not a template", "reopen.txt.tmpl:", "closure.txt.tmpl: does not render"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.HasPrefix(err.Error(), "ack.html.tmpl") || strings.Contains(err.Error(), "\nack.html.tmpl") {
		t.Errorf("a good override was reported: %v", err)
	}
}

// An operator's template that passed the sample check but fails on a
// real mail does not lose the mail: the embedded wording is used.
func TestOverrideFailingAtRunTimeFallsBack(t *testing.T) {
	// Renders the samples (one or two missing fields) but indexes past
	// the end when more fields are missing.
	tmpl, err := bot.ParseTemplates(fstest.MapFS{
		"ack.txt.tmpl": {Data: []byte("{{if gt (len .Missing) 2}}{{index .Missing 9}}{{end}}Logged as {{.Ref}}.\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureWith(t, func(c *bot.DeskConfig) { c.Templates = tmpl })
	f.ingest(mail("fb1@oakprimary.sch.uk", "Jo Bloggs <jo@oakprimary.sch.uk>", "Login", "I cannot log in."))
	var ack string
	for _, it := range f.outbox() {
		if it.Mail != nil && it.Mail.Purpose == "acknowledgement" {
			ack = it.Mail.Text
		}
	}
	if !strings.Contains(ack, "Thank you for contacting the Example Service Desk") {
		t.Errorf("acknowledgement = %q, want the embedded wording", ack)
	}
}
