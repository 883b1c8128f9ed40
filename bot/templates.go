package bot

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"slices"
	"strings"
	texttemplate "text/template"
)

// The wording of the requester-facing mails lives in text/template files
// embedded in the binary (templates/*.tmpl); an operator may replace any
// of them with a file of the same name ([desk] templates_dir, loaded by
// package config through ParseTemplates). A name ending ".html.tmpl" is
// an html/template (every value escaped); the others are plain text.
//
// Each template receives one view type, documented beside it:
//
//	ack.txt.tmpl, ack.html.tmpl  ackView (ack.go): the acknowledgement
//	staff_reply.txt.tmpl         staffReplyView: a staff reply or clearance, signed
//	confirm_prompt.txt.tmpl      confirmPromptView: the "Is it fixed?" links of a clearance or reminder
//	confirm_reminder.txt.tmpl    noticeView: the reminder to confirm a clearance
//	closure.txt.tmpl             noticeView: closed after no answer
//	reopen.txt.tmpl              noticeView: reopened at the requester's word
//	severity_notice.txt.tmpl     severityView: the severity set by staff
//	fields_reminder.txt.tmpl     noticeView: the one reminder of missing report fields
//	escalation_confirm.txt.tmpl  noticeView: escalated at the requester's request
//	submission_confirm.txt.tmpl  submissionView: confirm a web-form submission

//go:embed templates/*.tmpl
var embeddedTemplates embed.FS

// executer is what text/template and html/template have in common.
type executer interface {
	Execute(w io.Writer, data any) error
}

// Templates is the parsed set of mail templates the desk renders. It is
// immutable once built, so one value may be shared by goroutines. The
// zero value and nil are not usable: use DefaultTemplates or
// ParseTemplates.
type Templates struct {
	// byName holds every template; defaults the embedded ones, used
	// when an override fails to render at run time.
	byName, defaults map[string]executer
	overridden       []string
}

// staffReplyView is what staff_reply.txt.tmpl shows: staff's Text,
// MailOnly (text for the mail only, such as confirm_prompt's links;
// may be ""), the Signer's name, the Desk's name and the status Link of
// RFA Ref.
type staffReplyView struct {
	Text, MailOnly, Signer, Desk, Ref, Link string
}

// confirmPromptView is what confirm_prompt.txt.tmpl shows: the links to
// the status page's two buttons and, when the confirmation window ends,
// CloseBy (desk time, "Mon 4 Jan 2027 09:00 GMT"; "" if it never does).
type confirmPromptView struct {
	Ref, FixedURL, BrokenURL, CloseBy string
}

// noticeView is what the notices about an RFA show: RFA Ref, its status
// Link, the Desk's name; where they apply, Prompt (confirm_reminder: the
// rendered confirm_prompt), ReopenBy (closure: desk time until which a
// reply reopens the RFA, "" if no grace), Owner (escalation_confirm:
// who owns it now) and Missing (fields_reminder: the labels of the
// report fields still missing).
type noticeView struct {
	Ref, Link, Desk, Prompt, ReopenBy, Owner string
	Missing                                  []string
}

// severityView is what severity_notice.txt.tmpl shows: the Severity
// just set (Changed: it replaced another) and, when that severity has a
// workaround target, the target (WorkaroundTarget, "4 working hours")
// and its due time in desk time (WorkaroundDue; "" if not running).
type severityView struct {
	Ref, Link, Desk, Severity       string
	Changed                         bool
	WorkaroundTarget, WorkaroundDue string
}

// submissionView is what submission_confirm.txt.tmpl shows: the Desk's
// name and the link that confirms a web-form submission. It quotes
// nothing the submitter typed: the address may be a stranger's.
type submissionView struct {
	Desk, ConfirmURL string
}

// DefaultTemplates returns the embedded templates.
func DefaultTemplates() *Templates {
	t, err := ParseTemplates(nil)
	if err != nil {
		panic("bot: embedded templates: " + err.Error()) // tested
	}
	return t
}

