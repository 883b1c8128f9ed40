package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"time"

	"rfadesk/bot"
)

// pages holds one parsed template set per page, each the layout plus the
// page's own "content" block.
type pages struct {
	landing, status, notFound, demoMail, board *template.Template
}

// parsePages parses the embedded templates; times are shown in the zone
// loc returns when a page is rendered (a reload may change it). The
// templates are part of the binary, so a parse error is a build bug and
// panics (every page is rendered by the tests).
func parsePages(loc func() *time.Location) pages {
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(loc()).Format("Mon 2 Jan 2006, 15:04 MST")
		},
		"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	}
	parse := func(page string) *template.Template {
		return template.Must(template.New("layout.html").Funcs(funcs).
			ParseFS(templateFS, "templates/layout.html", "templates/contact.html", "templates/"+page))
	}
	return pages{
		landing:  parse("landing.html"),
		status:   parse("status.html"),
		notFound: parse("notfound.html"),
		demoMail: parse("demomail.html"),
		board:    parse("board.html"),
	}
}

// page is what the layout needs; every page's data embeds it.
type page struct {
	DeskName string
	Title    string
	// Hours says when the desk is open, for people.
	Hours string
	// Contact is the "contact" template's data; nil shows no block.
	Contact *contactView
}

// render executes t into a buffer and writes it with code, so a template
// error gives a clean 500 rather than half a page. Every page passes
// through it, so it is where bidirectional controls are removed from
// whatever the page shows (bot.NeutralizeBidi): no string a sender
// controls can make the page read differently from what it says, in any
// field, present or future. The templates themselves hold none.
func (h *handler) render(w http.ResponseWriter, code int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		h.log.Error("web: rendering page", "template", t.Name(), "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, bot.NeutralizeBidi(buf.String()))
}

// landingView is the data of the landing page.
type landingView struct {
	page
	SupportEmail string
	Fields       []string // labels of the report fields the SLA asks for
	// Portal says the web form (/new) is on.
	Portal bool
}

// landing answers GET /.
func (h *handler) landing(w http.ResponseWriter, r *http.Request) {
	s := h.settings()
	v := landingView{page: page{DeskName: s.DeskName, Hours: s.Hours, Title: s.DeskName, Contact: h.contactOf(s, false)}, SupportEmail: h.support,
		Portal: h.portal != nil}
	for _, f := range bot.RequiredFields {
		v.Fields = append(v.Fields, bot.FieldLabel(f))
	}
	h.render(w, http.StatusOK, h.pages.landing, v)
}

// statusView is the data of the requester's status page.
type statusView struct {
	page
	settings     Settings // what the page was built under (not shown)
	Ref          string
	Status       string
	StatusClass  string
	Subject      string
	Organisation string
	Trust        string
	Created      time.Time
	Now          time.Time
	Fields       []fieldView
	Missing      []string // labels of the fields still missing
	Messages     []messageView
	Events       []eventView
	Severity     string      // "Critical", ..., "Awaiting triage"
	Owner        string      // who owns it since the requester escalated it; "" before
	Clocks       []clockView // empty when no clock source is configured
	// Forms are the buttons that fit the RFA's state, nil if none.
	Forms *actionForms
	// Linked is set while the RFA, not yet cleared, is linked to a known
	// issue (bot.RFA.Parent); the page never names that RFA.
	Linked bool
	// Outages are the titles of the live service notices affecting the
	// RFA's organisation (outageBanner), shown as a banner.
	Outages []string
	// Release names the release the fix is planned for and the day it
	// ships ("minor-2026-12-04, shipping Friday 4 December"); "" if none.
	Release string
	// Escalated is the outcome of an escalation just posted: "done",
	// "refused" or "" (none).
	Escalated string
	// Outcome words the outcome of another action just posted ("" if
	// none); OutcomeOK says it was done.
	Outcome   string
	OutcomeOK bool
}

// outcomeText words the outcomes a page is sent back with (outcomeQuery),
// by query parameter and value. Nothing else from the query is shown.
var outcomeText = map[string]map[string]string{
	"done": {
		string(actMessage): "Thank you: your message has been added and the support team has been told.",
		string(actAnswer):  "Thank you for your answer: the support team has been told, and our clock is running again.",
		string(actFixed):   "Thank you for confirming that it is fixed.",
		string(actBroken):  "Thank you for telling us: we have reopened this request and are working on it again.",
	},
	"refused": {
		"empty":            "Your message was empty, so nothing was sent. Please write something or add a file.",
		string(actMessage): "A message cannot be added to this request now. If you still need help, please email us.",
		string(actAnswer):  "We are not waiting for an answer on this request now: please add a message instead.",
		string(actFixed):   "This request cannot be confirmed as fixed now.",
		string(actBroken):  "This request cannot be reopened from this page now. If you still need help, please email us.",
	},
}

type fieldView struct {
	Label   string
	Value   string
	Missing bool
}

type messageView struct {
	Inbound     bool
	From        string
	At          time.Time
	Text        string
	Attachments []string
	// CutNote, when not "", says the message was cut (Message.FullSize)
	// and where the whole of it is kept.
	CutNote string
}

type eventView struct {
	At   time.Time
	Text string
	// Quote is the requester's own words the event carries, shown
	// quoted after the sentence, never inside it.
	Quote string
}

// status answers GET /rfa/{ref}?t=TOKEN: the page, or its public JSON
// (PublicRFAJSON) for Accept: application/json. An unparsable ref, an
// unknown RFA and a wrong or missing token all give the very same 404
// page, so the page tells nobody without the token whether an RFA
// exists. It changes nothing, whatever the query says (mail scanners
// open links): the page's buttons post (pageAct).
func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	num, ok := h.checkToken(w, r, r.URL.Query().Get("t"))
	if !ok {
		return
	}
	// The token matched: only now is the conversation read.
	rfa, ok := h.loadRFA(w, r, num, h.desk.RFAWithTexts)
	if !ok {
		return
	}
	v := h.statusView(rfa)
	v.Outages = h.outageBanner(r.Context(), rfa) // api_outages.go
	w.Header().Set("Vary", "Accept")
	if wantsJSON(r) {
		h.statusJSON(w, rfa, v)
		return
	}
	q := r.URL.Query()
	switch q.Get("escalated") {
	case "1":
		v.Escalated = "done"
	case "0":
		v.Escalated = "refused"
	}
	if text, ok := outcomeText["done"][q.Get("done")]; ok {
		v.Outcome, v.OutcomeOK = text, true
	} else if text, ok := outcomeText["refused"][q.Get("refused")]; ok {
		v.Outcome = text
	}
	h.render(w, http.StatusOK, h.pages.status, v)
}

