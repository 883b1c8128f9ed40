package web

import (
	"context"
	"encoding/json"
	"html/template"
	"mime"
	"net/http"
	"strings"
	"time"

	"rfadesk/bot"
)

// ServiceNotice is one current notice on the public status board (an
// outage, planned work). Its words are staff's, shown escaped.
type ServiceNotice struct {
	Title string    `json:"title"`
	Text  string    `json:"text,omitempty"`
	Since time.Time `json:"since,omitzero"`
}

// contactView is the "contact" template's data: the desk's contact
// details, its email address, and a tel: link made from the phone.
type contactView struct {
	bot.Contact
	Email string
	// Tel is "tel:" and the phone's leading number, digits only; "" when
	// the phone starts with no number to dial.
	Tel template.URL
}

// contactOf returns the contact block's data for the pages under s, or
// nil (no block) when there is nothing to show beyond what the page says.
func (h *handler) contactOf(s Settings, withEmail bool) *contactView {
	v := &contactView{Contact: s.Contact, Tel: telURL(s.Contact.Phone)}
	if withEmail {
		v.Email = h.support
	}
	if v.Contact.IsZero() && v.Email == "" {
		return nil
	}
	return v
}

// telURL returns a tel: link for the number phone starts with ("01603
// 631436 (option 1)" gives "tel:01603631436"), or "" if it has fewer than
// three digits. The link holds only a leading '+' and digits, so it is
// safe to mark as a URL for html/template.
func telURL(phone string) template.URL {
	var b strings.Builder
number:
	for i, r := range phone {
		switch {
		case r >= '0' && r <= '9', r == '+' && i == 0:
			b.WriteRune(r)
		case strings.ContainsRune(" -.()", r):
		default:
			break number // a word ends the number
		}
	}
	n := strings.TrimPrefix(b.String(), "+")
	if len(n) < 3 {
		return ""
	}
	return template.URL("tel:" + b.String())
}

// boardView is the data of the public status board. It holds no RFA
// data: the desk's hours, contact details and service notices only.
type boardView struct {
	page
	Now      time.Time
	Open     bool
	Closes   time.Time
	NextOpen time.Time
	Notices  []ServiceNotice
}

// boardJSON is GET /status as JSON. Times are RFC 3339 in the desk's
// zone; closes is set only while open, next_open is "" if the desk never
// opens again within the calendar's horizon.
type boardJSON struct {
	Open             bool            `json:"open"`
	Closes           string          `json:"closes,omitempty"`
	NextOpen         string          `json:"next_open"`
	Hours            string          `json:"hours"`
	Phone            string          `json:"phone"`
	Email            string          `json:"email"`
	KnowledgeBaseURL string          `json:"knowledge_base_url"`
	PostalAddress    string          `json:"postal_address"`
	Notices          []ServiceNotice `json:"notices"`
}

// board answers GET /status: whether the desk is open now and when it
// next opens, how to reach it, and the current service notices. A
// request that accepts application/json before text/html gets boardJSON.
// It reads no RFA.
func (h *handler) board(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Vary", "Accept")
	now := h.now()
	s := h.settings()
	st := s.Opening.StateAt(now)
	notices, err := h.noticesNow(r.Context())
	if err != nil {
		h.log.Error("web: loading service notices", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if wantsJSON(r) {
		j := boardJSON{
			Open: st.Open, NextOpen: localTime(st.NextOpen, s.Location), Closes: localTime(st.Closes, s.Location),
			Hours: s.Hours, Phone: s.Contact.Phone, Email: h.support,
			KnowledgeBaseURL: s.Contact.KnowledgeBaseURL, PostalAddress: s.Contact.PostalAddress,
			Notices: notices,
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(j)
		return
	}
	v := boardView{
		page: page{DeskName: s.DeskName, Hours: s.Hours, Title: "Service status · " + s.DeskName, Contact: h.contactOf(s, true)},
		Now:  now, Open: st.Open, Closes: st.Closes, NextOpen: st.NextOpen, Notices: notices,
	}
	h.render(w, http.StatusOK, h.pages.board, v)
}

// noticesNow returns the current service notices, never nil.
func (h *handler) noticesNow(ctx context.Context) ([]ServiceNotice, error) {
	if h.notices == nil {
		return []ServiceNotice{}, nil
	}
	ns, err := h.notices(ctx)
	if ns == nil {
		ns = []ServiceNotice{}
	}
	return ns, err
}

// localTime formats t in loc as RFC 3339, or "" for the zero Time.
func localTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(time.RFC3339)
}

// wantsJSON reports whether the request's Accept header names
// application/json before text/html (parameters and q-values aside).
func wantsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "application/json":
			return true
		case "text/html":
			return false
		}
	}
	return false
}
