package bot_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"testing/synctest"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
)

// A reload that changes the SLA policy rebuilds the escalation schedule
// at once, as a start-up would: an open RFA's next point moves, and the
// point the new policy dropped never fires. Organisations and templates
// reloaded apply to the next mail.
func TestReloadRebuildsScheduleAndAppliesConfig(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		sleepUntil(t, "2026-11-23 09:00")
		var cfg bot.DeskConfig
		rd := startDeskWith(t, filepath.Join(t.TempDir(), "desk.db"), func(c *bot.DeskConfig) { cfg = *c })
		defer rd.stop()
		rd.mail("rl1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken", 1)
		before := mustRFA(t, rd, 1).NextEscalation

		pol := bot.DefaultSLAPolicy(workcal.Default())
		pol.OnDutyRole = onDutyRole
		pol.FirstContactPoints = slices.DeleteFunc(slices.Clone(pol.FirstContactPoints), func(p bot.EscalationPoint) bool { return p.Fraction == 0.5 })
		cfg.SLA = pol
		cfg.Organisations = append(slices.Clone(cfg.Organisations), bot.Organisation{Name: "Birch School", Domains: []string{"birch.sch.uk"}})
		tmpl, err := bot.ParseTemplates(fstest.MapFS{"ack.txt.tmpl": {Data: []byte("Logged as {{.Ref}} for {{range .Fields}}{{.Value}}{{end}}.\n")}})
		must(t, err)
		cfg.Templates = tmpl
		must(t, rd.desk.Reload(ctx, cfg))
		synctest.Wait()
		after := mustRFA(t, rd, 1).NextEscalation
		if !after.After(before) {
			t.Fatalf("next escalation %v after the reload, want later than %v (the 50%% point is gone)", after, before)
		}
		sleepUntil(t, "2026-11-23 12:00")
		for _, p := range firedPoints(t, rd) {
			if strings.Contains(p, " 50% ") {
				t.Errorf("a point the reloaded policy dropped fired: %s", p)
			}
		}

		rd.mail("rl2@birch.sch.uk", "head@birch.sch.uk", "Printer", "jammed", 2)
		items, err := rd.desk.Outbox(ctx)
		must(t, err)
		var ack string
		for _, it := range items {
			if it.Mail != nil && it.Mail.Purpose == "acknowledgement" && it.Mail.To[0].Email == "head@birch.sch.uk" {
				ack = it.Mail.Text
			}
		}
		if ack != "Logged as RFA-2 for Birch School.\n" {
			t.Errorf("acknowledgement after the reload = %q, want the reloaded template and organisation", ack)
		}
	})
}
