package bot

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// Organisation pages: each school and each trust can be given private
// links (/org/<slug>?t=TOKEN) to a page listing its RFAs, newest first.
// The store keeps only the SHA-256 of each token (Tx.OrgLinkByHash looks
// a presented token up by its hash, so no secret is compared byte by
// byte and timing tells nothing), and every RFA is indexed by its
// organisation and its trust, so a page costs its rows, not the archive.

// OrgKind says whether an organisation link shows one school or a trust.
type OrgKind string

const (
	OrgKindOrganisation OrgKind = "organisation"
	OrgKindTrust        OrgKind = "trust"
)

// OrgLink is one private organisation-page link, without its token.
type OrgLink struct {
	ID      uint64    `json:"id"` // short, public, not the token: for revoking
	Kind    OrgKind   `json:"kind"`
	Name    string    `json:"name"` // the configured organisation or trust name
	Created time.Time `json:"created"`
	Revoked time.Time `json:"revoked,omitzero"` // zero while the link works
}

// Slug is the link's path segment: Slug(Name).
func (l *OrgLink) Slug() string { return Slug(l.Name) }

// orgTokenBytes is the size of a link token's random part: 128 bits.
const orgTokenBytes = 16

// OrgTokenHash is the SHA-256 of a link token, the key the store keeps.
func OrgTokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Slug is name in lower-case ASCII: letters and digits kept, every run
// of anything else one "-", none at either end; "org" when nothing is
// left. Different names may share a slug: the token, not the slug,
// says which page a link opens.
func Slug(name string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(name) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(c)
			dash = false
		default:
			dash = true
		}
	}
	if b.Len() == 0 {
		return "org"
	}
	return b.String()
}

// OrgLinkURL is the full address of a link: base (desk.base_url) +
// /org/<slug>?t=TOKEN.
func OrgLinkURL(base string, l *OrgLink, token string) string {
	return strings.TrimRight(base, "/") + "/org/" + l.Slug() + "?t=" + url.QueryEscape(token)
}

// OrgLinks manages organisation links and serves their pages over a
// store, for the desk (Desk.OrgLinks) and for the "rfadesk org-link"
// command when no daemon runs. Its methods are safe for concurrent use.
type OrgLinks struct {
	Store Store
	// Orgs are the configured organisations: a link names one of them,
	// or a trust one of them belongs to.
	Orgs []Organisation
	// BaseURL is desk.base_url, the start of every link.
	BaseURL string
	// Clocks gives an RFA's SLA clocks now, for OrgRow.NextDue; nil
	// leaves NextDue zero.
	Clocks func(*RFA) []ClockState
	Now    func() time.Time // nil: time.Now
	Rand   io.Reader        // nil: crypto/rand
}

// canonical finds name (any case, spaces trimmed) among the configured
// organisations or trusts and returns it as configured; an error
// wrapping ErrInvalid lists what exists otherwise.
func (o *OrgLinks) canonical(kind OrgKind, name string) (string, error) {
	switch kind {
	case OrgKindOrganisation, OrgKindTrust:
	default:
		return "", fmt.Errorf("bot: link kind %q: %w (organisation or trust)", kind, ErrInvalid)
	}
	name = strings.TrimSpace(name)
	var known []string
	for _, org := range o.Orgs {
		n := org.Name
		if kind == OrgKindTrust {
			n = org.Trust
		}
		if n == "" {
			continue
		}
		if strings.EqualFold(n, name) {
			return n, nil
		}
		known = append(known, n)
	}
	list := strings.Join(known, ", ")
	if list == "" {
		list = "none"
	}
	return "", fmt.Errorf("bot: no %s named %q in the configuration: %w (configured: %s)",
		kind, name, ErrInvalid, list)
}

