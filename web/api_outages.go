package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"rfadesk/bot"
)

// Service notices (Options.Outages), admin routes:
//
//	POST /api/outages             {"title", "components": [...], "organisations": [...]}
//	                              (organisations empty: everyone) -> 201 {"id": N}
//	POST /api/outages/{id}/update {"text"}       -> 200 {"id": N}
//	POST /api/outages/{id}/end    {"resolution"} -> 200 {"id": N}
//
// Desk errors answer as writeDeskError does (400, 404, 409). The live
// outages also show on the status page of every RFA of an affected
// organisation (outageBanner); GET /status shows them through
// Options.Notices.

// Outages is what the web needs to run service notices; bot.Desk
// implements it. Safe for concurrent use.
type Outages interface {
	StartOutage(ctx context.Context, s bot.OutageStart, by bot.Actor) (uint64, error)
	UpdateOutage(ctx context.Context, id uint64, text string, by bot.Actor) error
	EndOutage(ctx context.Context, id uint64, resolution string, by bot.Actor) error
	ActiveOutages(ctx context.Context) ([]*bot.Outage, error)
}

type outageRequest struct {
	Title         string   `json:"title"`
	Components    []string `json:"components"`
	Organisations []string `json:"organisations"`
	Text          string   `json:"text"`
	Resolution    string   `json:"resolution"`
}

type outageAnswer struct {
	ID uint64 `json:"id"`
}

// readOutageRequest decodes one JSON object with no unknown field.
func (h *handler) readOutageRequest(w http.ResponseWriter, r *http.Request) (outageRequest, bool) {
	var q outageRequest
	body, ok := h.readJSONBody(w, r)
	if !ok {
		return q, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "bad body: " + jsonProblem(err)})
		return q, false
	}
	if _, err := dec.Token(); err != io.EOF {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "bad body: send one JSON object"})
		return q, false
	}
	return q, true
}

func (h *handler) apiStartOutage(w http.ResponseWriter, r *http.Request) {
	q, ok := h.readOutageRequest(w, r)
	if !ok {
		return
	}
	id, err := h.outages.StartOutage(r.Context(), bot.OutageStart{Title: q.Title, Components: q.Components, Organisations: q.Organisations}, apiActor(r))
	if err != nil {
		h.writeDeskError(w, err, "start outage")
		return
	}
	writeJSON(w, http.StatusCreated, outageAnswer{ID: id})
}

func (h *handler) apiUpdateOutage(w http.ResponseWriter, r *http.Request) {
	h.apiOutageStep(w, r, func(ctx context.Context, id uint64, q outageRequest) error {
		return h.outages.UpdateOutage(ctx, id, q.Text, apiActor(r))
	})
}

func (h *handler) apiEndOutage(w http.ResponseWriter, r *http.Request) {
	h.apiOutageStep(w, r, func(ctx context.Context, id uint64, q outageRequest) error {
		return h.outages.EndOutage(ctx, id, q.Resolution, apiActor(r))
	})
}

// apiOutageStep runs step on the outage the path's {id} names.
func (h *handler) apiOutageStep(w http.ResponseWriter, r *http.Request, step func(context.Context, uint64, outageRequest) error) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		writeJSON(w, http.StatusNotFound, apiError{Error: "not found"})
		return
	}
	q, ok := h.readOutageRequest(w, r)
	if !ok {
		return
	}
	if err := step(r.Context(), id, q); err != nil {
		h.writeDeskError(w, err, "outage "+strconv.FormatUint(id, 10))
		return
	}
	writeJSON(w, http.StatusOK, outageAnswer{ID: id})
}

// outageBanner returns the titles of the live outages affecting the
// organisation of rfa, for its status page; none without Options.Outages
// or when they cannot be read (the page is shown without them).
func (h *handler) outageBanner(ctx context.Context, rfa *bot.RFA) []string {
	if h.outages == nil {
		return nil
	}
	live, err := h.outages.ActiveOutages(ctx)
	if err != nil {
		h.log.Error("web: reading the live outages", "err", err)
		return nil
	}
	var out []string
	for _, o := range live {
		if o.Affects(rfa.Organisation) {
			out = append(out, o.Title)
		}
	}
	return out
}

// OutageNotices turns live outages into the notices of GET /status
// (Options.Notices): each with its title, its components and latest
// update, and when it started. Which organisations are affected is not
// shown: the board is public.
func OutageNotices(outages Outages) func(ctx context.Context) ([]ServiceNotice, error) {
	return func(ctx context.Context) ([]ServiceNotice, error) {
		live, err := outages.ActiveOutages(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]ServiceNotice, 0, len(live))
		for _, o := range live {
			text := "Affects: " + joinComma(o.Components)
			if n := len(o.Updates); n > 0 {
				text += ". Update " + o.Updates[n-1].At.UTC().Format(time.RFC3339) + ": " + o.Updates[n-1].Text
			}
			out = append(out, ServiceNotice{Title: o.Title, Text: text, Since: o.Started})
		}
		return out, nil
	}
}

func joinComma(ss []string) string {
	var b bytes.Buffer
	for i, s := range ss {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s)
	}
	return b.String()
}
