package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"rfadesk/bot"
)

// APIToken is one named bearer token of the admin API. Name says who
// uses it ("admin", "helpdesk-phone"): every change made with it is
// attributed to that name in the RFA's history.
type APIToken struct {
	Name  string
	Token string
}

// apiTokens is AdminToken (named "admin") followed by tokens, without
// the ones with no secret. It panics on a token with no name (a wiring
// bug: configuration validation refuses one).
func apiTokens(admin string, tokens []APIToken) []APIToken {
	var out []APIToken
	if admin != "" {
		out = append(out, APIToken{Name: "admin", Token: admin})
	}
	for i, t := range tokens {
		if strings.TrimSpace(t.Name) == "" {
			panic(fmt.Sprintf("web: Options.Tokens[%d] has no name", i))
		}
		if t.Token != "" {
			out = append(out, t)
		}
	}
	return out
}

// apiActorKey is the request-context key of the caller's bot.Actor.
type apiActorKey struct{}

// requireAdmin lets a request through only with "Authorization: Bearer
// <token>" of one of the API tokens, and gives next the token's actor
// (see apiActor); otherwise it answers 401 with WWW-Authenticate:
// Bearer and a JSON error, and next is not called.
func (h *handler) requireAdmin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name, ok := h.apiToken(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="rfadesk"`)
			writeJSON(w, http.StatusUnauthorized, apiError{Error: "unauthorized: send Authorization: Bearer <token>"})
			return
		}
		by := bot.Actor{Name: name, ID: "api:" + name}
		next(w, r.WithContext(context.WithValue(r.Context(), apiActorKey{}, by)))
	}
}

// apiActor is who made an admin API request, as requireAdmin found.
func apiActor(r *http.Request) bot.Actor {
	by, _ := r.Context().Value(apiActorKey{}).(bot.Actor)
	return by
}

// isAdmin reports whether r bears one of the API tokens; never when the
// admin API is disabled.
func (h *handler) isAdmin(r *http.Request) bool {
	_, ok := h.apiToken(r)
	return ok
}

// apiToken returns the name of the API token r bears ("Authorization:
// Bearer TOKEN"). Every token is compared, each in constant time, so the
// time taken says nothing about which one matched, or how nearly.
func (h *handler) apiToken(r *http.Request) (string, bool) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	name, found := "", false
	for _, t := range h.tokens {
		if secretEqual(tok, t.Token) && !found {
			name, found = t.Name, true
		}
	}
	return name, found
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
	writeJSON(w, http.StatusOK, rfaJSON(rfa, clocksOf(h.settings(), rfa), true))
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
