package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"rfadesk/chat/discordtest"
	"rfadesk/demo"
)

// TestCheckConfigConnect runs "check-config -connect" against the demo
// IMAP and SMTP servers and the fake Discord: all ready, then with a
// wrong IMAP password, an SMTP port nobody listens on and a Discord
// channel that does not exist, each said in one line naming the key.
func TestCheckConfigConnect(t *testing.T) {
	imapSrv, err := demo.StartIMAP(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer imapSrv.Close()
	smtpSrv, err := demo.StartSMTPCapture(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer smtpSrv.Close()
	fake := discordtest.New(&discordtest.Options{GuildID: "100", BotID: "900"})
	defer fake.Close()
	fake.SetApplicationFlags(1 << 18)
	fake.AddRole(discordtest.Role{ID: "710", Name: "rfadesk", Permissions: discordgo.PermissionViewChannel | discordgo.PermissionSendMessages |
		discordgo.PermissionEmbedLinks | discordgo.PermissionReadMessageHistory | discordgo.PermissionAddReactions |
		discordgo.PermissionCreatePublicThreads | discordgo.PermissionSendMessagesInThreads})
	fake.AddRole(discordtest.Role{ID: "700", Name: "Staff"})
	fake.AddMember(discordtest.Member{UserID: "900", Name: "rfadesk", Roles: []string{"710"}, Bot: true})
	fake.AddChannel(discordtest.Channel{ID: "200", Name: "rfas"})

	dir := t.TempDir()
	write := func(pass, smtpAddr, channel string) string {
		path := filepath.Join(dir, "rfadesk.toml")
		writeLoopbackConfig(t, path, filepath.Join(dir, "rfadesk.db"), imapSrv.Addr(), imapSrv.Username(), pass, smtpAddr)
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(f, "[discord]\ntoken = \"test-token\"\nguild_id = \"100\"\nchannel_id = %q\nstaff_role_id = \"700\"\napi_base = %q\n", channel, fake.APIBase())
		f.Close()
		return path
	}
	check := func(path string) (string, error) {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), []string{"check-config", "-connect", "-config", path}, &stdout, &stderr)
		t.Logf("%s%s", stdout.String(), stderr.String())
		return stdout.String(), err
	}

	out, err := check(write(imapSrv.Password(), smtpSrv.Addr(), "200"))
	if err != nil {
		t.Fatalf("a ready setup: %v", err)
	}
	for _, want := range []string{"\nimap: ok", "\nsmtp: ok", "\ndiscord: ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", strings.TrimSpace(want))
		}
	}

	ln := listen(t)
	closed := ln.Addr().String()
	ln.Close() // nothing listens there now
	out, err = check(write("wrong", closed, "201"))
	if err == nil || !strings.Contains(err.Error(), "3 connection problem") {
		t.Errorf("error %v, want 3 connection problems", err)
	}
	for _, want := range []string{"\nimap.password: ", "\nsmtp.address: TCP: ", "\ndiscord.channel_id: there is no channel 201"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks a line starting %q", strings.TrimSpace(want))
		}
	}
}
