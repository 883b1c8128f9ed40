// Package config loads and validates rfadesk's TOML configuration file, in
// one place and once. The contract:
//
//   - Load (or Parse) decodes the file once. Every key the file has and
//     rfadesk does not know is an error naming the key.
//   - Every problem is reported at once: the error is an errors.Join of
//     lines "section.key: what is wrong, what to do".
//   - A *Config that Load returns is valid: it holds the components'
//     own config types (mailbox.IMAPConfig, mailbox.SMTPConfig,
//     chat.Config, bot.DeskConfig, ...) with every default applied, to be
//     handed to the constructors as they are. Components check only for
//     programming errors, so user-facing rules (addresses, security
//     modes, the loopback rule of package netaddr) live here.
//   - Problems that do not stop the desk (a year without holiday data,
//     nobody to escalate to) are Config.Warnings, for the caller to log.
//
// LoadCalendar reads only the [calendar] section, for "rfadesk sla".
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
	"rfadesk/chat"
	"rfadesk/mailbox"
	"rfadesk/netaddr"
	"rfadesk/web"
)

// Config is the validated runtime configuration.
type Config struct {
	// Desk is [desk], [[organisation]], [staff] and the SLA policy built
	// from [calendar], [sla] and [escalation]; Desk.Chat is Discord.Enabled,
	// and Desk.SLA.OnDutyRole defaults to discord.on_duty_role_id.
	Desk bot.DeskConfig
	// Store is the [store] section (and desk.store): the backend and how
	// to reach it (store.go).
	Store Store
	// HA is the [ha] section: leader election, with the etcd backend
	// only (store.go).
	HA HA
	// Components is desk.components: the service components a requester
	// picks from on the web form (GET /new), in the order written; nil
	// leaves the form's component field free text. Each is one line of
	// at most MaxComponentLen characters, none repeated (in any case).
	Components []string
	// IMAP is the [imap] section, defaults applied. TLSConfig is nil.
	IMAP mailbox.IMAPConfig
	// Parse is how intake parses mail: desk.max_attachment_bytes, the
	// desk's loop value and imap.authserv_id (mailbox.AuthServIDExchangeOnline
	// for Microsoft 365; "" trusts no Authentication-Results).
	Parse mailbox.ParseOptions
	// SMTP is the [smtp] section. TLSConfig is nil; the zero timeouts
	// mean mailbox's defaults.
	SMTP mailbox.SMTPConfig
	// Discord is the [discord] section; Enabled is false when no token is
	// configured (email-only).
	Discord Discord
	// Web is the [web] section.
	Web Web
	// Log is the [log] section.
	Log Log
	// ShutdownGrace is desk.shutdown_grace (default 10s): after SIGTERM,
	// how long the deliverers may go on sending what is due once intake
	// and the web server have stopped.
	ShutdownGrace time.Duration
	// Metrics is the [metrics] section.
	Metrics Metrics
	// Calendar is the [calendar] section (hours, holidays, school
	// holidays) as the calendar API and "rfadesk sla calendar" show it.
	Calendar Calendar
	// Capacity is the [capacity] section's gauges (its threshold is
	// Desk.Capacity).
	Capacity Capacity
	// Retention is the [retention] section (retention.go).
	Retention Retention
	// DependencyGrace is outages.dependency_grace (default 5m): how long
	// the mailbox, SMTP or Discord may be down before staff get a notice
	// (dependency.go).
	DependencyGrace time.Duration
	// Warnings are problems to log at start-up that do not stop the desk
	// (e.g. a year without holiday data), each "section.key: ...".
	Warnings []string
}

// Discord is the validated [discord] section.
type Discord struct {
	// Enabled is false when no token is configured: rfadesk then runs
	// email-only and does not use Config.
	Enabled bool
	// Config is what chat.New takes; Token has no "Bot " prefix.
	chat.Config
}

