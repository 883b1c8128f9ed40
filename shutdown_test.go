package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"rfadesk/bot"
	"rfadesk/chat/discordtest"
	"rfadesk/config"
	"rfadesk/store"
)

// outboxKinds counts the items in the outbox of the store at cfg, by kind.
func outboxKinds(t *testing.T, cfg *config.Config) map[bot.OutboxKind]int {
	t.Helper()
	st, err := store.Open(cfg.Store.Path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	items, err := bot.NewDesk(st, cfg.Desk, nil).Outbox(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	n := map[bot.OutboxKind]int{}
	for _, it := range items {
		n[it.Kind]++
	}
	return n
}

// stoppedChatDaemon queues a mail's card and acknowledgement in a store
// with chat on fake (the mail servers unreachable), then runs the
// daemon already stopped, so that only the shutdown's flush can send
// anything, and returns the configuration and the daemon's log.
func stoppedChatDaemon(t *testing.T, fake *discordtest.Server) (*config.Config, string) {
	t.Helper()
	path := writeChatConfig(t, fake, `shutdown_grace = "5m"`, "")
	cfg, err := config.Load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	queueAck(t, cfg)
	if n := outboxKinds(t, cfg); n[bot.OutboxChat] == 0 || n[bot.OutboxMail] == 0 {
		t.Fatalf("queued %v, want a card and an acknowledgement", n)
	}
	// The log goes to a buffer, shown if the test fails, not to
	// t.Output(): discordgo's gateway goroutine, opened and closed at
	// once here, may log its disconnect after runDaemon returned.
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log("daemon log:\n" + logs.String())
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // SIGTERM before the first delivery
	if err := runDaemon(ctx, cfg, daemonOptions{Logger: newLogger(logs, slog.LevelInfo), StoreNoSync: true}); err != nil {
		t.Fatal(err)
	}
	return cfg, logs.String()
}

// The chat items due when the stop comes are posted before the store
// closes, after the console's gateway closed (the posts go over REST),
// within the one grace the mail outbox shares; the acknowledgement,
// whose mail server is unreachable, stays queued.
func TestShutdownPostsDueChatItems(t *testing.T) {
	fake := discordtest.New(nil)
	defer fake.Close()
	cfg, logs := stoppedChatDaemon(t, fake)
	var card bool
	for _, m := range fake.Messages("200") {
		card = card || strings.Contains(string(m.Body), "Printer in the staff room")
	}
	if !card {
		t.Errorf("the card was not posted at shutdown; the fake holds %+v", fake.Messages("200"))
	}
	n := outboxKinds(t, cfg)
	if n[bot.OutboxChat] != 0 || n[bot.OutboxMail] != 1 {
		t.Errorf("outbox after the shutdown holds %v, want no chat item and the acknowledgement", n)
	}
	if !strings.Contains(logs, "shutdown: outbox flushed") {
		t.Errorf("no flush in the log:\n%s", logs)
	}
}

// With Discord failing every post, the shutdown does not wait out the
// grace (5 minutes, beyond the test's patience): the failed attempt is
// rescheduled, nothing is due, the daemon stops, and the card stays in
// the outbox for the next start.
func TestShutdownFailingChatStaysQueued(t *testing.T) {
	fake := discordtest.New(nil)
	defer fake.Close()
	fake.Fail(discordtest.Fault{Path: "/channels/", Status: 500, Count: 1000})
	cfg, _ := stoppedChatDaemon(t, fake)
	if msgs := fake.Messages("200"); len(msgs) != 0 {
		t.Errorf("the fake holds %d messages though every post failed", len(msgs))
	}
	tried := false
	for _, r := range fake.Requests() {
		tried = tried || (r.Method == "POST" && strings.HasPrefix(r.Path, "/channels/200/messages"))
	}
	if !tried {
		t.Error("the shutdown never tried to post the card")
	}
	if n := outboxKinds(t, cfg); n[bot.OutboxChat] == 0 {
		t.Errorf("outbox after the shutdown holds %v, want the card still queued", n)
	}
}
