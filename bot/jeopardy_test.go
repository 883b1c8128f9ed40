package bot_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
	"rfadesk/store"
)

const onDutyRole = "5550001"

// runningDesk is a desk with its Run and RunJeopardy goroutines on a bbolt
// file, inside a synctest bubble (time.Now is the bubble's clock).
type runningDesk struct {
	t      *testing.T
	db     *store.DB
	desk   *bot.Desk
	cancel context.CancelFunc
	done   chan struct{}
}

func startDesk(t *testing.T, path string) *runningDesk {
	t.Helper()
	return startDeskWith(t, path, nil)
}

// startDeskWith is startDesk with tweak applied to the desk's config.
func startDeskWith(t *testing.T, path string, tweak func(*bot.DeskConfig)) *runningDesk {
	t.Helper()
	db, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	pol := bot.DefaultSLAPolicy(workcal.Default())
	pol.OnDutyRole = onDutyRole
	cfg := bot.DeskConfig{
		Name:          "Example Service Desk",
		Address:       bot.Address{Name: "Example Service Desk", Email: "support@example.org"},
		BaseURL:       "https://support.example.org",
		LoopValue:     "support@example.org",
		Organisations: testOrgs,
		Managers:      []bot.Address{{Name: "Boss", Email: "boss@example.org"}},
		Chat:          true,
		SLA:           pol,
		ManagerName:   "Mo Manager",
	}
	if tweak != nil {
		tweak(&cfg)
	}
	desk := bot.NewDesk(db, cfg, &bot.DeskOptions{Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))})
	ctx, cancel := context.WithCancel(context.Background())
	rd := &runningDesk{t: t, db: db, desk: desk, cancel: cancel, done: make(chan struct{}, 2)}
	go func() { desk.Run(ctx); rd.done <- struct{}{} }()
	go func() { desk.RunJeopardy(ctx); rd.done <- struct{}{} }()
	synctest.Wait()
	return rd
}

// stop ends both goroutines and closes the store, as a shutdown does.
func (rd *runningDesk) stop() {
	rd.cancel()
	<-rd.done
	<-rd.done
	if err := rd.db.Close(); err != nil {
		rd.t.Fatal(err)
	}
}

