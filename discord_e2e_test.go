package main

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"rfadesk/chat"
	"rfadesk/chat/discordtest"
	"rfadesk/config"
)

// TestDaemonWithDiscord runs the whole daemon with a [discord] section
// pointed at a fake Discord: mail becomes a card with a thread, and a
// staff member's message in that thread reaches the requester by email
// and is marked with a reaction once the mail server accepted it.
func TestDaemonWithDiscord(t *testing.T) {
	fake := discordtest.New(&discordtest.Options{GuildID: "100"})
	defer fake.Close()
	fake.AddMember(discordtest.Member{UserID: "501", Name: "Priya Shah", Roles: []string{"700"}})

	env, err := startDemo("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	env.cfg.Discord = config.Discord{Enabled: true, Config: chat.Config{Token: "test-token", GuildID: "100", ChannelID: "200", StaffRoleID: "700", OpsChannelID: "300", APIBase: fake.APIBase()}}
	env.cfg.Desk.Chat = true

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runDaemon(ctx, env.cfg, daemonOptions{Logger: newLogger(t.Output(), slog.LevelInfo), Listener: env.ln, StoreNoSync: true})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	}()
	wait, stop := context.WithTimeout(ctx, 30*time.Second)
	defer stop()

	var card discordtest.Message
	err = fake.Wait(wait, func() bool {
		for _, m := range fake.Messages("200") {
			if m.Thread != "" && strings.Contains(string(m.Body), "RFA-1") {
				card = m
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("no card with a thread for RFA-1: %v", err)
	}
	// The desk records the thread once the chat deliverer reports it.
	for apiGet(t, "http://"+env.ln.Addr().String()+"/api/rfas/RFA-1")["chat_thread"] != card.Thread {
		if wait.Err() != nil {
			t.Fatal("the desk never recorded RFA-1's thread")
		}
		time.Sleep(10 * time.Millisecond)
	}
	acks := len(env.smtp.Messages())
	msg := fake.Say(card.Thread, "501", "Hello Sarah, we have reset the session store: please try again.")
	if err := fake.Wait(wait, func() bool {
		m, ok := fake.Message(msg.ID)
		return ok && slices.Contains(m.Reactions, "✅")
	}); err != nil {
		t.Fatalf("the staff reply was never marked delivered: %v", err)
	}
	var reply string
	for _, m := range env.smtp.Messages()[acks:] {
		if m.To[0] == "s.okafor@oakprimary.sch.uk" {
			reply = plainText(t, m.Data)
		}
	}
	if !strings.Contains(reply, "reset the session store") || !strings.Contains(reply, "Priya Shah") {
		t.Errorf("requester's mail = %q", reply)
	}
}