// Web is the validated [web] section.
type Web struct {
	// Listen is host:port for the status pages and admin API; default
	// "127.0.0.1:8080".
	Listen string
	// AdminToken enables the admin API as the token named "admin"; ""
	// adds no token.
	AdminToken string
	// Tokens are the named API tokens of [[web.token]]: a change made with
	// one is recorded in the RFA's history under its name. Names are
	// unique and none is "admin" when AdminToken is set.
	Tokens []web.APIToken
}

// Log is the validated [log] section.
type Log struct {
	// Level is log.level; default info.
	Level slog.Level
	// Format is log.format: "text" (default, logfmt-like key=value) or
	// "json" (one JSON object a line).
	Format string
}

// Metrics is the validated [metrics] section.
type Metrics struct {
	// Listen is metrics.listen: host:port of a listener serving only
	// /metrics, without a token; "" (the default) serves /metrics on
	// the web listener behind an API token instead. Any address is
	// allowed: whoever can reach it reads the metrics.
	Listen string
}

// Bounds of desk.components.
const (
	MaxComponents   = 50
	MaxComponentLen = 64
)

// DefaultMaxAttachmentBytes is desk.max_attachment_bytes when unset.
const DefaultMaxAttachmentBytes = 10 << 20

// rawConfig is the TOML file as written. It is only ever read by
// validate, which turns it into a Config.
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
		Phone              string   `toml:"phone"`
		KnowledgeBaseURL   string   `toml:"knowledge_base_url"`
		PostalAddress      string   `toml:"postal_address"`
		Components         []string `toml:"components"`
		TemplatesDir       string   `toml:"templates_dir"`
		ShutdownGrace      string   `toml:"shutdown_grace"`
	} `toml:"desk"`
	IMAP struct {
		rawServer
		Mailbox      string `toml:"mailbox"`
		Processed    string `toml:"processed"`
		Failed       string `toml:"failed"`
		PollInterval string `toml:"poll_interval"`
		AuthServID   string `toml:"authserv_id"`
	} `toml:"imap"`
	SMTP struct {
		rawServer
		HeloName string `toml:"helo_name"`
	} `toml:"smtp"`
	Web struct {
		Listen     string `toml:"listen"`
		AdminToken string `toml:"admin_token"`
		Token      []struct {
			Name      string `toml:"name"`
			Token     string `toml:"token"`
			TokenFile string `toml:"token_file"`
		} `toml:"token"`
	} `toml:"web"`
	Log struct {
		Level  string `toml:"level"`
		Format string `toml:"format"`
	} `toml:"log"`
	Metrics struct {
		Listen string `toml:"listen"`
	} `toml:"metrics"`
	Discord      rawDiscord        `toml:"discord"`
	Organisation []rawOrganisation `toml:"organisation"`
	Calendar     rawCalendar       `toml:"calendar"`
	SLA          rawSLA            `toml:"sla"`
	Escalation   rawEscalation     `toml:"escalation"`
	Lifecycle    rawLifecycle      `toml:"lifecycle"`
	Staff        rawStaff          `toml:"staff"`
	Outages      struct {
		InboundSubjects []string `toml:"inbound_subjects"`
		DependencyGrace string   `toml:"dependency_grace"`
	} `toml:"outages"`
	Releases  rawReleases  `toml:"releases"`
	Capacity  rawCapacity  `toml:"capacity"`
	Retention rawRetention `toml:"retention"`
	Store     rawStore     `toml:"store"`
	HA        *rawHA       `toml:"ha"`
}

// rawReleases is the [releases] section: the release calendar.
type rawReleases struct {
	MinorEvery string `toml:"minor_every"`
	Anchor     string `toml:"anchor"`
}

