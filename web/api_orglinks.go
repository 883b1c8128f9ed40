package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"rfadesk/bot"
)

// The admin routes of organisation links (Options.OrgLinks):
//
//	POST   /api/org-links       {"organisation": NAME} or {"trust": NAME}
//	                            -> 201 orgLinkJSON with "url" (the only
//	                            time the token is shown)
//	GET    /api/org-links       -> {"links": [orgLinkJSON...]}, no tokens
//	DELETE /api/org-links/{id}  revoke -> 200 orgLinkJSON

// orgLinkRequest is the body of POST /api/org-links: exactly one field.
type orgLinkRequest struct {
	Organisation string `json:"organisation"`
	Trust        string `json:"trust"`
}

// orgLinkJSON is one link; URL only in the answer that created it.
type orgLinkJSON struct {
	bot.OrgLink
	Slug string `json:"slug"`
	URL  string `json:"url,omitempty"`
}

func (h *handler) apiCreateOrgLink(w http.ResponseWriter, r *http.Request) {
	var q orgLinkRequest
	if !h.decodeJSONBody(w, r, &q) {
		return
	}
	kind, name := bot.OrgKindOrganisation, strings.TrimSpace(q.Organisation)
	if t := strings.TrimSpace(q.Trust); t != "" {
		kind, name = bot.OrgKindTrust, t
		if strings.TrimSpace(q.Organisation) != "" {
			name = ""
		}
	}
	if name == "" {
		writeJSON(w, http.StatusBadRequest, apiError{Error: `bad body: give one of "organisation" or "trust", the name as configured`})
		return
	}
	l, link, err := h.orgLinks.Create(r.Context(), kind, name)
	if errors.Is(err, bot.ErrInvalid) {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	if err != nil {
		h.log.Error("web: creating an organisation link", "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{Error: "internal error"})
		return
	}
	h.log.Info("web: organisation link created", "id", l.ID, "kind", l.Kind, "name", l.Name, "by", apiActor(r).Name)
	writeJSON(w, http.StatusCreated, orgLinkJSON{OrgLink: l, Slug: l.Slug(), URL: link})
}

func (h *handler) apiListOrgLinks(w http.ResponseWriter, r *http.Request) {
	ls, err := h.orgLinks.List(r.Context())
	if err != nil {
		h.log.Error("web: listing organisation links", "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{Error: "internal error"})
		return
	}
	out := struct {
		Links []orgLinkJSON `json:"links"`
	}{Links: []orgLinkJSON{}}
	for _, l := range ls {
		out.Links = append(out.Links, orgLinkJSON{OrgLink: l, Slug: l.Slug()})
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) apiRevokeOrgLink(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		writeJSON(w, http.StatusNotFound, apiError{Error: "not found"})
		return
	}
	l, err := h.orgLinks.Revoke(r.Context(), id)
	if errors.Is(err, bot.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, apiError{Error: "not found"})
		return
	}
	if err != nil {
		h.log.Error("web: revoking an organisation link", "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{Error: "internal error"})
		return
	}
	h.log.Info("web: organisation link revoked", "id", l.ID, "by", apiActor(r).Name)
	writeJSON(w, http.StatusOK, orgLinkJSON{OrgLink: l, Slug: l.Slug()})
}