// mail delivers a mail received now; uid continues from the last one.
func (rd *runningDesk) mail(id, from, subject, body string, uid uint32) {
	rd.t.Helper()
	m := &bot.Mail{
		MessageID: id, From: bot.Address{Email: from}, To: []bot.Address{{Email: "support@example.org"}},
		Subject: subject, Text: body, Reply: body, DedupeKey: "mid:" + id, Received: time.Now(),
	}
	if _, err := rd.desk.Ingest(context.Background(), "INBOX", 1, []bot.Fetched{{UID: uid, Mail: m}}); err != nil {
		rd.t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// sleepUntil advances the bubble's clock to the London time s and lets
// every goroutine settle.
func sleepUntil(t *testing.T, s string) {
	t.Helper()
	time.Sleep(time.Until(at(t, s)))
	synctest.Wait()
}

// fired lists "RFA-n <clock> <pct>% @ <London time>" for every jeopardy
// event in the store, sorted.
func firedPoints(t *testing.T, rd *runningDesk) []string {
	t.Helper()
	all := allRFAs(t, rd.desk)
	var out []string
	for _, r := range all {
		for _, e := range r.Events {
			if e.Kind == bot.EventJeopardy {
				out = append(out, r.Ref()+" "+e.Text+" @ "+e.At.In(london).Format("Mon 15:04"))
			}
		}
	}
	sort.Strings(out)
	return out
}

func sameList(t *testing.T, what string, got, want []string) {
	t.Helper()
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestJeopardyWeek runs a week of desk time (23–28 November 2026, GMT)
// with four RFAs and two restarts, one of them with the desk down across
// a point.
func TestJeopardyWeek(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "desk.db")
		ctx := context.Background()
		sleepUntil(t, "2026-11-23 08:00")
		rd := startDesk(t, path)

		// RFA-1, Mon 09:00, Serious (workaround due Wed 09:00); a status
		// update at 09:50 meets first_update and response.
		sleepUntil(t, "2026-11-23 09:00")
		rd.mail("w1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "We cannot take registers", "Since this morning.", 1)
		must(t, rd.desk.SetSeverity(ctx, 1, bot.SeveritySerious, priya))
		must(t, rd.desk.Assign(ctx, 1, priya, priya))
		sleepUntil(t, "2026-11-23 09:50")
		must(t, rd.desk.PostUpdate(ctx, 1, bot.StaffMessage{By: priya, Text: "We are on it."}))

		// RFA-2, Mon 16:00, Critical, never answered: its points fire out
		// of hours too.
		sleepUntil(t, "2026-11-23 16:00")
		rd.mail("w2@elmpark.sch.uk", "h@elmpark.sch.uk", "Nobody can log in", "The whole school is locked out.", 2)
		must(t, rd.desk.SetSeverity(ctx, 2, bot.SeverityCritical, priya))

		// RFA-3, Mon 18:30 (after hours), Moderate from Tue 08:30; a
		// question on Wed 10:00 pauses it until the answer at 14:00.
		sleepUntil(t, "2026-11-23 18:30")
		rd.mail("w3@oakprimary.sch.uk", "t@oakprimary.sch.uk", "Report card layout", "One class report prints oddly.", 3)
		sleepUntil(t, "2026-11-24 08:30")
		must(t, rd.desk.SetSeverity(ctx, 3, bot.SeverityModerate, priya))

		// Restart with no gap.
		sleepUntil(t, "2026-11-24 12:00")
		rd.stop()
		rd = startDesk(t, path)

		sleepUntil(t, "2026-11-25 10:00")
		must(t, rd.desk.Ask(ctx, 3, bot.StaffMessage{By: priya, Text: "Which class?"}))
		sleepUntil(t, "2026-11-25 14:00")
		rd.mail("w3b@oakprimary.sch.uk", "t@oakprimary.sch.uk", "Re: [RFA-3] Question", "Year 4.", 4)
		if r := mustRFA(t, rd, 3); r.Status != bot.StatusOpen {
			t.Fatalf("RFA-3 did not resume: %s", r.Status)
		}

		// RFA-4, Wed 17:30, cleared Thu 08:50: nothing fires after (its
		// response 50% would have been Fri 05:30, delivered 08:00).
		sleepUntil(t, "2026-11-25 17:30")
		rd.mail("w4@elmpark.sch.uk", "q@elmpark.sch.uk", "Question about exports", "How do I export?", 5)
		sleepUntil(t, "2026-11-26 08:50")
		must(t, rd.desk.Clear(ctx, 4, bot.StaffMessage{By: priya, Text: "Use File > Export."}))

		// Down from Thu 12:00 to 15:00, across RFA-3's workaround 75%
		// (Thu 14:15): it fires once, at the restart.
		sleepUntil(t, "2026-11-26 12:00")
		rd.stop()
		sleepUntil(t, "2026-11-26 15:00")
		rd = startDesk(t, path)

		sleepUntil(t, "2026-11-28 12:00")
		defer rd.stop()

		sameList(t, "jeopardy events", firedPoints(t, rd), []string{
			"RFA-1 first_update 50% @ Mon 09:30",
			"RFA-1 first_update 75% @ Mon 09:45",
			"RFA-1 workaround 50% @ Tue 09:00",
			"RFA-1 workaround 75% @ Tue 13:30",
			"RFA-1 workaround 90% @ Tue 16:12",
			"RFA-1 workaround 100% @ Wed 09:00",

			"RFA-2 first_update 50% @ Mon 16:30",
			"RFA-2 first_update 75% @ Mon 16:45",
			"RFA-2 first_update 90% @ Mon 16:54",
			"RFA-2 first_update 100% @ Mon 17:00",
			"RFA-2 workaround 50% @ Tue 09:00",
			"RFA-2 workaround 75% @ Tue 10:00",
			"RFA-2 workaround 90% @ Tue 10:36",
			"RFA-2 workaround 100% @ Tue 11:00",
			"RFA-2 response 50% @ Wed 04:00",
			"RFA-2 response 75% @ Wed 22:00",
			"RFA-2 response 90% @ Thu 08:48",
			"RFA-2 response 100% @ Thu 16:00",

			"RFA-3 first_update 50% @ Tue 08:30",
			"RFA-3 first_update 75% @ Tue 08:45",
			// No 90% (manager) point: RFA-3 is not Critical.
			"RFA-3 first_update 100% @ Tue 09:00",
			"RFA-3 response 50% @ Wed 08:00", // reached Wed 06:30
			"RFA-3 workaround 50% @ Wed 16:30",
			"RFA-3 workaround 75% @ Thu 15:00", // reached Thu 14:15, desk down
			"RFA-3 workaround 90% @ Fri 09:18",
			"RFA-3 workaround 100% @ Fri 12:00",

			"RFA-4 first_update 50% @ Thu 08:30",
			"RFA-4 first_update 75% @ Thu 08:45",
		})

		cal := workcal.Default()
		all := allRFAs(t, rd.desk)
		var breaches []string
		for _, r := range all {
			for _, e := range r.Events {
				if e.Kind == bot.EventBreach {
					breaches = append(breaches, r.Ref()+" "+e.Text+" @ "+e.At.In(london).Format("Mon 15:04"))
				}
				if (e.Kind == bot.EventJeopardy || e.Kind == bot.EventBreach) && r.Severity != bot.SeverityCritical && !cal.IsOpen(e.At) {
					t.Errorf("%s: %s %q out of hours at %v", r.Ref(), e.Kind, e.Text, e.At.In(london))
				}
			}
		}
		sameList(t, "breach events", breaches, []string{
			"RFA-1 workaround @ Wed 09:00",
			"RFA-2 first_update @ Mon 17:00",
			"RFA-2 workaround @ Tue 11:00",
			"RFA-2 response @ Thu 16:00",
			"RFA-3 first_update @ Tue 09:00",
			"RFA-3 workaround @ Fri 12:00",
		})

		// Actions: 75% mentions the on-duty role; 90% and 100% tell the
		// manager by email and in the ops channel; 50% notes the assignee.
		items, err := rd.desk.Outbox(ctx)
		must(t, err)
		var mentions, managerMails, ops, notes int
		for _, it := range items {
			switch {
			case it.Chat != nil && it.Chat.Mention == onDutyRole:
				mentions++
			case it.Chat != nil && it.Chat.Op == bot.ChatOps:
				ops++
			case it.Chat != nil && strings.HasPrefix(it.Chat.Text, "For "):
				notes++
				if it.RFA == 1 && !strings.Contains(it.Chat.Text, "Priya Shah") {
					t.Errorf("RFA-1's note does not name its assignee: %q", it.Chat.Text)
				}
			case it.Mail != nil && it.Mail.Purpose == "SLA escalation to manager":
				managerMails++
				if it.Mail.To[0].Email != "boss@example.org" || !it.Mail.Auto {
					t.Errorf("manager mail = %+v", it.Mail)
				}
			}
		}
		if mentions != 8 || managerMails != 11 || ops != 11 || notes != 9 {
			t.Errorf("mentions %d (want 8), manager mails %d (want 11), ops posts %d (want 11), notes %d (want 9)",
				mentions, managerMails, ops, notes)
		}
		if r := mustRFA(t, rd, 1); r.SuggestedSeverity != bot.SeveritySerious {
			t.Errorf("RFA-1 suggested severity = %q, want serious", r.SuggestedSeverity)
		}
	})
}

func mustRFA(t *testing.T, rd *runningDesk, num uint64) *bot.RFA {
	t.Helper()
	r, err := rd.desk.RFA(context.Background(), num)
	must(t, err)
	return r
}

// TestJeopardyFiresAgainAfterReopen: a reopen starts a new workaround
// cycle whose points fire once each, across a restart.
func TestJeopardyFiresAgainAfterReopen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "desk.db")
		ctx := context.Background()
		sleepUntil(t, "2026-11-23 09:00")
		rd := startDesk(t, path)
		rd.mail("r1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "MIS down", "It is down.", 1)
		must(t, rd.desk.SetSeverity(ctx, 1, bot.SeverityCritical, priya))
		sleepUntil(t, "2026-11-23 10:00")
		must(t, rd.desk.Workaround(ctx, 1, bot.StaffMessage{By: priya, Text: "Use the backup server."}))
		sleepUntil(t, "2026-11-23 10:15")
		must(t, rd.desk.Clear(ctx, 1, bot.StaffMessage{By: priya, Text: "Fixed."}))
		sleepUntil(t, "2026-11-24 09:00")
		must(t, rd.desk.Reopen(ctx, 1, "still broken", priya))
		sleepUntil(t, "2026-11-24 12:10")
		rd.stop()
		rd = startDesk(t, path)
		defer rd.stop()
		sleepUntil(t, "2026-11-27 17:00")

		sameList(t, "jeopardy events", firedPoints(t, rd), []string{
			// first_update is met only by an update or the clearance (10:15).
			"RFA-1 first_update 50% @ Mon 09:30",
			"RFA-1 first_update 75% @ Mon 09:45",
			"RFA-1 first_update 90% @ Mon 09:54",
			"RFA-1 first_update 100% @ Mon 10:00",
			// Cycle 0 was met at 10:00 (its 50% would have been 11:00).
			"RFA-1 workaround 50% @ Tue 11:00",
			"RFA-1 workaround 75% @ Tue 12:00",
			"RFA-1 workaround 90% @ Tue 12:36",
			"RFA-1 workaround 100% @ Tue 13:00",
		})
		clocks := rd.desk.SLA().Clocks(mustRFA(t, rd, 1), time.Now())
		wa := clocks[len(clocks)-1]
		if wa.Cycle != 1 || wa.BreachedAt == nil || !wa.BreachedAt.Equal(at(t, "2026-11-24 13:00")) {
			t.Errorf("workaround after reopen = %+v", wa)
		}
	})
}

