package web

import (
	"context"
	"crypto/rand"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"rfadesk/bot"
)

// This file is the self-service portal: a requester logs an RFA on the
// web (bot.Desk.Submit) and, from a domain no organisation owns, confirms
// the address from the link mailed to it (bot.Desk.ConfirmSubmission).
//
//	GET  /new           the form
//	POST /new           submit it: 303 to /new/done (the reference and
//	                    status link) or /new/sent ("check your email")
//	GET  /new/done      ?ref=RFA-N&t=TOKEN: the logged RFA
//	GET  /new/sent      "check your email"
//	GET  /new/confirm   ?t=...: a page with a Confirm button (changes nothing)
//	POST /new/confirm   press it: 303 to /new/done
//
// Both POSTs need an Origin header of this site and the anti-forgery field
// (f) of a form this handler served within formTTL: 403 otherwise. Every
// POST counts against the per-client limit of bound; a submission also
// against perClient (per client address) and perAddress (per email
// address) below, 429 with Retry-After past them. POST /new's body is
// capped at submitBodyCap (413 page beyond), each file at the desk's
// attachment cap, maxSubmitFiles files and maxSubmitFilesSum in all; at
// most submitSlots bodies are read at once (503 beyond). The pages set
// Referrer-Policy: same-origin, so that browsers send the Origin the POSTs
// need, and Cache-Control: no-store. Every user string is escaped by
// html/template.

// Limits of the portal, besides the bounds in newform.go.
const (
	// Submissions per client address: a burst, then one every interval.
	submitClientBurst = 6
	submitClientEvery = 5 * time.Minute
	// Submissions per email address (plus tags and case ignored).
	submitAddressBurst = 3
	submitAddressEvery = 15 * time.Minute
	// submitSlots is how many submission bodies are read at once.
	submitSlots = 4
	// maxConfirmBody bounds POST /new/confirm's form.
	maxConfirmBody = 4 << 10
)

// portal is the state of the portal routes; nil when Options.Submit is.
type portal struct {
	submit      func(ctx context.Context, s bot.PortalSubmission) (*bot.RFA, error)
	confirm     func(ctx context.Context, token string) (*bot.RFA, error)
	components  []string
	maxFile     int64
	origin      string
	key         []byte // anti-forgery MAC key, random per handler
	perClient   *limiter
	perAddress  *limiter
	slots       chan struct{}
	form        *template.Template
	done        *template.Template
	confirmPage *template.Template
}

func newPortal(opts Options) *portal {
	if opts.Submit == nil || opts.ConfirmSubmission == nil {
		return nil
	}
	p := &portal{
		submit: opts.Submit, confirm: opts.ConfirmSubmission,
		components: opts.Components, maxFile: opts.MaxAttachmentBytes,
		origin:     originOf(opts.BaseURL),
		key:        make([]byte, 32),
		perClient:  newLimiter(submitClientBurst, submitClientEvery, maxLimiterKeys),
		perAddress: newLimiter(submitAddressBurst, submitAddressEvery, maxLimiterKeys),
		slots:      make(chan struct{}, submitSlots),
	}
	rand.Read(p.key)
	parse := func(page string) *template.Template {
		return template.Must(template.New("layout.html").
			ParseFS(templateFS, "templates/layout.html", "templates/contact.html", "templates/"+page))
	}
	p.form, p.done, p.confirmPage = parse("new.html"), parse("newdone.html"), parse("newconfirm.html")
	return p
}

// submitBodyCap is the most POST /new may send: the text and the files.
func (p *portal) submitBodyCap() int64 {
	files := min(maxSubmitFiles*max(p.maxFile, 0), maxSubmitFilesSum)
	return maxSubmitText + files + maxSubmitFiles*(4<<10) // framing per file
}

// routes adds the portal's routes to mux.
func (h *handler) routePortal(mux *http.ServeMux) {
	if h.portal == nil {
		return
	}
	mux.HandleFunc("GET /new", h.newForm)
	mux.HandleFunc("POST /new", h.newSubmit)
	mux.HandleFunc("GET /new/done", h.newDone)
	mux.HandleFunc("GET /new/sent", h.newSent)
	mux.HandleFunc("GET /new/confirm", h.newConfirmPage)
	mux.HandleFunc("POST /new/confirm", h.newConfirm)
}

// portalHeaders are set on every portal response.
func portalHeaders(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "same-origin")
}

