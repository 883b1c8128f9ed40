package chat

import (
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
)

// TestCardShowsOwnerAndNewClocks: after a customer escalation the card
// names the owner, and the triage and escalation clocks are listed with
// the others.
func TestCardShowsOwnerAndNewClocks(t *testing.T) {
	created := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	r := &bot.RFA{Num: 7, Subject: "Login", Channel: bot.ChannelEmail, Created: created, Status: bot.StatusOpen,
		Events: []bot.Event{
			{At: created, Kind: bot.EventCreated},
			{At: created.Add(time.Hour), Kind: bot.EventEscalated, Text: "escalated by the requester by email; now owned by Mo *Manager*"},
			{At: created.Add(time.Hour), Kind: bot.EventOwner, Text: "Mo *Manager*"},
		}}
	clocks := bot.DefaultSLAPolicy(workcal.Default()).Clocks(r, created.Add(90*time.Minute))
	e, _ := card(r, clocks)
	var owner, sla string
	for _, f := range e.Fields {
		switch f.Name {
		case "Owner (escalated)":
			owner = f.Value
		case "SLA":
			sla = f.Value
		}
	}
	if owner != `Mo \*Manager\*` {
		t.Errorf("owner field = %q, want the manager, neutralised", owner)
	}
	for _, want := range []string{"Triage: due", "Escalation: due"} {
		if !strings.Contains(sla, want) {
			t.Errorf("SLA field %q lacks %q", sla, want)
		}
	}
}