// validateReleases checks [releases]: minor_every is a whole number of
// days or weeks ("2 weeks", the default; "10 days"), anchor the date
// (YYYY-MM-DD) of one minor release (default bot.DefaultReleaseAnchor).
func validateReleases(raw rawReleases, errs []error) (bot.ReleasePolicy, []error) {
	p := bot.ReleasePolicy{MinorEvery: 14, Anchor: bot.DefaultReleaseAnchor}
	if every := strings.TrimSpace(raw.MinorEvery); every != "" {
		var n int
		var unit string
		_, err := fmt.Sscanf(every, "%d %s", &n, &unit)
		switch unit = strings.TrimSuffix(strings.ToLower(unit), "s"); {
		case err != nil || n <= 0 || n > 365 || (unit != "day" && unit != "week"):
			errs = append(errs, fmt.Errorf("releases.minor_every: %q is not a cadence: write days or weeks, e.g. \"2 weeks\" or \"10 days\"", raw.MinorEvery))
		case unit == "week":
			p.MinorEvery = 7 * n
		default:
			p.MinorEvery = n
		}
	}
	if a := strings.TrimSpace(raw.Anchor); a != "" {
		day, err := workcal.ParseDate(a)
		if err != nil {
			errs = append(errs, fmt.Errorf("releases.anchor: %q is not a date: write the date of one minor release as YYYY-MM-DD", raw.Anchor))
		} else {
			p.Anchor = day
		}
	}
	return p, errs
}

// rawServer is what [imap] and [smtp] have in common.
type rawServer struct {
	Address      string `toml:"address"`
	Security     string `toml:"security"`
	Username     string `toml:"username"`
	Password     string `toml:"password"`
	PasswordFile string `toml:"password_file"`
}

// rawOrganisation is one [[organisation]] table.
type rawOrganisation struct {
	Name     string   `toml:"name"`
	Domains  []string `toml:"domains"`
	Trust    string   `toml:"trust"`
	Contacts []string `toml:"contacts"`
}

// Load reads and validates the file at path. The environment
// (RFADESK_IMAP_PASSWORD, RFADESK_SMTP_PASSWORD, RFADESK_DISCORD_TOKEN,
// RFADESK_ETCD_PASSWORD) fills secrets left empty in the file, and
// STATE_DIRECTORY (set by systemd) places an etcd store's receipt log. Every problem is reported at
// once, joined, each as "section.key: what is wrong, what to do"; a
// syntax error names the file and line.
func Load(path string, getenv func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parse(path, data, getenv)
}

// Parse is Load for a file's contents already in memory. Relative paths in
// it (password_file, holidays_file, ...) are relative to the working
// directory.
func Parse(data []byte, getenv func(string) string) (*Config, error) {
	return parse("config", data, getenv)
}