func (h *handler) portalPage(title string) page {
	s := h.settings()
	return page{DeskName: s.DeskName, Hours: s.Hours, Title: title + " · " + s.DeskName, Contact: h.contactOf(s, true)}
}

// formView is the data of the form page.
type formView struct {
	page
	*submitted
	ResponseTarget string
	Errors         []string
	Choices        []componentChoice
	Labels         formLabels
	Max            formMax
	MaxFiles       int
	MaxFileSize    string
}

// componentChoice is one checkbox of desk.components.
type componentChoice struct {
	Name    string
	Checked bool
}

type formLabels struct{ Site, Components, ActionTaken, ErrorMessage, CanReplicate string }

func (h *handler) renderForm(w http.ResponseWriter, code int, s *submitted) {
	p := h.portal
	s.Form = p.formToken(h.now())
	v := formView{
		page: h.portalPage("Report a problem"), submitted: s, ResponseTarget: h.settings().ResponseTarget,
		Errors: s.Problems, Max: submitMax,
		Labels: formLabels{
			Site: bot.FieldLabel(bot.FieldSite), Components: bot.FieldLabel(bot.FieldComponents),
			ActionTaken: bot.FieldLabel(bot.FieldActionTaken), ErrorMessage: bot.FieldLabel(bot.FieldErrorMessage),
			CanReplicate: bot.FieldLabel(bot.FieldCanReplicate),
		},
	}
	for _, c := range p.components {
		v.Choices = append(v.Choices, componentChoice{Name: c, Checked: slices.Contains(s.Components, c)})
	}
	if p.maxFile > 0 {
		v.MaxFiles, v.MaxFileSize = maxSubmitFiles, byteSize(p.maxFile)
	}
	portalHeaders(w)
	h.render(w, code, p.form, v)
}

// newForm answers GET /new.
func (h *handler) newForm(w http.ResponseWriter, r *http.Request) {
	h.renderForm(w, http.StatusOK, &submitted{})
}

