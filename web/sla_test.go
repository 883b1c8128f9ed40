package web

import (
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
)

// clockObjects returns the "clocks" object of an RFA object, failing the
// test unless it is an object of objects.
func clockObjects(t *testing.T, o map[string]any) map[string]map[string]any {
	t.Helper()
	raw, ok := o["clocks"].(map[string]any)
	if !ok {
		t.Fatalf("%v: clocks is %T, want object", o["ref"], o["clocks"])
	}
	out := map[string]map[string]any{}
	for k, v := range raw {
		c, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%v: clock %s is %T, want object", o["ref"], k, v)
		}
		out[k] = c
	}
	return out
}

// checkClockObject asserts the keys and JSON types of one clock, and that
// the duration strings agree with the second counts.
func checkClockObject(t *testing.T, name string, c map[string]any) {
	t.Helper()
	for _, k := range []string{"target", "start", "used", "left"} {
		if _, ok := c[k].(string); !ok {
			t.Errorf("%s: %s is %T, want string", name, k, c[k])
		}
	}
	if _, ok := c["paused"].(bool); !ok {
		t.Errorf("%s: paused is %T, want bool", name, c["paused"])
	}
	for _, k := range []string{"used_seconds", "left_seconds", "cycle"} {
		if _, ok := c[k].(float64); !ok {
			t.Errorf("%s: %s is %T, want number", name, k, c[k])
		}
	}
	for _, k := range []string{"due", "met_at", "breached_at", "start"} {
		if s, ok := c[k]; ok {
			if _, err := time.Parse(time.RFC3339, s.(string)); err != nil {
				t.Errorf("%s: %s %v: %v", name, k, s, err)
			}
		}
	}
	for _, k := range []string{"used", "left"} {
		s, _ := c[k].(string)
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Errorf("%s: %s %q: %v", name, k, s, err)
			continue
		}
		if secs, _ := c[k+"_seconds"].(float64); d != time.Duration(secs)*time.Second {
			t.Errorf("%s: %s %q but %s_seconds %v", name, k, s, k, secs)
		}
	}
}

