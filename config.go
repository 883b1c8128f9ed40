package main

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"rfadesk/bot"
	"rfadesk/mailbox"
)

// rawConfig is the TOML file as written. It is only ever read by
// loadConfig, which turns it into a validated Config.
type rawConfig struct {
	Desk struct {
		Name               string   `toml:"name"`
		Address            string   `toml:"address"`
		Store              string   `toml:"store"`
		BaseURL            string   `toml:"base_url"`
		AlertTo            []string `toml:"alert_to"`
		ResponseTarget     string   `toml:"response_target"`
		Hours              string   `toml:"hours"`
		MaxAttachmentBytes *int64   `toml:"max_attachment_bytes"`
		MaxMessageText     *int64   `toml:"max_message_text"`
	} `toml:"desk"`
	IMAP struct {
		Address      string `toml:"address"`
		Security     string `toml:"security"`
		Username     string `toml:"username"`
		Password     string `toml:"password"`
		PasswordFile string `toml:"password_file"`
		Mailbox      string `toml:"mailbox"`
		Processed    string `toml:"processed"`
		Failed       string `toml:"failed"`
		PollInterval string `toml:"poll_interval"`
		AuthServID   string `toml:"authserv_id"`
	} `toml:"imap"`
	SMTP struct {
		Address      string `toml:"address"`
		Security     string `toml:"security"`
		Username     string `toml:"username"`
		Password     string `toml:"password"`
		PasswordFile string `toml:"password_file"`
		HeloName     string `toml:"helo_name"`
	} `toml:"smtp"`
	Web struct {
		Listen     string `toml:"listen"`
		AdminToken string `toml:"admin_token"`
	} `toml:"web"`
	Log struct {
		Level string `toml:"level"`
	} `toml:"log"`
	Discord      rawDiscord `toml:"discord"`
	Organisation []struct {
		Name    string   `toml:"name"`
		Domains []string `toml:"domains"`
		Trust   string   `toml:"trust"`
	} `toml:"organisation"`
	Calendar   rawCalendar   `toml:"calendar"`
	SLA        rawSLA        `toml:"sla"`
	Escalation rawEscalation `toml:"escalation"`
}

// Config is the validated runtime configuration.
type Config struct {
	Desk      bot.DeskConfig
	StorePath string
	MaxAttach int64
	IMAP      ServerConfig
	Mailbox   string
	Processed string
	Failed    string
	Poll      time.Duration
	// AuthServID is the authserv-id of our own mail server's
	// Authentication-Results (or mailbox.AuthServIDExchangeOnline); ""
	// trusts none.
	AuthServID string
	SMTP       ServerConfig
	HeloName   string
	Listen     string
	AdminToken string
	LogLevel   string
	// Discord is the validated [discord] section; Discord.Enabled is
	// false when no token is configured (email-only).
	Discord DiscordConfig
	// Calendar is the validated [calendar] section (hours, holidays, school
	// holidays), as the calendar API and "rfadesk sla calendar" show it.
	Calendar calendarSettings
	// SLAWarnings are calendar/escalation problems to log at start-up
	// that do not stop the desk (e.g. a year without holiday data).
	SLAWarnings []string
}

// ServerConfig is how to reach and log in to one mail server.
type ServerConfig struct {
	Address  string
	Security string
	Username string
	Password string
}

