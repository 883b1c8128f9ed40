package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// RFASummary is the small per-RFA record the store keeps beside each
// RFA: what lists, filters and the status page's token check need,
// without the conversation or the history. The store derives it with
// SummaryOf inside PutRFA, in the same transaction, so it always agrees
// with the RFA.
type RFASummary struct {
	Num      uint64   `json:"num"`
	Token    string   `json:"token"` // the status-page secret: never show it in a list
	Status   Status   `json:"status"`
	Channel  Channel  `json:"channel,omitempty"`
	Severity Severity `json:"severity,omitempty"`
	// Subject is the RFA's subject cut to at most MaxSummarySubject bytes
	// (on a character boundary).
	Subject        string    `json:"subject"`
	Organisation   string    `json:"organisation"`
	Trust          string    `json:"trust,omitempty"`
	RequesterEmail string    `json:"requester_email"`
	RequesterName  string    `json:"requester_name,omitempty"`
	Assignee       string    `json:"assignee,omitempty"`
	Flag           string    `json:"flag,omitempty"`
	Created        time.Time `json:"created"`
	// Updated is the time of the RFA's latest message or event (Created
	// if it has none).
	Updated  time.Time `json:"updated"`
	Messages int       `json:"messages"` // how many messages the conversation holds
}

// MaxSummarySubject caps RFASummary.Subject, in bytes.
const MaxSummarySubject = 200

// SummaryOf derives r's summary.
func SummaryOf(r *RFA) RFASummary {
	s := RFASummary{
		Num: r.Num, Token: r.Token, Status: r.Status, Channel: r.Channel, Severity: r.Severity,
		Subject: capText(r.Subject, MaxSummarySubject), Organisation: r.Organisation, Trust: r.Trust,
		RequesterEmail: r.Requester.Email, RequesterName: r.Requester.Name,
		Assignee: r.Assignee, Flag: r.Flag, Created: r.Created, Updated: r.Created, Messages: len(r.Messages),
	}
	for _, m := range r.Messages {
		if m.At.After(s.Updated) {
			s.Updated = m.At
		}
	}
	for _, e := range r.Events {
		if e.At.After(s.Updated) {
			s.Updated = e.At
		}
	}
	return s
}

// capText cuts s to at most n bytes without splitting a character.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 {
		if r, size := utf8.DecodeLastRuneInString(s); r != utf8.RuneError || size > 1 {
			break
		}
		s = s[:len(s)-1] // a character cut in two
	}
	return s
}

// Page sizes of RFAPage.
const (
	DefaultRFAPage = 100  // RFAs per page when RFAQuery.Limit is 0
	MaxRFAPage     = 1000 // the largest RFAQuery.Limit allowed
	// maxRFAScan bounds the summaries one page reads: a filter that
	// matches little returns a short page and Next, not a long read
	// transaction.
	maxRFAScan = 4000
)

// ErrBadQuery is wrapped by RFAPage for a query it cannot answer.
var ErrBadQuery = errors.New("bad query")

// RFAQuery selects one page of RFA summaries. Zero fields do not filter.
type RFAQuery struct {
	After        uint64    // only RFAs numbered above After
	Limit        int       // at most this many (0: DefaultRFAPage; at most MaxRFAPage)
	Status       Status    // only RFAs with this status
	Organisation string    // only this organisation (any case)
	Severity     Severity  // only this severity
	UpdatedSince time.Time // only RFAs updated at or after this time
}

// RFAPage is one page of summaries in number order. Next is where the
// following page starts (pass it as RFAQuery.After); 0 means the walk
// reached the last RFA. A page may hold fewer than Limit summaries and
// still have a Next, when the filter matched little of what was read.
type RFAPage struct {
	RFAs []RFASummary
	Next uint64
}

// matches reports whether s passes q's filters.
func (q *RFAQuery) matches(s *RFASummary) bool {
	return (q.Status == "" || s.Status == q.Status) &&
		(q.Organisation == "" || strings.EqualFold(s.Organisation, q.Organisation)) &&
		(q.Severity == "" || s.Severity == q.Severity) &&
		(q.UpdatedSince.IsZero() || !s.Updated.Before(q.UpdatedSince))
}

// RFAPage returns one page of RFA summaries matching q, read in one
// short transaction that decodes summaries only (never an RFA) and at
// most maxRFAScan of them. A filter on a status that is not closed walks
// the open-RFA index, so it costs the live RFAs, not the archive. It
// fails with an error wrapping ErrBadQuery for a Limit outside
// 0..MaxRFAPage.
func (d *Desk) RFAPage(ctx context.Context, q RFAQuery) (RFAPage, error) {
	switch {
	case q.Limit < 0 || q.Limit > MaxRFAPage:
		return RFAPage{}, fmt.Errorf("bot: page size %d: %w (1 to %d)", q.Limit, ErrBadQuery, MaxRFAPage)
	case q.Limit == 0:
		q.Limit = DefaultRFAPage
	}
	var page RFAPage
	err := d.store.View(ctx, func(tx Tx) error {
		page = RFAPage{}
		scanned, last := 0, q.After
		walk := tx.RFASummaries
		if q.Status != "" && q.Status != StatusClosed && !q.Status.Held() {
			walk = tx.OpenRFASummaries
		}
		rest, err := walk(q.After, func(s *RFASummary) (bool, error) {
			scanned++
			last = s.Num
			if q.matches(s) {
				page.RFAs = append(page.RFAs, *s)
			}
			return len(page.RFAs) < q.Limit && scanned < maxRFAScan, nil
		})
		if err != nil {
			return err
		}
		if rest {
			page.Next = last
		}
		return nil
	})
	return page, err
}
