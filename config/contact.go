package config

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"

	"rfadesk/bot"
)

// Limits of the desk's contact details: they are shown on every page and
// in every acknowledgement, so they stay short.
const (
	maxPhoneLen       = 64
	maxKnowledgeURL   = 512
	maxPostalLen      = 300
	maxPostalLines    = 8
	maxPostalLineRune = 80
)

// validateContact checks desk.phone, desk.knowledge_base_url and
// desk.postal_address into a bot.Contact: each optional; printable text
// (no control or bidirectional formatting characters); the phone one line
// with a digit in it, the URL http(s) with a host, the address at most
// maxPostalLines lines. Surrounding space is trimmed.
func validateContact(raw *rawConfig, errs []error) (bot.Contact, []error) {
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("desk.%s: "+format, append([]any{key}, args...)...))
	}
	var c bot.Contact
	if p := strings.TrimSpace(raw.Desk.Phone); p != "" {
		switch {
		case !printable(p):
			bad("phone", "has a line break or control character: write the number on one line, e.g. \"01603 631436 (option 1)\"")
		case len(p) > maxPhoneLen:
			bad("phone", "too long (%d bytes): keep it to %d, e.g. \"01603 631436 (option 1)\"", len(p), maxPhoneLen)
		case !strings.ContainsFunc(p, unicode.IsDigit):
			bad("phone", "%q has no digits: write the number people call, e.g. \"01603 631436 (option 1)\"", p)
		default:
			c.Phone = p
		}
	}
	if s := strings.TrimSpace(raw.Desk.KnowledgeBaseURL); s != "" {
		u, err := url.Parse(s)
		switch {
		case len(s) > maxKnowledgeURL:
			bad("knowledge_base_url", "too long (%d bytes): use a link of at most %d", len(s), maxKnowledgeURL)
		case err != nil || !printable(s) || strings.ContainsRune(s, ' ') || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil:
			bad("knowledge_base_url", "%q is not an http(s) URL: write the full link to the help articles, e.g. \"https://help.example.org/kb\"", s)
		default:
			c.KnowledgeBaseURL = s
		}
	}
	if s := strings.TrimSpace(strings.ReplaceAll(raw.Desk.PostalAddress, "\r\n", "\n")); s != "" {
		lines := strings.Split(s, "\n")
		long := false
		for i, l := range lines {
			lines[i] = strings.TrimSpace(l)
			long = long || len([]rune(lines[i])) > maxPostalLineRune
		}
		switch {
		case !printable(strings.Join(lines, " ")):
			bad("postal_address", "has a control character: write plain lines of text")
		case len(s) > maxPostalLen || len(lines) > maxPostalLines || long:
			bad("postal_address", "too long: keep it to %d lines of at most %d characters, %d bytes in all", maxPostalLines, maxPostalLineRune, maxPostalLen)
		default:
			c.PostalAddress = strings.Join(lines, "\n")
		}
	}
	return c, errs
}

// printable reports whether s is valid text of printable characters and
// spaces only: no line breaks, tabs, control or format characters (the
// bidirectional controls among them).
func printable(s string) bool {
	for _, r := range s {
		if r == unicode.ReplacementChar || (!unicode.IsPrint(r) && r != ' ') {
			return false
		}
	}
	return true
}
