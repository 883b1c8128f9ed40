package config

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/mailbox"
	"rfadesk/web"
)

func noEnv(string) string { return "" }

func TestExampleConfigLoads(t *testing.T) {
	env := func(k string) string {
		return map[string]string{"RFADESK_IMAP_PASSWORD": "imap-secret"}[k]
	}
	cfg, err := Load("../config.example.toml", env)
	if err != nil {
		t.Fatalf("config.example.toml does not load: %v", err)
	}
	if cfg.Desk.Address.Email != "support@example.org" || cfg.IMAP.Password != "imap-secret" || cfg.IMAP.Mailbox != "INBOX" {
		t.Errorf("unexpected values: %+v", cfg)
	}
	if len(cfg.Desk.Organisations) != 2 || cfg.Desk.Organisations[1].Domains[1] != "elmpark-academy.org.uk" {
		t.Errorf("organisations = %+v", cfg.Desk.Organisations)
	}
	if !cfg.Desk.Staff.Matches("tom.reid@example-it.co.uk") || !cfg.Desk.Staff.Matches("priya@example.org") || cfg.Desk.Staff.Matches("head@oakprimary.sch.uk") {
		t.Errorf("staff = %+v", cfg.Desk.Staff)
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
	_, err := Load(p, noEnv)
	if err == nil {
		t.Fatal("bad config accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		"desk.address:", "store.path: missing", "desk.base_url:",
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
	cfg, err := Load(writeConfig(t, base+"password_file = \""+pw+"\"\n"), noEnv)
	if err != nil || cfg.IMAP.Password != "from-file" {
		t.Fatalf("password_file: %v %q", err, cfg.IMAP.Password)
	}
	_, err = Load(writeConfig(t, base+"password_file = \""+pw+"\"\npassword = \"x\"\n"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "imap.password: set either password or password_file") {
		t.Fatalf("both sources: %v", err)
	}
	_, err = Load(writeConfig(t, base+"password_file = \"/nonexistent/pw\"\n"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "imap.password_file: cannot read it") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestConfigSyntaxErrorNamesLine(t *testing.T) {
	_, err := Load(writeConfig(t, "[desk]\nname = \"unterminated\n"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("want the line of the syntax error, got %v", err)
	}
}

func TestConfigDiscord(t *testing.T) {
	base := loopbackTOML + "password = \"pw\"\n"
	cfg, err := Load(writeConfig(t, base), noEnv)
	if err != nil || cfg.Discord.Enabled || cfg.Desk.Chat {
		t.Fatalf("no [discord]: enabled=%v chat=%v err=%v", cfg.Discord.Enabled, cfg.Desk.Chat, err)
	}
	_, err = Load(writeConfig(t, base+`
[discord]
guild_id = "123"
channel_id = "x"
`), noEnv)
	if err == nil || !strings.Contains(err.Error(), "discord.token: missing") {
		t.Fatalf("ids without a token: %v", err)
	}
	env := func(k string) string { return map[string]string{"RFADESK_DISCORD_TOKEN": "Bot abc.def"}[k] }
	_, err = Load(writeConfig(t, base+`
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
	cfg, err = Load(writeConfig(t, base+`
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
	cfg, err := Load("../config.example.toml", func(k string) string {
		return map[string]string{"RFADESK_IMAP_PASSWORD": "pw"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Calendar.HoursText(), "Monday to Friday, 08:00–17:00 UK time, closed on bank holidays"; got != want {
		t.Errorf("default hours = %q, want %q", got, want)
	}
	if !strings.Contains(cfg.Desk.Hours, "Monday to Friday, 08:00–17:00") {
		t.Errorf("the acknowledgement's hours = %q", cfg.Desk.Hours)
	}
	cs, err := LoadCalendar("testdata/custom-hours.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got := cs.HoursText(); !strings.HasPrefix(got, "Monday to Thursday, 09:00–17:30") {
		t.Errorf("custom hours = %q", got)
	}
}

func TestConfigAuthServID(t *testing.T) {
	base := loopbackTOML + "password = \"pw\"\n"
	for _, ok := range []string{"mx.example.org", "!exchange-online", ""} {
		cfg, err := Load(writeConfig(t, base+"authserv_id = \""+ok+"\"\n"), noEnv)
		if err != nil || cfg.Parse.AuthServID != ok {
			t.Errorf("authserv_id %q: %v %q", ok, err, cfg.Parse.AuthServID)
		}
	}
	_, err := Load(writeConfig(t, base+"authserv_id = \"mx.example.org; dmarc\"\n"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "imap.authserv_id:") {
		t.Errorf("bad authserv_id: %v", err)
	}
}

// TestConfigCatchesWhatTheSenderRefused: problems the SMTP sender used to
// find only when the daemon started are reported by Load, with the key.
func TestConfigCatchesWhatTheSenderRefused(t *testing.T) {
	base := strings.Replace(loopbackTOML, "security = \"none\"\n[imap]", "security = \"none\"\n%s\n[imap]", 1) + "password = \"pw\"\n"
	for _, tc := range []struct {
		smtp string
		env  map[string]string
		want string
	}{
		{smtp: `password = "pw"`, want: "smtp.username: missing: a password is set"},
		{env: map[string]string{"RFADESK_SMTP_PASSWORD": "pw"}, want: "smtp.username: missing: a password is set (password, password_file or RFADESK_SMTP_PASSWORD)"},
		{smtp: `helo_name = "desk example"`, want: `smtp.helo_name: "desk example" is not a host name`},
		{smtp: `helo_name = "desk\r\nRCPT TO:<x@example.org>"`, want: "smtp.helo_name:"},
	} {
		_, err := Load(writeConfig(t, fmt.Sprintf(base, tc.smtp)), func(k string) string { return tc.env[k] })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("[smtp] %s, env %v: got %v, want %q", tc.smtp, tc.env, err, tc.want)
		}
	}
	cfg, err := Load(writeConfig(t, fmt.Sprintf(base, `helo_name = "desk.example.org"`)), noEnv)
	if err != nil || cfg.SMTP.HeloName != "desk.example.org" || cfg.SMTP.Username != "" {
		t.Fatalf("good [smtp]: %v %+v", err, cfg)
	}
}

// TestConfigLoopbackRule: plain text is allowed for loopback hosts only,
// by one rule for IMAP, SMTP and the Discord API base.
func TestConfigLoopbackRule(t *testing.T) {
	for host, loopback := range map[string]bool{
		"127.0.0.1": true, "[::1]": true, "localhost": true, "LocalHost": true,
		"mail.example.org": false, "192.0.2.1": false, "localhost.example.org": false,
	} {
		body := strings.ReplaceAll(loopbackTOML, "127.0.0.1:", host+":") + "password = \"pw\"\n" +
			"[discord]\ntoken = \"t\"\nguild_id = \"1\"\nchannel_id = \"2\"\nstaff_role_id = \"3\"\napi_base = \"http://" + host + ":8080/api/v9\"\n"
		_, err := Load(writeConfig(t, body), noEnv)
		for _, key := range []string{"imap.security: \"none\"", "smtp.security: \"none\"", "discord.api_base: plain http"} {
			if got := err != nil && strings.Contains(err.Error(), key); got == loopback {
				t.Errorf("host %q: reported %s = %v, want %v (err %v)", host, key, got, !loopback, err)
			}
		}
	}
	_, err := Load(writeConfig(t, loopbackTOML+"password = \"pw\"\n[discord]\ntoken = \"t\"\nguild_id = \"1\"\nchannel_id = \"2\"\nstaff_role_id = \"3\"\napi_base = \"https://proxy.example.org/api?x=1\"\n"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "discord.api_base: \"https://proxy.example.org/api?x=1\" has a query") {
		t.Errorf("api_base with a query: %v", err)
	}
}

// TestConfigHoldsComponentConfigs: Load returns the components' own
// config types with every default applied, ready for the constructors.
func TestConfigHoldsComponentConfigs(t *testing.T) {
	cfg, err := Parse([]byte(loopbackTOML+"password = \"pw\"\nauthserv_id = \"mx.example.org\"\n[log]\nlevel = \"debug\"\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	wantIMAP := mailbox.IMAPConfig{Address: "127.0.0.1:143", Security: "none", Username: "support@example.org", Password: "pw",
		Mailbox: "INBOX", Processed: "Processed", Failed: "Failed", PollInterval: time.Minute}
	if cfg.IMAP != wantIMAP {
		t.Errorf("IMAP = %+v, want %+v", cfg.IMAP, wantIMAP)
	}
	if want := (mailbox.SMTPConfig{Address: "127.0.0.1:25", Security: "none"}); cfg.SMTP != want {
		t.Errorf("SMTP = %+v, want %+v", cfg.SMTP, want)
	}
	if want := (mailbox.ParseOptions{MaxAttachmentSize: DefaultMaxAttachmentBytes, LoopValue: "support@example.org", AuthServID: "mx.example.org"}); cfg.Parse != want {
		t.Errorf("Parse = %+v, want %+v", cfg.Parse, want)
	}
	if !reflect.DeepEqual(cfg.Web, Web{Listen: "127.0.0.1:8080"}) || cfg.Log.Level != slog.LevelDebug || cfg.Discord.Enabled {
		t.Errorf("web %+v, log %v, discord %+v", cfg.Web, cfg.Log.Level, cfg.Discord)
	}
	if _, err := mailbox.NewIntake(cfg.IMAP, nopIngester{}, mailbox.IntakeOptions{Parse: func([]byte) (*bot.Mail, error) { return nil, nil }, DedupeKey: func([]byte) string { return "" }}); err != nil {
		t.Errorf("NewIntake refuses the loaded IMAP config: %v", err)
	}
	if _, err := mailbox.NewSender(cfg.SMTP, mailbox.SenderOptions{From: cfg.Desk.Address}); err != nil {
		t.Errorf("NewSender refuses the loaded SMTP config: %v", err)
	}
	_, err = Parse([]byte("[desk]\nname = \"unterminated\n"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("syntax error: %v", err)
	}
}

// nopIngester stands in for the desk; the test never runs the intake.
type nopIngester struct{}

func (nopIngester) Cursor(context.Context, string) (bot.Cursor, error) { return bot.Cursor{}, nil }
func (nopIngester) Ingest(context.Context, string, uint32, []bot.Fetched) ([]bot.Outcome, error) {
	return nil, nil
}

// TestConfigAPITokens: [[web.token]] entries become named tokens, from the
// file or a token_file; every problem is named by its key, all at once.
func TestConfigAPITokens(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "desk-bot.token")
	if err := os.WriteFile(file, []byte("0123456789abcdef-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := loopbackTOML + "password = \"x\"\n[web]\nadmin_token = \"0123456789abcdef-admin\"\n" +
		"[[web.token]]\nname = \"Priya Shah\"\ntoken = \"0123456789abcdef-priya\"\n" +
		"[[web.token]]\nname = \"desk-bot\"\ntoken_file = \"" + file + "\"\n"
	cfg, err := Load(writeConfig(t, good), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := []web.APIToken{{Name: "Priya Shah", Token: "0123456789abcdef-priya"}, {Name: "desk-bot", Token: "0123456789abcdef-from-file"}}
	if !reflect.DeepEqual(cfg.Web.Tokens, want) || cfg.Web.AdminToken != "0123456789abcdef-admin" {
		t.Errorf("tokens = %+v, admin %q", cfg.Web.Tokens, cfg.Web.AdminToken)
	}

	bad := loopbackTOML + "password = \"x\"\n[web]\nadmin_token = \"0123456789abcdef-admin\"\n" +
		"[[web.token]]\nname = \"admin\"\ntoken = \"0123456789abcdef-other\"\n" +
		"[[web.token]]\ntoken = \"0123456789abcdef-nameless\"\n" +
		"[[web.token]]\nname = \"short\"\ntoken = \"abc\"\n" +
		"[[web.token]]\nname = \"both\"\ntoken = \"0123456789abcdef-both\"\ntoken_file = \"" + file + "\"\n"
	_, err = Load(writeConfig(t, bad), noEnv)
	for _, want := range []string{"web.token[0].name: \"admin\" is used twice", "web.token[1].name: missing", "web.token[2].token: missing or too short (3 characters)", "web.token[3].token: set either token or token_file"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if err != nil && strings.Contains(err.Error(), "abcdef-") {
		t.Errorf("the error shows a token:\n%v", err)
	}
}

// TestConfigStaff: [staff] becomes the desk's staff matcher; addresses
// and domains are checked, and neither may be a school's, all at once.
func TestConfigStaff(t *testing.T) {
	orgs := "[[organisation]]\nname = \"Oak\"\ndomains = [\"oakprimary.sch.uk\"]\n"
	good := loopbackTOML + "password = \"x\"\nauthserv_id = \"mx.example.org\"\n" + orgs +
		"[staff]\naddresses = [\"Tom@Example-IT.co.uk\", \"tom@example-it.co.uk\"]\ndomains = [\" Example.ORG \"]\n"
	cfg, err := Load(writeConfig(t, good), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := bot.StaffMatcher{Addresses: []string{"tom@example-it.co.uk"}, Domains: []string{"example.org"}}
	if !reflect.DeepEqual(cfg.Desk.Staff, want) {
		t.Errorf("staff = %+v, want %+v", cfg.Desk.Staff, want)
	}
	if slices.ContainsFunc(cfg.Warnings, func(w string) bool { return strings.HasPrefix(w, "imap.authserv_id") }) {
		t.Errorf("warned with authserv_id set: %q", cfg.Warnings)
	}

	bad := loopbackTOML + "password = \"x\"\n" + orgs +
		"[staff]\naddresses = [\"not an address\", \"Tom <tom@example.org>\", \"support@example.org\", \"head@oakprimary.sch.uk\"]\n" +
		"domains = [\"@example.org\", \"localhost\", \"OAKPRIMARY.sch.uk\"]\n"
	_, err = Load(writeConfig(t, bad), noEnv)
	for _, want := range []string{
		`staff.addresses[0]: "not an address" is not an email address`,
		`staff.addresses[1]: "Tom <tom@example.org>" has a display name`,
		`staff.addresses[2]: "support@example.org" is the desk's own address (desk.address)`,
		`staff.addresses[3]: "head@oakprimary.sch.uk" is in the domain of organisation[0] ("Oak")`,
		`staff.domains[0]: "@example.org" is not a mail domain`,
		`staff.domains[1]: "localhost" is not a mail domain`,
		`staff.domains[2]: "OAKPRIMARY.sch.uk" is also the domain of organisation[0] ("Oak")`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}

	// Staff without a trusted authserv-id: forged staff mail cannot be
	// caught, which start-up warns about.
	cfg, err = Load(writeConfig(t, loopbackTOML+"password = \"x\"\n[staff]\ndomains = [\"example.org\"]\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(cfg.Warnings, func(w string) bool { return strings.HasPrefix(w, "imap.authserv_id: empty while [staff] is set") }) {
		t.Errorf("no warning about untrusted staff mail: %q", cfg.Warnings)
	}
}

func TestReleasesSection(t *testing.T) {
	for _, tc := range []struct {
		every, anchor string
		days          int
		anchorWant    string
		err           string
	}{
		{"", "", 14, "2026-01-02", ""},
		{"3 weeks", "2026-11-27", 21, "2026-11-27", ""},
		{"10 days", "", 10, "2026-01-02", ""},
		{"fortnightly", "", 0, "", "releases.minor_every:"},
		{"0 days", "", 0, "", "releases.minor_every:"},
		{"", "27/11/2026", 0, "", "releases.anchor:"},
	} {
		p, errs := validateReleases(rawReleases{MinorEvery: tc.every, Anchor: tc.anchor}, nil)
		if tc.err != "" {
			if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), tc.err) {
				t.Errorf("%q %q: %v, want an error naming %s", tc.every, tc.anchor, errs, tc.err)
			}
			continue
		}
		if len(errs) != 0 || p.MinorEvery != tc.days || p.Anchor.String() != tc.anchorWant {
			t.Errorf("%q %q: %+v %v, want %d days from %s", tc.every, tc.anchor, p, errs, tc.days, tc.anchorWant)
		}
	}
}
