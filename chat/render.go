package chat

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"rfadesk/bot"
)

// Discord's limits, in characters.
const (
	maxContent    = 2000
	maxEmbedTitle = 256
	maxEmbedDesc  = 4096
	maxFieldName  = 256
	maxFieldValue = 1024
	maxEmbedTotal = 6000
	maxFields     = 25
	maxThreadName = 100
)

const zwsp = "\u200b"

// Neutralise makes text from outside (a requester, an email) safe to
// show in Discord: bidirectional controls are removed (bot.NeutralizeBidi),
// a status link's token is withheld (chat never carries a requester's
// token, see withholdTokens), markdown is escaped so it shows literally,
// and @everyone, @here and <@…>/<@&…>/<#…> mention forms are broken with
// a zero-width space so they neither render as mentions nor ping (the
// posts also carry allowed_mentions with nothing allowed).
func Neutralise(s string) string {
	s = withholdTokens(bot.NeutralizeBidi(s))
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	lineStart := true
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		rest := s[i:]
		switch {
		case r == '@' && (strings.HasPrefix(rest, "@everyone") || strings.HasPrefix(rest, "@here")):
			b.WriteString("@" + zwsp)
		case r == '<' && len(rest) > 1 && strings.ContainsRune("@#:/", rune(rest[1])):
			b.WriteString("<" + zwsp)
		case strings.ContainsRune("\\*_~`|[]", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case lineStart && strings.ContainsRune("#>-", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
		switch {
		case r == '\n':
			lineStart = true
		case r != ' ' && r != '\t':
			lineStart = false
		}
		i += size
	}
	return b.String()
}

// statusLink matches a status page link's query, where its token is:
// "/rfa/RFA-3?t=…" (any ref spelling, any query).
var statusLink = regexp.MustCompile(`(?i)(/rfa/[^\s/?#]+(?:/escalate)?)\?[^\s<>()"']*`)

// withholdTokens replaces the query of every status page link in s, so
// that a requester's token (in their own text, or a staff member's paste)
// never reaches the chat. The desk's own chat posts link to the RFA's
// record (bot.Desk.RecordURL) instead.
func withholdTokens(s string) string {
	if !strings.Contains(strings.ToLower(s), "/rfa/") {
		return s
	}
	return statusLink.ReplaceAllString(s, "${1} (status link: token withheld)")
}

// cut shortens s to at most n characters, ending with "…" when cut, and
// never leaves a dangling escape backslash.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return ""
	}
	rs := []rune(s)[:n-1]
	// Drop a trailing lone backslash so the "…" is not escaped.
	for len(rs) > 0 && rs[len(rs)-1] == '\\' {
		rs = rs[:len(rs)-1]
	}
	return string(rs) + "…"
}

// timestamp renders t as a Discord timestamp shown in each reader's zone.
func timestamp(t time.Time) string {
	u := strconv.FormatInt(t.Unix(), 10)
	return "<t:" + u + ":f> (<t:" + u + ":R>)"
}

// Clocker computes an RFA's SLA clocks; *bot.SLAPolicy is one.
type Clocker interface {
	Clocks(r *bot.RFA, now time.Time) []bot.ClockState
}

// clockLine describes one clock for staff.
func clockLine(c bot.ClockState) string {
	label := bot.ClockLabel(c.Name)
	switch {
	case c.MetAt != nil:
		return label + ": met " + timestamp(*c.MetAt)
	case c.Due.IsZero():
		return label + ": no due yet (set a severity)"
	case c.BreachedAt != nil:
		return label + ": **breached**, was due " + timestamp(c.Due)
	}
	s := label + ": due " + timestamp(c.Due)
	if c.Paused {
		s += " (paused: awaiting the requester)"
	}
	return s
}

// threadName is "RFA-N · subject", at most 100 characters, without
// bidirectional controls or a status link's token (thread names are not
// markdown, so nothing else is escaped).
func threadName(r *bot.RFA) string {
	subj := strings.Join(strings.Fields(withholdTokens(bot.NeutralizeBidi(r.Subject))), " ")
	if subj == "" {
		subj = "(no subject)"
	}
	return cut(r.Ref()+" · "+subj, maxThreadName)
}

