package web

import "net/http"

// routeMetrics adds GET /metrics when a metrics handler is set: only a
// bearer of an API token (requireAdmin) reads it, as the counts it gives
// describe the whole desk. The daemon serves it without a token on its
// own listener instead when metrics.listen is set.
func (h *handler) routeMetrics(mux *http.ServeMux) {
	if h.metrics == nil {
		return
	}
	mux.HandleFunc("GET /metrics", h.requireAdmin(h.metrics.ServeHTTP))
}
