package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/mail"
	"slices"
	"strings"

	"rfadesk/bot"
)

// The admin API's writes: POST /api/rfas logs a phone RFA and
// POST /api/rfas/{ref}/actions performs one staff action. Both translate
// the JSON body to the desk's vocabulary (bot.PhoneCall, bot.StaffAction)
// and nothing more; every rule lives in the desk. The caller is the
// token's actor (requireAdmin).

// RFALinkJSON is the answer of the admin API's writes: the RFA as
// GET /api/rfas/{ref} shows it, plus status_url, the full private link
// to its status page (staff may read it out to a caller with no email).
type RFALinkJSON struct {
	RFAJSON
	StatusURL string `json:"status_url"`
}

// actionFields lists, for each action, the body fields it takes besides
// "action"; any other field is refused.
var actionFields = map[bot.StaffActionKind][]string{
	bot.ActSeverity:   {"level"},
	bot.ActAssign:     {"to"},
	bot.ActReply:      {"text"},
	bot.ActNote:       {"text"},
	bot.ActUpdate:     {"text"},
	bot.ActAsk:        {"text"},
	bot.ActWorkaround: {"text"},
	bot.ActClear:      {"resolution"},
	bot.ActReopen:     {"reason"},
	bot.ActRelease:    {"name", "ships"},
	bot.ActSetFields:  {"site", "components", "action_taken", "error_message", "can_replicate", "organisation"},
	bot.ActLink:       {"parent"},
	bot.ActUnlink:     {},
}

// actionRequest is the body of POST /api/rfas/{ref}/actions.
type actionRequest struct {
	Action     string `json:"action"`
	Level      string `json:"level"`
	To         string `json:"to"`
	Text       string `json:"text"`
	Resolution string `json:"resolution"`
	Reason     string `json:"reason"`
	Name       string `json:"name"`
	Ships      string `json:"ships"`
	Parent     string `json:"parent"` // link: "RFA-M"
	// set_fields: a field absent (not null, absent) is left as it is.
	Site         *string   `json:"site"`
	Components   *[]string `json:"components"`
	ActionTaken  *string   `json:"action_taken"`
	ErrorMessage *string   `json:"error_message"`
	CanReplicate *string   `json:"can_replicate"`
	Organisation *string   `json:"organisation"`
}

// staffAction translates the request to the desk's vocabulary.
func (q *actionRequest) staffAction() bot.StaffAction {
	a := bot.StaffAction{Kind: bot.StaffActionKind(q.Action)}
	switch a.Kind {
	case bot.ActSeverity:
		a.Severity = q.Level
	case bot.ActAssign:
		a.Assignee = bot.Actor{Name: strings.TrimSpace(q.To)}
	case bot.ActClear:
		a.Text = q.Resolution
	case bot.ActReopen:
		a.Text = q.Reason
	case bot.ActRelease:
		a.Release, a.ShipsOn = q.Name, q.Ships
	case bot.ActLink:
		a.Parent = q.Parent
	case bot.ActUnlink:
	case bot.ActSetFields:
		a.Fields = bot.FieldChanges{Site: q.Site, Components: q.Components, ActionTaken: q.ActionTaken,
			ErrorMessage: q.ErrorMessage, CanReplicate: q.CanReplicate, Organisation: q.Organisation}
	default:
		a.Text = q.Text
	}
	return a
}

// apiAction answers POST /api/rfas/{ref}/actions: 200 with the RFA's
// JSON once the action is recorded; 400 for a body that is not an action
// or a field that does not go with it, 404 for an unknown RFA, 409 when
// the action does not fit the RFA's state, 413 for a body over the cap.
// Every error is {"error": "..."} and changes nothing.
func (h *handler) apiAction(w http.ResponseWriter, r *http.Request) {
	num, err := bot.ParseRef(r.PathValue("ref"))
	if err != nil {
		writeJSON(w, http.StatusNotFound, apiError{Error: "not found"})
		return
	}
	var q actionRequest
	if !h.decodeAction(w, r, &q) {
		return
	}
	if err := h.doAction(r.Context(), num, q.staffAction(), apiActor(r)); err != nil {
		h.writeDeskError(w, err, bot.FormatRef(num))
		return
	}
	h.writeRFA(w, r, num, http.StatusOK)
}