// loadConfig reads and validates the file at path. The environment
// (RFADESK_IMAP_PASSWORD, RFADESK_SMTP_PASSWORD) fills passwords left
// empty in the file. Every problem is reported at once, joined, each as
// "section.key: what is wrong, what to do".
func loadConfig(path string, getenv func(string) string) (*Config, error) {
	var raw rawConfig
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return nil, fmt.Errorf("%s: %s", path, syntaxErrorText(string(data), perr))
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var errs []error
	var unknown []string
	for _, k := range md.Undecoded() {
		key := k.String()
		// Report a misspelt section once, not again for each key in it.
		if len(unknown) > 0 && strings.HasPrefix(key, unknown[len(unknown)-1]+".") {
			continue
		}
		unknown = append(unknown, key)
		errs = append(errs, fmt.Errorf("%s: unknown key: remove it or check its spelling against config.example.toml", key))
	}
	cfg, verrs := validate(&raw, getenv)
	errs = append(errs, verrs...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

func validate(raw *rawConfig, getenv func(string) string) (*Config, []error) {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	c := &Config{
		StorePath:  raw.Desk.Store,
		Mailbox:    or(raw.IMAP.Mailbox, "INBOX"),
		Processed:  or(raw.IMAP.Processed, "Processed"),
		Failed:     or(raw.IMAP.Failed, "Failed"),
		HeloName:   raw.SMTP.HeloName,
		Listen:     or(raw.Web.Listen, "127.0.0.1:8080"),
		AdminToken: raw.Web.AdminToken,
		LogLevel:   or(raw.Log.Level, "info"),
		MaxAttach:  10 << 20,
	}
	d := &c.Desk
	d.Name = or(raw.Desk.Name, "Service Desk")
	d.ResponseTarget = or(raw.Desk.ResponseTarget, "72 hours")
	d.Hours = raw.Desk.Hours // default: from [calendar], below
	if raw.Desk.Address == "" {
		bad("desk.address", "missing: set it to the support mailbox's address, e.g. \"support@example.org\"")
	} else if a, err := mail.ParseAddress(raw.Desk.Address); err != nil {
		bad("desk.address", "%q is not an email address: write it as \"support@example.org\"", raw.Desk.Address)
	} else {
		d.Address = bot.Address{Name: d.Name, Email: strings.ToLower(a.Address)}
		d.LoopValue = d.Address.Email
	}
	if c.StorePath == "" {
		bad("desk.store", "missing: set it to the path of the bbolt file, e.g. \"/var/lib/rfadesk/rfadesk.db\"")
	}
	if u, err := url.Parse(raw.Desk.BaseURL); raw.Desk.BaseURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("desk.base_url", "%q is not an http(s) URL: set it to where requesters reach the status page, e.g. \"https://support.example.org\"", raw.Desk.BaseURL)
	} else {
		d.BaseURL = strings.TrimRight(raw.Desk.BaseURL, "/")
	}
	for i, s := range raw.Desk.AlertTo {
		a, err := mail.ParseAddress(s)
		if err != nil {
			bad(fmt.Sprintf("desk.alert_to[%d]", i), "%q is not an email address", s)
			continue
		}
		d.AlertTo = append(d.AlertTo, bot.Address{Name: a.Name, Email: strings.ToLower(a.Address)})
	}
	if raw.Desk.MaxAttachmentBytes != nil {
		if *raw.Desk.MaxAttachmentBytes < 0 {
			bad("desk.max_attachment_bytes", "must not be negative (0 keeps no attachment data; default 10485760)")
		} else {
			c.MaxAttach = *raw.Desk.MaxAttachmentBytes
		}
	}

	if v := raw.Desk.MaxMessageText; v != nil {
		if *v < minMessageText || *v > maxMessageText {
			bad("desk.max_message_text", "%d is out of range: use between %d and %d bytes (default %d); longer messages are cut and kept whole as an attachment", *v, minMessageText, maxMessageText, bot.DefaultMaxMessageText)
		} else {
			d.Limits.MaxMessageText = int(*v)
		}
	}

	c.IMAP, errs = validateServer("imap", raw.IMAP.Address, raw.IMAP.Security, "tls", raw.IMAP.Username, raw.IMAP.Password, raw.IMAP.PasswordFile, getenv("RFADESK_IMAP_PASSWORD"), true, errs)
	c.SMTP, errs = validateServer("smtp", raw.SMTP.Address, raw.SMTP.Security, "starttls", raw.SMTP.Username, raw.SMTP.Password, raw.SMTP.PasswordFile, getenv("RFADESK_SMTP_PASSWORD"), false, errs)
	c.Poll = 60 * time.Second
	if raw.IMAP.PollInterval != "" {
		p, err := time.ParseDuration(raw.IMAP.PollInterval)
		switch {
		case err != nil:
			bad("imap.poll_interval", "%q is not a duration: write it like \"60s\" or \"5m\"", raw.IMAP.PollInterval)
		case p < time.Second || p > time.Hour:
			bad("imap.poll_interval", "%s is out of range: use between 1s and 1h", p)
		default:
			c.Poll = p
		}
	}
	c.AuthServID = strings.TrimSpace(raw.IMAP.AuthServID)
	if id := c.AuthServID; id != "" && id != mailbox.AuthServIDExchangeOnline {
		if len(id) > 253 || strings.IndexFunc(id, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_')
		}) >= 0 {
			bad("imap.authserv_id", "%q is not an authserv-id: use the host name your mail server writes first in its Authentication-Results headers (e.g. \"mx.example.org\"), %q for Microsoft 365, or leave it empty", id, mailbox.AuthServIDExchangeOnline)
		}
	}
	if c.Processed == c.Mailbox || c.Failed == c.Mailbox {
		bad("imap.processed", "the processed and failed folders must differ from imap.mailbox (%q)", c.Mailbox)
	}

	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("web.listen", "%q is not host:port: e.g. \"127.0.0.1:8080\"", c.Listen)
	}
	if t := c.AdminToken; t != "" && len(t) < 16 {
		bad("web.admin_token", "too short (%d characters): use at least 16 random characters, e.g. from `openssl rand -hex 16`, or leave it empty to disable the admin API", len(t))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not a level: use debug, info, warn or error", c.LogLevel)
	}

	seen := map[string]string{}
	for i, o := range raw.Organisation {
		key := fmt.Sprintf("organisation[%d]", i)
		if o.Name == "" {
			bad(key+".name", "missing: every [[organisation]] needs the school's name")
		}
		if len(o.Domains) == 0 {
			bad(key+".domains", "missing: list the school's mail domains, e.g. [\"oakprimary.sch.uk\"]")
		}
		var doms []string
		for _, dom := range o.Domains {
			dom = strings.ToLower(strings.TrimSpace(dom))
			if dom == "" || strings.ContainsAny(dom, "@ /") || !strings.Contains(dom, ".") {
				bad(key+".domains", "%q is not a mail domain: write the part after @, e.g. \"oakprimary.sch.uk\"", dom)
				continue
			}
			if prev, dup := seen[dom]; dup {
				bad(key+".domains", "%q is already claimed by %q: a domain belongs to one organisation", dom, prev)
				continue
			}
			seen[dom] = o.Name
			doms = append(doms, dom)
		}
		d.Organisations = append(d.Organisations, bot.Organisation{Name: o.Name, Trust: o.Trust, Domains: doms})
	}
	sla, errs := validateSLA(raw, time.Now(), errs)
	d.SLA, d.Managers, d.ManagerName, c.SLAWarnings = sla.Policy, sla.Managers, sla.ManagerName, sla.Warnings
	c.Calendar = sla.Calendar
	if d.Hours == "" && c.Calendar.Calendar != nil {
		d.Hours = "The desk is open " + hoursText(c.Calendar)
	}
	c.Discord, errs = validateDiscord(raw.Discord, getenv("RFADESK_DISCORD_TOKEN"), errs)
	d.Chat = c.Discord.Enabled
	if d.SLA != nil && d.SLA.OnDutyRole == "" {
		d.SLA.OnDutyRole = c.Discord.OnDutyRoleID
	}
	if sla.Policy != nil {
		// The acknowledgement promises exactly what the response clock measures.
		d.ResponseTarget = sla.Policy.Response.String()
	}
	return c, errs
}

