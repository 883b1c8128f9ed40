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
		// A staff mail naming a field its view does not have.
		"sla_breach.txt.tmpl": {Data: []byte("{{.What}}\nBreached at {{.BreachedAt}}\n")},
		// A subject that renders nothing.
		"capacity.subject.tmpl": {Data: []byte("{{if false}}Capacity{{end}}\n")},
		// Wrong only with the second sample: every sample is tried.
		"release_notice.txt.tmpl": {Data: []byte("{{if .Moved}}{{.Previous}}{{end}}{{.Release}}\n")},
	})
	if err == nil {
		t.Fatal("bad overrides accepted")
	}
	for _, want := range []string{
		"acknowledgment.txt.tmpl: not a template", "reopen.txt.tmpl:", "closure.txt.tmpl: does not render",
		"sla_breach.txt.tmpl: does not render with sample data", "can't evaluate field BreachedAt",
		"capacity.subject.tmpl: renders an empty line",
		"release_notice.txt.tmpl: does not render with sample data", "can't evaluate field Previous",
	} {
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

// An operator's templates_dir changes a staff-facing mail's wording and
// a requester mail's subject end to end: the desk renders them from the
// directory, keeps the [RFA-N] tag in front of the subject whatever the
// template says, makes it one line (a template's CR/LF cannot add a
// header), and a requester's reply to the reworded subject still
// threads to its RFA by that tag. Mails without an override keep the
// embedded wording.
func TestTemplatesDirOverrideEndToEnd(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"escalation_staff.txt.tmpl":     "{{.Ref}} escalated {{.Via}}; {{.Owner}} owns it.\nTheir words:\n{{.Reason}}\n",
		"escalation_staff.subject.tmpl": "ESCALATED ({{.Organisation}}) {{.Subject}}\n",
		"severity_notice.subject.tmpl":  "Priority now {{.Severity}}\r\nBcc: evil@example.net\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tmpl, err := bot.ParseTemplates(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureWith(t, func(c *bot.DeskConfig) {
		c.Templates = tmpl
		c.Managers = []bot.Address{{Email: "boss@example.org"}}
		c.ManagerName = "Mo Manager"
	})
	ctx := t.Context()
	f.ingest(mail("ov1@oakprimary.sch.uk", "Sam|s@oakprimary.sch.uk", "Login fails", "I cannot log in."))
	if err := f.desk.Escalate(ctx, 1, bot.Actor{Name: "Sam", ID: "s@oakprimary.sch.uk"}, "from the status page", "urgent"); err != nil {
		t.Fatal(err)
	}
	if err := f.desk.SetSeverity(ctx, 1, bot.SeveritySerious, bot.Actor{Name: "Tess", ID: "discord:1"}); err != nil {
		t.Fatal(err)
	}

	boss := mailsOf(f, "escalation to manager")
	if len(boss) != 1 {
		t.Fatalf("%d manager mails", len(boss))
	}
	if want := "[RFA-1] ESCALATED (Oak Primary School) Login fails"; boss[0].Subject != want {
		t.Errorf("manager subject %q, want %q", boss[0].Subject, want)
	}
	if want := "RFA-1 escalated from the status page; Mo Manager owns it.\nTheir words:\n> urgent\n"; boss[0].Text != want {
		t.Errorf("manager mail %q, want %q", boss[0].Text, want)
	}

	sev := mailsOf(f, "severity notice")
	if len(sev) != 1 {
		t.Fatalf("%d severity notices", len(sev))
	}
	if want := "[RFA-1] Priority now Serious Bcc: evil@example.net"; sev[0].Subject != want {
		t.Errorf("severity subject %q, want %q (one line, tag first)", sev[0].Subject, want)
	}
	if !strings.Contains(sev[0].Text, "its severity is now Serious") {
		t.Errorf("severity body lost the embedded wording: %q", sev[0].Text)
	}
	if ack := mailsOf(f, "acknowledgement"); len(ack) != 1 || ack[0].Subject != "[RFA-1] Received: Login fails" {
		t.Errorf("acknowledgement changed without an override: %+v", ack)
	}

	reply := mail("ov2@oakprimary.sch.uk", "Sam|s@oakprimary.sch.uk", "Re: "+sev[0].Subject, "It is still broken for the whole class.")
	if out := f.ingest(reply); len(out) != 1 || out[0].RFA != 1 {
		t.Errorf("a reply to the reworded subject: %+v, want it on RFA-1", out)
	}
}