// Create makes a new link to the page of the organisation or trust
// name, and returns it with its URL, which holds the token: it is shown
// this once, as only the token's hash is stored.
func (o *OrgLinks) Create(ctx context.Context, kind OrgKind, name string) (OrgLink, string, error) {
	name, err := o.canonical(kind, name)
	if err != nil {
		return OrgLink{}, "", err
	}
	rnd := o.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	raw := make([]byte, orgTokenBytes)
	if _, err := io.ReadFull(rnd, raw); err != nil {
		return OrgLink{}, "", fmt.Errorf("bot: link token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	l := OrgLink{Kind: kind, Name: name, Created: now().UTC()}
	err = o.Store.Update(ctx, func(tx Tx) error {
		id, err := tx.PutOrgLink(OrgTokenHash(token), l)
		l.ID = id
		return err
	})
	if err != nil {
		return OrgLink{}, "", err
	}
	return l, OrgLinkURL(o.BaseURL, &l, token), nil
}

// List returns every link, revoked ones included, oldest first.
func (o *OrgLinks) List(ctx context.Context) ([]OrgLink, error) {
	var ls []OrgLink
	err := o.Store.View(ctx, func(tx Tx) error {
		var err error
		ls, err = tx.OrgLinks()
		return err
	})
	return ls, err
}

// Revoke stops link id from working, for good; revoking a revoked link
// changes nothing. ErrNotFound for an unknown id.
func (o *OrgLinks) Revoke(ctx context.Context, id uint64) (OrgLink, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	var l OrgLink
	err := o.Store.Update(ctx, func(tx Tx) error {
		var err error
		l, err = tx.RevokeOrgLink(id, now().UTC())
		return err
	})
	return l, err
}

// OrgPageSize is how many RFAs an organisation page shows at most.
const OrgPageSize = 25

// OrgRow is one RFA on an organisation page.
type OrgRow struct {
	RFASummary
	// NextDue is the due time of the RFA's nearest unmet SLA clock; zero
	// when none runs (closed, or no target yet).
	NextDue time.Time
}

// OrgPage is one page of an organisation's (or trust's) RFAs, newest
// first. Next, when not 0, is the "after" of the following page.
type OrgPage struct {
	Link OrgLink
	RFAs []OrgRow
	Next uint64
}

// ErrOrgLinkNotFound is returned by OrgPage for any link that does not
// open a page: unknown token, revoked link, or a slug that is not the
// link's. Callers must answer all of these alike.
var ErrOrgLinkNotFound = fmt.Errorf("organisation link: %w", ErrNotFound)

// OrgPage returns the page that the link (slug, token) opens: the RFAs
// of its organisation (or every school of its trust) numbered below
// after (0: from the newest), newest first, at most OrgPageSize. It
// reads the link by its token's hash, then one page of the organisation
// index and, for NextDue, the record of each open RFA on it (Clocks):
// never the archive. Every link that opens no page gives
// ErrOrgLinkNotFound.
func (o *OrgLinks) OrgPage(ctx context.Context, slug, token string, after uint64) (OrgPage, error) {
	clocks := o.Clocks
	var p OrgPage
	if token == "" || len(token) > 256 {
		return p, ErrOrgLinkNotFound
	}
	err := o.Store.View(ctx, func(tx Tx) error {
		p = OrgPage{}
		l, err := tx.OrgLinkByHash(OrgTokenHash(token))
		if errors.Is(err, ErrNotFound) || err == nil && (!l.Revoked.IsZero() || l.Slug() != slug) {
			return ErrOrgLinkNotFound
		}
		if err != nil {
			return err
		}
		p.Link = *l
		sums, err := tx.OrgRFAs(l.Kind, l.Name, after, OrgPageSize+1)
		if err != nil {
			return err
		}
		if len(sums) > OrgPageSize {
			sums = sums[:OrgPageSize]
			p.Next = sums[len(sums)-1].Num
		}
		for _, s := range sums {
			row := OrgRow{RFASummary: *s}
			if clocks != nil && s.Status != StatusClosed {
				r, err := tx.RFA(s.Num)
				if err != nil {
					return err
				}
				row.NextDue = nextDue(clocks(r))
			}
			p.RFAs = append(p.RFAs, row)
		}
		return nil
	})
	return p, err
}

// nextDue is the earliest Due of the clocks not yet met; zero if none.
func nextDue(cs []ClockState) time.Time {
	var due time.Time
	for _, c := range cs {
		if c.MetAt != nil || c.Due.IsZero() {
			continue
		}
		if due.IsZero() || c.Due.Before(due) {
			due = c.Due
		}
	}
	return due
}

// OrgLinks returns the organisation links over the desk's store,
// organisations and base URL, with next due times from its SLA policy.
func (d *Desk) OrgLinks() *OrgLinks {
	sla := d.SLA()
	return &OrgLinks{
		Store: d.store, Orgs: d.cfg.Organisations, BaseURL: d.cfg.BaseURL, Now: d.now, Rand: d.rand,
		Clocks: func(r *RFA) []ClockState { return sla.Clocks(r, d.now()) },
	}
}