// decodeAction reads an action body into q, checking that its fields go
// with its action; on failure it has answered.
func (h *handler) decodeAction(w http.ResponseWriter, r *http.Request, q *actionRequest) bool {
	body, ok := h.readJSONBody(w, r)
	if !ok {
		return false
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "the body is not a JSON object: " + err.Error()})
		return false
	}
	var kind string
	if err := json.Unmarshal(raw["action"], &kind); err != nil || kind == "" {
		writeJSON(w, http.StatusBadRequest, apiError{Error: `the body needs "action": one of ` + actionNames()})
		return false
	}
	allowed, known := actionFields[bot.StaffActionKind(kind)]
	if !known {
		writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf("%q is not an action: use one of %s", kind, actionNames())})
		return false
	}
	for _, f := range slices.Sorted(maps.Keys(raw)) {
		if f != "action" && !slices.Contains(allowed, f) {
			takes := strings.Join(allowed, ", ")
			if takes == "" {
				takes = `nothing but "action"`
			}
			writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf("%q does not go with %s: it takes %s", f, kind, takes)})
			return false
		}
		if string(raw[f]) == "null" {
			writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf("%q is null: give a value, or leave it out", f)})
			return false
		}
	}
	if err := json.Unmarshal(body, q); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "bad field: " + jsonProblem(err)})
		return false
	}
	return true
}

// phoneRequest is the body of POST /api/rfas.
type phoneRequest struct {
	Name         string   `json:"name"`
	Email        string   `json:"email"`
	Organisation string   `json:"organisation"`
	Subject      string   `json:"subject"`
	Description  string   `json:"description"`
	Site         string   `json:"site"`
	Components   []string `json:"components"`
	Level        string   `json:"level"`
	ActionTaken  string   `json:"action_taken"`
	ErrorMessage string   `json:"error_message"`
	CanReplicate string   `json:"can_replicate"`
}

// phoneCall translates the request to the desk's vocabulary, or says
// what is wrong with it.
func (q *phoneRequest) phoneCall(by bot.Actor) (bot.PhoneCall, error) {
	c := bot.PhoneCall{By: by, Caller: bot.Address{Name: strings.TrimSpace(q.Name)}, Subject: q.Subject,
		Description: strings.TrimSpace(q.Description), Organisation: q.Organisation}
	switch {
	case c.Caller.Name == "":
		return c, errors.New(`"name" (the caller's) is required`)
	case strings.TrimSpace(q.Subject) == "":
		return c, errors.New(`"subject" is required`)
	case c.Description == "":
		return c, errors.New(`"description" (what the caller said) is required`)
	}
	if e := strings.TrimSpace(q.Email); e != "" {
		a, err := mail.ParseAddress(e)
		if err != nil || a.Name != "" {
			return c, fmt.Errorf("%q is not an email address", e)
		}
		c.Caller.Email = a.Address
	}
	c.Report = bot.Report{Site: strings.TrimSpace(q.Site), Level: strings.TrimSpace(q.Level),
		ActionTaken: strings.TrimSpace(q.ActionTaken), ErrorMessage: strings.TrimSpace(q.ErrorMessage)}
	for _, comp := range q.Components {
		if comp = strings.TrimSpace(comp); comp != "" {
			c.Report.Components = append(c.Report.Components, comp)
		}
	}
	switch v := bot.Replicate(strings.ToLower(strings.TrimSpace(q.CanReplicate))); v {
	case "", bot.ReplicateUnknown, bot.ReplicateYes, bot.ReplicateNo:
		c.Report.CanReplicate = v
	default:
		return c, fmt.Errorf("%q is not an answer to can_replicate: use yes, no or unknown", q.CanReplicate)
	}
	return c, nil
}

