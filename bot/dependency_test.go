package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
)

func withChat(cfg *bot.DeskConfig) { cfg.Chat = true }

// dependencyPosts returns the texts of the ops-channel posts in items.
func dependencyPosts(items []bot.OutboxItem) []string {
	var out []string
	for _, it := range items {
		if it.Chat != nil && it.Chat.Op == bot.ChatOps {
			out = append(out, it.Chat.Text)
		}
	}
	return out
}

func (f *fixture) dependencyDown(d *bot.Desk, name, reason string) bool {
	f.t.Helper()
	raised, err := d.DependencyDown(context.Background(), name, f.now.Add(-6*time.Minute), reason)
	if err != nil {
		f.t.Fatal(err)
	}
	return raised
}

func (f *fixture) dependencyUp(d *bot.Desk, name string) bool {
	f.t.Helper()
	cleared, err := d.DependencyUp(context.Background(), name, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	return cleared
}

// A dependency notice is raised once, not again while the dependency is
// down, and cleared once; with chat it goes to the ops channel only.
func TestDependencyNoticeRaisedOnceAndCleared(t *testing.T) {
	f := newFixtureWith(t, withChat)
	if f.dependencyUp(f.desk, "imap") {
		t.Error("cleared a notice never raised")
	}
	if !f.dependencyDown(f.desk, "imap", "dial tcp: connection refused\n`@everyone`") {
		t.Fatal("notice not raised")
	}
	f.now = f.now.Add(time.Minute)
	if f.dependencyDown(f.desk, "imap", "still refused") {
		t.Error("notice raised twice while down")
	}
	posts := dependencyPosts(f.outbox())
	if len(posts) != 1 {
		t.Fatalf("%d ops posts, want 1: %q", len(posts), posts)
	}
	if p := posts[0]; !strings.HasPrefix(p, "rfadesk: imap is down\n") || !strings.Contains(p, "down since 2026-11-26 08:54 UTC (6m)") ||
		!strings.Contains(p, "Reason: dial tcp: connection refused  @everyone\n") {
		t.Errorf("post = %q", p)
	}
	f.now = f.now.Add(4 * time.Minute)
	if !f.dependencyUp(f.desk, "imap") {
		t.Fatal("notice not cleared")
	}
	if f.dependencyUp(f.desk, "imap") {
		t.Error("cleared twice")
	}
	posts = dependencyPosts(f.outbox())
	if len(posts) != 2 || posts[1] != "rfadesk: imap recovered\nimap is reachable again, after 11m down.\n" {
		t.Errorf("posts = %q", posts)
	}
	if mails := mailsFor(f.outbox(), bot.PurposeDependencyNotice); len(mails) != 0 {
		t.Errorf("%d mails with chat configured, want none", len(mails))
	}
	// Down again after recovering: raised again.
	if !f.dependencyDown(f.desk, "imap", "") {
		t.Error("second outage not raised")
	}
}

// A notice about Discord goes by email only, as does its clearing.
func TestDependencyDiscordDownGoesByEmailOnly(t *testing.T) {
	f := newFixtureWith(t, withChat)
	if !f.dependencyDown(f.desk, "discord", "websocket: close 4004") || !f.dependencyUp(f.desk, "discord") {
		t.Fatal("not raised and cleared")
	}
	if posts := dependencyPosts(f.outbox()); len(posts) != 0 {
		t.Errorf("ops posts %q, want none", posts)
	}
	mails := mailsFor(f.outbox(), bot.PurposeDependencyNotice)
	if len(mails) != 2 {
		t.Fatalf("%d mails, want 2", len(mails))
	}
	m := mails[0].Mail
	if m.To[0].Email != "manager@example.org" || m.Subject != "rfadesk: discord is down" || !strings.Contains(m.Text, "websocket: close 4004") || !m.Auto {
		t.Errorf("mail to %v subject %q text %q", m.To, m.Subject, m.Text)
	}
	if s := mails[1].Mail.Subject; s != "rfadesk: discord recovered" {
		t.Errorf("second subject %q", s)
	}
}

// Without chat any notice goes by email.
func TestDependencyNoticeByEmailWithoutChat(t *testing.T) {
	f := newFixture(t)
	if !f.dependencyDown(f.desk, "smtp", "535 authentication failed") {
		t.Fatal("not raised")
	}
	if mails := mailsFor(f.outbox(), bot.PurposeDependencyNotice); len(mails) != 1 || mails[0].Mail.Subject != "rfadesk: smtp is down" {
		t.Errorf("mails = %+v", mails)
	}
}

// A raised notice is in the store: a desk started over the same store
// neither raises it again nor forgets to clear it.
func TestDependencyNoticeSurvivesRestart(t *testing.T) {
	f := newFixtureWith(t, withChat)
	if !f.dependencyDown(f.desk, "smtp", "timeout") {
		t.Fatal("not raised")
	}
	d2 := bot.NewDesk(f.db, bot.DeskConfig{Chat: true}, &bot.DeskOptions{Now: func() time.Time { return f.now }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d2.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	if f.dependencyDown(d2, "smtp", "timeout") {
		t.Error("raised again after restart")
	}
	f.now = f.now.Add(time.Minute)
	if !f.dependencyUp(d2, "smtp") {
		t.Fatal("not cleared after restart")
	}
	posts := dependencyPosts(f.outbox())
	if len(posts) != 2 || !strings.Contains(posts[1], "after 7m down") {
		t.Errorf("posts = %q", posts)
	}
}
