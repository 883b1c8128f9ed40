package web

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"rfadesk/bot"
)

// OrgLinks is what the organisation pages (GET /org/{slug}) and their
// admin routes (/api/org-links) need; *bot.OrgLinks implements it. Its
// methods are called from request goroutines.
type OrgLinks interface {
	// OrgPage is the page link (slug, token) opens, RFAs numbered below
	// after, newest first; an error wrapping bot.ErrNotFound for any
	// link that opens none (unknown or revoked token, wrong slug).
	OrgPage(ctx context.Context, slug, token string, after uint64) (bot.OrgPage, error)
	// Create makes a link and returns it with its URL (token included);
	// an error wrapping bot.ErrInvalid names an unknown organisation.
	Create(ctx context.Context, kind bot.OrgKind, name string) (bot.OrgLink, string, error)
	// List returns every link, without tokens.
	List(ctx context.Context) ([]bot.OrgLink, error)
	// Revoke stops link id; bot.ErrNotFound for an unknown id.
	Revoke(ctx context.Context, id uint64) (bot.OrgLink, error)
}

// Organisation pages are rate-limited per client address, every request
// counted whatever its token, so a client tries at most orgPageBurst
// tokens and then one every orgPageEvery.
const (
	orgPageBurst = 30
	orgPageEvery = 2 * time.Second
)

// parseOrgPage parses the organisation page's template set; times are
// shown in the zone loc returns when the page is rendered.
func parseOrgPage(loc func() *time.Location) *template.Template {
	funcs := template.FuncMap{
		"when": func(t time.Time) string { return t.In(loc()).Format("Mon 2 Jan 2006, 15:04 MST") },
		"iso":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	}
	return template.Must(template.New("layout.html").Funcs(funcs).
		ParseFS(templateFS, "templates/layout.html", "templates/contact.html", "templates/org.html"))
}

// orgView is the data of the organisation page.
type orgView struct {
	page
	Name       string
	Trust      bool // a trust's page: each row names its school
	Rows       []orgRowView
	First      bool   // the newest page
	NewestLink string // this page's first page
	NextLink   string // the next (older) page; "" on the last
	Now        time.Time
}

type orgRowView struct {
	Ref, Link, Subject, Status, StatusClass, Severity, Organisation, Requester string
	NextDue, Created                                                           time.Time
}

// orgJSON is GET /org/{slug} as JSON.
type orgJSON struct {
	Kind bot.OrgKind  `json:"kind"`
	Name string       `json:"name"`
	RFAs []orgRowJSON `json:"rfas"`
	// NextAfter is the "after" of the next (older) page; absent on the
	// last.
	NextAfter uint64 `json:"next_after,omitempty"`
}

type orgRowJSON struct {
	Ref          string       `json:"ref"`
	StatusURL    string       `json:"status_url"` // path of the RFA's status page, its token included
	Subject      string       `json:"subject"`
	Status       bot.Status   `json:"status"`
	Severity     bot.Severity `json:"severity,omitempty"`
	Organisation string       `json:"organisation"`
	Requester    string       `json:"requester,omitempty"`
	Created      string       `json:"created"`
	Updated      string       `json:"updated"`
	NextDue      string       `json:"next_due,omitempty"`
}

// orgPage answers GET /org/{slug}?t=TOKEN[&after=N]: the RFAs of the
// link's organisation, or of every school of its trust, newest first,
// OrgPageSize a page. Every link that opens no page (unknown or revoked
// token, a slug not the link's) gets the same 404, and every request
// counts against the client's limit first. Each RFA links to its status
// page with the RFA's own token; the organisation token appears only in
// this page's paging links, and no-referrer keeps it from other sites.
func (h *handler) orgPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Vary", "Accept")
	if !h.allow(w, h.orgClients, clientKey(r.RemoteAddr)) {
		return
	}
	q := r.URL.Query()
	var after uint64
	if a := q.Get("after"); a != "" {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			http.Error(w, "after: want an RFA number", http.StatusBadRequest)
			return
		}
		after = n
	}
	slug, token := r.PathValue("slug"), q.Get("t")
	p, err := h.orgLinks.OrgPage(r.Context(), slug, token, after)
	if errors.Is(err, bot.ErrNotFound) {
		h.orgNotFound(w, r)
		return
	}
	if err != nil {
		h.log.Error("web: loading an organisation page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s := h.settings()
	if wantsJSON(r) {
		j := orgJSON{Kind: p.Link.Kind, Name: p.Link.Name, RFAs: []orgRowJSON{}, NextAfter: p.Next}
		for _, row := range p.RFAs {
			j.RFAs = append(j.RFAs, orgRowJSON{
				Ref: bot.FormatRef(row.Num), StatusURL: orgStatusPath(&row.RFASummary), Subject: row.Subject,
				Status: row.Status, Severity: row.Severity, Organisation: row.Organisation,
				Requester: requesterOf(&row.RFASummary), Created: localTime(row.Created, s.Location),
				Updated: localTime(row.Updated, s.Location), NextDue: localTime(row.NextDue, s.Location),
			})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(j)
		return
	}
	self := func(after uint64) string {
		v := url.Values{"t": {token}}
		if after != 0 {
			v.Set("after", strconv.FormatUint(after, 10))
		}
		return "/org/" + url.PathEscape(slug) + "?" + v.Encode()
	}
	v := orgView{
		page: page{DeskName: s.DeskName, Hours: s.Hours, Title: p.Link.Name + " · " + s.DeskName},
		Name: p.Link.Name, Trust: p.Link.Kind == bot.OrgKindTrust,
		First: after == 0, NewestLink: self(0), Now: h.now(),
	}
	if p.Next != 0 {
		v.NextLink = self(p.Next)
	}
	for _, row := range p.RFAs {
		sev := row.Severity.Title()
		if row.Severity == "" {
			sev = "Not set yet"
		}
		v.Rows = append(v.Rows, orgRowView{
			Ref: bot.FormatRef(row.Num), Link: orgStatusPath(&row.RFASummary), Subject: row.Subject,
			Status: statusLabel(row.Status), StatusClass: "st-" + string(row.Status), Severity: sev,
			Organisation: row.Organisation, Requester: requesterOf(&row.RFASummary),
			NextDue: row.NextDue, Created: row.Created,
		})
	}
	h.render(w, http.StatusOK, h.orgTemplate, v)
}

// orgNotFound is the organisation page's one 404: it depends on nothing
// but whether JSON was asked for.
func (h *handler) orgNotFound(w http.ResponseWriter, r *http.Request) {
	if wantsJSON(r) {
		writeJSON(w, http.StatusNotFound, apiError{Error: "not found"})
		return
	}
	h.notFound(w)
}

// orgStatusPath is the path of an RFA's status page, with its token.
func orgStatusPath(s *bot.RFASummary) string {
	return "/rfa/" + bot.FormatRef(s.Num) + "?t=" + url.QueryEscape(s.Token)
}

// requesterOf is who raised the RFA: their name, else their address.
func requesterOf(s *bot.RFASummary) string {
	if s.RequesterName != "" {
		return s.RequesterName
	}
	return s.RequesterEmail
}