func parse(name string, data []byte, getenv func(string) string) (*Config, error) {
	var raw rawConfig
	errs, err := decode(name, data, &raw, "")
	if err != nil {
		return nil, err
	}
	cfg, verrs := validate(&raw, getenv, time.Now())
	errs = append(errs, verrs...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

// decode is the one TOML decoder: it decodes data (the file name) into v
// and returns an error for each key of data that v has no field for, if
// the key is in section under ("" means every section). A misspelt
// section is reported once, not again for each key in it. The error is
// for data that is not TOML (with the line) or does not fit v.
func decode(name string, data []byte, v any, under string) ([]error, error) {
	md, err := toml.Decode(string(data), v)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return nil, fmt.Errorf("%s: %s", name, syntaxErrorText(string(data), perr))
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var errs []error
	var unknown []string
	for _, k := range md.Undecoded() {
		key := k.String()
		if under != "" && !strings.HasPrefix(key, under+".") {
			continue
		}
		if len(unknown) > 0 && strings.HasPrefix(key, unknown[len(unknown)-1]+".") {
			continue
		}
		unknown = append(unknown, key)
		errs = append(errs, fmt.Errorf("%s: unknown key: remove it or check its spelling against config.example.toml", key))
	}
	return errs, nil
}

// validate turns raw into a Config; now picks the years checked for
// holiday data.
func validate(raw *rawConfig, getenv func(string) string, now time.Time) (*Config, []error) {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	c := &Config{}
	c.Store, errs = validateStore(raw.Store, raw.Desk.Store, getenv, errs)
	c.HA, errs = validateHA(raw.HA, c.Store.Backend, c.Store.Etcd.Prefix, os.Hostname, errs)
	errs = validateDesk(raw, &c.Desk, errs)
	c.Components, errs = validateComponents(raw.Desk.Components, errs)
	c.Desk.Templates, errs = validateTemplates(raw.Desk.TemplatesDir, errs)
	c.ShutdownGrace, errs = validateShutdownGrace(raw.Desk.ShutdownGrace, errs)
	c.DependencyGrace, errs = validateDependencyGrace(raw.Outages.DependencyGrace, errs)
	c.Parse = mailbox.ParseOptions{MaxAttachmentSize: DefaultMaxAttachmentBytes, LoopValue: c.Desk.LoopValue}
	if raw.Desk.MaxAttachmentBytes != nil {
		if *raw.Desk.MaxAttachmentBytes < 0 {
			bad("desk.max_attachment_bytes", "must not be negative (0 keeps no attachment data; default 10485760)")
		} else {
			c.Parse.MaxAttachmentSize = *raw.Desk.MaxAttachmentBytes
		}
	}

	c.IMAP, c.Parse.AuthServID, errs = validateIMAP(raw, getenv, errs)
	c.SMTP, errs = validateSMTP(raw, getenv, errs)

	c.Web = Web{Listen: or(raw.Web.Listen, "127.0.0.1:8080"), AdminToken: raw.Web.AdminToken}
	if _, _, err := net.SplitHostPort(c.Web.Listen); err != nil {
		bad("web.listen", "%q is not host:port: e.g. \"127.0.0.1:8080\"", c.Web.Listen)
	}
	if t := c.Web.AdminToken; t != "" && len(t) < minTokenLen {
		bad("web.admin_token", "too short (%d characters): use at least %d random characters, e.g. from `openssl rand -hex 16`, or leave it empty to disable the admin API", len(t), minTokenLen)
	}
	c.Web.Tokens, errs = validateTokens(raw, errs)
	c.Retention, errs = validateRetention(raw.Retention, errs)
	switch level := or(raw.Log.Level, "info"); level {
	case "debug", "info", "warn", "error":
		_ = c.Log.Level.UnmarshalText([]byte(level))
	default:
		bad("log.level", "%q is not a level: use debug, info, warn or error", level)
	}
	switch c.Log.Format = or(raw.Log.Format, "text"); c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "%q is not a format: use text or json", c.Log.Format)
	}
	if c.Metrics.Listen = raw.Metrics.Listen; c.Metrics.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Metrics.Listen); err != nil {
			bad("metrics.listen", "%q is not host:port: e.g. \"127.0.0.1:9090\", or leave it empty to serve /metrics on web.listen behind an API token", c.Metrics.Listen)
		} else if c.Metrics.Listen == c.Web.Listen {
			bad("metrics.listen", "%q is web.listen too: give metrics its own port, or leave it empty to serve /metrics on web.listen behind an API token", c.Metrics.Listen)
		}
	}

	d := &c.Desk
	errs = validateCapacity(raw.Capacity, &c.Capacity, &d.Capacity, errs)
	sla, errs := validateSLA(raw, now, errs)
	d.SLA, d.Managers, d.ManagerName, c.Warnings = sla.Policy, sla.Managers, sla.ManagerName, sla.Warnings
	c.Calendar = sla.Calendar
	if d.Hours == "" && c.Calendar.Calendar != nil {
		d.Hours = "The desk is open " + c.Calendar.HoursText()
	}
	d.Staff, errs = validateStaff(raw.Staff, d.Address, d.Organisations, errs)
	d.Releases, errs = validateReleases(raw.Releases, errs)
	if w := staffWarning(d.Staff, c.Parse.AuthServID); w != "" {
		c.Warnings = append(c.Warnings, w)
	}
	c.Discord, errs = validateDiscord(raw.Discord, getenv("RFADESK_DISCORD_TOKEN"), errs)
	d.Chat = c.Discord.Enabled
	if d.SLA != nil && d.SLA.OnDutyRole == "" {
		d.SLA.OnDutyRole = c.Discord.OnDutyRoleID
	}
	if d.SLA != nil && !d.Chat && len(d.SLA.OnDutyAddress) == 0 {
		c.Warnings = append(c.Warnings, "escalation.on_duty_address: empty (and so is desk.alert_to) on a desk without [discord]: note and mention points reach nobody; give the on-duty staff's email address")
	}
	if sla.Policy != nil {
		// The acknowledgement promises exactly what the response clock measures.
		d.ResponseTarget = sla.Policy.Response.String()
	}
	return c, errs
}

