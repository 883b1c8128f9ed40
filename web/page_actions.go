package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"rfadesk/bot"
)

// pageAction names what a requester does with a button on the status
// page: the value of the form's "action" field.
type pageAction string

// The status page's actions.
const (
	actMessage  pageAction = "message"  // add a message, with files
	actAnswer   pageAction = "answer"   // answer the desk's question, with files
	actEscalate pageAction = "escalate" // pass the RFA to the manager
	actFixed    pageAction = "fixed"    // confirm the fix (clearance lifecycle)
	actBroken   pageAction = "broken"   // say the fix did not work
)

// Field names of the status page's forms.
const (
	fieldAction = "action"
	fieldCSRF   = "csrf"
	fieldText   = "text"
	fieldReason = "reason"
	fieldFiles  = "files"
)

const (
	// maxUploadsInFlight bounds how many multipart posts are read at
	// once (each may hold MaxRequesterFiles files in memory); more are
	// answered 503 with Retry-After.
	maxUploadsInFlight = 4
	// partOverhead is what one file part adds to a body besides its
	// bytes (boundary and headers), for the body cap.
	partOverhead = 1 << 10
	// maxActionFields bounds the fields of a status page's post (all but
	// its files): a message of bot.MaxRequesterText characters fits even
	// when every one is percent-encoded from four bytes.
	maxActionFields = 256 << 10
)

// actionForms is what the status page's buttons need: where they post,
// the anti-forgery value they carry and which of them fit the RFA's
// state.
type actionForms struct {
	URL  string // the page's own URL, token included
	CSRF string
	// Which buttons are shown.
	Message, Answer, Escalate, Fixed, Broken bool
	// Question is the desk's last message, quoted above the answer form.
	Question string
	// ConfirmBy is when a cleared RFA closes itself unless the requester
	// says otherwise; zero when not known.
	ConfirmBy time.Time
	// Files says the message and answer forms take files: at most
	// MaxFiles of at most MaxFileSize ("10 MB") each.
	Files       bool
	MaxFiles    int
	MaxFileSize string
	MaxText     int
	MaxReason   int
}

// allows reports whether action a is offered on the page (and so
// accepted from it).
func (f *actionForms) allows(a pageAction) bool {
	switch a {
	case actMessage:
		return f.Message
	case actAnswer:
		return f.Answer
	case actEscalate:
		return f.Escalate
	case actFixed:
		return f.Fixed
	case actBroken:
		return f.Broken
	}
	return false
}

// formsFor returns the buttons that fit rfa's state, for which the
// handler has a desk function: a message unless closed (an answer
// instead while the desk awaits one), escalation unless closed, "it's
// fixed" while cleared, "still broken" while cleared and, once closed,
// until the reopen grace ends (Settings.ReopenBy).
func (h *handler) formsFor(s Settings, rfa *bot.RFA) *actionForms {
	st := rfa.Status
	reopenable := st == bot.StatusCleared
	if st == bot.StatusClosed && s.ReopenBy != nil {
		until, ok := s.ReopenBy(rfa)
		reopenable = ok && h.now().Before(until)
	}
	f := &actionForms{
		URL: statusPath(rfa), CSRF: h.csrfValue(rfa.Ref(), rfa.Token),
		Answer:      h.answerFn != nil && st == bot.StatusAwaitingRequester,
		Escalate:    h.escalateFn != nil && st != bot.StatusClosed,
		Fixed:       h.confirmFixedFn != nil && st == bot.StatusCleared,
		Broken:      h.stillBrokenFn != nil && reopenable,
		Files:       h.maxFileBytes > 0,
		MaxFiles:    bot.MaxRequesterFiles,
		MaxFileSize: sizeText(h.maxFileBytes),
		MaxText:     bot.MaxRequesterText,
		MaxReason:   maxReason,
	}
	f.Message = h.addMessageFn != nil && st != bot.StatusClosed && !f.Answer
	if s.ConfirmBy != nil && f.Fixed {
		if at, ok := s.ConfirmBy(rfa); ok {
			f.ConfirmBy = at
		}
	}
	if f.Answer {
		for i := len(rfa.Messages) - 1; i >= 0; i-- {
			if rfa.Messages[i].Direction == bot.Outbound {
				f.Question = rfa.Messages[i].Text
				break
			}
		}
	}
	if !(f.Message || f.Answer || f.Escalate || f.Fixed || f.Broken) {
		return nil
	}
	return f
}

// csrfValue is the anti-forgery value of the status page of the RFA
// ref whose status token is token: an HMAC-SHA256 under the handler's
// form key, which no one without the key can compute. The key is random
// per process unless Options.FormKey is set, so a restart makes the
// forms of pages opened before it answer 403 until reloaded.
func (h *handler) csrfValue(ref, token string) string {
	m := hmac.New(sha256.New, h.formKey)
	io.WriteString(m, "rfadesk status page form\x00"+ref+"\x00"+token)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sameOrigin reports whether r may come from this site's own page: a
// Sec-Fetch-Site header, when present, must say same-origin; an Origin
// header, when present and not "null", must name this host (the
// request's Host, or that of Options.PublicURL); failing an Origin, so
// must a Referer when present. "null" is what browsers send as the
// Origin of our own forms, since our pages carry Referrer-Policy:
// no-referrer; the HMAC field is what proves them.
func (h *handler) sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		return h.ownHost(o, r)
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		return h.ownHost(ref, r)
	}
	return true
}

