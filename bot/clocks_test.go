package bot_test

import (
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
)

var london = workcal.Default().Location()

// at reads "2006-01-02 15:04" in Europe/London.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, london)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func target(t testing.TB, s string) workcal.Target {
	t.Helper()
	v, err := workcal.ParseTarget(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// ev is an event at a London time.
type ev struct {
	at   string
	kind bot.EventKind
	text string
}

// wantClock is what one clock should say; "" times mean zero or nil.
type wantClock struct {
	target        string
	cycle         int
	start, due    string
	met, breached string
	paused        bool
	used, left    time.Duration
	skipUsed      bool
}

func TestClocks(t *testing.T) {
	cases := []struct {
		name     string
		response string // policy response target; "" is the default
		release  string // Minor release due; "" none
		channel  bot.Channel
		created  string
		severity bot.Severity
		events   []ev
		now      string
		want     map[bot.ClockName]wantClock // by clock name; absent clocks must not exist
	}{
		{
			name: "response met by a staff reply, wall hours", created: "2026-11-23 10:00",
			events: []ev{{"2026-11-24 09:00", bot.EventStaffReply, "hi"}}, now: "2026-11-27 12:00",
			want: map[bot.ClockName]wantClock{
				bot.ClockResponse:    {target: "72 hours", start: "2026-11-23 10:00", due: "2026-11-26 10:00", met: "2026-11-24 09:00", used: 23 * time.Hour, left: 49 * time.Hour},
				bot.ClockFirstUpdate: {target: "1 working hour", start: "2026-11-23 10:00", due: "2026-11-23 11:00", met: "2026-11-24 09:00", breached: "2026-11-23 11:00", skipUsed: true},
				bot.ClockWorkaround:  {start: "2026-11-23 10:00"},
			},
		},
		{
			name: "first update met by a plain reply", created: "2026-11-23 10:00",
			events: []ev{{"2026-11-23 10:40", bot.EventStaffReply, "looking"}}, now: "2026-11-23 12:00",
			want: map[bot.ClockName]wantClock{
				bot.ClockFirstUpdate: {target: "1 working hour", start: "2026-11-23 10:00", due: "2026-11-23 11:00", met: "2026-11-23 10:40", used: 40 * time.Minute, left: 20 * time.Minute},
			},
		},
		{
			name: "first update met by a question", created: "2026-11-23 10:00",
			events: []ev{{"2026-11-23 10:20", bot.EventAsked, "which?"}}, now: "2026-11-23 12:00",
			want: map[bot.ClockName]wantClock{
				bot.ClockFirstUpdate: {target: "1 working hour", start: "2026-11-23 10:00", due: "2026-11-23 11:00", met: "2026-11-23 10:20", used: 20 * time.Minute, left: 40 * time.Minute},
			},
		},
		{
			name: "triage met by the first severity", created: "2026-11-23 16:00", severity: bot.SeveritySerious,
			events: []ev{{"2026-11-24 08:45", bot.EventSeverity, "moderate"}, {"2026-11-24 11:00", bot.EventSeverity, "serious"}}, now: "2026-11-24 12:00",
			want: map[bot.ClockName]wantClock{
				bot.ClockTriage: {target: "2 working hours", start: "2026-11-23 16:00", due: "2026-11-24 09:00", met: "2026-11-24 08:45", used: 105 * time.Minute, left: 15 * time.Minute},
			},
		},
		{
			name: "an RFA awaiting triage breaches the triage clock", created: "2026-11-23 10:00", now: "2026-11-23 13:00",
			want: map[bot.ClockName]wantClock{
				bot.ClockTriage:     {target: "2 working hours", start: "2026-11-23 10:00", due: "2026-11-23 12:00", breached: "2026-11-23 12:00", used: 3 * time.Hour},
				bot.ClockWorkaround: {start: "2026-11-23 10:00"},
			},
		},
		{
			name: "escalation met by a reply after it, not before", created: "2026-11-23 09:00",
			events: []ev{
				{"2026-11-23 09:30", bot.EventStaffReply, "early"},
				{"2026-11-23 14:00", bot.EventOwner, "Mo Manager"},
				{"2026-11-23 14:40", bot.EventStatusUpdate, "on it"},
			}, now: "2026-11-23 16:00",
			want: map[bot.ClockName]wantClock{
				bot.ClockEscalation: {target: "1 working hour", start: "2026-11-23 14:00", due: "2026-11-23 15:00", met: "2026-11-23 14:40", used: 40 * time.Minute, left: 20 * time.Minute},
			},
		},
		{
			name: "a second escalation starts a new escalation cycle", created: "2026-11-23 09:00",
			events: []ev{
				{"2026-11-23 10:00", bot.EventOwner, "Mo Manager"},
				{"2026-11-23 10:30", bot.EventStaffReply, "on it"},
				{"2026-11-23 16:30", bot.EventOwner, "Mo Manager"},
			}, now: "2026-11-24 09:00",
			want: map[bot.ClockName]wantClock{
				bot.ClockEscalation: {target: "1 working hour", cycle: 1, start: "2026-11-23 16:30", due: "2026-11-24 08:30", breached: "2026-11-24 08:30", used: 90 * time.Minute},
			},
		},
		{
			name: "response breached: the acknowledgement does not count", created: "2026-11-23 10:00",
			events: []ev{{"2026-11-23 10:00", bot.EventAckQueued, "ack"}, {"2026-11-23 10:01", bot.EventMailSent, "ack sent"}}, now: "2026-11-27 12:00",
			want: map[bot.ClockName]wantClock{
				bot.ClockResponse: {target: "72 hours", start: "2026-11-23 10:00", due: "2026-11-26 10:00", breached: "2026-11-26 10:00", used: 98 * time.Hour},
			},
		},
		{
			name: "response in working hours from Friday afternoon", response: "24 working hours", created: "2026-11-27 16:00", now: "2026-11-30 09:00",
			want: map[bot.ClockName]wantClock{
				bot.ClockResponse: {target: "24 working hours", start: "2026-11-27 16:00", due: "2026-12-02 13:00", used: 2 * time.Hour, left: 22 * time.Hour},
			},
		},
		{
			name: "the same Friday afternoon in wall hours runs through the weekend", created: "2026-11-27 16:00", now: "2026-11-30 09:00",
			want: map[bot.ClockName]wantClock{
				bot.ClockResponse: {target: "72 hours", start: "2026-11-27 16:00", due: "2026-11-30 16:00", used: 65 * time.Hour, left: 7 * time.Hour},
			},
		},
		{
			name: "phone RFAs have no response clock", channel: bot.ChannelPhone, created: "2026-11-23 10:00", now: "2026-11-23 10:30",
			want: map[bot.ClockName]wantClock{
				bot.ClockFirstUpdate: {target: "1 working hour", start: "2026-11-23 10:00", due: "2026-11-23 11:00", used: 30 * time.Minute, left: 30 * time.Minute},
				bot.ClockWorkaround:  {start: "2026-11-23 10:00"},
			},
		},
		{
			name: "first update across the evening, met next morning", created: "2026-11-23 16:30",
			events: []ev{{"2026-11-24 08:10", bot.EventStatusUpdate, "looking"}}, now: "2026-11-24 12:00",
			want: map[bot.ClockName]wantClock{
				bot.ClockFirstUpdate: {target: "1 working hour", start: "2026-11-23 16:30", due: "2026-11-24 08:30", met: "2026-11-24 08:10", used: 40 * time.Minute, left: 20 * time.Minute},
			},
		},
		{
			name: "critical workaround runs from the report, not from triage", created: "2026-11-23 10:00", severity: bot.SeverityCritical,
			events: []ev{{"2026-11-23 10:30", bot.EventSeverity, "critical"}}, now: "2026-11-23 11:00",
			want: map[bot.ClockName]wantClock{
				bot.ClockWorkaround: {target: "4 working hours", start: "2026-11-23 10:00", due: "2026-11-23 14:00", used: time.Hour, left: 3 * time.Hour},
			},
		},
		{
			name: "severity raised from moderate to critical recomputes from the report", created: "2026-11-23 10:00", severity: bot.SeverityCritical,
			events: []ev{{"2026-11-23 10:30", bot.EventSeverity, "moderate"}, {"2026-11-23 15:00", bot.EventSeverity, "critical"}}, now: "2026-11-23 15:00",
			want: map[bot.ClockName]wantClock{
				bot.ClockWorkaround: {target: "4 working hours", start: "2026-11-23 10:00", due: "2026-11-23 14:00", breached: "2026-11-23 14:00", used: 5 * time.Hour},
			},
		},
		{
			name: "moderate is three working days", created: "2026-11-23 10:00", severity: bot.SeverityModerate, now: "2026-11-23 15:00",
			want: map[bot.ClockName]wantClock{
				bot.ClockWorkaround: {target: "3 working days", start: "2026-11-23 10:00", due: "2026-11-26 10:00", used: 5 * time.Hour, left: 22 * time.Hour},
			},
		},
		{
			name: "paused over a weekend: still paused on Saturday", created: "2026-11-26 10:00", severity: bot.SeveritySerious,
			events: []ev{{"2026-11-27 12:00", bot.EventAsked, "which browser?"}}, now: "2026-11-28 12:00",
			want: map[bot.ClockName]wantClock{
				// As if resumed now: 7h left from Monday's opening.
				bot.ClockWorkaround: {target: "2 working days", start: "2026-11-26 10:00", due: "2026-11-30 15:00", paused: true, used: 11 * time.Hour, left: 7 * time.Hour},
			},
		},
		{
			name: "paused over a weekend: the due moves by the paused working time", created: "2026-11-26 10:00", severity: bot.SeveritySerious,
			events: []ev{{"2026-11-27 12:00", bot.EventAsked, "which browser?"}, {"2026-11-30 10:00", bot.EventResumed, "Edge"}}, now: "2026-11-30 11:00",
			want: map[bot.ClockName]wantClock{
				bot.ClockWorkaround: {target: "2 working days", start: "2026-11-26 10:00", due: "2026-11-30 17:00", used: 12 * time.Hour, left: 6 * time.Hour},
			},
		},
		{
			name: "an answer recorded late with an earlier receipt time is read in time order", created: "2026-11-26 10:00", severity: bot.SeveritySerious,
			events: []ev{{"2026-11-27 12:00", bot.EventAsked, "a"}, {"2026-11-27 14:00", bot.EventAsked, "b"}, {"2026-11-27 13:00", bot.EventResumed, "answer"}}, now: "2026-11-27 13:30",
			want: map[bot.ClockName]wantClock{
				bot.ClockWorkaround: {target: "2 working days", start: "2026-11-26 10:00", due: "2026-11-30 11:00", used: 11*time.Hour + 30*time.Minute, left: 6*time.Hour + 30*time.Minute},
			},
		},
		{
			name: "met late is met and breached", created: "2026-11-23 09:00", severity: bot.SeverityCritical,
			events: []ev{{"2026-11-23 15:00", bot.EventWorkaround, "restart"}}, now: "2026-11-24 09:00",
			want: map[bot.ClockName]wantClock{
				bot.ClockResponse:   {target: "72 hours", start: "2026-11-23 09:00", due: "2026-11-26 09:00", met: "2026-11-23 15:00", used: 6 * time.Hour, left: 66 * time.Hour},
				bot.ClockWorkaround: {target: "4 working hours", start: "2026-11-23 09:00", due: "2026-11-23 13:00", met: "2026-11-23 15:00", breached: "2026-11-23 13:00", used: 6 * time.Hour},
			},
		},
		{
			name: "clearing meets every clock", created: "2026-11-23 09:00", severity: bot.SeverityMinor,
			events: []ev{{"2026-11-23 09:20", bot.EventCleared, "fixed"}}, now: "2026-11-24 09:00",
			want: map[bot.ClockName]wantClock{
				bot.ClockResponse:    {target: "72 hours", start: "2026-11-23 09:00", due: "2026-11-26 09:00", met: "2026-11-23 09:20", skipUsed: true},
				bot.ClockFirstUpdate: {target: "1 working hour", start: "2026-11-23 09:00", due: "2026-11-23 10:00", met: "2026-11-23 09:20", skipUsed: true},
				bot.ClockWorkaround:  {target: "2 working weeks", start: "2026-11-23 09:00", due: "2026-12-07 09:00", met: "2026-11-23 09:20", used: 20 * time.Minute, left: 90*time.Hour - 20*time.Minute},
			},
		},
		{
			name: "a reopen starts a new workaround cycle from the reopen", created: "2026-11-23 09:00", severity: bot.SeverityCritical,
			events: []ev{
				{"2026-11-23 11:00", bot.EventWorkaround, "restart"},
				{"2026-11-23 12:00", bot.EventCleared, "fixed"},
				{"2026-11-24 10:00", bot.EventReopened, "still broken"},
			}, now: "2026-11-24 15:00",
			want: map[bot.ClockName]wantClock{
				bot.ClockResponse:   {target: "72 hours", start: "2026-11-23 09:00", due: "2026-11-26 09:00", met: "2026-11-23 11:00", skipUsed: true},
				bot.ClockWorkaround: {target: "4 working hours", cycle: 1, start: "2026-11-24 10:00", due: "2026-11-24 14:00", breached: "2026-11-24 14:00", used: 5 * time.Hour},
			},
		},
		{
			name: "a minor RFA assigned to a release is due at the release", created: "2026-11-23 09:00", severity: bot.SeverityMinor, release: "2027-01-15 08:00", now: "2026-11-23 10:00",
			want: map[bot.ClockName]wantClock{
				bot.ClockWorkaround: {target: "2 working weeks", start: "2026-11-23 09:00", due: "2027-01-15 08:00", used: time.Hour, skipUsed: true},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := bot.DefaultSLAPolicy(workcal.Default())
			if c.response != "" {
				p.Response = target(t, c.response)
			}
			r := &bot.RFA{Num: 1, Channel: bot.ChannelEmail, Created: at(t, c.created), Severity: c.severity}
			if c.release != "" {
				r.Release = &bot.Release{Name: "2026.12", Ships: at(t, c.release)}
			}
			if c.channel != "" {
				r.Channel = c.channel
			}
			r.Events = append(r.Events, bot.Event{At: r.Created, Kind: bot.EventCreated})
			for _, e := range c.events {
				r.Events = append(r.Events, bot.Event{At: at(t, e.at), Kind: e.kind, Text: e.text})
			}
			got := p.Clocks(r, at(t, c.now))
			byName := map[bot.ClockName]bot.ClockState{}
			var order []bot.ClockName
			for _, s := range got {
				byName[s.Name] = s
				order = append(order, s.Name)
			}
			wantOrder := []bot.ClockName{bot.ClockResponse, bot.ClockTriage, bot.ClockFirstUpdate, bot.ClockWorkaround}
			if r.Channel == bot.ChannelPhone {
				wantOrder = wantOrder[1:]
			}
			if r.Owner() != "" {
				wantOrder = append(wantOrder, bot.ClockEscalation)
			}
			if len(order) != len(wantOrder) {
				t.Fatalf("clocks %v, want %v", order, wantOrder)
			}
			for i := range order {
				if order[i] != wantOrder[i] {
					t.Fatalf("clocks %v, want %v", order, wantOrder)
				}
			}
			for name, w := range c.want {
				checkClock(t, byName[name], name, w)
			}
		})
	}
}

func checkClock(t *testing.T, s bot.ClockState, name bot.ClockName, w wantClock) {
	t.Helper()
	optTime := func(label string, got *time.Time, want string) {
		t.Helper()
		switch {
		case want == "" && got != nil:
			t.Errorf("%s %s = %v, want none", name, label, got.In(london))
		case want != "" && (got == nil || !got.Equal(at(t, want))):
			t.Errorf("%s %s = %v, want %s", name, label, got, want)
		}
	}
	gotTarget := ""
	if s.Target != (workcal.Target{}) {
		gotTarget = s.Target.String()
	}
	if gotTarget != w.target {
		t.Errorf("%s target = %q, want %q", name, gotTarget, w.target)
	}
	if s.Cycle != w.cycle {
		t.Errorf("%s cycle = %d, want %d", name, s.Cycle, w.cycle)
	}
	if !s.Start.Equal(at(t, w.start)) {
		t.Errorf("%s start = %v, want %s", name, s.Start.In(london), w.start)
	}
	if w.due == "" && !s.Due.IsZero() {
		t.Errorf("%s due = %v, want none", name, s.Due.In(london))
	}
	if w.due != "" && !s.Due.Equal(at(t, w.due)) {
		t.Errorf("%s due = %v, want %s", name, s.Due.In(london), w.due)
	}
	optTime("met", s.MetAt, w.met)
	optTime("breached", s.BreachedAt, w.breached)
	if s.Paused != w.paused {
		t.Errorf("%s paused = %v, want %v", name, s.Paused, w.paused)
	}
	if !w.skipUsed && (s.Used != w.used || s.Left != w.left) {
		t.Errorf("%s used %v left %v, want %v and %v", name, s.Used, s.Left, w.used, w.left)
	}
}

// TestClocksAreAPureFunctionOfHistory: the clocks at a moment do not
// depend on when they are asked for beyond that moment, and a clock that
// is met stops using time.
func TestClocksAreAPureFunctionOfHistory(t *testing.T) {
	p := bot.DefaultSLAPolicy(workcal.Default())
	r := &bot.RFA{Channel: bot.ChannelEmail, Created: at(t, "2026-11-23 09:00"), Severity: bot.SeverityModerate}
	r.Events = []bot.Event{{At: at(t, "2026-11-23 12:00"), Kind: bot.EventWorkaround}}
	a := p.Clocks(r, at(t, "2026-11-24 09:00"))
	b := p.Clocks(r, at(t, "2027-03-01 09:00"))
	if a[2].Used != 3*time.Hour || b[2].Used != a[2].Used || !a[2].Due.Equal(b[2].Due) {
		t.Errorf("met workaround moved: %+v then %+v", a[2], b[2])
	}
}