// validateComponents checks desk.components: at most MaxComponents
// names, each one line of 1 to MaxComponentLen characters, none twice.
func validateComponents(names []string, errs []error) ([]string, []error) {
	if len(names) > MaxComponents {
		return nil, append(errs, fmt.Errorf("desk.components: %d names; list at most %d (the form shows each as a checkbox)", len(names), MaxComponents))
	}
	var out []string
	seen := map[string]bool{}
	for i, n := range names {
		key := fmt.Sprintf("desk.components[%d]", i)
		n = strings.TrimSpace(n)
		switch {
		case n == "":
			errs = append(errs, fmt.Errorf("%s: empty: remove it or name the component", key))
		case utf8.RuneCountInString(n) > MaxComponentLen || strings.ContainsFunc(n, unicode.IsControl):
			errs = append(errs, fmt.Errorf("%s: %q: write one line of at most %d characters", key, n, MaxComponentLen))
		case seen[strings.ToLower(n)]:
			errs = append(errs, fmt.Errorf("%s: %q is listed twice: remove one", key, n))
		default:
			seen[strings.ToLower(n)] = true
			out = append(out, n)
		}
	}
	return out, errs
}

// validateDesk checks [desk] (but desk.store, desk.max_attachment_bytes
// and the SLA) and [[organisation]] into d.
func validateDesk(raw *rawConfig, d *bot.DeskConfig, errs []error) []error {
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	d.Name = or(raw.Desk.Name, "Service Desk")
	d.ResponseTarget = or(raw.Desk.ResponseTarget, "72 hours")
	d.Hours = raw.Desk.Hours // default: from [calendar], in validate
	if v := raw.Desk.MaxMessageText; v != nil {
		if *v < minMessageText || *v > maxMessageText {
			bad("desk.max_message_text", "%d is out of range: use between %d and %d bytes (default %d); longer messages are cut and kept whole as an attachment", *v, minMessageText, maxMessageText, bot.DefaultMaxMessageText)
		} else {
			d.Limits.MaxMessageText = int(*v)
		}
	}
	if raw.Desk.Address == "" {
		bad("desk.address", "missing: set it to the support mailbox's address, e.g. \"support@example.org\"")
	} else if a, err := mail.ParseAddress(raw.Desk.Address); err != nil {
		bad("desk.address", "%q is not an email address: write it as \"support@example.org\"", raw.Desk.Address)
	} else {
		d.Address = bot.Address{Name: d.Name, Email: strings.ToLower(a.Address)}
		d.LoopValue = d.Address.Email
	}
	d.Contact, errs = validateContact(raw, errs)
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
		var contacts []bot.Address
		for j, c := range o.Contacts {
			a, err := mail.ParseAddress(c)
			if err != nil {
				bad(fmt.Sprintf("%s.contacts[%d]", key, j), "%q is not an email address: write it as \"head@oakprimary.sch.uk\"", c)
				continue
			}
			contacts = append(contacts, bot.Address{Name: a.Name, Email: strings.ToLower(a.Address)})
		}
		d.Organisations = append(d.Organisations, bot.Organisation{Name: o.Name, Trust: o.Trust, Domains: doms, Contacts: contacts})
	}
	for i, subj := range raw.Outages.InboundSubjects {
		if subj = strings.TrimSpace(subj); subj == "" || strings.ContainsFunc(subj, unicode.IsControl) {
			bad(fmt.Sprintf("outages.inbound_subjects[%d]", i), "%q: write the start of a subject, e.g. \"Outage\", or remove it", subj)
			continue
		}
		d.Outages.InboundSubjects = append(d.Outages.InboundSubjects, subj)
	}
	if d.Outages.InboundSubjects == nil {
		d.Outages.InboundSubjects = bot.DefaultInboundOutageSubjects
	}
	return errs
}

