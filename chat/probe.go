package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
)

// ProbeTimeout bounds each REST call of Probe.
const ProbeTimeout = 15 * time.Second

// ProbeError is one thing a connection check found wrong with the
// [discord] section, in one line: the setting to look at (Key, e.g.
// "discord.channel_id"), what is wrong and what to do.
type ProbeError struct {
	Key     string
	Problem string
	Fix     string
	Err     error
	answer  string // Discord's answer, "403 Missing Access", if any
}

func (e *ProbeError) Error() string { return e.Key + ": " + e.Problem + "; " + e.Fix }
func (e *ProbeError) Unwrap() error { return e.Err }

// channelNeeds are the permissions the console uses in the RFA channel:
// it posts embeds, starts a thread on each post, writes in the threads,
// reacts, and reads the history back after a restart.
var channelNeeds = []struct {
	bit  int64
	name string
}{
	{discordgo.PermissionViewChannel, "View Channel"},
	{discordgo.PermissionSendMessages, "Send Messages"},
	{discordgo.PermissionEmbedLinks, "Embed Links"},
	{discordgo.PermissionReadMessageHistory, "Read Message History"},
	{discordgo.PermissionAddReactions, "Add Reactions"},
	{discordgo.PermissionCreatePublicThreads, "Create Public Threads"},
	{discordgo.PermissionSendMessagesInThreads, "Send Messages in Threads"},
}

// opsNeeds are the permissions the console uses in the ops channel.
var opsNeeds = channelNeeds[:4]

// allPermissions is what the owner and an administrator hold: every
// bit (discordgo.PermissionAll predates the thread permissions).
const allPermissions = ^int64(0)

// Application flags that grant the Message Content intent.
const (
	appFlagMessageContent        = 1 << 18
	appFlagMessageContentLimited = 1 << 19
)

// Probe checks cfg against Discord with REST calls only (no gateway, and
// nothing is posted): the token is accepted, the application has the
// Message Content intent, the bot is in the guild and may register its
// slash commands there, the channels exist
// there and the bot holds every permission the console needs in them,
// and the roles exist (the on-duty role can be mentioned). It returns
// every problem found, each a *ProbeError; none means Discord is ready.
func Probe(ctx context.Context, cfg Config) []error {
	p, err := newProber(cfg)
	if err != nil {
		return []error{err}
	}
	var me discordgo.User
	if err := p.get(ctx, "/users/@me", "discord.token", &me); err != nil {
		return []error{err} // nothing else can be checked
	}
	var errs []error
	var app struct {
		Flags int `json:"flags"`
	}
	if err := p.get(ctx, "/applications/@me", "discord.token", &app); err != nil {
		errs = append(errs, err)
	} else if app.Flags&(appFlagMessageContent|appFlagMessageContentLimited) == 0 {
		errs = append(errs, &ProbeError{Key: "discord.token", Problem: "the bot's application lacks the Message Content intent, so staff replies in threads would arrive empty",
			Fix: "enable it in the Discord developer portal (Bot > Privileged Gateway Intents > Message Content Intent)"})
	}
	var guild discordgo.Guild
	if err := p.get(ctx, "/guilds/"+cfg.GuildID, "discord.guild_id", &guild); err != nil {
		return append(errs, err)
	}
	var commands []json.RawMessage
	if err := p.get(ctx, "/applications/"+me.ID+"/guilds/"+cfg.GuildID+"/commands", "discord.guild_id", &commands); err != nil {
		var pe *ProbeError
		if errors.As(err, &pe) && pe.Key == "discord.guild_id" {
			pe.Problem = fmt.Sprintf("the bot may not manage slash commands in server %s (%s)", cfg.GuildID, pe.answer)
			pe.Fix = "invite the bot again with the OAuth2 URL with both scopes, bot and applications.commands"
		}
		errs = append(errs, err)
	}
	var member discordgo.Member
	if err := p.get(ctx, "/guilds/"+cfg.GuildID+"/members/"+me.ID, "discord.guild_id", &member); err != nil {
		return append(errs, err)
	}
	roles := map[string]*discordgo.Role{}
	for _, r := range guild.Roles {
		roles[r.ID] = r
	}
	base := basePermissions(&guild, &member, me.ID)

	errs = append(errs, p.checkChannel(ctx, "discord.channel_id", cfg.ChannelID, &guild, &member, me.ID, base, channelNeeds)...)
	if cfg.OpsChannelID != "" && cfg.OpsChannelID != cfg.ChannelID {
		errs = append(errs, p.checkChannel(ctx, "discord.ops_channel_id", cfg.OpsChannelID, &guild, &member, me.ID, base, opsNeeds)...)
	}
	for _, r := range []struct{ key, id string }{{"discord.staff_role_id", cfg.StaffRoleID}, {"discord.on_duty_role_id", cfg.OnDutyRoleID}} {
		if r.id == "" {
			continue
		}
		role, ok := roles[r.id]
		switch {
		case !ok:
			errs = append(errs, &ProbeError{Key: r.key, Problem: fmt.Sprintf("the server %q has no role %s", guild.Name, r.id),
				Fix: "copy the role's id (Server Settings > Roles > ... > Copy Role ID, with Developer Mode on)"})
		case r.key == "discord.on_duty_role_id" && !role.Mentionable && base&(discordgo.PermissionMentionEveryone|discordgo.PermissionAdministrator) == 0:
			errs = append(errs, &ProbeError{Key: r.key, Problem: fmt.Sprintf("the role %q cannot be mentioned by the bot, so jeopardy pings would notify no one", role.Name),
				Fix: `turn on "Allow anyone to @mention this role", or give the bot "Mention @everyone, @here, and All Roles"`})
		}
	}
	return errs
}