// rfaForToken loads the RFA named by the request's {ref}, without its
// message texts, when token is its status token (checkToken). Otherwise
// it has written the response and reports false.
func (h *handler) rfaForToken(w http.ResponseWriter, r *http.Request, token string) (*bot.RFA, bool) {
	num, ok := h.checkToken(w, r, token)
	if !ok {
		return nil, false
	}
	return h.loadRFA(w, r, num, h.desk.RFA)
}

// checkToken returns the number of the RFA named by the request's {ref}
// when token is its status token. It reads the RFA's summary only, so a
// wrong token costs the same whatever the RFA holds, and compares in
// constant time. Otherwise it has written the response (the status
// page's 404 for a bad ref, an unknown RFA or a wrong token alike; 500
// if the store failed) and reports false. Each miss spends one of the
// client's guesses (h.guesses); a client with none left is answered 429
// before anything is looked up, so guessing tokens or references is
// slow whatever the guesses are.
func (h *handler) checkToken(w http.ResponseWriter, r *http.Request, token string) (uint64, bool) {
	client := clientKey(r.RemoteAddr)
	if ok, wait := h.guesses.spare(client, h.now()); !ok {
		tooMany(w, wait)
		return 0, false
	}
	miss := func() (uint64, bool) {
		h.guesses.take(client, h.now())
		h.notFound(w)
		return 0, false
	}
	num, err := bot.ParseRef(r.PathValue("ref"))
	if err != nil {
		return miss()
	}
	sum, err := h.desk.RFASummary(r.Context(), num)
	if errors.Is(err, bot.ErrNotFound) {
		return miss()
	}
	if err != nil {
		h.log.Error("web: loading RFA summary", "ref", bot.FormatRef(num), "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return 0, false
	}
	if !secretEqual(token, sum.Token) {
		return miss()
	}
	return num, true
}

// loadRFA loads RFA num with load (after checkToken); a failure is
// written as a 404 (gone) or 500 and reported false.
func (h *handler) loadRFA(w http.ResponseWriter, r *http.Request, num uint64,
	load func(context.Context, uint64) (*bot.RFA, error)) (*bot.RFA, bool) {
	rfa, err := load(r.Context(), num)
	if errors.Is(err, bot.ErrNotFound) {
		h.notFound(w)
		return nil, false
	}
	if err != nil {
		h.log.Error("web: loading RFA", "ref", bot.FormatRef(num), "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return nil, false
	}
	return rfa, true
}

// notFound writes the status page's 404: it never depends on the request.
func (h *handler) notFound(w http.ResponseWriter) {
	s := h.settings()
	h.render(w, http.StatusNotFound, h.pages.notFound, page{DeskName: s.DeskName, Hours: s.Hours, Title: "Not found"})
}

// statusView builds the status page's data from rfa under the current
// settings, which it keeps for the JSON (statusJSON).
func (h *handler) statusView(rfa *bot.RFA) statusView {
	s := h.settings()
	v := statusView{
		settings:     s,
		page:         page{DeskName: s.DeskName, Hours: s.Hours, Title: rfa.Ref() + " · " + s.DeskName, Contact: h.contactOf(s, false)},
		Ref:          rfa.Ref(),
		Status:       statusLabel(rfa.Status),
		StatusClass:  "st-" + string(rfa.Status),
		Subject:      rfa.Subject,
		Organisation: rfa.Organisation,
		Trust:        rfa.Trust,
		Created:      rfa.Created,
		Now:          h.now(),
		Severity:     rfa.Severity.Title(),
		Owner:        rfa.Owner(),
		Linked:       rfa.Parent != 0 && rfa.Status != bot.StatusCleared && rfa.Status != bot.StatusClosed,
	}
	if rel := rfa.Release; rel != nil && rfa.Status != bot.StatusCleared && rfa.Status != bot.StatusClosed {
		v.Release = rel.Name + ", shipping " + rel.Ships.In(s.Location).AddDate(0, 0, -1).Format("Monday 2 January 2006") // Ships: the end of its day
	}
	for _, c := range clocksOf(s, rfa) {
		v.Clocks = append(v.Clocks, clockViewOf(c, v.Now, s.Location))
	}
	v.Forms = h.formsFor(s, rfa)
	missing := map[string]bool{}
	for _, f := range rfa.Report.Missing() {
		missing[f] = true
		v.Missing = append(v.Missing, bot.FieldLabel(f))
	}
	for _, f := range bot.ReportFields {
		if value := rfa.Report.Value(f); value != "" || missing[f] { // an optional field shows only when given
			v.Fields = append(v.Fields, fieldView{Label: bot.FieldLabel(f), Value: value, Missing: missing[f]})
		}
	}
	for _, m := range rfa.Messages {
		mv := messageView{Inbound: m.Direction == bot.Inbound, From: publicSender(s, rfa, m), At: m.At, Text: m.Text}
		for _, a := range m.Attachments {
			mv.Attachments = append(mv.Attachments, a.Name)
		}
		if m.FullSize > 0 {
			mv.CutNote = fmt.Sprintf("This message was longer than the desk shows (%d kB in all): it is cut here, and kept whole as the attachment %s.", (m.FullSize+1023)/1024, bot.FullTextName)
		}
		v.Messages = append(v.Messages, mv)
	}
	for _, e := range rfa.Events {
		if text, ok := publicEventText(e); ok {
			v.Events = append(v.Events, eventView{At: e.At, Text: text, Quote: e.Quote})
		}
	}
	return v
}

// statusLabel words a status for the requester.
func statusLabel(s bot.Status) string {
	switch s {
	case bot.StatusNew:
		return "Received"
	case bot.StatusOpen:
		return "In progress"
	case bot.StatusAwaitingRequester:
		return "Waiting for your reply"
	case bot.StatusCleared:
		return "Fix sent: please confirm"
	case bot.StatusClosed:
		return "Closed"
	}
	return string(s)
}

// statusPath is the path of rfa's status page, token included.
func statusPath(rfa *bot.RFA) string {
	return "/rfa/" + rfa.Ref() + "?t=" + url.QueryEscape(rfa.Token)
}
