package chat

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"rfadesk/bot"
)

func TestNeutralise(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"@everyone look", "@" + zwsp + "everyone look"},
		{"ping @here now", "ping @" + zwsp + "here now"},
		{"<@123> <@&456> <#789>", "<" + zwsp + "@123> <" + zwsp + "@&456> <" + zwsp + "#789>"},
		{"**bold** _it_ `code` ~~s~~ ||spoiler||", "\\*\\*bold\\*\\* \\_it\\_ \\`code\\` \\~\\~s\\~\\~ \\|\\|spoiler\\|\\|"},
		{"[click](http://evil)", `\[click\](http://evil)`},
		{"# Heading\n> quote\n- item\nnot # here", "\\# Heading\n\\> quote\n\\- item\nnot # here"},
		{"s.okafor@oakprimary.sch.uk", "s.okafor@oakprimary.sch.uk"},
		{`C:\path`, `C:\\path`},
	} {
		if got := Neutralise(tc.in); got != tc.want {
			t.Errorf("Neutralise(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCardRespectsDiscordLimits(t *testing.T) {
	long := strings.Repeat("x*", 5000)
	r := &bot.RFA{Num: 12, Subject: long, Organisation: long, Trust: long,
		Requester: bot.Address{Name: long, Email: "a@b.c"},
		Report:    bot.Report{Site: long, Components: []string{long, long}, Level: long, ActionTaken: long, ErrorMessage: long},
		Messages:  []bot.Message{{Direction: bot.Inbound, Text: long}}}
	e, comps := card(r, nil)
	total := utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description) + utf8.RuneCountInString(e.Footer.Text)
	if n := utf8.RuneCountInString(e.Title); n > maxEmbedTitle {
		t.Errorf("title is %d characters", n)
	}
	for _, f := range e.Fields {
		if n := utf8.RuneCountInString(f.Value); n > maxFieldValue {
			t.Errorf("field %s is %d characters", f.Name, n)
		}
		total += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
	}
	if total > maxEmbedTotal {
		t.Errorf("embed is %d characters, over %d", total, maxEmbedTotal)
	}
	if !strings.HasPrefix(e.Title, "RFA-12 · ") || len(comps) != 1 {
		t.Errorf("title %q, components %d", e.Title[:20], len(comps))
	}
	if n := utf8.RuneCountInString(threadName(r)); n != maxThreadName {
		t.Errorf("thread name is %d characters, want %d", n, maxThreadName)
	}
	if got := threadName(&bot.RFA{Num: 3, Subject: "  Printer\n jam "}); got != "RFA-3 · Printer jam" {
		t.Errorf("thread name = %q", got)
	}
}

func TestTextMessageMentions(t *testing.T) {
	m := textMessage(&bot.ChatPost{Text: "@everyone RFA-1 at 75%", Mention: "701"})
	if !strings.HasPrefix(m.Content, "<@&701> @"+zwsp+"everyone") || len(m.AllowedMentions.Roles) != 1 ||
		m.AllowedMentions.Roles[0] != "701" || len(m.AllowedMentions.Parse) != 0 {
		t.Errorf("message = %+v", m)
	}
	m = textMessage(&bot.ChatPost{Text: strings.Repeat("é", 3000)})
	if n := utf8.RuneCountInString(m.Content); n > maxContent || m.AllowedMentions.Parse == nil || m.AllowedMentions.Roles != nil {
		t.Errorf("content %d characters, mentions %+v", n, m.AllowedMentions)
	}
}

func TestClassify(t *testing.T) {
	rest := func(code int) error {
		return &discordgo.RESTError{Response: &http.Response{StatusCode: code}}
	}
	for _, tc := range []struct {
		err  error
		want bot.DeliveryFailure
	}{
		{&discordgo.RateLimitError{RateLimit: &discordgo.RateLimit{TooManyRequests: &discordgo.TooManyRequests{}}}, bot.DeliveryTemporary},
		{rest(429), bot.DeliveryTemporary},
		{rest(500), bot.DeliveryTemporary},
		{rest(503), bot.DeliveryTemporary},
		{rest(401), bot.DeliveryAuth},
		{rest(403), bot.DeliveryPermanent},
		{rest(404), bot.DeliveryPermanent},
		{rest(400), bot.DeliveryPermanent},
		{errors.New("connection refused"), bot.DeliveryTemporary},
	} {
		var de *bot.DeliveryError
		if err := classify(tc.err); !errors.As(err, &de) || de.Failure != tc.want {
			t.Errorf("classify(%v) = %v, want %v", tc.err, err, tc.want)
		}
	}
	if classify(nil) != nil {
		t.Error("classify(nil) != nil")
	}
}

// TestNewRefusesUnusableConfig: package config reports bad [discord]
// settings to people; New still refuses a Config it cannot work with,
// above all plain http to a host off loopback (the token would travel
// in clear).
func TestNewRefusesUnusableConfig(t *testing.T) {
	ok := Config{Token: "t", GuildID: "1", ChannelID: "2", StaffRoleID: "3"}
	withBase := func(base string) Config { c := ok; c.APIBase = base; return c }
	for _, c := range []Config{{}, {Token: "t", GuildID: "1", ChannelID: "2"},
		withBase("http://proxy.example.org/api/v9"), withBase("ftp://proxy.example.org"), withBase("/api/v9")} {
		if _, err := New(c, nil, nil); err == nil {
			t.Errorf("New(%+v) accepted it", c)
		}
	}
	for _, base := range []string{"", "https://proxy.example.org/api/v9", "http://127.0.0.1:8080/api/v9", "http://[::1]:1/x", "http://LocalHost:1/x"} {
		if _, err := New(withBase(base), nil, nil); err != nil {
			t.Errorf("api_base %q: %v", base, err)
		}
	}
}

func TestRewriter(t *testing.T) {
	var seen []string
	rw := &rewriter{next: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen = append(seen, r.URL.String())
		return &http.Response{StatusCode: 204, Body: http.NoBody}, nil
	})}
	base, _ := url.Parse("https://proxy.example.org/discord/api/v9")
	rw.base = base
	for _, tc := range []struct {
		in, want string // want "" means refused
	}{
		{"https://discord.com/api/v9/channels/1/messages?after=5", "https://proxy.example.org/discord/api/v9/channels/1/messages?after=5"},
		{"https://discord.com/api/v9/gateway", "https://proxy.example.org/discord/api/v9/gateway"},
		{"https://cdn.discordapp.com/attachments/1/2/a.png", "https://cdn.discordapp.com/attachments/1/2/a.png"},
		{"https://evil.example.com/x", ""},
		{"http://proxy.example.org/x", ""},
	} {
		seen = nil
		req, _ := http.NewRequest("GET", tc.in, nil)
		_, err := rw.RoundTrip(req)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%s: not refused", tc.in)
		case tc.want != "" && (err != nil || len(seen) != 1 || seen[0] != tc.want):
			t.Errorf("%s: went to %v (err %v), want %s", tc.in, seen, err, tc.want)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestCardWithHugeReportStaysWithinLimits is the crash a long subject
// and long report fields used to cause: the embed budget reached zero
// before the footer and cut panicked.
func TestCardWithHugeReportStaysWithinLimits(t *testing.T) {
	long := strings.Repeat("Very long words from a school ", 200)
	r := &bot.RFA{Num: 7, Subject: long, Report: bot.Report{Site: long, Components: []string{long, long}, Level: long, ActionTaken: long, ErrorMessage: long, CanReplicate: bot.ReplicateYes}}
	e, _ := card(r, nil)
	total := utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description) + utf8.RuneCountInString(e.Footer.Text)
	for _, f := range e.Fields {
		total += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
	}
	if total > 6000 {
		t.Errorf("embed has %d characters, Discord allows 6000", total)
	}
	if e.Footer.Text != cardFooter {
		t.Errorf("footer = %q", e.Footer.Text)
	}
	for _, n := range []int{-1, 0, 1} {
		if got := cut("abc", n); got != "" {
			t.Errorf("cut(_, %d) = %q", n, got)
		}
	}
}
