package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"rfadesk/bot"
)

// RFASummaryJSON is one item of GET /api/rfas: an RFA's summary and the
// path of its full view (GET /api/rfas/RFA-N). It never carries the
// status token. Times are RFC 3339 in UTC; severity is "" while awaiting
// triage.
type RFASummaryJSON struct {
	Ref           string `json:"ref"`
	URL           string `json:"url"`
	Status        string `json:"status"`
	Channel       string `json:"channel,omitempty"`
	Subject       string `json:"subject"` // at most bot.MaxSummarySubject bytes
	Requester     string `json:"requester"`
	RequesterName string `json:"requester_name,omitempty"`
	Organisation  string `json:"organisation"`
	Trust         string `json:"trust"`
	Severity      string `json:"severity"`
	SeverityLabel string `json:"severity_label"`
	Assignee      string `json:"assignee"`
	Flag          string `json:"flag,omitempty"`
	Created       string `json:"created"`
	Updated       string `json:"updated"`
	Messages      int    `json:"messages"`
}

func summaryJSON(s *bot.RFASummary) RFASummaryJSON {
	ref := bot.FormatRef(s.Num)
	return RFASummaryJSON{
		Ref: ref, URL: "/api/rfas/" + ref, Status: string(s.Status), Channel: string(s.Channel),
		Subject: s.Subject, Requester: s.RequesterEmail, RequesterName: s.RequesterName,
		Organisation: s.Organisation, Trust: s.Trust,
		Severity: string(s.Severity), SeverityLabel: s.Severity.Title(), Assignee: s.Assignee, Flag: s.Flag,
		Created: rfc3339(s.Created), Updated: rfc3339(s.Updated), Messages: s.Messages,
	}
}

// apiList answers GET /api/rfas with one page of RFA summaries in number
// order:
//
//	{"rfas":[{...},{...}],"next":"RFA-N"}
//
// Parameters: after=RFA-N (start after that RFA), limit (1 to
// bot.MaxRFAPage, default bot.DefaultRFAPage), and the filters status,
// organisation (any case), severity and updated_since (RFC 3339). "next",
// present until the walk reaches the last RFA, is the after of the
// following page; a filtered page may be short and still have one. A bad
// or unknown parameter is a 400 with a JSON error naming it. The page is
// read in one short transaction, then written one item at a time.
func (h *handler) apiList(w http.ResponseWriter, r *http.Request) {
	q, err := parseRFAQuery(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	page, err := h.desk.RFAPage(r.Context(), q)
	if errors.Is(err, bot.ErrBadQuery) {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	if err != nil {
		h.log.Error("web: listing RFAs", "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{Error: "internal error"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	// Headers are sent: from here a write error means the client left.
	out := &stickyWriter{w: w}
	out.write(`{"rfas":[`)
	enc := json.NewEncoder(out)
	for i := range page.RFAs {
		if i > 0 {
			out.write(",")
		}
		if err := enc.Encode(summaryJSON(&page.RFAs[i])); err != nil {
			return
		}
	}
	out.write("]")
	if page.Next != 0 {
		out.write(`,"next":` + strconv.Quote(bot.FormatRef(page.Next)))
	}
	out.write("}\n")
}

// stickyWriter remembers the first write error and then writes nothing.
type stickyWriter struct {
	w   http.ResponseWriter
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	var n int
	n, s.err = s.w.Write(p)
	return n, s.err
}

func (s *stickyWriter) write(text string) { s.Write([]byte(text)) }

// parseRFAQuery reads GET /api/rfas's parameters.
func parseRFAQuery(r *http.Request) (bot.RFAQuery, error) {
	var q bot.RFAQuery
	for key, vals := range r.URL.Query() {
		v := vals[len(vals)-1]
		var err error
		switch key {
		case "after":
			if q.After, err = bot.ParseRef(v); err != nil {
				err = fmt.Errorf("%q is not an RFA reference (RFA-N)", v)
			}
		case "limit":
			q.Limit, err = strconv.Atoi(v)
			if err != nil || q.Limit < 1 || q.Limit > bot.MaxRFAPage {
				err = fmt.Errorf("%q is not a page size from 1 to %d", v, bot.MaxRFAPage)
			}
		case "status":
			q.Status, err = parseStatus(v)
		case "organisation":
			q.Organisation = v
		case "severity":
			if q.Severity, err = bot.ParseSeverity(v); err != nil {
				err = fmt.Errorf("%q is not a severity (critical, serious, moderate, minor)", v)
			}
		case "updated_since":
			q.UpdatedSince, err = time.Parse(time.RFC3339, v)
			if err != nil {
				err = fmt.Errorf("%q is not an RFC 3339 time (2026-01-14T10:30:00Z)", v)
			}
		default:
			return q, fmt.Errorf("unknown parameter %q (after, limit, status, organisation, severity, updated_since)", key)
		}
		if err != nil {
			return q, fmt.Errorf("%s: %w", key, err)
		}
	}
	return q, nil
}

// parseStatus reads a status name as the API shows it.
func parseStatus(s string) (bot.Status, error) {
	for _, st := range []bot.Status{bot.StatusNew, bot.StatusOpen, bot.StatusAwaitingRequester, bot.StatusCleared, bot.StatusClosed, bot.StatusUnverified} {
		if s == string(st) {
			return st, nil
		}
	}
	return "", fmt.Errorf("%q is not a status (new, open, awaiting-requester, cleared, closed, unverified)", s)
}
