package chat_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"rfadesk/chat"
	"rfadesk/chat/discordtest"
)

const (
	botID    = "900"
	botRole  = "710"
	textPerm = discordgo.PermissionViewChannel | discordgo.PermissionSendMessages | discordgo.PermissionEmbedLinks |
		discordgo.PermissionReadMessageHistory | discordgo.PermissionAddReactions |
		discordgo.PermissionCreatePublicThreads | discordgo.PermissionSendMessagesInThreads
)

// probeGuild is a fake Discord set up as the README tells: the bot in
// the guild with a role holding every permission the console needs, the
// two channels, the staff and on-duty roles.
func probeGuild(t *testing.T) (*discordtest.Server, chat.Config) {
	t.Helper()
	fake := discordtest.New(&discordtest.Options{GuildID: guildID, BotID: botID})
	t.Cleanup(fake.Close)
	fake.SetApplicationFlags(1 << 18)
	fake.AddRole(discordtest.Role{ID: guildID, Name: "@everyone"})
	fake.AddRole(discordtest.Role{ID: botRole, Name: "rfadesk", Permissions: textPerm})
	fake.AddRole(discordtest.Role{ID: staffRole, Name: "Staff"})
	fake.AddRole(discordtest.Role{ID: dutyRole, Name: "On duty", Mentionable: true})
	fake.AddMember(discordtest.Member{UserID: botID, Name: "rfadesk", Roles: []string{botRole}, Bot: true})
	fake.AddChannel(discordtest.Channel{ID: channelID, Name: "rfas"})
	fake.AddChannel(discordtest.Channel{ID: opsID, Name: "ops"})
	return fake, chat.Config{Token: "test-token", GuildID: guildID, ChannelID: channelID, OpsChannelID: opsID,
		StaffRoleID: staffRole, OnDutyRoleID: dutyRole, APIBase: fake.APIBase()}
}

// wantOneProbe checks that errs is one *chat.ProbeError for key, on one
// line, saying every one of words.
func wantOneProbe(t *testing.T, errs []error, key string, words ...string) {
	t.Helper()
	if len(errs) != 1 {
		t.Fatalf("got %d problems %v, want one for %s", len(errs), errs, key)
	}
	var pe *chat.ProbeError
	if !errors.As(errs[0], &pe) || pe.Key != key {
		t.Fatalf("got %v, want a *chat.ProbeError for %s", errs[0], key)
	}
	line := errs[0].Error()
	t.Log(line)
	if strings.Contains(line, "\n") || !strings.HasPrefix(line, key+": ") {
		t.Errorf("not one line starting with %q: %q", key+": ", line)
	}
	for _, w := range words {
		if !strings.Contains(line, w) {
			t.Errorf("%q does not say %q", line, w)
		}
	}
}

func TestConnectProbeDiscord(t *testing.T) {
	ctx := context.Background()
	t.Run("ready", func(t *testing.T) {
		_, cfg := probeGuild(t)
		if errs := chat.Probe(ctx, cfg); len(errs) != 0 {
			t.Fatalf("a ready guild: %v", errs)
		}
	})
	t.Run("bad token", func(t *testing.T) {
		fake, cfg := probeGuild(t)
		fake.Fail(discordtest.Fault{Status: 401, Count: 1})
		wantOneProbe(t, chat.Probe(ctx, cfg), "discord.token", "refused")
	})
	t.Run("no message content intent", func(t *testing.T) {
		fake, cfg := probeGuild(t)
		fake.SetApplicationFlags(0)
		wantOneProbe(t, chat.Probe(ctx, cfg), "discord.token", "Message Content")
	})
	t.Run("bot not in guild", func(t *testing.T) {
		_, cfg := probeGuild(t)
		cfg.GuildID = "555"
		wantOneProbe(t, chat.Probe(ctx, cfg), "discord.guild_id", "555", "invite")
	})
	t.Run("invited without applications.commands", func(t *testing.T) {
		fake, cfg := probeGuild(t)
		fake.Fail(discordtest.Fault{Method: "GET", Path: "/applications/" + botID + "/guilds/", Status: 403, Count: 1})
		wantOneProbe(t, chat.Probe(ctx, cfg), "discord.guild_id", "slash commands", "applications.commands")
	})
	t.Run("missing channel", func(t *testing.T) {
		_, cfg := probeGuild(t)
		cfg.ChannelID = "201"
		wantOneProbe(t, chat.Probe(ctx, cfg), "discord.channel_id", "no channel 201")
	})
	t.Run("channel overwrite denies threads", func(t *testing.T) {
		fake, cfg := probeGuild(t)
		fake.AddChannel(discordtest.Channel{ID: channelID, Name: "rfas", Overwrites: []discordtest.Overwrite{
			{ID: botRole, Type: 0, Deny: discordgo.PermissionCreatePublicThreads | discordgo.PermissionAddReactions},
		}})
		wantOneProbe(t, chat.Probe(ctx, cfg), "discord.channel_id", "Add Reactions, Create Public Threads", "#rfas")
	})
	t.Run("ops channel hidden from everyone", func(t *testing.T) {
		fake, cfg := probeGuild(t)
		fake.AddChannel(discordtest.Channel{ID: opsID, Name: "ops", Overwrites: []discordtest.Overwrite{
			{ID: guildID, Type: 0, Deny: discordgo.PermissionViewChannel},
		}})
		wantOneProbe(t, chat.Probe(ctx, cfg), "discord.ops_channel_id", "View Channel", "#ops")
		// A member overwrite for the bot lets it back in.
		fake.AddChannel(discordtest.Channel{ID: opsID, Name: "ops", Overwrites: []discordtest.Overwrite{
			{ID: guildID, Type: 0, Deny: discordgo.PermissionViewChannel},
			{ID: botID, Type: 1, Allow: discordgo.PermissionViewChannel},
		}})
		if errs := chat.Probe(ctx, cfg); len(errs) != 0 {
			t.Errorf("with the bot let in: %v", errs)
		}
	})
	t.Run("channel of another guild", func(t *testing.T) {
		fake, cfg := probeGuild(t)
		fake.AddChannel(discordtest.Channel{ID: channelID, Name: "elsewhere", GuildID: "999"})
		wantOneProbe(t, chat.Probe(ctx, cfg), "discord.channel_id", "not in the server")
	})
	t.Run("missing role and unmentionable on-duty role", func(t *testing.T) {
		fake, cfg := probeGuild(t)
		cfg.StaffRoleID = "777"
		errs := chat.Probe(ctx, cfg)
		wantOneProbe(t, errs, "discord.staff_role_id", "777")
		cfg.StaffRoleID = staffRole
		fake.AddRole(discordtest.Role{ID: dutyRole, Name: "On duty"})
		wantOneProbe(t, chat.Probe(ctx, cfg), "discord.on_duty_role_id", "On duty", "mention")
	})
	t.Run("administrator needs nothing else", func(t *testing.T) {
		fake, cfg := probeGuild(t)
		fake.AddRole(discordtest.Role{ID: botRole, Name: "rfadesk", Permissions: discordgo.PermissionAdministrator})
		fake.AddChannel(discordtest.Channel{ID: channelID, Name: "rfas", Overwrites: []discordtest.Overwrite{
			{ID: guildID, Type: 0, Deny: discordgo.PermissionViewChannel},
		}})
		if errs := chat.Probe(ctx, cfg); len(errs) != 0 {
			t.Errorf("an administrator bot: %v", errs)
		}
	})
}
