package bot

import (
	"strings"
	"time"
)

// RateTier limits automatic mail to one sender: at most Max mails within
// any Window.
type RateTier struct {
	Window time.Duration
	Max    int
}

// DefaultRateTiers stop a loop with another robot within minutes while
// never limiting a person who writes a few mails a day.
var DefaultRateTiers = []RateTier{
	{Window: 10 * time.Minute, Max: 3},
	{Window: time.Hour, Max: 6},
	{Window: 24 * time.Hour, Max: 12},
}

// noReplyLocalParts are sender local parts (before '@') that never get
// automatic mail.
var noReplyLocalParts = []string{
	"mailer-daemon", "postmaster", "noreply", "no-reply", "no_reply",
	"donotreply", "do-not-reply", "do_not_reply", "bounce", "bounces",
	"notifications", "notification", "auto-reply", "autoreply",
}

// IsNoReplySender reports whether addr looks like an address that must
// never receive automatic mail (MAILER-DAEMON, postmaster, noreply-style).
func IsNoReplySender(addr string) bool {
	addr = strings.ToLower(addr)
	local, _, _ := strings.Cut(addr, "@")
	if local == "" {
		return true
	}
	for _, p := range noReplyLocalParts {
		if local == p || strings.HasPrefix(local, p+"+") || strings.HasPrefix(local, p+"-") || strings.HasPrefix(local, p+".") {
			return true
		}
	}
	return strings.Contains(local, "noreply") || strings.Contains(local, "no-reply") || strings.Contains(local, "donotreply")
}

// autoReplyBlock says why no automatic mail may go to the sender of m,
// or "" when one may. sent lists earlier automatic mails to that sender.
func autoReplyBlock(m *Mail, deskAddress string, sent []time.Time, tiers []RateTier, now time.Time) string {
	switch {
	case m.LoopHeader:
		return "the message carries our own loop header"
	case m.Auto != AutoNone:
		return "the message is automatic (" + m.Auto.String() + ")"
	case m.From.Email == "":
		return "the message has no sender address"
	case m.AuthorAmbiguous != "":
		return "the author cannot be told for certain"
	case isDeskAddress(m.From.Email, deskAddress):
		return "the message is from the desk's own address"
	case IsNoReplySender(m.From.Email):
		return "the sender " + m.From.Email + " does not take replies"
	}
	for _, t := range tiers {
		n := 0
		for _, at := range sent {
			if now.Sub(at) < t.Window {
				n++
			}
		}
		if n >= t.Max {
			return "rate limit: " + itoa(n) + " automatic mails to this sender within " + t.Window.String()
		}
	}
	return ""
}

// pruneSent drops send times older than the longest tier window.
func pruneSent(sent []time.Time, tiers []RateTier, now time.Time) []time.Time {
	var longest time.Duration
	for _, t := range tiers {
		longest = max(longest, t.Window)
	}
	out := sent[:0:0]
	for _, at := range sent {
		if now.Sub(at) < longest {
			out = append(out, at)
		}
	}
	return out
}
