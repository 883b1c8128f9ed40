package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func noEnv(string) string { return "" }

func TestExampleConfigLoads(t *testing.T) {
	env := func(k string) string {
		return map[string]string{"RFADESK_IMAP_PASSWORD": "imap-secret"}[k]
	}
	cfg, err := loadConfig("config.example.toml", env)
	if err != nil {
		t.Fatalf("config.example.toml does not load: %v", err)
	}
	if cfg.Desk.Address.Email != "support@example.org" || cfg.IMAP.Password != "imap-secret" || cfg.Mailbox != "INBOX" {
		t.Errorf("unexpected values: %+v", cfg)
	}
	if len(cfg.Desk.Organisations) != 2 || cfg.Desk.Organisations[1].Domains[1] != "elmpark-academy.org.uk" {
		t.Errorf("organisations = %+v", cfg.Desk.Organisations)
	}
}

// loopbackTOML is the smallest valid configuration without an IMAP
// password: loopback servers, plain connections; tests append to its
// [imap] section or add sections after it.
const loopbackTOML = `
[desk]
address = "support@example.org"
store = "x.db"
base_url = "https://support.example.org"
[smtp]
address = "127.0.0.1:25"
security = "none"
[imap]
address = "127.0.0.1:143"
security = "none"
username = "support@example.org"
`

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rfadesk.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigReportsEveryProblemAtOnce(t *testing.T) {
	p := writeConfig(t, `
[desk]
address = "not an address"
base_url = "ftp://x"
[imap]
address = "imap.example.org"
security = "none"
poll_interval = "soon"
[smtp]
address = "smtp.example.org:587"
security = "ssl"
username = "desk"
[web]
admin_token = "short"
[log]
level = "loud"
[[organisation]]
name = "A"
domains = ["a.sch.uk"]
[[organisation]]
domains = ["A.sch.uk", "bad domain"]
[typo]
x = 1
`)
	_, err := loadConfig(p, noEnv)
	if err == nil {
		t.Fatal("bad config accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		"desk.address:", "desk.store: missing", "desk.base_url:",
		"imap.address:", "imap.security: \"none\"", "imap.username: missing", "imap.poll_interval:",
		"smtp.security: \"ssl\"", "smtp.password: missing for desk", "RFADESK_SMTP_PASSWORD",
		"web.admin_token: too short", "log.level:",
		"organisation[1].name: missing", `organisation[1].domains: "a.sch.uk" is already claimed by "A"`,
		`"bad domain" is not a mail domain`, "typo: unknown key",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "typo.x") {
		t.Errorf("a misspelt section should be reported once, not per key:\n%s", msg)
	}
	if lines := strings.Count(msg, "\n") + 1; lines != 15 {
		t.Errorf("want every problem on its own line, got %d lines:\n%s", lines, msg)
	}
}

func TestConfigPasswordSources(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("from-file\n"), 0o600)
	base := loopbackTOML
	cfg, err := loadConfig(writeConfig(t, base+"password_file = \""+pw+"\"\n"), noEnv)
	if err != nil || cfg.IMAP.Password != "from-file" {
		t.Fatalf("password_file: %v %q", err, cfg.IMAP.Password)
	}
	_, err = loadConfig(writeConfig(t, base+"password_file = \""+pw+"\"\npassword = \"x\"\n"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "imap.password: set either password or password_file") {
		t.Fatalf("both sources: %v", err)
	}
	_, err = loadConfig(writeConfig(t, base+"password_file = \"/nonexistent/pw\"\n"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "imap.password_file: cannot read it") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestConfigSyntaxErrorNamesLine(t *testing.T) {
	_, err := loadConfig(writeConfig(t, "[desk]\nname = \"unterminated\n"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("want the line of the syntax error, got %v", err)
	}
}

func TestConfigDiscord(t *testing.T) {
	base := loopbackTOML + "password = \"pw\"\n"
	cfg, err := loadConfig(writeConfig(t, base), noEnv)
	if err != nil || cfg.Discord.Enabled || cfg.Desk.Chat {
		t.Fatalf("no [discord]: enabled=%v chat=%v err=%v", cfg.Discord.Enabled, cfg.Desk.Chat, err)
	}
	_, err = loadConfig(writeConfig(t, base+`
[discord]
guild_id = "123"
channel_id = "x"
`), noEnv)
	if err == nil || !strings.Contains(err.Error(), "discord.token: missing") {
		t.Fatalf("ids without a token: %v", err)
	}
	env := func(k string) string { return map[string]string{"RFADESK_DISCORD_TOKEN": "Bot abc.def"}[k] }
	_, err = loadConfig(writeConfig(t, base+`
[discord]
guild_id = "123"
channel_id = "general"
api_base = "http://proxy.example.org/api/v9"
`), env)
	for _, want := range []string{`discord.channel_id: "general" is not a Discord id`, "discord.staff_role_id: missing", "discord.api_base: plain http"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	cfg, err = loadConfig(writeConfig(t, base+`
[discord]
guild_id = "123"
channel_id = "456"
staff_role_id = "789"
on_duty_role_id = "1011"
`), env)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Discord.Enabled || !cfg.Desk.Chat || cfg.Discord.Token != "abc.def" || cfg.Desk.SLA.OnDutyRole != "1011" {
		t.Errorf("discord = %+v, chat %v, on duty %q", cfg.Discord, cfg.Desk.Chat, cfg.Desk.SLA.OnDutyRole)
	}
}

func TestHoursTextFollowsTheCalendar(t *testing.T) {
	cfg, err := loadConfig("config.example.toml", func(k string) string {
		return map[string]string{"RFADESK_IMAP_PASSWORD": "pw"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hoursText(cfg.Calendar), "Monday to Friday, 08:00–17:00 UK time, closed on bank holidays"; got != want {
		t.Errorf("default hours = %q, want %q", got, want)
	}
	if !strings.Contains(cfg.Desk.Hours, "Monday to Friday, 08:00–17:00") {
		t.Errorf("the acknowledgement's hours = %q", cfg.Desk.Hours)
	}
	cs, err := loadCalendarConfig("testdata/config/custom-hours.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got := hoursText(cs); !strings.HasPrefix(got, "Monday to Thursday, 09:00–17:30") {
		t.Errorf("custom hours = %q", got)
	}
}

func TestConfigAuthServID(t *testing.T) {
	base := loopbackTOML + "password = \"pw\"\n"
	for _, ok := range []string{"mx.example.org", "!exchange-online", ""} {
		cfg, err := loadConfig(writeConfig(t, base+"authserv_id = \""+ok+"\"\n"), noEnv)
		if err != nil || cfg.AuthServID != ok {
			t.Errorf("authserv_id %q: %v %q", ok, err, cfg.AuthServID)
		}
	}
	_, err := loadConfig(writeConfig(t, base+"authserv_id = \"mx.example.org; dmarc\"\n"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "imap.authserv_id:") {
		t.Errorf("bad authserv_id: %v", err)
	}
}

// A syntax error in a secret's line must not print the secret, neither in
// the context lines nor in the parser's message (which quotes the value).
func TestConfigSyntaxErrorNeverShowsASecret(t *testing.T) {
	for name, body := range map[string]string{
		"on the password line": loopbackTOML + "password = hunter2secret\n",
		"unterminated":         loopbackTOML + "password = \"hunter2secret\n",
		"after the password":   loopbackTOML + "password = \"hunter2secret\"\nmailbox = = 1\n",
		"admin token":          loopbackTOML + "[web]\nadmin_token = 'hunter2secret''\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadConfig(writeConfig(t, body), noEnv)
			if err == nil {
				t.Fatal("a syntax error was accepted")
			}
			if strings.Contains(err.Error(), "hunter") {
				t.Errorf("the error shows the secret:\n%v", err)
			}
			if !strings.Contains(err.Error(), "line ") {
				t.Errorf("the error does not say where:\n%v", err)
			}
		})
	}
	_, err := loadConfig(writeConfig(t, loopbackTOML+"mailbox = INBOX\n"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "mailbox = INBOX") {
		t.Errorf("a line without a secret should still be shown: %v", err)
	}
}

func TestMaxMessageText(t *testing.T) {
	cfg, err := loadConfig(writeConfig(t, strings.Replace(loopbackTOML, "[smtp]", "max_message_text = 4096\n[smtp]", 1)+"password = \"x\"\n"), noEnv)
	if err != nil || cfg.Desk.Limits.MaxMessageText != 4096 {
		t.Fatalf("max_message_text = 4096: %v, %+v", err, cfg)
	}
	for _, v := range []string{"0", "-1", "100", "999999999"} {
		_, err := loadConfig(writeConfig(t, strings.Replace(loopbackTOML, "[smtp]", "max_message_text = "+v+"\n[smtp]", 1)+"password = \"x\"\n"), noEnv)
		if err == nil || !strings.Contains(err.Error(), "desk.max_message_text") || !strings.Contains(err.Error(), "between 1024 and") {
			t.Errorf("max_message_text = %s: %v", v, err)
		}
	}
}
