package bot_test

import (
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
)

// clearedRFA is an RFA of org cleared at cleared.
func clearedRFA(org string, cleared time.Time) *bot.RFA {
	return &bot.RFA{
		Num: 1, Status: bot.StatusCleared, Channel: bot.ChannelEmail, Organisation: org,
		Created: cleared.Add(-48 * time.Hour), Requester: bot.Address{Email: "s@oakprimary.sch.uk"},
		Events: []bot.Event{
			{At: cleared.Add(-48 * time.Hour), Kind: bot.EventCreated},
			{At: cleared, Kind: bot.EventCleared, Actor: "Priya", Text: "Fixed."},
		},
	}
}

// TestConfirmByWindow: the confirmation window counts the desk's working
// days (Mon-Fri 08:00-17:00, bank holidays closed) minus the
// organisation's school holidays, its own or the default.
func TestConfirmByWindow(t *testing.T) {
	d := func(s string) workcal.Date {
		v, err := workcal.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	pol := bot.DefaultSLAPolicy(workcal.Default())
	pol.Holidays = map[string][]bot.DateRange{
		"": {
			{From: d("2026-10-26"), To: d("2026-10-30"), Name: "Half term"},
			{From: d("2026-12-19"), To: d("2027-01-04"), Name: "Christmas"},
		},
		"Elm Park Academy": {{From: d("2026-12-12"), To: d("2027-01-10"), Name: "Long Christmas"}},
	}
	for _, tc := range []struct {
		name, org, cleared, window, want string
	}{
		{"plain week", "Oak Primary School", "2026-11-02 10:00", "5 working days", "2026-11-09 10:00"},
		{"across a weekend", "Oak Primary School", "2026-11-27 16:00", "5 working days", "2026-12-04 16:00"},
		{"cleared on a Saturday starts Monday", "Oak Primary School", "2026-11-28 11:00", "5 working days", "2026-12-04 17:00"},
		{"cleared after hours", "Oak Primary School", "2026-11-30 19:00", "1 working day", "2026-12-01 17:00"},
		{"half term skipped", "Oak Primary School", "2026-10-23 12:00", "5 working days", "2026-11-06 12:00"},
		{"last day of autumn term closes in January", "Oak Primary School", "2026-12-18 14:00", "5 working days", "2027-01-11 14:00"},
		{"the school's own longer holiday", "Elm Park Academy", "2026-12-11 14:00", "5 working days", "2027-01-15 14:00"},
		{"bank holidays in the school's term", "Elm Park Academy", "2026-10-23 12:00", "5 working days", "2026-10-30 12:00"},
		{"two working weeks over Easter bank holidays", "Oak Primary School", "2027-03-24 09:00", "2 working weeks", "2027-04-09 09:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pol.ConfirmWindow = target(t, tc.window)
			got, ok := pol.ConfirmBy(clearedRFA(tc.org, at(t, tc.cleared)))
			if !ok || !got.Equal(at(t, tc.want)) {
				t.Errorf("confirm by = %v (%v), want %s", got.In(london), ok, tc.want)
			}
		})
	}

	// Without school holidays the same clearance closes before Christmas,
	// the bank holidays of 25 and 28 December skipped.
	plain := bot.DefaultSLAPolicy(workcal.Default())
	if got, _ := plain.ConfirmBy(clearedRFA("Oak Primary School", at(t, "2026-12-18 14:00"))); !got.Equal(at(t, "2026-12-29 14:00")) {
		t.Errorf("without school holidays: %v, want Tue 29 Dec 14:00", got.In(london))
	}
	// Only a cleared RFA has a window.
	r := clearedRFA("Oak Primary School", at(t, "2026-11-02 10:00"))
	r.Status = bot.StatusClosed
	if _, ok := plain.ConfirmBy(r); ok {
		t.Error("a closed RFA has a confirm_by")
	}
	r.Status = bot.StatusCleared
	r.Events = append(r.Events, bot.Event{At: at(t, "2026-11-03 10:00"), Kind: bot.EventReopened})
	if _, ok := plain.ConfirmBy(r); ok {
		t.Error("a clearance undone by a reopen still has a confirm_by")
	}
	// "off": nothing closes by itself.
	plain.ConfirmWindow = workcal.Target{}
	if _, ok := plain.ConfirmBy(clearedRFA("Oak Primary School", at(t, "2026-11-02 10:00"))); ok {
		t.Error("confirm_window off still gives a confirm_by")
	}
}
