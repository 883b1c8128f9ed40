package web

import (
	"time"

	"rfadesk/bot"
)

// RFAJSON is the admin API's view of an RFA. It is the one place that
// decides what the API shows.
//
// Lists (components, missing, events) and the clocks object are never
// null. Times are RFC 3339 in UTC. The status token is never in the list
// view; the single-RFA view carries status_url_path, the path (with
// token) of the requester's status page, so that staff can send the link
// again. severity, suggested_severity and assignee are always present,
// "" when unset; severity_label is the display name ("Awaiting triage"
// while severity is "").
type RFAJSON struct {
	Ref           string      `json:"ref"`
	Status        string      `json:"status"`
	Channel       string      `json:"channel,omitempty"`
	Subject       string      `json:"subject"`
	Requester     string      `json:"requester"`
	RequesterName string      `json:"requester_name,omitempty"`
	Organisation  string      `json:"organisation"`
	Trust         string      `json:"trust"`
	Site          string      `json:"site"`
	Components    []string    `json:"components"`
	Level         string      `json:"level"`
	ActionTaken   string      `json:"action_taken"`
	ErrorMessage  string      `json:"error_message"`
	CanReplicate  string      `json:"can_replicate"` // yes, no or unknown
	Missing       []string    `json:"missing"`
	Created       string      `json:"created"`
	Messages      int         `json:"messages"` // how many messages the conversation holds
	Events        []EventJSON `json:"events"`
	Flag          string      `json:"flag,omitempty"`
	// Release is the release the fix is planned for, if any.
	Release *ReleaseJSON `json:"release,omitempty"`
	// ChatThread is the RFA's staff-chat (Discord) thread id, once posted.
	ChatThread    string `json:"chat_thread,omitempty"`
	StatusURLPath string `json:"status_url_path,omitempty"`

	Severity          string `json:"severity"`           // critical, serious, moderate, minor or ""
	SeverityLabel     string `json:"severity_label"`     // "Critical", ..., "Awaiting triage"
	SuggestedSeverity string `json:"suggested_severity"` // the desk's guess, or ""
	Assignee          string `json:"assignee"`
	// Owner is who owns the RFA since a customer escalation (the
	// manager), omitted if it was never escalated.
	Owner string `json:"owner,omitempty"`
	// Clocks maps each SLA clock's name (bot.ClockResponse "response",
	// bot.ClockTriage "triage", bot.ClockFirstUpdate "first_update",
	// bot.ClockWorkaround "workaround", bot.ClockEscalation "escalation")
	// to its state. A clock the RFA does not have (no response clock for
	// a phone RFA, no escalation clock before an escalation) has no key; with no clock source
	// configured the object is empty.
	Clocks map[string]ClockJSON `json:"clocks"`
}

// ClockJSON is one SLA clock of an RFA as it stands when the request is
// answered.
//
// target is the target as configured ("4 working hours"), "" while none
// applies (workaround awaiting triage); due is when it runs out, omitted
// while there is no target (while paused it is the due if the clock
// resumed now). met_at is set once met; breached_at (= due) once the due
// passed unmet, or when met late (then both are set). used and left are
// the clock's time (working time for working targets, elapsed time for
// wall-clock ones) as Go duration strings truncated to the second, with
// the same values as whole seconds in used_seconds and left_seconds;
// left is never negative. cycle counts reopens before the current
// workaround cycle, whose start is start.
type ClockJSON struct {
	Target      string `json:"target"`
	Start       string `json:"start"`
	Cycle       int    `json:"cycle"`
	Due         string `json:"due,omitempty"`
	MetAt       string `json:"met_at,omitempty"`
	BreachedAt  string `json:"breached_at,omitempty"`
	Paused      bool   `json:"paused"`
	Used        string `json:"used"`
	Left        string `json:"left"`
	UsedSeconds int64  `json:"used_seconds"`
	LeftSeconds int64  `json:"left_seconds"`
}

// ReleaseJSON is a planned release: a Minor RFA is due when it ships.
type ReleaseJSON struct {
	Name  string `json:"name"`
	Ships string `json:"ships"`
}

// EventJSON is one entry of an RFA's history in the admin API.
type EventJSON struct {
	At    string `json:"at"`
	Kind  string `json:"kind"`
	Text  string `json:"text"`
	Actor string `json:"actor,omitempty"`
	// Quote is someone's own words the event carries (a requester's
	// escalation reason), apart from Text; absent if none.
	Quote string `json:"quote,omitempty"`
}

// rfaJSON builds the API view of r with its clocks. withLink adds
// status_url_path.
func rfaJSON(r *bot.RFA, clocks []bot.ClockState, withLink bool) RFAJSON {
	rep := r.Report
	v := RFAJSON{
		Ref:           r.Ref(),
		Status:        string(r.Status),
		Channel:       string(r.Channel),
		Subject:       r.Subject,
		Requester:     r.Requester.Email,
		RequesterName: r.Requester.Name,
		Organisation:  r.Organisation,
		Trust:         r.Trust,
		Site:          rep.Site,
		Components:    append([]string{}, rep.Components...),
		Level:         rep.Level,
		ActionTaken:   rep.ActionTaken,
		ErrorMessage:  rep.ErrorMessage,
		CanReplicate:  string(rep.CanReplicate),
		Missing:       append([]string{}, rep.Missing()...),
		Created:       rfc3339(r.Created),
		Messages:      len(r.Messages),
		Events:        make([]EventJSON, 0, len(r.Events)),
		Flag:          r.Flag,
		ChatThread:    r.Chat.ThreadID,

		Severity:          string(r.Severity),
		SeverityLabel:     r.Severity.Title(),
		SuggestedSeverity: string(r.SuggestedSeverity),
		Assignee:          r.Assignee,
		Owner:             r.Owner(),
		Clocks:            make(map[string]ClockJSON, len(clocks)),
	}
	for _, c := range clocks {
		v.Clocks[string(c.Name)] = clockJSON(c)
	}
	if v.CanReplicate == "" {
		v.CanReplicate = string(bot.ReplicateUnknown)
	}
	for _, e := range r.Events {
		v.Events = append(v.Events, EventJSON{At: rfc3339(e.At), Kind: string(e.Kind), Text: e.Text, Actor: e.Actor, Quote: e.Quote})
	}
	if r.Release != nil {
		v.Release = &ReleaseJSON{Name: r.Release.Name, Ships: rfc3339(r.Release.Ships)}
	}
	if withLink && r.Token != "" {
		v.StatusURLPath = statusPath(r)
	}
	return v
}

// clockJSON builds the API view of one clock.
func clockJSON(c bot.ClockState) ClockJSON {
	used, left := c.Used.Truncate(time.Second), c.Left.Truncate(time.Second)
	v := ClockJSON{
		Target:      targetText(c),
		Start:       rfc3339(c.Start),
		Cycle:       c.Cycle,
		Due:         rfc3339(c.Due),
		Paused:      c.Paused,
		Used:        used.String(),
		Left:        left.String(),
		UsedSeconds: int64(used / time.Second),
		LeftSeconds: int64(left / time.Second),
	}
	if c.MetAt != nil {
		v.MetAt = rfc3339(*c.MetAt)
	}
	if c.BreachedAt != nil {
		v.BreachedAt = rfc3339(*c.BreachedAt)
	}
	return v
}

// targetText is the clock's target as written, or "" when it has none
// (the zero workcal.Target, whose String is not meaningful).
func targetText(c bot.ClockState) string {
	if c.Target.N == 0 {
		return ""
	}
	return c.Target.String()
}

// rfc3339 formats t in UTC, or "" for the zero time.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
