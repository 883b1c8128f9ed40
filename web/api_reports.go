package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"rfadesk/bot"
)

// Reports is what the report, export and purge routes need (bot.Desk's
// MonthReport, Export and ExportOrganisation; Purge applies the desk's
// [retention] period).
type Reports interface {
	MonthReport(ctx context.Context, m bot.Month) (*bot.MonthlyReport, error)
	Export(ctx context.Context, w io.Writer, format string) error
	ExportOrganisation(ctx context.Context, w io.Writer, name string) error
	// Purge purges (or with dryRun lists) the RFAs closed longer ago
	// than the retention period; an error matching bot.ErrNotAllowed
	// when retention is off.
	Purge(ctx context.Context, dryRun bool) ([]bot.PurgeItem, error)
}

// exportWriteTimeout bounds writing a whole export out.
const exportWriteTimeout = 30 * time.Minute

// routeReports adds the report, export and purge routes (admin).
func (h *handler) routeReports(mux *http.ServeMux) {
	if h.reports == nil {
		return
	}
	mux.HandleFunc("GET /api/reports", h.requireAdmin(h.apiReport))
	mux.HandleFunc("GET /admin/reports", h.requireAdmin(h.adminReport))
	mux.HandleFunc("GET /api/export", h.requireAdmin(h.apiExport))
	mux.HandleFunc("POST /api/purge", h.requireAdmin(h.apiPurge))
}

// apiReport answers GET /api/reports?month=2026-11&format=csv|html|json
// (default json).
func (h *handler) apiReport(w http.ResponseWriter, r *http.Request) {
	h.serveReport(w, r, r.URL.Query().Get("format"))
}

// adminReport answers GET /admin/reports?month=2026-11: the HTML report.
func (h *handler) adminReport(w http.ResponseWriter, r *http.Request) {
	h.serveReport(w, r, bot.ReportHTML)
}

func (h *handler) serveReport(w http.ResponseWriter, r *http.Request, format string) {
	if format == "" {
		format = bot.ReportJSON
	}
	ctype, ok := map[string]string{bot.ReportJSON: "application/json", bot.ReportCSV: "text/csv; charset=utf-8", bot.ReportHTML: "text/html; charset=utf-8"}[format]
	if !ok {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "format: use csv, html or json"})
		return
	}
	m, err := bot.ParseMonth(r.URL.Query().Get("month"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "month: write it as YYYY-MM, e.g. month=2026-11"})
		return
	}
	rep, err := h.reports.MonthReport(r.Context(), m)
	if err != nil {
		h.log.Error("web: month report", "month", m.String(), "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{Error: "internal error"})
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-store")
	if format == bot.ReportCSV {
		w.Header().Set("Content-Disposition", `attachment; filename="rfadesk-report-`+m.String()+`.csv"`)
	}
	if err := bot.WriteReport(w, rep, format); err != nil {
		h.log.Warn("web: month report not written out", "err", err)
	}
}

// apiExport answers GET /api/export?format=csv|json (every RFA's
// summary, streamed) and GET /api/export?organisation=NAME (one
// organisation's whole data as a tar archive).
func (h *handler) apiExport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	org, format := q.Get("organisation"), q.Get("format")
	if org == "" && format != bot.ExportCSV && format != bot.ExportJSON {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "format: use csv or json (or organisation=NAME for one organisation's archive)"})
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(exportWriteTimeout))
	w.Header().Set("Cache-Control", "no-store")
	out := &countingWriter{w: w}
	var err error
	switch {
	case org != "":
		w.Header().Set("Content-Type", "application/x-tar")
		err = h.reports.ExportOrganisation(r.Context(), out, org)
	case format == bot.ExportCSV:
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		err = h.reports.Export(r.Context(), out, format)
	default:
		w.Header().Set("Content-Type", "application/json")
		err = h.reports.Export(r.Context(), out, format)
	}
	switch {
	case err != nil && out.n == 0:
		h.log.Error("web: export", "err", err)
		w.Header().Set("Content-Type", "application/json")
		writeJSON(w, http.StatusInternalServerError, apiError{Error: "internal error"})
	case err != nil:
		// The status is sent: the client sees a short body.
		h.log.Warn("web: export not written out", "err", err)
	}
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// apiPurge answers POST /api/purge?dry_run=true|false with the RFAs
// purged (or that would be) as JSON {"dry_run":..,"rfas":[..]}.
func (h *handler) apiPurge(w http.ResponseWriter, r *http.Request) {
	dry, err := strconv.ParseBool(r.URL.Query().Get("dry_run"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "dry_run: say true or false"})
		return
	}
	items, err := h.reports.Purge(r.Context(), dry)
	switch {
	case errors.Is(err, bot.ErrNotAllowed):
		writeJSON(w, http.StatusConflict, apiError{Error: err.Error()})
		return
	case err != nil:
		h.log.Error("web: purge", "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{Error: "internal error"})
		return
	}
	writeJSON(w, http.StatusOK, PurgeJSON{DryRun: dry, RFAs: items})
}

// PurgeJSON is POST /api/purge's answer.
type PurgeJSON struct {
	DryRun bool            `json:"dry_run"`
	RFAs   []bot.PurgeItem `json:"rfas"`
}