// newSubmit answers POST /new.
func (h *handler) newSubmit(w http.ResponseWriter, r *http.Request) {
	p := h.portal
	portalHeaders(w)
	if !p.sameOrigin(r) {
		http.Error(w, "forbidden: post the form from this site", http.StatusForbidden)
		return
	}
	select {
	case p.slots <- struct{}{}:
		defer func() { <-p.slots }()
	default:
		w.Header().Set("Retry-After", "5")
		http.Error(w, "busy, try again shortly", http.StatusServiceUnavailable)
		return
	}
	if !h.allow(w, p.perClient, clientKey(r.RemoteAddr)) {
		return
	}
	s, err := p.readSubmission(r)
	if err != nil {
		http.Error(w, "bad request: send the form from /new", http.StatusBadRequest)
		return
	}
	if !p.formTokenOK(s.Form, h.now()) {
		http.Error(w, "forbidden: the form has expired; open /new again", http.StatusForbidden)
		return
	}
	s.check()
	if s.bodyTooLarge {
		s.Files = nil
		h.renderForm(w, http.StatusRequestEntityTooLarge, s)
		return
	}
	if len(s.Problems) > 0 {
		s.Files = nil
		h.renderForm(w, http.StatusUnprocessableEntity, s)
		return
	}
	if !h.allow(w, p.perAddress, addressKey(s.Email)) {
		return
	}
	rfa, err := p.submit(r.Context(), s.submission())
	switch {
	case errors.Is(err, bot.ErrInvalid):
		s.Files, s.Problems = nil, []string{sentence(err.Error())}
		h.renderForm(w, http.StatusUnprocessableEntity, s)
	case errors.Is(err, bot.ErrNotAllowed):
		h.log.Info("web: submission refused", "err", err)
		s.Files, s.Problems = nil, []string{"We cannot take more requests from this address just now. Please try again later, or email or phone us."}
		w.Header().Set("Retry-After", strconv.Itoa(int(submitAddressEvery.Seconds())))
		h.renderForm(w, http.StatusTooManyRequests, s)
	case err != nil:
		h.log.Error("web: recording a submission", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	case rfa.Status.Held():
		h.log.Info("web: submission held until its address is confirmed", "num", rfa.Num)
		http.Redirect(w, r, "/new/sent", http.StatusSeeOther)
	default:
		h.log.Info("web: RFA logged from the web form", "ref", rfa.Ref())
		http.Redirect(w, r, donePath(rfa), http.StatusSeeOther)
	}
}

// sentence makes a desk error message a sentence for the form.
func sentence(s string) string {
	if s == "" {
		return s
	}
	b := []byte(s)
	if b[0] >= 'a' && b[0] <= 'z' {
		b[0] -= 'a' - 'A'
	}
	return string(b) + "."
}

func donePath(rfa *bot.RFA) string {
	return "/new/done?ref=" + rfa.Ref() + "&t=" + url.QueryEscape(rfa.Token)
}

// doneView is the data of /new/done and /new/sent.
type doneView struct {
	page
	Ref            string // "" on /new/sent
	StatusLink     string
	ResponseTarget string
}

// newDone answers GET /new/done?ref=RFA-N&t=TOKEN: the RFA's reference
// and status link, when TOKEN is its status token (404 otherwise, as the
// status page does). A held submission has no such page.
func (h *handler) newDone(w http.ResponseWriter, r *http.Request) {
	portalHeaders(w)
	q := r.URL.Query()
	num, err := bot.ParseRef(q.Get("ref"))
	if err != nil {
		h.notFound(w)
		return
	}
	sum, err := h.desk.RFASummary(r.Context(), num)
	if errors.Is(err, bot.ErrNotFound) || err == nil && (!secretEqual(q.Get("t"), sum.Token) || sum.Status.Held()) {
		h.notFound(w)
		return
	}
	if err != nil {
		h.log.Error("web: loading an RFA summary", "num", num, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	ref := bot.FormatRef(num)
	h.render(w, http.StatusOK, h.portal.done, doneView{
		page: h.portalPage(ref + " logged"), Ref: ref, ResponseTarget: h.settings().ResponseTarget,
		StatusLink: "/rfa/" + ref + "?t=" + url.QueryEscape(sum.Token),
	})
}

// newSent answers GET /new/sent: "check your email".
func (h *handler) newSent(w http.ResponseWriter, r *http.Request) {
	portalHeaders(w)
	h.render(w, http.StatusOK, h.portal.done, doneView{page: h.portalPage("Check your email")})
}

// confirmView is the data of /new/confirm.
type confirmView struct {
	page
	Form, Token     string
	Problem, Detail string // set instead of the button when the link failed
}

// newConfirmPage answers GET /new/confirm?t=...: a page whose button
// confirms. It changes nothing, so a mail scanner that follows the link
// confirms nothing.
func (h *handler) newConfirmPage(w http.ResponseWriter, r *http.Request) {
	portalHeaders(w)
	v := confirmView{page: h.portalPage("Confirm your request"), Token: r.URL.Query().Get("t"), Form: h.portal.formToken(h.now())}
	code := http.StatusOK
	if v.Token == "" || len(v.Token) > 200 {
		v.Problem, v.Detail, code = "This link is not complete", "Open the link from the email again, or copy all of it into the address bar.", http.StatusNotFound
	}
	h.render(w, code, h.portal.confirmPage, v)
}

// newConfirm answers POST /new/confirm: the Confirm button.
func (h *handler) newConfirm(w http.ResponseWriter, r *http.Request) {
	portalHeaders(w)
	if !h.portal.sameOrigin(r) {
		http.Error(w, "forbidden: confirm from the page the link opens", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxConfirmBody)
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if !h.portal.formTokenOK(r.PostForm.Get("f"), h.now()) {
		http.Error(w, "forbidden: the page has expired; open the link from the email again", http.StatusForbidden)
		return
	}
	rfa, err := h.portal.confirm(r.Context(), r.PostForm.Get("t"))
	v := confirmView{page: h.portalPage("Confirm your request")}
	switch {
	case errors.Is(err, bot.ErrNotFound):
		v.Problem, v.Detail = "This link is not valid", "Open the link from the email again, or copy all of it into the address bar."
		h.render(w, http.StatusNotFound, h.portal.confirmPage, v)
	case errors.Is(err, bot.ErrNotAllowed):
		v.Problem, v.Detail = "This link has expired", "Confirmation links work for seven days. Please report the problem again."
		h.render(w, http.StatusGone, h.portal.confirmPage, v)
	case err != nil:
		h.log.Error("web: confirming a submission", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	default:
		h.log.Info("web: submission confirmed", "ref", rfa.Ref())
		http.Redirect(w, r, donePath(rfa), http.StatusSeeOther)
	}
}
