package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"rfadesk/bot"
)

// requireAdmin lets a request through only with
// "Authorization: Bearer <AdminToken>"; otherwise it answers 401 with
// WWW-Authenticate: Bearer.
func (h *handler) requireAdmin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !h.isAdmin(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="rfadesk"`)
			writeJSON(w, http.StatusUnauthorized, apiError{Error: "unauthorized"})
			return
		}
		next(w, r)
	}
}

// isAdmin reports whether r bears the admin token ("Authorization:
// Bearer TOKEN", compared in constant time); never when the admin API is
// disabled.
func (h *handler) isAdmin(r *http.Request) bool {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.EqualFold(scheme, "Bearer") && secretEqual(strings.TrimSpace(tok), h.adminToken)
}

// apiError is the body of every API error response.
type apiError struct {
	Error string `json:"error"`
}

// apiNotFound answers every /api/ path no route claims, and every /api/
// path when the admin API is disabled.
func (h *handler) apiNotFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, apiError{Error: "not found"})
}

// apiOne answers GET /api/rfas/{ref}.
func (h *handler) apiOne(w http.ResponseWriter, r *http.Request) {
	num, err := bot.ParseRef(r.PathValue("ref"))
	if err != nil {
		writeJSON(w, http.StatusNotFound, apiError{Error: "not found"})
		return
	}
	rfa, err := h.desk.RFA(r.Context(), num)
	if errors.Is(err, bot.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, apiError{Error: "not found"})
		return
	}
	if err != nil {
		h.log.Error("web: loading RFA", "ref", bot.FormatRef(num), "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{Error: "internal error"})
		return
	}
	writeJSON(w, http.StatusOK, rfaJSON(rfa, h.clocksOf(rfa), true))
}

// writeJSON encodes v before writing anything, so an encoding failure
// still gives a clean 500.
func writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}
