package chat

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"rfadesk/bot"
	"rfadesk/chat/discordtest"
	"rfadesk/store"
)

const rateChannel = "200"

// rateRig is a desk on a bbolt file, the console's transport and a chat
// deliverer, all inside a synctest bubble, against the fake Discord
// served in-process: time.Now is the bubble's clock and stands still
// while anything runs, so a wait can be asserted to the nanosecond.
type rateRig struct {
	t         *testing.T
	fake      *discordtest.Server
	desk      *bot.Desk
	console   *Console
	deliverer *bot.Deliverer
	uid       uint32
}

// startRateRig starts the rig; with deliver false no deliverer runs and
// the test calls the transport itself.
func startRateRig(t *testing.T, deliver bool) *rateRig {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "desk.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	fake := discordtest.New(&discordtest.Options{InProcess: true})
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	r := &rateRig{t: t, fake: fake}
	r.desk = bot.NewDesk(db, bot.DeskConfig{
		Name:      "Example Service Desk",
		Address:   bot.Address{Name: "Example Service Desk", Email: "support@example.org"},
		BaseURL:   "https://support.example.org",
		LoopValue: "support@example.org",
		Organisations: []bot.Organisation{
			{Name: "Oak Primary School", Domains: []string{"oakprimary.sch.uk"}},
		},
		Chat: true,
	}, &bot.DeskOptions{Logger: log, OnOutbox: func() {
		if r.deliverer != nil {
			r.deliverer.Kick()
		}
	}})
	r.console, err = New(Config{Token: "test-token", GuildID: "100", ChannelID: rateChannel, StaffRoleID: "700",
		APIBase: fake.APIBase()}, r.desk, &Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	r.console.http.Transport.(*rewriter).next = fake.Transport()
	ctx, cancel := context.WithCancel(context.Background())
	deskDone, deliverDone := make(chan struct{}), make(chan struct{})
	go func() { r.desk.Run(ctx); close(deskDone) }()
	if deliver {
		d := bot.NewDeliverer(r.desk, r.console.Transport(), &bot.DelivererOptions{Logger: log})
		r.deliverer = d
		go func() { d.Run(ctx); close(deliverDone) }()
	} else {
		close(deliverDone)
	}
	t.Cleanup(func() {
		cancel()
		<-deliverDone
		<-deskDone
		db.Close()
		fake.Close()
	})
	synctest.Wait()
	return r
}

// ingest makes a new RFA from a requester's mail.
func (r *rateRig) ingest(subject string) {
	r.t.Helper()
	r.uid++
	id := "m" + string(rune('0'+r.uid)) + "@oakprimary.sch.uk"
	m := &bot.Mail{
		MessageID: id, From: bot.Address{Name: "Sarah Okafor", Email: "s.okafor@oakprimary.sch.uk"},
		To: []bot.Address{{Email: "support@example.org"}}, Subject: subject, Text: "It is broken.",
		Reply: "It is broken.", DedupeKey: "mid:" + id, Received: time.Now(),
	}
	if _, err := r.desk.Ingest(context.Background(), "INBOX", 1, []bot.Fetched{{UID: r.uid, Mail: m}}); err != nil {
		r.t.Fatalf("ingest: %v", err)
	}
}

// cardItems returns the pending new-RFA chat items, in ID order.
func (r *rateRig) cardItems() []bot.OutboxItem {
	r.t.Helper()
	items, err := r.desk.Outbox(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	var out []bot.OutboxItem
	for _, it := range items {
		if it.Kind == bot.OutboxChat && it.Chat.Op == bot.ChatNewRFA {
			out = append(out, it)
		}
	}
	return out
}

// requests counts the REST requests of method whose path starts with
// prefix and ends with suffix.
func (r *rateRig) requests(method, prefix, suffix string) int {
	n := 0
	for _, q := range r.fake.Requests() {
		if q.Method == method && strings.HasPrefix(q.Path, prefix) && strings.HasSuffix(q.Path, suffix) {
			n++
		}
	}
	return n
}

// cards returns the titles of the cards in the channel, oldest first.
func (r *rateRig) cards() []string {
	var out []string
	for _, m := range r.fake.Messages(rateChannel) {
		body := string(m.Body)
		i := strings.Index(body, `"title":"`)
		if i < 0 {
			r.t.Fatalf("a message without a card: %s", body)
		}
		out = append(out, strings.SplitN(body[i+len(`"title":"`):], `"`, 2)[0])
	}
	return out
}

// TestRouteRateLimitRetriesAtRetryAfter: Discord answers the card's post
// with a route 429 asking for 0.25 s. The card is posted exactly 0.25 s
// later (not after the outbox's 30 s backoff, and with no second wait in
// discordgo), once, with its thread; a kick in between does not cut the
// wait short, and the 429 is not counted as a failed attempt.
func TestRouteRateLimitRetriesAtRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startRateRig(t, true)
		posts := "/channels/" + rateChannel + "/messages"
		r.fake.Fail(discordtest.Fault{Method: "POST", Path: posts, Status: 429, RetryAfter: 0.25})
		limited := time.Now()
		r.ingest("Cannot log in")
		synctest.Wait()

		items := r.cardItems()
		if len(items) != 1 {
			t.Fatalf("%d card items pending after the 429, want 1", len(items))
		}
		if got := items[0].NextAttempt.Sub(limited); got != 250*time.Millisecond {
			t.Errorf("next attempt %v after the 429, want retry_after 250ms", got)
		}
		if items[0].Attempts != 0 || !strings.Contains(items[0].LastError, "rate limited") {
			t.Errorf("attempts %d, last error %q: want a rate limit, not a counted failure", items[0].Attempts, items[0].LastError)
		}

		r.deliverer.Kick()
		time.Sleep(250*time.Millisecond - time.Nanosecond)
		synctest.Wait()
		if n := r.requests("POST", posts, "messages"); n != 1 || len(r.cards()) != 0 {
			t.Fatalf("before the limit lifted: %d posts tried, %d cards", n, len(r.cards()))
		}

		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if got := r.cards(); len(got) != 1 || !strings.HasPrefix(got[0], "RFA-1 ") {
			t.Fatalf("cards when the limit lifted = %q, want RFA-1's", got)
		}
		if n := r.requests("POST", posts, "messages"); n != 2 {
			t.Errorf("%d card posts tried, want the 429 and one more", n)
		}
		if m := r.fake.Messages(rateChannel)[0]; m.Thread == "" {
			t.Error("the card has no thread")
		}
		if n := len(r.cardItems()); n != 0 {
			t.Errorf("%d card items still pending", n)
		}
	})
}