func TestAPISeverityAndClocks(t *testing.T) {
	h := newTestHandler(t, nil)
	_, m := apiGet(t, h, "/api/rfas/RFA-1")
	want := map[string]any{"severity": "moderate", "severity_label": "Moderate",
		"suggested_severity": "serious", "assignee": "Priya Shah (discord:1234)"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
	clocks := clockObjects(t, m)
	if len(clocks) != 4 || clocks["response"] == nil || clocks["triage"] == nil || clocks["first_update"] == nil || clocks["workaround"] == nil {
		t.Fatalf("clock keys: %v, want response, triage, first_update, workaround", clocks)
	}
	if c := clocks["triage"]; c["target"] != "2 working hours" || c["met_at"] != "2026-01-12T08:15:00Z" {
		t.Errorf("triage = %v, want 2 working hours met at the severity (08:15)", c)
	}
	for name, c := range clocks {
		checkClockObject(t, name, c)
	}
	// Both first-contact clocks met by the status update at 09:00 GMT.
	for _, name := range []string{"response", "first_update"} {
		c := clocks[name]
		if c["met_at"] != "2026-01-12T09:00:00Z" {
			t.Errorf("%s met_at %v", name, c["met_at"])
		}
		if _, ok := c["breached_at"]; ok {
			t.Errorf("%s breached although met in time: %v", name, c)
		}
	}
	if clocks["response"]["target"] != "72 hours" || clocks["first_update"]["target"] != "1 working hour" {
		t.Errorf("targets %v, %v", clocks["response"]["target"], clocks["first_update"]["target"])
	}
	// Workaround: 3 working days from Mon 08:05; at Wed 10:30 it has used
	// 8h55m + 9h + 2h30m.
	w := clocks["workaround"]
	for k, v := range map[string]any{
		"target": "3 working days", "due": "2026-01-15T08:05:00Z", "paused": false,
		"used": "20h25m0s", "left": "6h35m0s", "used_seconds": 73500.0, "left_seconds": 23700.0,
		"start": "2026-01-12T08:05:00Z", "cycle": 0.0,
	} {
		if w[k] != v {
			t.Errorf("workaround %s = %#v, want %#v", k, w[k], v)
		}
	}
	for _, k := range []string{"met_at", "breached_at"} {
		if _, ok := w[k]; ok {
			t.Errorf("workaround has %s: %v", k, w)
		}
	}
}

func TestAPIOneClocks(t *testing.T) {
	h := newTestHandler(t, nil)
	_, full := apiGet(t, h, "/api/rfas/RFA-1")
	_, bare := apiGet(t, h, "/api/rfas/RFA-2")
	if len(clockObjects(t, full)) != 4 {
		t.Errorf("RFA-1 clocks %v", full["clocks"])
	}
	// Awaiting triage: empty severity, the label says so, and the
	// workaround clock has no target and no due.
	if bare["severity"] != "" || bare["severity_label"] != "Awaiting triage" || bare["suggested_severity"] != "" || bare["assignee"] != "" {
		t.Errorf("bare severity fields: %v %v %v %v", bare["severity"], bare["severity_label"], bare["suggested_severity"], bare["assignee"])
	}
	clocks := clockObjects(t, bare)
	if _, ok := clocks["response"]; ok {
		t.Error("an RFA with no email/portal channel has a response clock")
	}
	w, ok := clocks["workaround"]
	if !ok {
		t.Fatalf("bare clocks %v", clocks)
	}
	checkClockObject(t, "bare workaround", w)
	if _, ok := w["due"]; ok || w["target"] != "" {
		t.Errorf("workaround awaiting triage has target %v due %v", w["target"], w["due"])
	}
	if clocks["first_update"]["due"] != "2026-01-14T11:30:00Z" {
		t.Errorf("bare first_update due %v", clocks["first_update"]["due"])
	}
}

// TestAPIClockStates: a Critical RFA overdue, then paused on a question.
func TestAPIClockStates(t *testing.T) {
	d := newDesk()
	r := d.rfas[1]
	r.Severity = bot.SeverityCritical // 4 working hours: due Mon 12:05
	h := newTestHandler(t, func(o *Options) { o.Desk = d })
	_, m := apiGet(t, h, "/api/rfas/RFA-1")
	w := clockObjects(t, m)["workaround"]
	if w["breached_at"] != "2026-01-12T12:05:00Z" || w["due"] != "2026-01-12T12:05:00Z" || w["left_seconds"] != 0.0 {
		t.Errorf("critical workaround: %v", w)
	}

	r.Severity = bot.SeverityModerate
	r.Events = append(r.Events, bot.Event{At: fixedNow.Add(-time.Hour), Kind: bot.EventAsked, Text: "Which browser?"})
	_, m = apiGet(t, h, "/api/rfas/RFA-1")
	w = clockObjects(t, m)["workaround"]
	if w["paused"] != true || w["used"] != "19h25m0s" {
		t.Errorf("paused workaround: %v", w)
	}
}

func TestAPINoClockSource(t *testing.T) {
	h := newTestHandler(t, func(o *Options) { withSettings(o, func(s *Settings) { s.Clocks = nil }) })
	_, m := apiGet(t, h, "/api/rfas/RFA-1")
	if c, ok := m["clocks"].(map[string]any); !ok || len(c) != 0 {
		t.Errorf("clocks without a source: %#v, want {}", m["clocks"])
	}
	if m["severity"] != "moderate" {
		t.Errorf("severity %v", m["severity"])
	}
}

func TestStatusPageClocks(t *testing.T) {
	h := newTestHandler(t, nil)
	_, body := do(t, h, "GET", "/rfa/RFA-1?t="+token1, nil)
	for _, want := range []string{
		"<dt>Severity</dt><dd>Moderate</dd>",
		`<dt>Response</dt><dd class="ck-met">met Mon 12 Jan 09:00 GMT <span class="target">(target: 72 hours)</span>`,
		`<dt>First update</dt><dd class="ck-met">met Mon 12 Jan 09:00 GMT`,
		`<dt>Workaround</dt><dd class="ck-due">due Thu 15 Jan 08:05 GMT <span class="target">(target: 3 working days)</span>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	if strings.Contains(body, "Serious") {
		t.Error("the suggested severity is shown to the requester")
	}

	_, body = do(t, h, "GET", "/rfa/RFA-2?t=token-of-rfa-2-BBBBBBBBBBBBBBBB", nil)
	for _, want := range []string{
		"<dt>Severity</dt><dd>Awaiting triage</dd>",
		`<dt>First update</dt><dd class="ck-due">due Wed 14 Jan 11:30 GMT`,
		`<dt>Workaround</dt><dd class="ck-pending">the target is set once we have assessed`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("bare status page lacks %q", want)
		}
	}

	d := newDesk()
	r := d.rfas[1]
	r.Severity = bot.SeverityCritical
	h = newTestHandler(t, func(o *Options) { o.Desk = d })
	_, body = do(t, h, "GET", "/rfa/RFA-1?t="+token1, nil)
	if !strings.Contains(body, `<dd class="ck-late">overdue: it was due Mon 12 Jan 12:05 GMT`) {
		t.Error("overdue workaround not shown as overdue")
	}
	r.Events = append(r.Events, bot.Event{At: fixedNow.Add(-time.Hour), Kind: bot.EventAsked, Text: "Which browser?"})
	_, body = do(t, h, "GET", "/rfa/RFA-1?t="+token1, nil)
	if !strings.Contains(body, `<dt>Workaround</dt><dd class="ck-paused">paused while we wait for your reply`) {
		t.Error("paused workaround not shown as paused")
	}

	h = newTestHandler(t, func(o *Options) { withSettings(o, func(s *Settings) { s.Clocks = nil }) })
	_, body = do(t, h, "GET", "/rfa/RFA-1?t="+token1, nil)
	if strings.Contains(body, "Our targets") || !strings.Contains(body, "<dd>Moderate</dd>") {
		t.Error("without a clock source: clocks shown or severity missing")
	}
}

// TestStatusHistoryAllowList: what the requester sees of staff actions,
// and that internal events stay hidden.
func TestStatusHistoryAllowList(t *testing.T) {
	d := newDesk()
	r := d.rfas[1]
	at := fixedNow.Add(-2 * time.Hour)
	r.Events = append(r.Events,
		bot.Event{At: at, Kind: bot.EventAsked, Text: "Which browser?"},
		bot.Event{At: at, Kind: bot.EventResumed, Text: "the requester replied: clock resumed"},
		bot.Event{At: at, Kind: bot.EventWorkaround, Text: "Use the web client."},
		bot.Event{At: at, Kind: bot.EventCleared, Text: "Fixed."},
		bot.Event{At: at, Kind: bot.EventReopened, Text: "INTERNAL-REOPEN-REASON"},
		bot.Event{At: at, Kind: bot.EventEscalated, Text: "escalated by the requester by email; now owned by Mo Manager"},
		bot.Event{At: at, Kind: bot.EventEscalated, Text: "escalation repeated by email (already escalated at X; manager not told again)"},
		bot.Event{At: at, Kind: bot.EventBreach, Text: "INTERNAL-BREACH-TEXT"},
		bot.Event{At: at, Kind: bot.EventStaffReply, Text: "INTERNAL-REPLY-EVENT"},
		bot.Event{At: at, Kind: bot.EventMailFailed, Text: "INTERNAL-MAIL-FAILED"},
		bot.Event{At: at, Kind: "some-future-kind", Text: "INTERNAL-FUTURE"},
	)
	h := newTestHandler(t, func(o *Options) { o.Desk = d })
	_, body := do(t, h, "GET", "/rfa/RFA-1?t="+token1, nil)
	for _, want := range []string{
		"Status update: We are restoring the MIS.",
		"We asked you a question; the workaround clock is paused until you reply",
		"You replied; the workaround clock is running again",
		"We sent you a workaround",
		"We sent you the fix and asked you to confirm that it is resolved",
		"Reopened: we are working on it again",
		"Escalated at your request; now owned by Mo Manager",
		"You asked again to escalate; the manager had already been told",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("history lacks %q", want)
		}
	}
	for _, leak := range []string{"INTERNAL-NOTE-TEXT", "INTERNAL-ASSIGNEE-TEXT", "workaround 50%", "INTERNAL-FLAG-TEXT",
		"INTERNAL-REOPEN-REASON", "INTERNAL-BREACH-TEXT", "INTERNAL-REPLY-EVENT", "INTERNAL-MAIL-FAILED", "INTERNAL-FUTURE",
		"Priya", "discord:", "manager not told again"} {
		if strings.Contains(body, leak) {
			t.Errorf("status page shows %q", leak)
		}
	}
}