// checkChannel checks that channel id is a text channel of the guild in
// which the bot holds needs.
func (p *prober) checkChannel(ctx context.Context, key, id string, guild *discordgo.Guild, member *discordgo.Member, botID string, base int64, needs []struct {
	bit  int64
	name string
}) []error {
	var ch discordgo.Channel
	if err := p.get(ctx, "/channels/"+id, key, &ch); err != nil {
		return []error{err}
	}
	if ch.GuildID != guild.ID {
		return []error{&ProbeError{Key: key, Problem: fmt.Sprintf("channel #%s (%s) is not in the server %q (discord.guild_id)", ch.Name, id, guild.Name),
			Fix: "use a channel of that server, or fix discord.guild_id"}}
	}
	if ch.Type != discordgo.ChannelTypeGuildText {
		return []error{&ProbeError{Key: key, Problem: fmt.Sprintf("#%s (%s) is not a text channel", ch.Name, id), Fix: "use a text channel"}}
	}
	perms := channelPermissions(base, guild, member, botID, &ch)
	var missing []string
	for _, n := range needs {
		if perms&n.bit == 0 {
			missing = append(missing, n.name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return []error{&ProbeError{Key: key, Problem: fmt.Sprintf("the bot lacks %s in #%s", strings.Join(missing, ", "), ch.Name),
		Fix: "grant them to the bot's role in the channel's settings (Permissions), or in its role"}}
}

// basePermissions are the bot's guild-wide permissions: @everyone's and
// its roles', everything for the owner or an administrator.
func basePermissions(guild *discordgo.Guild, member *discordgo.Member, botID string) int64 {
	if guild.OwnerID == botID {
		return allPermissions
	}
	var perms int64
	for _, r := range guild.Roles {
		if r.ID == guild.ID || containsString(member.Roles, r.ID) {
			perms |= r.Permissions
		}
	}
	if perms&discordgo.PermissionAdministrator != 0 {
		return allPermissions
	}
	return perms
}

// channelPermissions applies ch's overwrites to base in Discord's order:
// @everyone, then the member's roles together, then the member.
func channelPermissions(base int64, guild *discordgo.Guild, member *discordgo.Member, botID string, ch *discordgo.Channel) int64 {
	if base&discordgo.PermissionAdministrator != 0 || base == allPermissions {
		return base
	}
	perms := base
	for _, o := range ch.PermissionOverwrites {
		if o.Type == discordgo.PermissionOverwriteTypeRole && o.ID == guild.ID {
			perms = perms&^o.Deny | o.Allow
		}
	}
	var allow, deny int64
	for _, o := range ch.PermissionOverwrites {
		if o.Type == discordgo.PermissionOverwriteTypeRole && o.ID != guild.ID && containsString(member.Roles, o.ID) {
			allow |= o.Allow
			deny |= o.Deny
		}
	}
	perms = perms&^deny | allow
	for _, o := range ch.PermissionOverwrites {
		if o.Type == discordgo.PermissionOverwriteTypeMember && o.ID == botID {
			perms = perms&^o.Deny | o.Allow
		}
	}
	return perms
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// prober makes the REST calls of Probe.
type prober struct {
	cfg    Config
	client *http.Client
	token  string
}

func newProber(cfg Config) (*prober, error) {
	client, err := newHTTPClient(cfg.APIBase, ProbeTimeout)
	if err != nil {
		return nil, &ProbeError{Key: "discord.api_base", Problem: err.Error(), Fix: "use https://discord.com/api/v9 or leave it out", Err: err}
	}
	token := strings.TrimPrefix(strings.TrimSpace(cfg.Token), "Bot ")
	return &prober{cfg: cfg, client: client, token: token}, nil
}

// discordError is the body of a Discord error answer.
type discordError struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
}

// get fetches path (below the API base) into v; a failure is a
// *ProbeError naming key (or the token or the network).
func (p *prober) get(ctx context.Context, path, key string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, discordgoBase+path, nil)
	if err != nil {
		return &ProbeError{Key: key, Problem: err.Error(), Fix: "check " + key, Err: err}
	}
	req.Header.Set("Authorization", "Bot "+p.token)
	req.Header.Set("User-Agent", "DiscordBot (rfadesk, check-config)")
	resp, err := p.client.Do(req)
	if err != nil {
		return p.networkError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return p.networkError(err)
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, v); err != nil {
			return &ProbeError{Key: p.baseKey(), Problem: fmt.Sprintf("GET %s: not Discord's answer: %v", path, err), Fix: "check discord.api_base", Err: err}
		}
		return nil
	}
	var de discordError
	_ = json.Unmarshal(body, &de)
	what := fmt.Sprintf("%d %s", resp.StatusCode, de.Message)
	pe := p.refusal(path, key, resp.StatusCode, de, what)
	pe.answer = what
	return pe
}

// refusal explains Discord's refusal of GET path.
func (p *prober) refusal(path, key string, status int, de discordError, what string) *ProbeError {
	switch {
	case status == http.StatusUnauthorized:
		return &ProbeError{Key: "discord.token", Problem: "Discord refused the bot token (401)",
			Fix: "paste the bot token again from the developer portal (Bot > Reset Token), or fix token_file / RFADESK_DISCORD_TOKEN"}
	case key == "discord.guild_id" && (de.Code == 10004 || de.Code == 50001 || status == http.StatusForbidden):
		return &ProbeError{Key: key, Problem: fmt.Sprintf("the bot is not a member of server %s, or there is no such server (%s)", p.cfg.GuildID, what),
			Fix: "check discord.guild_id, and invite the bot with the OAuth2 URL (scopes bot and applications.commands)"}
	case de.Code == 10003 || status == http.StatusNotFound && strings.HasPrefix(path, "/channels/"):
		return &ProbeError{Key: key, Problem: fmt.Sprintf("there is no channel %s (%s)", strings.TrimPrefix(path, "/channels/"), what),
			Fix: "copy the channel's id (right-click the channel > Copy Channel ID, with Developer Mode on)"}
	case de.Code == 50001 || status == http.StatusForbidden:
		return &ProbeError{Key: key, Problem: fmt.Sprintf("the bot may not see %s (%s)", strings.TrimPrefix(path, "/"), what),
			Fix: "give the bot's role View Channel there"}
	}
	return &ProbeError{Key: key, Problem: fmt.Sprintf("GET %s: %s", path, what), Fix: "check " + key}
}

// networkError names what failed on the way to Discord.
func (p *prober) networkError(err error) error {
	key := p.baseKey()
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.As(err, &dnsErr):
		return &ProbeError{Key: key, Problem: fmt.Sprintf("DNS: cannot resolve %q: %s", dnsErr.Name, dnsErr.Err), Fix: "check this machine's DNS (and discord.api_base)", Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &ProbeError{Key: key, Problem: "Discord did not answer in time", Fix: "check this machine's network and firewall", Err: err}
	case errors.As(err, &opErr):
		return &ProbeError{Key: key, Problem: fmt.Sprintf("cannot reach Discord: %v", err), Fix: "check this machine's network, firewall and discord.api_base", Err: err}
	}
	return &ProbeError{Key: key, Problem: fmt.Sprintf("cannot reach Discord: %v", err), Fix: "check this machine's network (a TLS-inspecting proxy?)", Err: err}
}

// baseKey is the setting behind the address Discord is reached at.
func (p *prober) baseKey() string {
	if p.cfg.APIBase != "" {
		return "discord.api_base"
	}
	return "discord.token"
}