// TestGlobalRateLimitHoldsEveryChatItem: a global 429 holds every chat
// item until it lifts (a second RFA's card is not even tried, kicked or
// not); then both cards go out at that moment, once each, in order.
func TestGlobalRateLimitHoldsEveryChatItem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startRateRig(t, true)
		r.fake.Fail(discordtest.Fault{Status: 429, RetryAfter: 0.5, Global: true})
		limited := time.Now()
		r.ingest("Cannot log in")
		synctest.Wait()
		time.Sleep(100 * time.Millisecond)
		r.ingest("Printer offline") // kicks the deliverer
		synctest.Wait()

		if n := len(r.fake.Requests()); n != 1 {
			t.Fatalf("%d requests during a global limit, want only the one answered 429", n)
		}
		items := r.cardItems()
		if len(items) != 2 || items[0].NextAttempt.Sub(limited) != 500*time.Millisecond || items[1].Attempts != 0 || items[1].LastError != "" {
			t.Fatalf("card items during the limit = %+v", items)
		}

		time.Sleep(400*time.Millisecond - time.Nanosecond)
		synctest.Wait()
		if n := len(r.fake.Requests()); n != 1 {
			t.Fatalf("%d requests before the limit lifted, want 1", n)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		got := r.cards()
		if len(got) != 2 || !strings.HasPrefix(got[0], "RFA-1 ") || !strings.HasPrefix(got[1], "RFA-2 ") {
			t.Fatalf("cards when the limit lifted = %q, want RFA-1's then RFA-2's", got)
		}
		if n := len(r.cardItems()); n != 0 {
			t.Errorf("%d card items still pending", n)
		}
	})
}

// TestRateLimitedThreadDoesNotRepostTheCard: the card is posted and then
// opening its thread is rate limited; the retry, after exactly
// retry_after, opens the thread on that card and posts no second card.
func TestRateLimitedThreadDoesNotRepostTheCard(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startRateRig(t, true)
		posts := "/channels/" + rateChannel + "/messages"
		r.fake.Fail(discordtest.Fault{Method: "POST", Path: posts + "/", Status: 429, RetryAfter: 1.5})
		limited := time.Now()
		r.ingest("Cannot log in")
		synctest.Wait()
		items := r.cardItems()
		if len(items) != 1 || items[0].NextAttempt.Sub(limited) != 1500*time.Millisecond {
			t.Fatalf("card items after the thread's 429 = %+v", items)
		}
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		msgs := r.fake.Messages(rateChannel)
		if len(msgs) != 1 || msgs[0].Thread == "" {
			t.Fatalf("after the retry: %d cards, thread %q; want one card with its thread", len(msgs), msgs[0].Thread)
		}
		if n := r.requests("POST", posts, "/threads"); n != 2 {
			t.Errorf("%d thread starts, want the 429 and one more", n)
		}
		if n := r.requests("POST", posts, "messages"); n != 1 {
			t.Errorf("%d card posts, want 1", n)
		}
	})
}

