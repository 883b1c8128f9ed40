package web

import (
	"context"
	"errors"
	"math"
	"net/http"
	"time"

	"rfadesk/bot"
)

// The admin routes of capacity and availability (Options.Capacity):
//
//	POST /api/capacity        {"service", "used", "limit"}: an external
//	                          gauge -> 200 {"reported": bool}
//	GET  /api/capacity        -> capacityJSON: every gauge, the surges
//	POST /api/capacity/surge  {"service", "reason", "hours"} (hours
//	                          default 24) -> 201 the surge
//	GET  /api/availability?month=YYYY-MM (default this month)
//	                          -> availabilityJSON: each component's
//	                          outage downtime and rfadesk's own

// Capacity is what the capacity routes need; bot.Desk implements it.
type Capacity interface {
	// ObserveGauge records a gauge (bot.Desk's); an error wrapping
	// bot.ErrInvalid is the caller's fault.
	ObserveGauge(ctx context.Context, g bot.Gauge) (bool, error)
	// DeclareSurge holds service's reports for length (bot.Desk's).
	DeclareSurge(ctx context.Context, service, reason string, length time.Duration, by bot.Actor) (bot.Surge, error)
	// Capacity returns the stored gauges, surges and rfadesk's own downtime.
	Capacity(ctx context.Context) (bot.CapacityState, error)
	// CapacityThreshold is the reporting threshold in percent.
	CapacityThreshold() float64
}

// gaugeJSON is one gauge as GET /api/capacity shows it.
type gaugeJSON struct {
	bot.Gauge
	Percent  float64   `json:"percent"`
	At       time.Time `json:"at"`
	Reported bool      `json:"reported"`
	// Surge is the surge holding the service's reports now, if any.
	Surge *bot.Surge `json:"surge,omitempty"`
}

type capacityJSON struct {
	Threshold float64     `json:"threshold"`
	Gauges    []gaugeJSON `json:"gauges"`
	Surges    []bot.Surge `json:"surges"`
}

type availabilityJSON struct {
	Month      string             `json:"month"`
	Components []bot.Availability `json:"components"`
	Rfadesk    bot.Availability   `json:"rfadesk"`
}

func (h *handler) routeCapacity(mux *http.ServeMux) {
	if h.capacity == nil {
		return
	}
	mux.HandleFunc("POST /api/capacity", h.requireAdmin(h.apiPushGauge))
	mux.HandleFunc("GET /api/capacity", h.requireAdmin(h.apiCapacity))
	mux.HandleFunc("POST /api/capacity/surge", h.requireAdmin(h.apiSurge))
	mux.HandleFunc("GET /api/availability", h.requireAdmin(h.apiAvailability))
}

func (h *handler) capacityError(w http.ResponseWriter, what string, err error) {
	if errors.Is(err, bot.ErrInvalid) {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	h.log.Error("web: "+what, "err", err)
	writeJSON(w, http.StatusInternalServerError, apiError{Error: "internal error"})
}

func (h *handler) apiPushGauge(w http.ResponseWriter, r *http.Request) {
	var g bot.Gauge
	if !h.decodeJSONBody(w, r, &g) {
		return
	}
	reported, err := h.capacity.ObserveGauge(r.Context(), g)
	if err != nil {
		h.capacityError(w, "recording a gauge", err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Reported bool `json:"reported"`
	}{reported})
}

func (h *handler) apiSurge(w http.ResponseWriter, r *http.Request) {
	var q struct {
		Service string   `json:"service"`
		Reason  string   `json:"reason"`
		Hours   *float64 `json:"hours"`
	}
	if !h.decodeJSONBody(w, r, &q) {
		return
	}
	length := 24 * time.Hour
	if q.Hours != nil {
		if !(*q.Hours > 0 && *q.Hours <= 31*24) {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "bad body: hours must be more than 0 and at most 744"})
			return
		}
		length = time.Duration(math.Round(*q.Hours * float64(time.Hour)))
	}
	s, err := h.capacity.DeclareSurge(r.Context(), q.Service, q.Reason, length, apiActor(r))
	if err != nil {
		h.capacityError(w, "declaring a surge", err)
		return
	}
	writeJSON(w, http.StatusCreated, s)
}

func (h *handler) apiCapacity(w http.ResponseWriter, r *http.Request) {
	cs, err := h.capacity.Capacity(r.Context())
	if err != nil {
		h.capacityError(w, "reading capacity", err)
		return
	}
	now := h.now()
	out := capacityJSON{Threshold: h.capacity.CapacityThreshold(), Gauges: []gaugeJSON{}, Surges: cs.Surges}
	if out.Surges == nil {
		out.Surges = []bot.Surge{}
	}
	for _, svc := range cs.Services() {
		g := cs.Gauges[svc]
		gj := gaugeJSON{Gauge: g.Gauge, Percent: math.Round(g.Percent()*10) / 10, At: g.At, Reported: g.Reported}
		if s, ok := cs.ActiveSurge(svc, now); ok {
			gj.Surge = &s
		}
		out.Gauges = append(out.Gauges, gj)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) apiAvailability(w http.ResponseWriter, r *http.Request) {
	loc := h.settings().Location
	now := h.now().In(loc)
	month := now
	if m := r.URL.Query().Get("month"); m != "" {
		t, err := time.ParseInLocation("2006-01", m, loc)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "month: write it as YYYY-MM, e.g. 2026-11"})
			return
		}
		month = t
	}
	var downs []bot.Downtime
	if h.downtime != nil {
		var err error
		if downs, err = h.downtime(r.Context()); err != nil {
			h.capacityError(w, "reading outage downtime", err)
			return
		}
	}
	cs, err := h.capacity.Capacity(r.Context())
	if err != nil {
		h.capacityError(w, "reading capacity", err)
		return
	}
	out := availabilityJSON{Month: month.Format("2006-01"), Components: bot.MonthlyAvailability(downs, month, now)}
	if out.Components == nil {
		out.Components = []bot.Availability{}
	}
	out.Rfadesk = bot.MonthlyAvailability(cs.Down, month, now, "rfadesk")[0]
	writeJSON(w, http.StatusOK, out)
}