// validateIMAP checks [imap]; it returns the authserv-id separately, as
// it is a parse option.
func validateIMAP(raw *rawConfig, getenv func(string) string, errs []error) (mailbox.IMAPConfig, string, []error) {
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("imap.%s: "+format, append([]any{key}, args...)...))
	}
	r := &raw.IMAP
	login, errs := validateServer("imap", r.rawServer, mailbox.SecurityTLS, getenv("RFADESK_IMAP_PASSWORD"), true, errs)
	c := mailbox.IMAPConfig{
		Address: login.Address, Security: login.Security, Username: login.Username, Password: login.Password,
		Mailbox:      or(r.Mailbox, "INBOX"),
		Processed:    or(r.Processed, "Processed"),
		Failed:       or(r.Failed, "Failed"),
		PollInterval: 60 * time.Second,
	}
	if r.PollInterval != "" {
		p, err := time.ParseDuration(r.PollInterval)
		switch {
		case err != nil:
			bad("poll_interval", "%q is not a duration: write it like \"60s\" or \"5m\"", r.PollInterval)
		case p < time.Second || p > time.Hour:
			bad("poll_interval", "%s is out of range: use between 1s and 1h", p)
		default:
			c.PollInterval = p
		}
	}
	authServID := strings.TrimSpace(r.AuthServID)
	if id := authServID; id != "" && id != mailbox.AuthServIDExchangeOnline {
		if len(id) > 253 || strings.IndexFunc(id, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_')
		}) >= 0 {
			bad("authserv_id", "%q is not an authserv-id: use the host name your mail server writes first in its Authentication-Results headers (e.g. \"mx.example.org\"), %q for Microsoft 365, or leave it empty", id, mailbox.AuthServIDExchangeOnline)
		}
	}
	if c.Processed == c.Mailbox || c.Failed == c.Mailbox {
		bad("processed", "the processed and failed folders must differ from imap.mailbox (%q)", c.Mailbox)
	}
	return c, authServID, errs
}

// validateSMTP checks [smtp].
func validateSMTP(raw *rawConfig, getenv func(string) string, errs []error) (mailbox.SMTPConfig, []error) {
	login, errs := validateServer("smtp", raw.SMTP.rawServer, mailbox.SecurityStartTLS, getenv("RFADESK_SMTP_PASSWORD"), false, errs)
	c := mailbox.SMTPConfig{
		Address: login.Address, Security: login.Security, Username: login.Username, Password: login.Password,
		HeloName: raw.SMTP.HeloName,
	}
	if strings.ContainsAny(c.HeloName, " \t\r\n") {
		errs = append(errs, fmt.Errorf("smtp.helo_name: %q is not a host name: write this machine's name, e.g. \"desk.example.org\", or remove it for \"localhost\"", c.HeloName))
	}
	return c, errs
}

// serverLogin is how to reach and log in to one mail server.
type serverLogin struct {
	Address, Security, Username, Password string
}

