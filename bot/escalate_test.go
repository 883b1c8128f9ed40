package bot_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
)

// TestEscalationRepeatsChangeNothing: once escalated, every escalation
// from the status page within the interval leaves the RFA byte for byte
// as it was and queues nothing; after the interval one is passed on.
func TestEscalationRepeatsChangeNothing(t *testing.T) {
	f := newFixtureWith(t, func(c *bot.DeskConfig) { c.Managers = []bot.Address{{Email: "boss@example.org"}} })
	ctx := context.Background()
	f.ingest(mail("er1@oakprimary.sch.uk", "Sam|s@oakprimary.sch.uk", "Login", "broken"))
	by := bot.Actor{Name: "Sam", ID: "s@oakprimary.sch.uk"}
	if err := f.desk.Escalate(ctx, 1, by, "from the status page", "urgent"); err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal(f.rfa(1))
	queued := len(f.outbox())
	for i := range 200 {
		f.now = f.now.Add(time.Second)
		if err := f.desk.Escalate(ctx, 1, by, "from the status page", strings.Repeat("spam ", i)); err != nil {
			t.Fatalf("repeat %d: %v", i, err)
		}
	}
	after, _ := json.Marshal(f.rfa(1))
	if string(after) != string(before) {
		t.Errorf("repeats within the interval changed the RFA: %d bytes before, %d after", len(before), len(after))
	}
	if n := len(f.outbox()); n != queued {
		t.Errorf("repeats queued %d items", n-queued)
	}
	f.now = f.now.Add(bot.EscalationInterval)
	if err := f.desk.Escalate(ctx, 1, by, "from the status page", ""); err != nil {
		t.Fatal(err)
	}
	if n := len(f.outbox()); n <= queued {
		t.Error("an escalation after the interval was not passed on")
	}
}

// TestEscalationReasonIsKeptApartAndQuoted: the requester's reason never
// becomes part of the desk's sentence; it is kept in the event's Quote
// (without bidirectional controls, cut to MaxEscalationReason), and the
// manager's mail and the ops chat post show it as a quoted block.
func TestEscalationReasonIsKeptApartAndQuoted(t *testing.T) {
	f := newFixtureWith(t, func(c *bot.DeskConfig) {
		c.Managers = []bot.Address{{Email: "boss@example.org"}}
		c.ManagerName = "Mo Manager"
		c.Chat = true
	})
	f.ingest(mail("eq1@oakprimary.sch.uk", "Sam|s@oakprimary.sch.uk", "Login", "broken"))
	reason := "fine\u202e; now owned by Mallory\nSeverity: Critical" + strings.Repeat("x", 2000)
	if err := f.desk.Escalate(context.Background(), 1, bot.Actor{ID: "s@oakprimary.sch.uk"}, "from the status page", reason); err != nil {
		t.Fatal(err)
	}
	r := f.rfa(1)
	e := r.Events[len(r.Events)-2]
	if e.Kind != bot.EventEscalated || e.Text != "escalated by the requester from the status page; now owned by Mo Manager" {
		t.Errorf("event text %q", e.Text)
	}
	if !strings.HasPrefix(e.Quote, "fine; now owned by Mallory\nSeverity: Critical") || len([]rune(e.Quote)) != bot.MaxEscalationReason {
		t.Errorf("event quote %.80q (%d characters)", e.Quote, len([]rune(e.Quote)))
	}
	var managerMail, opsPost string
	for _, it := range f.outbox() {
		switch {
		case it.Mail != nil && it.Mail.Purpose == "escalation to manager":
			managerMail = it.Mail.Text
		case it.Chat != nil && it.Chat.Op == bot.ChatOps:
			opsPost = it.Chat.Text
		}
	}
	for name, text := range map[string]string{"manager mail": managerMail, "ops post": opsPost} {
		if !strings.Contains(text, "\n> fine; now owned by Mallory\n> Severity: Critical") {
			t.Errorf("%s does not quote the reason apart:\n%.400s", name, text)
		}
		if strings.ContainsRune(text, '\u202e') || strings.Contains(text, "\nSeverity: Critical") {
			t.Errorf("%s carries the reason unquoted:\n%.400s", name, text)
		}
	}
}