// validateServer checks one [imap] or [smtp] section.
func validateServer(section, addr, security, defSecurity, user, pass, passFile, envPass string, needAuth bool, errs []error) (ServerConfig, []error) {
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: "+format, append([]any{section, key}, args...)...))
	}
	s := ServerConfig{Address: addr, Security: or(security, defSecurity), Username: user}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr // still judge whether it is loopback
	}
	if addr == "" {
		bad("address", "missing: set it to host:port of the %s server", strings.ToUpper(section))
	} else if err != nil || host == "" || port == "" {
		bad("address", "%q is not host:port: e.g. \"mail.example.org:%s\"", addr, map[string]string{"imap": "993", "smtp": "587"}[section])
	}
	switch s.Security {
	case "tls", "starttls":
	case "none":
		if host != "" && !isLoopback(host) {
			bad("security", "\"none\" sends the password in clear and is allowed only for a loopback address; use \"tls\" or \"starttls\"")
		}
	default:
		bad("security", "%q is not one of tls, starttls, none", s.Security)
	}
	sources := 0
	for _, v := range []string{pass, passFile} {
		if v != "" {
			sources++
		}
	}
	if sources > 1 {
		bad("password", "set either password or password_file, not both")
	}
	switch {
	case passFile != "":
		b, err := os.ReadFile(passFile)
		if err != nil {
			bad("password_file", "cannot read it: %v", err)
		}
		s.Password = strings.TrimRight(string(b), "\r\n")
	case pass != "":
		s.Password = pass
	default:
		s.Password = envPass
	}
	if needAuth && user == "" {
		bad("username", "missing: set it to the mailbox's login, e.g. \"support@example.org\"")
	}
	if user != "" && s.Password == "" {
		bad("password", "missing for %s: set password, password_file, or the environment variable RFADESK_%s_PASSWORD", user, strings.ToUpper(section))
	}
	return s, errs
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Bounds of desk.max_message_text, in bytes.
const (
	minMessageText = 1 << 10
	maxMessageText = 16 << 20
)