// validateServer checks what [imap] and [smtp] (section) have in common.
// envPass is the password from the environment, used when the file has
// none.
func validateServer(section string, r rawServer, defSecurity, envPass string, needAuth bool, errs []error) (serverLogin, []error) {
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: "+format, append([]any{section, key}, args...)...))
	}
	s := serverLogin{Address: r.Address, Security: or(r.Security, defSecurity), Username: r.Username}
	host, port, err := net.SplitHostPort(r.Address)
	if err != nil {
		host = r.Address // still judge whether it is loopback
	}
	if r.Address == "" {
		bad("address", "missing: set it to host:port of the %s server", strings.ToUpper(section))
	} else if err != nil || host == "" || port == "" {
		bad("address", "%q is not host:port: e.g. \"mail.example.org:%s\"", r.Address, map[string]string{"imap": "993", "smtp": "587"}[section])
	}
	switch s.Security {
	case mailbox.SecurityTLS, mailbox.SecurityStartTLS:
	case mailbox.SecurityNone:
		if host != "" && !netaddr.IsLoopback(host) {
			bad("security", "\"none\" sends the password in clear and is allowed only for a loopback address; use \"tls\" or \"starttls\"")
		}
	default:
		bad("security", "%q is not one of tls, starttls, none", s.Security)
	}
	if r.Password != "" && r.PasswordFile != "" {
		bad("password", "set either password or password_file, not both")
	}
	switch {
	case r.PasswordFile != "":
		b, err := os.ReadFile(r.PasswordFile)
		if err != nil {
			bad("password_file", "cannot read it: %v", err)
		}
		s.Password = strings.TrimRight(string(b), "\r\n")
	case r.Password != "":
		s.Password = r.Password
	default:
		s.Password = envPass
	}
	if needAuth && r.Username == "" {
		bad("username", "missing: set it to the mailbox's login, e.g. \"support@example.org\"")
	}
	if r.Username != "" && s.Password == "" {
		bad("password", "missing for %s: set password, password_file, or the environment variable RFADESK_%s_PASSWORD", r.Username, strings.ToUpper(section))
	}
	if r.Username == "" && s.Password != "" && !needAuth {
		bad("username", "missing: a password is set (password, password_file or RFADESK_%s_PASSWORD), so set the login it belongs to, or remove the password to send without AUTH", strings.ToUpper(section))
	}
	return s, errs
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// minTokenLen is the shortest API token accepted.
const minTokenLen = 16

// validateTokens checks [[web.token]]: each has a unique name (not
// "admin" while web.admin_token is set, which is the token of that name)
// and exactly one of token and token_file, at least minTokenLen long.
func validateTokens(raw *rawConfig, errs []error) ([]web.APIToken, []error) {
	seen := map[string]bool{}
	if raw.Web.AdminToken != "" {
		seen["admin"] = true
	}
	var out []web.APIToken
	for i, t := range raw.Web.Token {
		key := fmt.Sprintf("web.token[%d]", i)
		bad := func(field, format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s.%s: "+format, append([]any{key, field}, args...)...))
		}
		name := strings.TrimSpace(t.Name)
		switch {
		case name == "":
			bad("name", "missing: name the person or system that uses this token; changes made with it are recorded under that name")
		case seen[strings.ToLower(name)]:
			bad("name", "%q is used twice (web.admin_token is the token named \"admin\"): give each token its own name", name)
		}
		seen[strings.ToLower(name)] = true
		secret := t.Token
		switch {
		case t.Token != "" && t.TokenFile != "":
			bad("token", "set either token or token_file, not both")
		case t.TokenFile != "":
			b, err := os.ReadFile(t.TokenFile)
			if err != nil {
				bad("token_file", "cannot read it: %v", err)
				continue
			}
			secret = strings.TrimRight(string(b), "\r\n")
		}
		if len(secret) < minTokenLen {
			bad("token", "missing or too short (%d characters): use at least %d random characters, e.g. from `openssl rand -hex 16`", len(secret), minTokenLen)
			continue
		}
		out = append(out, web.APIToken{Name: name, Token: secret})
	}
	return out, errs
}
