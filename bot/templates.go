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
	"unicode"
)

// The wording of every message the desk sends, to requesters and to
// staff, lives in template files embedded in the binary (templates/);
// an operator may replace any of them with a file of the same name
// ([desk] templates_dir, loaded by package config through
// ParseTemplates, which check-config runs).
//
// A template's name is its message's stem and its part:
//
//	STEM.subject.tmpl  the mail's Subject: one line (see below)
//	STEM.txt.tmpl      the mail's plain-text body
//	STEM.html.tmpl     the mail's HTML body: an html/template, every value escaped
//	STEM.chat.tmpl     the post to the staff chat (plain text; the chat
//	                   transport neutralises markup and mentions)
//	STEM.line.tmpl     one line or sentence the desk puts into other messages
//
// Every part of a stem receives the same view (templates_views.go lists
// them). A subject or line is rendered to one line: bidirectional
// controls are removed, every run of control characters (CR, LF, tab,
// NUL, ...) becomes one space and the ends are trimmed, so no template
// and no value in it can add a header or break a line. A subject of a
// mail about an RFA is what follows its "[RFA-N] " tag: the desk puts
// the tag in front itself, because replies are threaded by it. A chat
// post or line loses its trailing newlines. A text body is used as it
// renders.
//
//go:embed templates/*.tmpl
var embeddedTemplates embed.FS

// executer is what text/template and html/template have in common.
type executer interface {
	Execute(w io.Writer, data any) error
}

// Templates is the parsed set of templates the desk renders. It is
// immutable once built, so one value may be shared by goroutines. The
// zero value and nil are not usable: use DefaultTemplates or
// ParseTemplates.
type Templates struct {
	// byName holds every template; defaults the embedded ones, used
	// when an override fails to render at run time.
	byName, defaults map[string]executer
	overridden       []string
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
// parse, that fails to render any of its stem's sample views
// (templateSamples) — a field the view does not have, say — or whose
// subject or line renders empty, is an error naming the file and the
// problem; every problem is reported, joined.
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
	samples := templateSamples()
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
		if err := checkRenders(name, e, samples[templateStem(name)]); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
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

// checkRenders renders e (template name) with each of views, and
// reports the first failure: an execution error, or an empty subject
// or line.
func checkRenders(name string, e executer, views []any) error {
	if len(views) == 0 {
		return errors.New("no sample data to check it with") // the embedded set is tested to have some
	}
	for _, v := range views {
		var b bytes.Buffer
		if err := e.Execute(&b, v); err != nil {
			return fmt.Errorf("does not render with sample data: %w", err)
		}
		if oneLineKind(name) && finish(name, b.String()) == "" {
			return errors.New("renders an empty line with sample data: a subject or line needs text")
		}
	}
	return nil
}

func parseTemplate(name, src string) (executer, error) {
	if strings.HasSuffix(name, ".html.tmpl") {
		return htmltemplate.New(name).Option("missingkey=error").Parse(src)
	}
	return texttemplate.New(name).Option("missingkey=error").Parse(src)
}

// templateStem is the message a template belongs to: its name up to
// the first dot ("ack" for "ack.subject.tmpl").
func templateStem(name string) string {
	stem, _, _ := strings.Cut(name, ".")
	return stem
}

// oneLineKind reports whether template name renders one line: a
// subject or a line.
func oneLineKind(name string) bool {
	return strings.HasSuffix(name, ".subject.tmpl") || strings.HasSuffix(name, ".line.tmpl")
}

// finish turns the raw output of template name into what the desk uses:
// a subject or line on one line (OneLine), a chat post without its
// trailing newlines, any other part unchanged.
func finish(name, out string) string {
	switch {
	case oneLineKind(name):
		return OneLine(out)
	case strings.HasSuffix(name, ".chat.tmpl"):
		return strings.TrimRight(out, "\r\n")
	}
	return out
}

// OneLine returns s fit for one header or line: bidirectional controls
// removed (NeutralizeBidi), every run of control characters — CR, LF,
// tab, NUL, DEL, C1 controls, the Unicode line and paragraph
// separators — replaced by one space, and leading and trailing space
// trimmed.
func OneLine(s string) string {
	s = NeutralizeBidi(s)
	if strings.ContainsFunc(s, isLineBreaking) {
		var b strings.Builder
		space := false
		for _, r := range s {
			if isLineBreaking(r) {
				if !space {
					b.WriteByte(' ')
				}
				space = true
				continue
			}
			space = false
			b.WriteRune(r)
		}
		s = b.String()
	}
	return strings.TrimSpace(s)
}

func isLineBreaking(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }

// Names returns every template's name, sorted.
func (t *Templates) Names() []string { return slices.Sorted(maps.Keys(t.defaults)) }

// Overridden returns the names replaced by an operator's file, sorted.
func (t *Templates) Overridden() []string { return slices.Sorted(slices.Values(t.overridden)) }

// RenderSamples renders every template with its stem's first sample
// view and returns the results by name, finished as the desk uses them
// (subjects on one line, ...): what check-config and the golden test
// look at.
func (t *Templates) RenderSamples() (map[string]string, error) {
	out := map[string]string{}
	samples := templateSamples()
	for _, name := range t.Names() {
		views := samples[templateStem(name)]
		if len(views) == 0 {
			return nil, fmt.Errorf("%s: no sample data", name)
		}
		var b bytes.Buffer
		if err := t.byName[name].Execute(&b, views[0]); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = finish(name, b.String())
	}
	return out, nil
}

// render executes template name with v and finishes the output (see
// finish). An operator's template that fails at run time (its data
// differed from the samples it was checked with), or whose subject or
// line comes out empty, is logged and the embedded one used, so no
// message is lost to it.
func (t *Templates) render(log *slog.Logger, name string, v any) string {
	var b bytes.Buffer
	err := t.byName[name].Execute(&b, v)
	if err == nil {
		out := finish(name, b.String())
		if out != "" || !oneLineKind(name) {
			return out
		}
		err = errors.New("rendered an empty line")
	}
	log.Error("an overriding template failed; using the embedded one", "template", name, "err", err)
	b.Reset()
	if err := t.defaults[name].Execute(&b, v); err != nil {
		// The embedded templates are tested with every view.
		panic("bot: template " + name + ": " + err.Error())
	}
	return finish(name, b.String())
}

// render renders template name with v (Templates.render).
func (d *Desk) render(name string, v any) string { return d.cfg.Templates.render(d.log, name, v) }

// subject renders stem's subject with v: one line, never empty.
func (d *Desk) subject(stem string, v any) string { return d.render(stem+".subject.tmpl", v) }

// rfaSubject is the subject of a mail about r: its "[RFA-N]" tag, which
// threads replies, then stem's subject rendered with v.
func (d *Desk) rfaSubject(r *RFA, stem string, v any) string {
	return "[" + r.Ref() + "] " + d.subject(stem, v)
}
