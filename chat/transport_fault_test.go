package chat_test

import (
	"context"
	"log/slog"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/chat"
	"rfadesk/chat/discordtest"
	"rfadesk/demo/faultproxy"
	"rfadesk/store"
)

// The tests in this file run a real Desk on a bbolt file and a chat
// Deliverer with the console's transport, over real TCP through
// demo/faultproxy to the fake Discord, and check that each failure ends
// as chat/transport.go classifies it and bot/deliver.go handles it: 5xx
// → retried, the card posted once; 401 → sending paused with an alarm
// naming discord.token, the card kept and posted once the pause ends;
// 403 and 404 → refused for good and recorded on the RFA. Discord's 429
// (a route's limit and the global one) is covered to the nanosecond
// inside a synctest bubble in ratelimit_test.go.

// faultRig is a desk, a chat deliverer and the fake Discord behind a
// fault proxy.
type faultRig struct {
	t      *testing.T
	fake   *discordtest.Server
	proxy  *faultproxy.Proxy
	desk   *bot.Desk
	mu     sync.Mutex
	alarms []string
}

func startFaultRig(t *testing.T) *faultRig {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "desk.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	fake := discordtest.New(&discordtest.Options{GuildID: guildID})
	u, err := url.Parse(fake.APIBase())
	if err != nil {
		t.Fatal(err)
	}
	p, err := faultproxy.New(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	r := &faultRig{t: t, fake: fake, proxy: p}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	var deliverer atomic.Pointer[bot.Deliverer]
	r.desk = bot.NewDesk(db, bot.DeskConfig{
		Name:      "Example Service Desk",
		Address:   bot.Address{Name: "Example Service Desk", Email: "support@example.org"},
		BaseURL:   "https://support.example.org",
		LoopValue: "support@example.org",
		Organisations: []bot.Organisation{
			{Name: "Oak Primary School", Domains: []string{"oakprimary.sch.uk"}},
		},
		Chat: true,
	}, &bot.DeskOptions{Now: func() time.Time { return now }, Logger: log, OnOutbox: func() {
		if d := deliverer.Load(); d != nil {
			d.Kick()
		}
	}})
	console, err := chat.New(chat.Config{Token: "test-token", GuildID: guildID, ChannelID: channelID, StaffRoleID: staffRole,
		APIBase: "http://" + p.Addr() + "/api/v9"}, r.desk, &chat.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	// The deliverer's clock runs ahead of the desk's and moves with real
	// time: retries are due at once and a credentials pause ends.
	start := time.Now()
	d := bot.NewDeliverer(r.desk, console.Transport(), &bot.DelivererOptions{
		Now:       func() time.Time { return now.Add(48*time.Hour + time.Since(start)) },
		Logger:    log,
		AuthHint:  "check discord.token",
		AuthPause: 300 * time.Millisecond,
		Idle:      50 * time.Millisecond,
		Health: func(ok bool, reason string) {
			if !ok {
				r.mu.Lock()
				r.alarms = append(r.alarms, reason)
				r.mu.Unlock()
			}
		},
	})
	deliverer.Store(d)
	ctx, cancel := context.WithCancel(context.Background())
	deskCtx, stopDesk := context.WithCancel(context.Background())
	deskDone, deliverDone := make(chan struct{}), make(chan struct{})
	go func() { r.desk.Run(deskCtx); close(deskDone) }()
	go func() { d.Run(ctx); close(deliverDone) }()
	t.Cleanup(func() {
		cancel()
		<-deliverDone
		stopDesk()
		<-deskDone
		p.Close()
		fake.Close()
		db.Close()
	})
	return r
}

// ingest makes RFA-1 from a requester's mail; its card is queued.
func (r *faultRig) ingest() {
	r.t.Helper()
	m := &bot.Mail{
		MessageID: "f1@oakprimary.sch.uk", From: bot.Address{Name: "Sarah Okafor", Email: "s.okafor@oakprimary.sch.uk"},
		To: []bot.Address{{Email: "support@example.org"}}, Subject: "Register page down", Text: "It is broken.",
		Reply: "It is broken.", DedupeKey: "mid:f1@oakprimary.sch.uk", Received: time.Date(2026, 11, 26, 8, 59, 0, 0, time.UTC),
	}
	if _, err := r.desk.Ingest(context.Background(), "INBOX", 1, []bot.Fetched{{UID: 1, Mail: m}}); err != nil {
		r.t.Fatalf("ingest: %v", err)
	}
}

// chatPending counts the chat items still in the outbox.
func (r *faultRig) chatPending() int {
	items, err := r.desk.Outbox(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	n := 0
	for _, it := range items {
		if it.Kind == bot.OutboxChat {
			n++
		}
	}
	return n
}

// cards counts the bot's messages in the new-RFA channel.
func (r *faultRig) cards() int {
	n := 0
	for _, m := range r.fake.Messages(channelID) {
		if m.Bot {
			n++
		}
	}
	return n
}

func (r *faultRig) rfa() *bot.RFA {
	r.t.Helper()
	got, err := r.desk.RFA(context.Background(), 1)
	if err != nil {
		r.t.Fatal(err)
	}
	return got
}

func (r *faultRig) alarmsSoFar() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.alarms...)
}

// eventually polls cond; the deadline only turns a hang into a failure.
func (r *faultRig) eventually(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A card post whose response is cut mid-body (the fake created the
// message, the bot never learnt its id) is not posted twice: the retry
// finds it (and the nonce would refuse a second one), opens its thread,
// and the RFA records that one card.
func TestChatFaultCutMidResponseDoesNotDoubleTheCard(t *testing.T) {
	r := startFaultRig(t)
	fired := r.proxy.CutNext(faultproxy.Cut{When: []byte(`"nonce":"rd`)})
	r.ingest()
	select {
	case <-fired:
	case <-time.After(30 * time.Second):
		t.Fatal("the card's response was never cut")
	}
	r.eventually("the card delivered", func() bool { return r.chatPending() == 0 })
	if n := r.cards(); n != 1 {
		t.Fatalf("%d cards in the channel, want exactly 1", n)
	}
	msgs := r.fake.Messages(channelID)
	got := r.rfa().Chat
	if got.PostID != msgs[0].ID || got.ThreadID == "" {
		t.Fatalf("RFA chat %+v, want the one card %s and its thread", got, msgs[0].ID)
	}
	if alarms := r.alarmsSoFar(); len(alarms) != 0 {
		t.Errorf("alarms %q: a lost response is not a credentials problem", alarms)
	}
}

// Each HTTP status on the card post ends as designed.
func TestChatFaultStatusesEndAsDesigned(t *testing.T) {
	type outcome int
	const (
		retried outcome = iota // posted once after the fault
		refused                // never posted, recorded on the RFA, not retried
		paused                 // an alarm, the card kept, posted once after the pause
	)
	for _, tc := range []struct {
		status int
		want   outcome
	}{
		{500, retried},
		{502, retried},
		{503, retried},
		{401, paused},
		{403, refused},
		{404, refused},
	} {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			t.Parallel()
			r := startFaultRig(t)
			r.fake.Fail(discordtest.Fault{Method: "POST", Path: "/channels/" + channelID + "/messages", Status: tc.status})
			r.ingest()
			r.eventually("the card item settled", func() bool { return r.chatPending() == 0 })
			rfa := r.rfa()
			refusedNote := false
			for _, e := range rfa.Events {
				refusedNote = refusedNote || strings.Contains(e.Text, "refused for good")
			}
			switch tc.want {
			case retried, paused:
				if n := r.cards(); n != 1 || rfa.Chat.ThreadID == "" {
					t.Errorf("%d cards, thread %q: want one card and its thread", n, rfa.Chat.ThreadID)
				}
				if refusedNote {
					t.Errorf("events %+v: a %d must not be recorded as refused", rfa.Events, tc.status)
				}
			case refused:
				if n := r.cards(); n != 0 {
					t.Errorf("%d cards after a %d, want none", n, tc.status)
				}
				if !refusedNote {
					t.Errorf("events %+v: want the refusal recorded on the RFA", rfa.Events)
				}
			}
			alarms := r.alarmsSoFar()
			authAlarm := len(alarms) > 0 && strings.Contains(alarms[0], "credentials refused") && strings.Contains(alarms[0], "discord.token")
			if (tc.want == paused) != authAlarm {
				t.Errorf("alarms %q; want a credentials alarm only for a 401", alarms)
			}
		})
	}
}
