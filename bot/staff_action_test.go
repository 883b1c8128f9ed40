package bot_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
)

var apiAdmin = bot.Actor{Name: "admin", ID: "api:admin"}

func ptr[T any](v T) *T { return &v }

// lastEvent returns r's newest history entry.
func lastEvent(t *testing.T, r *bot.RFA) bot.Event {
	t.Helper()
	if len(r.Events) == 0 {
		t.Fatalf("%s has no history", r.Ref())
	}
	return r.Events[len(r.Events)-1]
}

func TestEveryStaffActionIsAttributed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.ingest(mail("s1@oakprimary.sch.uk", "Sarah|s@oakprimary.sch.uk", "Login broken", "It is broken."))
	steps := []struct {
		a      bot.StaffAction
		kind   bot.EventKind
		mailed bool
		status bot.Status
	}{
		{bot.StaffAction{Kind: bot.ActSeverity, Severity: "Serious"}, bot.EventSeverity, true, bot.StatusOpen},
		{bot.StaffAction{Kind: bot.ActAssign, Assignee: bot.Actor{Name: "Tom Reid"}}, bot.EventAssigned, false, bot.StatusOpen},
		{bot.StaffAction{Kind: bot.ActReply, Text: "Looking now."}, bot.EventStaffReply, true, bot.StatusOpen},
		{bot.StaffAction{Kind: bot.ActNote, Text: "Checked the logs."}, bot.EventNote, false, bot.StatusOpen},
		{bot.StaffAction{Kind: bot.ActUpdate, Text: "Fix in test."}, bot.EventStatusUpdate, true, bot.StatusOpen},
		{bot.StaffAction{Kind: bot.ActAsk, Text: "Which browser?"}, bot.EventAsked, true, bot.StatusAwaitingRequester},
		{bot.StaffAction{Kind: bot.ActWorkaround, Text: "Use Firefox."}, bot.EventWorkaround, true, bot.StatusOpen},
		{bot.StaffAction{Kind: bot.ActRelease, Release: "2026.12", ShipsOn: "2026-12-10"}, bot.EventRelease, true, bot.StatusOpen}, // the requester is told the release
		{bot.StaffAction{Kind: bot.ActSetFields, Fields: bot.FieldChanges{Site: ptr("Annexe")}}, bot.EventFieldsSet, false, bot.StatusOpen},
		{bot.StaffAction{Kind: bot.ActClear, Text: "Session store fixed."}, bot.EventCleared, true, bot.StatusCleared},
		{bot.StaffAction{Kind: bot.ActReopen, Text: "Back again."}, bot.EventReopened, false, bot.StatusOpen},
	}
	for _, s := range steps {
		before := len(f.outbox())
		if err := f.desk.Do(ctx, 1, s.a, apiAdmin); err != nil {
			t.Fatalf("%s: %v", s.a.Kind, err)
		}
		r := f.rfa(1)
		e := lastEvent(t, r)
		if e.Kind != s.kind || e.Actor != "admin (api:admin)" {
			t.Errorf("%s recorded %q by %q, want %q by admin (api:admin)", s.a.Kind, e.Kind, e.Actor, s.kind)
		}
		if r.Status != s.status {
			t.Errorf("%s left status %s, want %s", s.a.Kind, r.Status, s.status)
		}
		if mailed := len(f.outbox()) > before; mailed != s.mailed {
			t.Errorf("%s mailed = %v, want %v", s.a.Kind, mailed, s.mailed)
		}
	}
	r := f.rfa(1)
	if r.Severity != bot.SeveritySerious || r.Assignee != "Tom Reid" || r.Report.Site != "Annexe" {
		t.Errorf("RFA after the actions: severity %q, assignee %q, site %q", r.Severity, r.Assignee, r.Report.Site)
	}
	// The release ships at the end of its day in the desk's zone
	// (Europe/London: UTC in December).
	if want := time.Date(2026, 12, 11, 0, 0, 0, 0, time.UTC); r.Release == nil || !r.Release.Ships.Equal(want) {
		t.Errorf("release = %+v, want shipping %v", r.Release, want)
	}
}

func TestStaffActionErrorsChangeNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.ingest(mail("e1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login broken", "It is broken."))
	cases := []struct {
		name string
		num  uint64
		a    bot.StaffAction
		want error
	}{
		{"no action", 1, bot.StaffAction{}, bot.ErrInvalid},
		{"unknown action", 1, bot.StaffAction{Kind: "delete"}, bot.ErrInvalid},
		{"bad severity", 1, bot.StaffAction{Kind: bot.ActSeverity, Severity: "urgent"}, bot.ErrInvalid},
		{"assign to nobody", 1, bot.StaffAction{Kind: bot.ActAssign}, bot.ErrInvalid},
		{"empty reply", 1, bot.StaffAction{Kind: bot.ActReply, Text: "  "}, bot.ErrInvalid},
		{"empty note", 1, bot.StaffAction{Kind: bot.ActNote}, bot.ErrInvalid},
		{"huge update", 1, bot.StaffAction{Kind: bot.ActUpdate, Text: strings.Repeat("x", 17<<10)}, bot.ErrInvalid},
		{"clear without resolution", 1, bot.StaffAction{Kind: bot.ActClear}, bot.ErrInvalid},
		{"reopen without reason", 1, bot.StaffAction{Kind: bot.ActReopen}, bot.ErrInvalid},
		{"release without name", 1, bot.StaffAction{Kind: bot.ActRelease, ShipsOn: "2026-12-10"}, bot.ErrInvalid},
		{"release bad date", 1, bot.StaffAction{Kind: bot.ActRelease, Release: "x", ShipsOn: "10/12/2026"}, bot.ErrInvalid},
		{"no fields", 1, bot.StaffAction{Kind: bot.ActSetFields}, bot.ErrInvalid},
		{"bad replicate", 1, bot.StaffAction{Kind: bot.ActSetFields, Fields: bot.FieldChanges{CanReplicate: ptr("maybe")}}, bot.ErrInvalid},
		{"unknown RFA", 99, bot.StaffAction{Kind: bot.ActNote, Text: "x"}, bot.ErrNotFound},
		{"reopen an open RFA", 1, bot.StaffAction{Kind: bot.ActReopen, Text: "why not"}, bot.ErrNotAllowed},
	}
	before := f.rfa(1)
	for _, c := range cases {
		err := f.desk.Do(ctx, c.num, c.a, apiAdmin)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	if after := f.rfa(1); !reflect.DeepEqual(before, after) {
		t.Errorf("refused actions changed the RFA:\nbefore %+v\nafter  %+v", before, after)
	}
	if err := f.desk.Do(ctx, 1, bot.StaffAction{Kind: bot.ActClear, Text: "done"}, apiAdmin); err != nil {
		t.Fatal(err)
	}
	for _, a := range []bot.StaffAction{{Kind: bot.ActClear, Text: "again"}, {Kind: bot.ActAsk, Text: "?"}} {
		if err := f.desk.Do(ctx, 1, a, apiAdmin); !errors.Is(err, bot.ErrNotAllowed) {
			t.Errorf("%s on a cleared RFA: %v, want ErrNotAllowed", a.Kind, err)
		}
	}
}

