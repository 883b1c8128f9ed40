package web

import (
	"errors"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"rfadesk/bot"
)

const (
	// maxReason is the most characters of the requester's reason passed
	// on; longer reasons are cut (the form's maxlength stops browsers
	// sending more, but counts a newline as one where the form sends two).
	maxReason = bot.MaxEscalationReason
	// maxEscalateBody bounds the form body: the token and a reason of
	// maxReason characters, every byte percent-encoded, fit well inside.
	maxEscalateBody = 16 << 10
)

// escalate answers POST /rfa/{ref}/escalate: the requester escalates the
// RFA from the status page. The form carries the status token as field
// t (the form's CSRF secret: another site cannot know it) and an
// optional reason.
//
// An unparsable ref, an unknown RFA and a wrong or missing token give the
// status page's 404, with no call to Escalate. A closed RFA, or one the
// desk refuses (bot.ErrNotAllowed), is not escalated and the requester is
// sent back to the status page with ?escalated=0; a recorded escalation
// with ?escalated=1 (303 See Other, so a reload does not post again); a
// repeat within bot.EscalationInterval is answered the same and changes
// nothing. A body over maxEscalateBody is refused with 413. Posts are
// limited per client (in bound) and, once the token is right, per RFA:
// past the limit the answer is 429 with Retry-After.
func (h *handler) escalate(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, maxEscalateBody)
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	rfa, ok := h.rfaForToken(w, r, r.PostForm.Get("t"))
	if !ok {
		return
	}
	if !h.allow(w, h.perRFA, rfa.Ref()) {
		return
	}
	back := statusPath(rfa) + "&escalated="
	if rfa.Status == bot.StatusClosed {
		http.Redirect(w, r, back+"0", http.StatusSeeOther)
		return
	}
	reason := cleanReason(r.PostForm.Get("reason"))
	by := bot.Actor{Name: rfa.Requester.Name, ID: rfa.Requester.Email}
	err := h.escalateFn(r.Context(), rfa.Num, by, "from the status page", reason)
	switch {
	case errors.Is(err, bot.ErrNotAllowed):
		h.log.Info("web: escalation refused", "ref", rfa.Ref(), "err", err)
		http.Redirect(w, r, back+"0", http.StatusSeeOther)
	case errors.Is(err, bot.ErrNotFound):
		h.notFound(w)
	case err != nil:
		h.log.Error("web: escalating RFA", "ref", rfa.Ref(), "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	default:
		h.log.Info("web: escalated by the requester", "ref", rfa.Ref())
		http.Redirect(w, r, back+"1", http.StatusSeeOther)
	}
}

// cleanReason makes the requester's free text safe to record and mail:
// valid UTF-8, LF line ends, no other control characters (bidirectional
// controls included), no more than maxReason characters, trimmed. It is
// passed to Escalate as the reason, never inside a sentence.
func cleanReason(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\r' || r == '\t':
			return ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) && r != '\u200d':
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > maxReason {
		s = strings.TrimSpace(string([]rune(s)[:maxReason]))
	}
	return s
}
