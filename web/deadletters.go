package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"rfadesk/bot"
)

// DeadLetterJSON is a message that could not become an RFA, as the admin
// API lists it (the raw message is at .../raw).
type DeadLetterJSON struct {
	ID      uint64 `json:"id"`
	At      string `json:"at"`
	Mailbox string `json:"mailbox"`
	UID     uint32 `json:"uid"`
	From    string `json:"from"`
	Subject string `json:"subject"`
	Reason  string `json:"reason"`
	// Size is the length of the kept raw message (0 when only the
	// mailbox's failed folder has it).
	Size int `json:"size"`
}

// apiDeadLetters answers GET /api/dead-letters.
func (h *handler) apiDeadLetters(w http.ResponseWriter, r *http.Request) {
	dls, err := h.deadLetters(r.Context())
	if err != nil {
		h.log.Error("web: listing dead letters", "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{Error: "internal error"})
		return
	}
	out := struct {
		DeadLetters []DeadLetterJSON `json:"dead_letters"`
	}{DeadLetters: make([]DeadLetterJSON, 0, len(dls))}
	for _, dl := range dls {
		out.DeadLetters = append(out.DeadLetters, DeadLetterJSON{
			ID: dl.ID, At: rfc3339(dl.At), Mailbox: dl.Mailbox, UID: dl.UID,
			From: dl.From, Subject: dl.Subject, Reason: dl.Reason, Size: len(dl.Raw),
		})
	}
	writeJSON(w, http.StatusOK, out)
}

// apiDeadLetterRaw answers GET /api/dead-letters/{id}/raw with the kept
// message as an attachment (message/rfc822), for an admin to inspect,
// mend and send again.
func (h *handler) apiDeadLetterRaw(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		writeJSON(w, http.StatusNotFound, apiError{Error: "not found"})
		return
	}
	dl, err := h.deadLetter(r.Context(), id)
	if errors.Is(err, bot.ErrNotFound) || (err == nil && len(dl.Raw) == 0) {
		writeJSON(w, http.StatusNotFound, apiError{Error: "not found"})
		return
	}
	if err != nil {
		h.log.Error("web: loading a dead letter", "id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{Error: "internal error"})
		return
	}
	w.Header().Set("Content-Type", "message/rfc822")
	w.Header().Set("Content-Disposition", `attachment; filename="dead-letter-`+strconv.FormatUint(id, 10)+`.eml"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(dl.Raw)
}

// deadLettersFunc is how the web lists dead letters (bot.Desk.DeadLetters).
type deadLettersFunc func(ctx context.Context) ([]bot.DeadLetter, error)

// deadLetterFunc is how the web loads one (bot.Desk.DeadLetter).
type deadLetterFunc func(ctx context.Context, id uint64) (*bot.DeadLetter, error)