func TestSetFieldsCorrectsReportAndOrganisation(t *testing.T) {
	f := newFixtureWith(t, func(c *bot.DeskConfig) { c.Chat = true })
	ctx := context.Background()
	f.ingest(mail("f1@oakprimary.sch.uk", "s@oakprimary.sch.uk", "Login broken", "It is broken."))
	cards := func() int {
		n := 0
		for _, it := range f.outbox() {
			if it.Chat != nil && it.Chat.Op == bot.ChatCard {
				n++
			}
		}
		return n
	}
	before := cards()
	fc := bot.FieldChanges{
		Site: ptr(" Main\nbuilding "), Components: ptr([]string{"Login", " Registers ", "Login", ""}),
		ActionTaken: ptr("Restarted"), ErrorMessage: ptr("E1042 \u202eexe.pdf"), CanReplicate: ptr("YES"),
		Organisation: ptr("elm park academy"),
	}
	if err := f.desk.Do(ctx, 1, bot.StaffAction{Kind: bot.ActSetFields, Fields: fc}, apiAdmin); err != nil {
		t.Fatal(err)
	}
	r := f.rfa(1)
	want := bot.Report{Site: "Main building", Components: []string{"Login", "Registers"}, ActionTaken: "Restarted",
		ErrorMessage: "E1042 exe.pdf", CanReplicate: bot.ReplicateYes}
	if !reflect.DeepEqual(r.Report, want) {
		t.Errorf("report = %+v, want %+v", r.Report, want)
	}
	if r.Organisation != "Elm Park Academy" || r.Trust != "Riverside Learning Trust" {
		t.Errorf("organisation = %q (%q)", r.Organisation, r.Trust)
	}
	e := lastEvent(t, r)
	if e.Kind != bot.EventFieldsSet || e.Actor != "admin (api:admin)" || !strings.Contains(e.Text, `site: "Main building"`) ||
		!strings.Contains(e.Text, `organisation: "Elm Park Academy"`) {
		t.Errorf("event = %+v", e)
	}
	if cards() != before+1 {
		t.Errorf("chat card refreshes queued: %d, want %d", cards(), before+1)
	}

	// An unknown school clears the trust; the same values again record
	// nothing and queue nothing.
	events := len(f.rfa(1).Events)
	if err := f.desk.Do(ctx, 1, bot.StaffAction{Kind: bot.ActSetFields, Fields: bot.FieldChanges{Organisation: ptr("Birch Infants")}}, priya); err != nil {
		t.Fatal(err)
	}
	if r := f.rfa(1); r.Organisation != "Birch Infants" || r.Trust != "" || lastEvent(t, r).Actor != priya.String() {
		t.Errorf("organisation = %q (%q), by %q", r.Organisation, r.Trust, lastEvent(t, r).Actor)
	}
	if err := f.desk.Do(ctx, 1, bot.StaffAction{Kind: bot.ActSetFields, Fields: bot.FieldChanges{Site: ptr("Main building")}}, priya); err != nil {
		t.Fatal(err)
	}
	if n := len(f.rfa(1).Events); n != events+1 {
		t.Errorf("history grew by %d, want 1 (the unchanged site is not recorded)", n-events)
	}
	if cards() != before+2 {
		t.Errorf("chat card refreshes queued: %d, want %d", cards(), before+2)
	}
}

func TestPhoneCallerWithoutEmailIsNotMailed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r, err := f.desk.LogCall(ctx, bot.PhoneCall{By: apiAdmin, Caller: bot.Address{Name: "Ann Lee"},
		Subject: "Printer jammed", Description: "The office printer jams.", Organisation: "oak primary school"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Organisation != "Oak Primary School" || r.Trust != "Riverside Learning Trust" {
		t.Errorf("organisation = %q (%q)", r.Organisation, r.Trust)
	}
	for _, a := range []bot.StaffAction{{Kind: bot.ActUpdate, Text: "Engineer booked."}, {Kind: bot.ActClear, Text: "Rollers replaced."}} {
		if err := f.desk.Do(ctx, r.Num, a, apiAdmin); err != nil {
			t.Fatalf("%s: %v", a.Kind, err)
		}
	}
	if n := len(f.outbox()); n != 0 {
		t.Errorf("a caller with no email address was mailed (%d items)", n)
	}
	got := f.rfa(r.Num)
	if got.Status != bot.StatusCleared || len(got.Messages) != 3 {
		t.Errorf("status %s, %d messages; want cleared and the call plus two recorded messages", got.Status, len(got.Messages))
	}
	if _, err := f.desk.LogCall(ctx, bot.PhoneCall{By: apiAdmin, Subject: " "}); !errors.Is(err, bot.ErrInvalid) {
		t.Errorf("a call without a subject: %v, want ErrInvalid", err)
	}
}
