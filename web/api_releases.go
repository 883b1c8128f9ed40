package web

import (
	"context"
	"net/http"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
)

// The release calendar's admin API:
//
//	GET  /api/releases             the coming releases (ReleaseJSONList)
//	POST /api/releases             {"name", "date", "kind"}: add a release or move one
//	POST /api/releases/{name}/ship {"notes"}: ship it, clearing its RFAs
//
// Planning an RFA for a release is the RFA action "release" with "name"
// next-minor, next-major or a release's name (api_actions.go).

// Releases is what the release routes need (*bot.Desk has it).
type Releases interface {
	Releases(ctx context.Context) ([]bot.ReleaseInfo, error)
	AddRelease(ctx context.Context, name string, day workcal.Date, kind bot.ReleaseKind) (bot.ReleaseInfo, error)
	ShipRelease(ctx context.Context, name, notes string, by bot.Actor) (int, error)
}

// ReleaseInfoJSON is one release in the admin API.
type ReleaseInfoJSON struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Date is the day it ships, YYYY-MM-DD.
	Date    string `json:"date"`
	Shipped string `json:"shipped,omitempty"` // RFC 3339; absent while unshipped
}

// ReleaseListJSON is GET /api/releases' answer.
type ReleaseListJSON struct {
	Releases []ReleaseInfoJSON `json:"releases"`
}

// ShipJSON is POST /api/releases/{name}/ship's answer.
type ShipJSON struct {
	Release string `json:"release"`
	Cleared int    `json:"cleared"` // RFAs cleared by this request
}

func releaseInfoJSON(r bot.ReleaseInfo) ReleaseInfoJSON {
	v := ReleaseInfoJSON{Name: r.Name, Kind: string(r.Kind), Date: r.Date.String()}
	if !r.Shipped.IsZero() {
		v.Shipped = rfc3339(r.Shipped)
	}
	return v
}

func (h *handler) routeReleases(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/releases", h.requireAdmin(h.apiReleases))
	mux.HandleFunc("POST /api/releases", h.requireAdmin(h.apiAddRelease))
	mux.HandleFunc("POST /api/releases/{name}/ship", h.requireAdmin(h.apiShipRelease))
}

func (h *handler) apiReleases(w http.ResponseWriter, r *http.Request) {
	rels, err := h.releases.Releases(r.Context())
	if err != nil {
		h.writeDeskError(w, err, "releases")
		return
	}
	out := ReleaseListJSON{Releases: []ReleaseInfoJSON{}}
	for _, rel := range rels {
		out.Releases = append(out.Releases, releaseInfoJSON(rel))
	}
	writeJSON(w, http.StatusOK, out)
}

// apiAddRelease answers POST /api/releases: 200 with the release as it
// now stands; 400 for a bad name, date or kind, or a shipped release.
func (h *handler) apiAddRelease(w http.ResponseWriter, r *http.Request) {
	var q struct {
		Name string `json:"name"`
		Date string `json:"date"`
		Kind string `json:"kind"`
	}
	if !h.decodeJSONBody(w, r, &q) {
		return
	}
	day, err := workcal.ParseDate(q.Date)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: `"date" is the day the release ships, as YYYY-MM-DD`})
		return
	}
	rel, err := h.releases.AddRelease(r.Context(), q.Name, day, bot.ReleaseKind(q.Kind))
	if err != nil {
		h.writeDeskError(w, err, "release "+q.Name)
		return
	}
	writeJSON(w, http.StatusOK, releaseInfoJSON(rel))
}

// apiShipRelease answers POST /api/releases/{name}/ship: 200 with how
// many RFAs it cleared; 400 without notes or for an unknown release.
func (h *handler) apiShipRelease(w http.ResponseWriter, r *http.Request) {
	var q struct {
		Notes string `json:"notes"`
	}
	if !h.decodeJSONBody(w, r, &q) {
		return
	}
	name := r.PathValue("name")
	n, err := h.releases.ShipRelease(r.Context(), name, q.Notes, apiActor(r))
	if err != nil {
		h.writeDeskError(w, err, "release "+name)
		return
	}
	writeJSON(w, http.StatusOK, ShipJSON{Release: name, Cleared: n})
}