// embedBudget keeps an embed within Discord's total limit.
type embedBudget struct{ left int }

func (b *embedBudget) take(s string, max int) string {
	s = cut(s, min(max, b.left))
	b.left -= utf8.RuneCountInString(s)
	return s
}

// cardFooter tells staff how to work an RFA from its thread.
const cardFooter = "Reply in the thread to email the requester; start with note: for an internal note."

// card renders an RFA's post: an embed and the "Take it" button.
func card(r *bot.RFA, clocks []bot.ClockState) (*discordgo.MessageEmbed, []discordgo.MessageComponent) {
	// The footer's room is kept back so that long requester text can
	// never squeeze it to nothing.
	b := &embedBudget{left: maxEmbedTotal - len(cardFooter)}
	e := &discordgo.MessageEmbed{Color: 0x3b82f6}
	e.Title = b.take(r.Ref()+" · "+Neutralise(r.Subject), maxEmbedTitle)
	var desc []string
	if r.Flag != "" {
		desc = append(desc, "⚠️ "+Neutralise(r.Flag))
	}
	if n := len(r.Messages); n > 0 && r.Messages[0].Direction == bot.Inbound {
		desc = append(desc, Neutralise(strings.TrimSpace(r.Messages[0].Text)))
	}
	if len(desc) > 0 {
		e.Description = b.take(strings.Join(desc, "\n\n"), 1000)
	}
	add := func(name, value string, inline bool) {
		if len(e.Fields) >= maxFields || b.left < 20 {
			return
		}
		if strings.TrimSpace(value) == "" {
			value = "—"
		}
		n := b.take(name, maxFieldName)
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: n, Value: b.take(value, maxFieldValue), Inline: inline})
	}
	org := Neutralise(r.Organisation)
	if r.Trust != "" {
		org += " (" + Neutralise(r.Trust) + ")"
	}
	if org == "" {
		org = "unknown organisation"
	}
	add("Organisation", org, true)
	add("Requester", Neutralise(r.Requester.String()), true)
	add("Channel", string(r.Channel), true)
	add("Subject", Neutralise(r.Subject), false)
	for _, f := range bot.ReportFields {
		add(bot.FieldLabel(f), Neutralise(r.Report.Value(f)), true)
	}
	if missing := r.Report.Missing(); len(missing) > 0 {
		labels := make([]string, len(missing))
		for i, m := range missing {
			labels[i] = bot.FieldLabel(m)
		}
		add("Missing", strings.Join(labels, ", "), false)
	} else {
		add("Missing", "nothing: the report is complete", false)
	}
	sugg := "none"
	if r.SuggestedSeverity != "" {
		sugg = r.SuggestedSeverity.Title()
	}
	add("Severity", r.Severity.Title()+" (suggested: "+sugg+")", true)
	if r.Assignee != "" {
		add("Assignee", Neutralise(r.Assignee), true)
	}
	if owner := r.Owner(); owner != "" {
		add("Owner (escalated)", Neutralise(owner), true)
	}
	var lines []string
	for _, c := range clocks {
		lines = append(lines, clockLine(c))
	}
	if len(lines) > 0 {
		add("SLA", strings.Join(lines, "\n"), false)
	}
	e.Footer = &discordgo.MessageEmbedFooter{Text: cardFooter}
	buttons := []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: "Take it", Style: discordgo.PrimaryButton, CustomID: takeButtonID(r.Num)},
	}}}
	return e, buttons
}

func takeButtonID(num uint64) string { return "take:" + strconv.FormatUint(num, 10) }

// parseTakeButton reads a "Take it" button's custom id.
func parseTakeButton(id string) (uint64, bool) {
	s, ok := strings.CutPrefix(id, "take:")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil && n > 0
}

// describeErr is a short message for staff about a failed action.
func describeErr(err error) string {
	return cut(fmt.Sprintf("⚠️ %v", err), 1900)
}