// ownHost reports whether the URL raw names this site.
func (h *handler) ownHost(raw string, r *http.Request) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	return strings.EqualFold(u.Host, r.Host) || h.publicHost != "" && strings.EqualFold(u.Host, h.publicHost)
}

// isStatusPagePath reports whether path is a status page's, /rfa/{ref}.
func isStatusPagePath(path string) bool {
	rest, ok := strings.CutPrefix(path, "/rfa/")
	return ok && rest != "" && !strings.Contains(rest, "/")
}

// bodyLimit is the most body bytes request r may send: room for the
// fields and files a message may carry on a POST to a status page,
// maxRequestBody on every other route.
func (h *handler) bodyLimit(r *http.Request) int64 {
	switch {
	case r.Method != http.MethodPost:
	case isStatusPagePath(r.URL.Path):
		return maxActionFields + int64(bot.MaxRequesterFiles)*(h.maxFileBytes+partOverhead)
	case h.portal != nil && r.URL.Path == "/new":
		return h.portal.submitBodyCap() // the form's files (new.go)
	}
	return maxRequestBody
}

// pageAct answers POST /rfa/{ref}?t=TOKEN: one button of the status
// page. In order: a request from another origin (sameOrigin) is refused
// with 403; an unparsable ref, an unknown RFA and a wrong or missing
// token give the status page's very 404; a body without the page's
// anti-forgery field (csrf, before any file) or with a wrong one is 403;
// once it is right, past the RFA's allowance the answer is 429 (so only
// the page's own posts spend it); a body over the cap, a
// file over Options.MaxFileBytes or more than bot.MaxRequesterFiles files
// is 413. None of these calls the desk. An unknown action is 400; an
// action the page does not offer in the RFA's state, or one the desk
// refuses, changes nothing and is answered, like success, with 303 back
// to the page, which says what happened.
func (h *handler) pageAct(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !h.sameOrigin(r) {
		http.Error(w, "forbidden: this form must be sent from its own page", http.StatusForbidden)
		return
	}
	rfa, ok := h.rfaForToken(w, r, r.URL.Query().Get("t"))
	if !ok {
		return
	}
	form, files, ok := h.readActionForm(w, r, rfa)
	if !ok {
		return
	}
	action := pageAction(form.Get(fieldAction))
	run, known := h.actionRunners()[action]
	if !known {
		http.Error(w, "bad request: unknown action", http.StatusBadRequest)
		return
	}
	back := statusPath(rfa)
	forms := h.formsFor(h.settings(), rfa)
	if forms == nil || !forms.allows(action) {
		http.Redirect(w, r, back+outcomeQuery(action, errNotOffered), http.StatusSeeOther)
		return
	}
	by := bot.Actor{Name: rfa.Requester.Name, ID: rfa.Requester.Email}
	err := run(r.Context(), rfa.Num, by, form, files)
	switch {
	case err == nil, errors.Is(err, bot.ErrNotAllowed), errors.Is(err, bot.ErrInvalid):
		if err != nil {
			h.log.Info("web: status page action refused", "ref", rfa.Ref(), "action", string(action), "err", err)
		} else {
			h.log.Info("web: status page action", "ref", rfa.Ref(), "action", string(action))
		}
		http.Redirect(w, r, back+outcomeQuery(action, err), http.StatusSeeOther)
	case errors.Is(err, bot.ErrNotFound):
		h.notFound(w)
	default:
		h.log.Error("web: status page action", "ref", rfa.Ref(), "action", string(action), "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// errNotOffered is an action the page does not offer in the RFA's state.
var errNotOffered = errors.New("web: action not offered in this state")

// outcomeQuery is what the page is sent back with after action ended
// with err: "&escalated=1" or "=0" for an escalation (as the escalation
// route says it), otherwise "&done=<action>", "&refused=<action>" or,
// for an empty message, "&refused=empty". The page words only these
// fixed values; it never shows the query itself.
func outcomeQuery(action pageAction, err error) string {
	switch {
	case action == actEscalate && err == nil:
		return "&escalated=1"
	case action == actEscalate:
		return "&escalated=0"
	case err == nil:
		return "&done=" + string(action)
	case errors.Is(err, bot.ErrInvalid):
		return "&refused=empty"
	}
	return "&refused=" + string(action)
}

// actionRunner performs one action for the requester by, with the
// form's fields and files.
type actionRunner func(ctx context.Context, num uint64, by bot.Actor, form url.Values, files []bot.Attachment) error

// actionRunners is the dispatch table of the page's actions. An action
// whose desk function is not configured is still known (its button is
// not shown, and a post of it is answered "not offered").
func (h *handler) actionRunners() map[pageAction]actionRunner {
	message := func(fn func(context.Context, uint64, bot.RequesterMessage) error) actionRunner {
		return func(ctx context.Context, num uint64, _ bot.Actor, form url.Values, files []bot.Attachment) error {
			return fn(ctx, num, bot.RequesterMessage{Text: form.Get(fieldText), Attachments: files})
		}
	}
	return map[pageAction]actionRunner{
		actMessage: message(h.addMessageFn),
		actAnswer:  message(h.answerFn),
		actEscalate: func(ctx context.Context, num uint64, by bot.Actor, form url.Values, _ []bot.Attachment) error {
			return h.escalateFn(ctx, num, by, "from the status page", cleanReason(form.Get(fieldReason)))
		},
		actFixed: func(ctx context.Context, num uint64, by bot.Actor, _ url.Values, _ []bot.Attachment) error {
			return h.confirmFixedFn(ctx, num, by)
		},
		actBroken: func(ctx context.Context, num uint64, by bot.Actor, form url.Values, _ []bot.Attachment) error {
			return h.stillBrokenFn(ctx, num, by, cleanReason(form.Get(fieldReason)))
		},
	}
}

// readActionForm reads a status page post: an urlencoded form, or a
// multipart one whose files are read into memory within the caps. The
// csrf field must be right, and in a multipart body come before any
// file, so that no file is read for a forged post; once it is, the post
// takes one of the RFA's allowance. Otherwise it has written the
// response (400, 403, 413, 429 or 503) and reports false.
func (h *handler) readActionForm(w http.ResponseWriter, r *http.Request, rfa *bot.RFA) (url.Values, []bot.Attachment, bool) {
	want := h.csrfValue(rfa.Ref(), rfa.Token)
	csrfOK := func(got string) bool {
		if !hmac.Equal([]byte(got), []byte(want)) {
			forbidden(w)
			return false
		}
		return h.allow(w, h.perRFA, rfa.Ref())
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		r.Body = http.MaxBytesReader(w, r.Body, maxActionFields)
		if err := r.ParseForm(); err != nil {
			bodyError(w, err)
			return nil, nil, false
		}
		if !csrfOK(r.PostForm.Get(fieldCSRF)) {
			return nil, nil, false
		}
		return r.PostForm, nil, true
	}
	select {
	case h.uploads <- struct{}{}:
		defer func() { <-h.uploads }()
	default:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "busy, try again shortly", http.StatusServiceUnavailable)
		return nil, nil, false
	}
	mr, err := r.MultipartReader()
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return nil, nil, false
	}
	form := url.Values{}
	var files []bot.Attachment
	fieldBytes, verified := 0, false
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			bodyError(w, err)
			return nil, nil, false
		}
		name := p.FormName()
		if name == fieldFiles && p.FileName() != "" {
			if !verified {
				forbidden(w)
				return nil, nil, false
			}
			if len(files) == bot.MaxRequesterFiles || h.maxFileBytes <= 0 {
				tooLarge(w)
				return nil, nil, false
			}
			data, err := io.ReadAll(io.LimitReader(p, h.maxFileBytes+1))
			if err != nil {
				bodyError(w, err)
				return nil, nil, false
			}
			if int64(len(data)) > h.maxFileBytes {
				tooLarge(w)
				return nil, nil, false
			}
			files = append(files, bot.Attachment{Name: p.FileName(), ContentType: p.Header.Get("Content-Type"), Data: data})
			continue
		}
		// A field, or a file input left empty (no file name).
		data, err := io.ReadAll(io.LimitReader(p, int64(maxActionFields-fieldBytes+1)))
		if err != nil {
			bodyError(w, err)
			return nil, nil, false
		}
		if fieldBytes += len(data); fieldBytes > maxActionFields {
			tooLarge(w)
			return nil, nil, false
		}
		if name == fieldFiles {
			continue
		}
		form.Add(name, string(data))
		if name == fieldCSRF && !verified {
			if verified = csrfOK(string(data)); !verified {
				return nil, nil, false
			}
		}
	}
	if !verified {
		forbidden(w)
		return nil, nil, false
	}
	return form, files, true
}

// bodyError answers a body that could not be read: 413 when it was over
// its cap, 400 otherwise.
func bodyError(w http.ResponseWriter, err error) {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		tooLarge(w)
		return
	}
	http.Error(w, "bad request", http.StatusBadRequest)
}

func tooLarge(w http.ResponseWriter) {
	http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
}

func forbidden(w http.ResponseWriter) {
	http.Error(w, "forbidden: this form is out of date or not from its page; reload the page and try again", http.StatusForbidden)
}

// sizeText words a byte count for people: "10 MB", "512 kB".
func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatInt(n>>20, 10) + " MB"
	case n >= 1<<10:
		return strconv.FormatInt(n>>10, 10) + " kB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
