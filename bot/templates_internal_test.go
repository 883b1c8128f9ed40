package bot

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// templateFacts are what each stem's messages must say, whatever else
// they say: the facts a reader acts on. Every stem of the embedded set
// must have an entry, so a new template cannot go untested.
var templateFacts = map[string][]string{
	"ack":                 {"RFA-000042", "desk.example.org/rfa/42"},
	"staff_reply":         {"RFA-000042", "Sam Patel"},
	"confirm_prompt":      {"action=fixed", "action=broken"},
	"confirm_reminder":    {"RFA-000042", "action=fixed"},
	"closure":             {"RFA-000042", "desk.example.org/rfa/42"},
	"reopen":              {"RFA-000042", "desk.example.org/rfa/42"},
	"severity_notice":     {"RFA-000042", "High"},
	"fields_reminder":     {"RFA-000042", "Contact phone"},
	"escalation_confirm":  {"RFA-000042", "the Service Desk Manager"},
	"submission_confirm":  {"Example Service Desk", "new/confirm?t=Xb7kP2qLm9Rt"},
	"release_notice":      {"RFA-000042", "2027.1."},
	"outage_notice":       {"Email delivery delayed for all schools"},
	"outage_update":       {"Email delivery delayed for all schools"},
	"outage_resolved":     {"Email delivery delayed for all schools"},
	"outage_ack_note":     {"Email delivery delayed for all schools"},
	"outage_page":         {"head@northgate.sch.uk", "no internet"},
	"escalation_staff":    {"RFA-000042", "Printer in the staff room"},
	"sla_point":           {"RFA-000042", "workaround clock"},
	"sla_note":            {"RFA-000042"},
	"sla_duty":            {"RFA-000042"},
	"sla_jeopardy":        {"RFA-000042"},
	"sla_breach":          {"RFA-000042"},
	"release_cadence":     {"release"},
	"monthly_report":      {"2027-01"},
	"capacity":            {"mailbox-storage", "91.5%"},
	"surge":               {"web-filtering", "exam week"},
	"dependency_down":     {"rfadesk", "is down"},
	"dependency_up":       {"rfadesk", "recovered"},
	"unknown_acks_paused": {"acknowledgements"},
	"sender_flood":        {"RFA-000042"},
	"dead_letter":         {"could not be processed"},
	"dead_letters":        {"could not be processed"},
	"staff_unaddressed":   {"Not sent", "Printer at Northgate"},
	"staff_too_long":      {"Not sent", "RFA-000042"},
}

// TestEveryEmbeddedTemplateRendersRealisticData lists the embedded
// directory itself, so no template is missed: each is rendered, as the
// desk renders it, with every sample view of its stem. No part shows a
// missing value or template syntax; a subject or line is one non-empty
// line; every part of a stem together states the stem's facts; the
// samples cover exactly the embedded stems.
func TestEveryEmbeddedTemplateRendersRealisticData(t *testing.T) {
	paths, err := fs.Glob(embeddedTemplates, "templates/*")
	if err != nil || len(paths) == 0 {
		t.Fatalf("embedded templates: %v, %v", paths, err)
	}
	tmpl := DefaultTemplates()
	samples := templateSamples()
	stems := map[string]string{} // stem → every part's renderings, joined
	for _, path := range paths {
		name := strings.TrimPrefix(path, "templates/")
		if !slices.ContainsFunc([]string{".subject.tmpl", ".txt.tmpl", ".html.tmpl", ".chat.tmpl", ".line.tmpl"}, func(s string) bool { return strings.HasSuffix(name, s) }) {
			t.Errorf("%s: not a STEM.{subject,txt,html,chat,line}.tmpl name", name)
			continue
		}
		stem := templateStem(name)
		views := samples[stem]
		if len(views) == 0 {
			t.Errorf("%s: no sample views for stem %q (templates_samples.go)", name, stem)
			continue
		}
		for i, v := range views {
			var b bytes.Buffer
			if err := tmpl.byName[name].Execute(&b, v); err != nil {
				t.Errorf("%s, sample %d: %v", name, i, err)
				continue
			}
			out := finish(name, b.String())
			if got := tmpl.render(nil, name, v); got != out {
				t.Errorf("%s, sample %d: render gives %q, want %q", name, i, got, out)
			}
			switch {
			case strings.Contains(out, "<no value>"):
				t.Errorf("%s, sample %d: a missing value:\n%s", name, i, out)
			case strings.Contains(out, "{{") || strings.Contains(out, "}}"):
				t.Errorf("%s, sample %d: template syntax left:\n%s", name, i, out)
			case strings.TrimSpace(out) == "":
				t.Errorf("%s, sample %d: renders nothing", name, i)
			case oneLineKind(name) && strings.ContainsAny(out, "\r\n\x00\t"):
				t.Errorf("%s, sample %d: %q is not one line", name, i, out)
			}
			stems[stem] += "\n" + out
		}
	}
	for stem, all := range stems {
		facts, ok := templateFacts[stem]
		if !ok {
			t.Errorf("stem %q has no facts to check (templateFacts)", stem)
		}
		for _, f := range facts {
			if !strings.Contains(all, f) {
				t.Errorf("stem %q never says %q", stem, f)
			}
		}
		if _, ok := tmpl.defaults[stem+".subject.tmpl"]; ok {
			if _, ok := tmpl.defaults[stem+".txt.tmpl"]; !ok {
				t.Errorf("stem %q has a subject but no text body", stem)
			}
		}
	}
	for stem := range samples {
		if _, ok := stems[stem]; !ok {
			t.Errorf("samples for stem %q, which has no template", stem)
		}
	}
}

// TestEveryTemplateStemIsUsed: each stem is named in the package's
// code, so no template is left that nothing renders.
func TestEveryTemplateStemIsUsed(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var code strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.HasPrefix(f, "templates") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		code.Write(b)
	}
	for stem := range templateSamples() {
		if !strings.Contains(code.String(), `"`+stem+`"`) && !strings.Contains(code.String(), `"`+stem+".") {
			t.Errorf("stem %q is rendered nowhere", stem)
		}
	}
}

// TestOneLine: whatever a template or a value brings, a subject is one
// line without bidirectional controls.
func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"Closed: Printer":                        "Closed: Printer",
		"Closed:\r\nBcc: x@example.org":          "Closed: Bcc: x@example.org",
		"\n  Closed: a\tb\x00c\x7fd\u2028e \n\n": "Closed: a b c d e",
		"Re: invoice\u202efdp.exe":               "Re: invoicefdp.exe",
		"\u0085next line":                        "next line",
		"":                                       "",
	} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