// TestTransportReportsDiscordsWait: the DeliveryError of a 429 carries
// the body's retry_after (not the whole-second Retry-After header) and
// whether the limit is global; the next attempt posts the card once.
func TestTransportReportsDiscordsWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := startRateRig(t, false)
		r.ingest("Cannot log in")
		synctest.Wait()
		items := r.cardItems()
		if len(items) != 1 {
			t.Fatalf("%d card items, want 1", len(items))
		}
		tr := r.console.Transport()
		for _, tc := range []struct {
			fault  discordtest.Fault
			wait   time.Duration
			global bool
		}{
			{discordtest.Fault{Method: "POST", Status: 429, RetryAfter: 0.25}, 250 * time.Millisecond, false},
			{discordtest.Fault{Method: "POST", Status: 429, RetryAfter: 0.25, Scope: "shared"}, 250 * time.Millisecond, false},
			{discordtest.Fault{Status: 429, RetryAfter: 2.125, Global: true}, 2125 * time.Millisecond, true},
			{discordtest.Fault{Status: 429, RetryAfter: 86400}, bot.MaxRetryAfter, false},
		} {
			r.fake.Fail(tc.fault)
			_, err := tr.Deliver(context.Background(), items[0])
			var de *bot.DeliveryError
			if !errors.As(err, &de) || de.Failure != bot.DeliveryTemporary || de.Code != http.StatusTooManyRequests ||
				de.RetryAfter != tc.wait || de.Global != tc.global {
				t.Errorf("%+v: Deliver = %#v, want temporary 429 waiting %v, global %v", tc.fault, err, tc.wait, tc.global)
			}
		}
		if n := len(r.fake.Messages(rateChannel)); n != 0 {
			t.Fatalf("rate-limited posts made %d cards", n)
		}
		if rcpt, err := tr.Deliver(context.Background(), items[0]); err != nil || rcpt.ChatThreadID == "" {
			t.Fatalf("after the limits: %+v, %v", rcpt, err)
		}
		if n := len(r.fake.Messages(rateChannel)); n != 1 {
			t.Errorf("%d cards, want 1", n)
		}
	})
}

func TestParseRateLimit(t *testing.T) {
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		header http.Header
		body   string
		wait   time.Duration
		global bool
	}{
		{"body first", h("Retry-After", "1", "X-RateLimit-Reset-After", "0.300", "X-RateLimit-Scope", "user"),
			`{"message": "You are being rate limited.", "retry_after": 0.25, "global": false}`, 250 * time.Millisecond, false},
		{"global in the body", h(), `{"retry_after": 1.5, "global": true}`, 1500 * time.Millisecond, true},
		{"global header", h("X-RateLimit-Global", "true"), `{"retry_after": 3}`, 3 * time.Second, true},
		{"global scope", h("X-RateLimit-Scope", "global"), `{"retry_after": 3}`, 3 * time.Second, true},
		{"Cloudflare HTML: Retry-After", h("Retry-After", "7"), `<html>banned</html>`, 7 * time.Second, false},
		{"reset-after only", h("X-RateLimit-Reset-After", "0.750"), `{}`, 750 * time.Millisecond, false},
		{"negative skipped", h("Retry-After", "2"), `{"retry_after": -1}`, 2 * time.Second, false},
		{"zero is a short wait", h(), `{"retry_after": 0}`, minRetryAfter, false},
		{"capped", h(), `{"retry_after": 1e300}`, bot.MaxRetryAfter, false},
		{"no wait named", h("Retry-After", "soon"), `{"message": "slow down"}`, 0, false},
	} {
		rl := parseRateLimit("POST /channels/1/messages", tc.header, []byte(tc.body))
		if rl.RetryAfter != tc.wait || rl.Global != tc.global {
			t.Errorf("%s: wait %v global %v, want %v %v", tc.name, rl.RetryAfter, rl.Global, tc.wait, tc.global)
		}
	}
}