// apiLogCall answers POST /api/rfas: 201 with the new RFA's JSON
// (status_url included) and its Location; 400 for a bad body.
func (h *handler) apiLogCall(w http.ResponseWriter, r *http.Request) {
	var q phoneRequest
	if !h.decodeJSONBody(w, r, &q) {
		return
	}
	call, err := q.phoneCall(apiActor(r))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	rfa, err := h.logCall(r.Context(), call)
	if err != nil {
		h.writeDeskError(w, err, "phone RFA")
		return
	}
	w.Header().Set("Location", "/api/rfas/"+rfa.Ref())
	writeJSON(w, http.StatusCreated, h.rfaLinkJSON(rfa))
}

// readJSONBody reads a request body (capped by bound) that must be
// JSON; on failure it has answered 415, 413 or 400.
func (h *handler) readJSONBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		writeJSON(w, http.StatusUnsupportedMediaType, apiError{Error: "send the body as application/json"})
		return nil, false
	}
	body, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Error: fmt.Sprintf("the body is over %d bytes", tooBig.Limit)})
		return nil, false
	case err != nil:
		writeJSON(w, http.StatusBadRequest, apiError{Error: "reading the body: " + err.Error()})
		return nil, false
	}
	return body, true
}

// decodeJSONBody reads the request's body (readJSONBody) into v: one
// JSON object whose fields v all knows. Otherwise it answers 400 (or
// what readJSONBody answers) and reports false.
func (h *handler) decodeJSONBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, ok := h.readJSONBody(w, r)
	if !ok {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "bad body: " + jsonProblem(err)})
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "bad body: send one JSON object"})
		return false
	}
	return true
}

// writeDeskError answers a desk error: 400, 404 or 409 with its message
// for the desk's own kinds, else 500 (logged, not shown).
func (h *handler) writeDeskError(w http.ResponseWriter, err error, what string) {
	switch {
	case errors.Is(err, bot.ErrInvalid):
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
	case errors.Is(err, bot.ErrNotFound):
		writeJSON(w, http.StatusNotFound, apiError{Error: "not found"})
	case errors.Is(err, bot.ErrNotAllowed):
		writeJSON(w, http.StatusConflict, apiError{Error: strings.TrimSuffix(err.Error(), ": "+bot.ErrNotAllowed.Error())})
	default:
		h.log.Error("web: admin API write", "what", what, "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{Error: "internal error"})
	}
}

// writeRFA answers with RFA num as it now stands.
func (h *handler) writeRFA(w http.ResponseWriter, r *http.Request, num uint64, code int) {
	rfa, err := h.desk.RFA(r.Context(), num)
	if err != nil {
		h.writeDeskError(w, err, bot.FormatRef(num))
		return
	}
	writeJSON(w, code, h.rfaLinkJSON(rfa))
}

func (h *handler) rfaLinkJSON(rfa *bot.RFA) RFALinkJSON {
	v := RFALinkJSON{RFAJSON: rfaJSON(rfa, clocksOf(h.settings(), rfa), true)}
	if h.statusURL != nil {
		v.StatusURL = h.statusURL(rfa)
	} else {
		v.StatusURL = v.StatusURLPath
	}
	return v
}

// jsonProblem names what is wrong with a JSON body, without Go's type
// names where it can.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("%q should be %s", te.Field, jsonKind(te.Type.Kind().String()))
	}
	return err.Error()
}

func jsonKind(goKind string) string {
	switch goKind {
	case "slice":
		return "a list of strings"
	case "string":
		return "a string"
	}
	return "another type"
}

func actionNames() string {
	names := make([]string, len(bot.StaffActionKinds))
	for i, k := range bot.StaffActionKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}