// syntaxErrorText describes a TOML syntax error with the lines around
// it, like toml.ParseError.ErrorWithPosition, but never shows the value
// of a secret key (isSecretKey): such a line is shown as "key = (hidden)",
// and when the error is on that line the parser's message, which may
// quote part of the value, is replaced. The text goes to the terminal
// and the journal.
func syntaxErrorText(input string, pe toml.ParseError) string {
	lines := strings.Split(input, "\n")
	n := pe.Position.Line
	if n < 1 || n > len(lines) {
		return "line " + fmt.Sprint(n) + ": TOML syntax error"
	}
	msg := "toml: error: " + pe.Message
	if key, ok := secretLine(lines[n-1]); ok {
		msg = fmt.Sprintf("toml: error: the value of %s is not valid TOML (not shown: it is a secret); write it as a quoted string, e.g. %s = \"...\"", key, key)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\nAt line %d, column %d:\n\n", msg, n, pe.Position.Col)
	for i := max(1, n-2); i <= n; i++ {
		line := lines[i-1]
		if key, ok := secretLine(line); ok {
			line = key + " = (hidden)"
		}
		fmt.Fprintf(&b, "%7d | %s\n", i, strings.TrimRight(line, "\r"))
	}
	return b.String()
}

// secretLine reports whether a TOML line assigns a secret key, and its key.
func secretLine(line string) (string, bool) {
	key, _, ok := strings.Cut(line, "=")
	if !ok {
		return "", false
	}
	key = strings.Trim(strings.TrimSpace(key), `"'`)
	return key, isSecretKey(key)
}

// isSecretKey reports whether a configuration key holds a secret whose
// value must never be printed: passwords, tokens and other credentials,
// whatever their section.
func isSecretKey(key string) bool {
	k := strings.ToLower(key)
	if i := strings.LastIndexByte(k, '.'); i >= 0 {
		k = k[i+1:]
	}
	if strings.HasSuffix(k, "_file") {
		return false // a path to the secret, not the secret
	}
	for _, w := range []string{"password", "passwd", "token", "secret", "credential", "api_key", "apikey", "private_key"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
