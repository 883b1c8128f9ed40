package config

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	"rfadesk/chat"
	"rfadesk/netaddr"
)

// rawDiscord is the [discord] section as written.
type rawDiscord struct {
	Token        string `toml:"token"`
	TokenFile    string `toml:"token_file"`
	GuildID      string `toml:"guild_id"`
	ChannelID    string `toml:"channel_id"`
	StaffRoleID  string `toml:"staff_role_id"`
	OnDutyRoleID string `toml:"on_duty_role_id"`
	OpsChannelID string `toml:"ops_channel_id"`
	APIBase      string `toml:"api_base"`
}

// validateDiscord checks the [discord] section. The token may come from
// token, token_file or the environment (envToken, RFADESK_DISCORD_TOKEN).
func validateDiscord(raw rawDiscord, envToken string, errs []error) (Discord, []error) {
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("discord.%s: "+format, append([]any{key}, args...)...))
	}
	d := Discord{Config: chat.Config{
		GuildID: raw.GuildID, ChannelID: raw.ChannelID, StaffRoleID: raw.StaffRoleID,
		OnDutyRoleID: raw.OnDutyRoleID, OpsChannelID: raw.OpsChannelID, APIBase: raw.APIBase,
	}}
	switch {
	case raw.Token != "" && raw.TokenFile != "":
		bad("token", "set either token or token_file, not both")
	case raw.TokenFile != "":
		b, err := os.ReadFile(raw.TokenFile)
		if err != nil {
			bad("token_file", "cannot read it: %v", err)
		}
		d.Token = strings.TrimSpace(string(b))
	case raw.Token != "":
		d.Token = raw.Token
	default:
		d.Token = envToken
	}
	d.Token = strings.TrimPrefix(strings.TrimSpace(d.Token), "Bot ")
	if d.Token == "" {
		if raw.GuildID != "" || raw.ChannelID != "" {
			bad("token", "missing: the [discord] section has ids but no token; paste the bot token from the Discord developer portal (Bot > Reset Token), use token_file, or RFADESK_DISCORD_TOKEN; or remove the section to run email-only")
		}
		return d, errs
	}
	d.Enabled = true
	snowflake := func(key, v string, required bool) {
		if v == "" {
			if required {
				bad(key, "missing: right-click it in Discord (Developer Mode on) and Copy ID")
			}
			return
		}
		if _, err := strconv.ParseUint(v, 10, 64); err != nil {
			bad(key, "%q is not a Discord id (a number like \"1179032417645314108\"): right-click it in Discord and Copy ID", v)
		}
	}
	snowflake("guild_id", d.GuildID, true)
	snowflake("channel_id", d.ChannelID, true)
	snowflake("staff_role_id", d.StaffRoleID, true)
	snowflake("on_duty_role_id", d.OnDutyRoleID, false)
	snowflake("ops_channel_id", d.OpsChannelID, false)
	if d.APIBase != "" {
		u, err := url.Parse(d.APIBase)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			bad("api_base", "%q is not an http(s) URL: e.g. \"https://discord.com/api/v9\"", d.APIBase)
		case u.Scheme == "http" && !netaddr.IsLoopback(u.Hostname()):
			bad("api_base", "plain http is allowed only for a loopback address: the bot token travels in every request")
		case u.RawQuery != "" || u.Fragment != "":
			bad("api_base", "%q has a query or fragment: write the base URL alone, e.g. \"https://discord.com/api/v9\"", d.APIBase)
		}
	}
	return d, errs
}