// TestJeopardyNeedsTheScheduler: without RunJeopardy the
// desk records nothing on its own (the intake tests rely on it).
func TestJeopardyNeedsTheScheduler(t *testing.T) {
	f := newFixture(t)
	f.ingest(mail("n1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken"))
	f.now = f.now.Add(30 * 24 * time.Hour)
	f.ingest(mail("n2@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Re: [RFA-1] Login", "hello?"))
	if hasEvent(f.rfa(1), bot.EventJeopardy) {
		t.Errorf("jeopardy recorded without the scheduler")
	}
}

// TestArmScheduleFiresWhatIsDue: arming reports the earliest point and
// fires those already due, once, with the desk's clock.
func TestArmScheduleFiresWhatIsDue(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.ingest(mail("ls1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login", "broken")) // received 08:59 UTC
	st, err := f.desk.ArmSchedule(ctx)
	must(t, err)
	if want := time.Date(2026, 11, 26, 9, 29, 0, 0, time.UTC); !st.Next.Equal(want) || st.Fired != 0 {
		t.Fatalf("schedule = %+v, want next at %v (first_update 50%%), nothing fired", st, want)
	}
	if st.Rebuilt != 1 {
		t.Errorf("first arming rebuilt %d RFAs, want 1 (no policy stored yet)", st.Rebuilt)
	}
	f.now = time.Date(2026, 11, 26, 9, 50, 0, 0, time.UTC) // past 50% and 75%
	for range 2 {
		st, err = f.desk.ArmSchedule(ctx)
		must(t, err)
		if st.Rebuilt != 0 {
			t.Errorf("arming again rebuilt %d RFAs, want 0 (policy unchanged)", st.Rebuilt)
		}
	}
	var got []string
	for _, e := range f.rfa(1).Events {
		if e.Kind == bot.EventJeopardy {
			got = append(got, e.Text+" @ "+e.At.Format("15:04"))
		}
	}
	sameList(t, "fired", got, []string{"first_update 50% @ 09:50", "first_update 75% @ 09:50"})
	if want := time.Date(2026, 11, 26, 9, 59, 0, 0, time.UTC); !st.Next.Equal(want) {
		t.Errorf("next = %v, want %v (first_update 100%%: no 90%% point on a non-Critical RFA)", st.Next, want)
	}
	if r := f.rfa(1); !r.NextEscalation.Equal(st.Next) {
		t.Errorf("RFA-1 NextEscalation = %v, want the schedule's %v", r.NextEscalation, st.Next)
	}
}