// ParseTemplates returns the embedded templates, each replaced by the
// file of the same name in overrides when it has one (overrides may be
// nil). An override whose name is not a template's, that does not
// parse, or that fails to render the sample data (RenderSamples) is an
// error naming the file; every problem is reported, joined.
func ParseTemplates(overrides fs.FS) (*Templates, error) {
	t := &Templates{byName: map[string]executer{}, defaults: map[string]executer{}}
	names, err := fs.Glob(embeddedTemplates, "templates/*.tmpl")
	if err != nil {
		return nil, err
	}
	for _, path := range names {
		src, err := fs.ReadFile(embeddedTemplates, path)
		if err != nil {
			return nil, err
		}
		name := strings.TrimPrefix(path, "templates/")
		e, err := parseTemplate(name, string(src))
		if err != nil {
			return nil, err
		}
		t.byName[name], t.defaults[name] = e, e
	}
	if overrides == nil {
		return t, nil
	}
	entries, err := fs.ReadDir(overrides, ".")
	if err != nil {
		return nil, fmt.Errorf("reading the templates directory: %w", err)
	}
	var errs []error
	for _, ent := range entries {
		name := ent.Name()
		if ent.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		if _, ok := t.defaults[name]; !ok {
			errs = append(errs, fmt.Errorf("%s: not a template rfadesk knows (known: %s)", name, strings.Join(t.Names(), ", ")))
			continue
		}
		src, err := fs.ReadFile(overrides, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		e, err := parseTemplate(name, string(src))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		if err := e.Execute(io.Discard, templateSamples()[name]); err != nil {
			errs = append(errs, fmt.Errorf("%s: does not render with sample data: %w", name, err))
			continue
		}
		t.byName[name] = e
		t.overridden = append(t.overridden, name)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

func parseTemplate(name, src string) (executer, error) {
	if strings.HasSuffix(name, ".html.tmpl") {
		return htmltemplate.New(name).Option("missingkey=error").Parse(src)
	}
	return texttemplate.New(name).Option("missingkey=error").Parse(src)
}

// Names returns every template's name, sorted.
func (t *Templates) Names() []string { return slices.Sorted(maps.Keys(t.defaults)) }

// Overridden returns the names replaced by an operator's file, sorted.
func (t *Templates) Overridden() []string { return slices.Sorted(slices.Values(t.overridden)) }

// RenderSamples renders every template with realistic sample data and
// returns the results by name: what check-config and the golden test
// look at.
func (t *Templates) RenderSamples() (map[string]string, error) {
	out := map[string]string{}
	samples := templateSamples()
	for _, name := range t.Names() {
		var b bytes.Buffer
		if err := t.byName[name].Execute(&b, samples[name]); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = b.String()
	}
	return out, nil
}

// render executes template name with v. An operator's template that
// fails at run time (its data differed from the samples it was checked
// with) is logged and the embedded one used, so no mail is lost to it.
func (t *Templates) render(log *slog.Logger, name string, v any) string {
	var b bytes.Buffer
	err := t.byName[name].Execute(&b, v)
	if err == nil {
		return b.String()
	}
	log.Error("an overriding template failed; using the embedded one", "template", name, "err", err)
	b.Reset()
	if err := t.defaults[name].Execute(&b, v); err != nil {
		// The embedded templates are tested with every view.
		panic("bot: template " + name + ": " + err.Error())
	}
	return b.String()
}

// templateSamples returns realistic data for every template, by name.
func templateSamples() map[string]any {
	const ref, link, desk = "RFA-000042", "https://desk.example.org/rfa/42?t=k3Jq9vX2", "Example Service Desk"
	ack := ackView{
		Desk: desk, Ref: ref, Subject: "Printer in the staff room not printing", Name: "Jane",
		Fields: []ackField{
			{"Organisation", "Northgate Primary School (Northgate Academy Trust)"},
			{"Contact phone", "01603 555 0142"},
		},
		Missing: []string{"Computer or device name"},
		Target:  "72 hours", Hours: "We are open Monday to Friday, 08:00 to 17:00",
		Link: link,
		Contact: Contact{
			Phone: "01603 631436 (option 1)", KnowledgeBaseURL: "https://help.example.org",
			PostalAddress: "Example Service Desk\nCounty Hall\nNorwich NR1 2DH",
		},
	}
	prompt := confirmPromptView{
		Ref: ref, FixedURL: link + "&action=fixed#fixed", BrokenURL: link + "&action=broken#broken",
		CloseBy: "Mon 11 Jan 2027 09:00 GMT",
	}
	return map[string]any{
		"ack.txt.tmpl":  ack,
		"ack.html.tmpl": ack,
		"staff_reply.txt.tmpl": staffReplyView{
			Text:     "We have replaced the toner cartridge and the printer prints again.",
			MailOnly: "Is it fixed? Please tell us:\n  It's fixed:   " + prompt.FixedURL,
			Signer:   "Sam Patel", Desk: desk, Ref: ref, Link: link,
		},
		"confirm_prompt.txt.tmpl":   prompt,
		"confirm_reminder.txt.tmpl": noticeView{Ref: ref, Link: link, Desk: desk, Prompt: "Is it fixed? Please tell us:\n  It's fixed:   " + prompt.FixedURL},
		"closure.txt.tmpl":          noticeView{Ref: ref, Link: link, Desk: desk, ReopenBy: "Mon 18 Jan 2027 09:00 GMT"},
		"reopen.txt.tmpl":           noticeView{Ref: ref, Link: link, Desk: desk},
		"severity_notice.txt.tmpl": severityView{
			Ref: ref, Link: link, Desk: desk, Severity: "High", Changed: true,
			WorkaroundTarget: "1 working day", WorkaroundDue: "Tue 5 Jan 2027 12:30 GMT",
		},
		"fields_reminder.txt.tmpl":    noticeView{Ref: ref, Link: link, Desk: desk, Missing: []string{"Computer or device name", "Contact phone"}},
		"escalation_confirm.txt.tmpl": noticeView{Ref: ref, Link: link, Desk: desk, Owner: "the Service Desk Manager"},
		"submission_confirm.txt.tmpl": submissionView{Desk: desk, ConfirmURL: "https://desk.example.org/new/confirm?t=Xb7kP2qLm9Rt"},
	}
}
