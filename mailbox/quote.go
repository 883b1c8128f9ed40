package mailbox

import (
	"regexp"
	"strings"
)

var (
	// "-----Original Message-----" and "----- Original Message -----".
	originalMessage = regexp.MustCompile(`(?i)^-{3,}\s*original message\s*-{3,}$`)
	// Gmail's and Apple Mail's forwarded-message markers.
	forwardedLine = regexp.MustCompile(`(?i)^(-{3,}\s*forwarded message\s*-{3,}|begin forwarded message:)$`)
	// Outlook's separator line above its header block.
	underscores = regexp.MustCompile(`^_{10,}$`)
	// The header lines of an Outlook quoted block ("From:", "*Sent:*", ...).
	outlookField = regexp.MustCompile(`(?i)^\*?(from|sent|date|to|cc|subject)\s*:\*?\s*\S`)
	// A forwarding subject: "Fw:", "FW:", "Fwd:".
	forwardSubject = regexp.MustCompile(`(?i)^\s*fwd?\s*:`)
	// Phone client footers that are not part of what the sender wrote.
	deviceFooter = regexp.MustCompile(`(?i)^(sent from my (iphone|ipad|android|samsung|mobile|galaxy)[^\n]*|get outlook for (ios|android)[^\n]*|sent from outlook for (ios|android)[^\n]*)$`)
)

// stripQuotes returns the part of text its sender wrote this time: it
// cuts at an "On <date>, <name> wrote:" line followed by quoted lines, at
// an Outlook header block (From:/Sent:/To:/Subject:, with or without the
// "____" separator above it), at "-----Original Message-----", at a
// forwarded-message marker and at a signature separator line "-- ", and
// it drops "> " quoted lines and phone footers. If that leaves no text,
// it returns text unchanged.
func stripQuotes(text string) string {
	lines := strings.Split(text, "\n")
	cut := len(lines)
	for i := range lines {
		if isCut(lines, i) {
			cut = i
			break
		}
	}
	var keep []string
	for _, l := range lines[:cut] {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, ">") || deviceFooter.MatchString(t) {
			continue
		}
		keep = append(keep, l)
	}
	reply := tidyLines(strings.Join(keep, "\n"))
	if !hasWords(reply) {
		return text
	}
	return reply
}

// isCut reports whether line i starts quoted history or a signature.
func isCut(lines []string, i int) bool {
	l := strings.TrimRight(lines[i], " \t")
	t := strings.TrimSpace(l)
	switch {
	case lines[i] == "-- " || l == "--":
		return true
	case originalMessage.MatchString(t), forwardedLine.MatchString(t):
		return true
	case underscores.MatchString(t):
		for j := i + 1; j < len(lines) && j <= i+3; j++ {
			if outlookField.MatchString(strings.TrimSpace(lines[j])) {
				return true
			}
		}
		return false
	case outlookField.MatchString(t) && strings.HasPrefix(strings.ToLower(strings.TrimLeft(t, "*")), "from"):
		return outlookBlock(lines, i)
	}
	return wroteLine(lines, i)
}

// outlookBlock reports whether the From: line at i starts a block of
// header lines with at least a Sent: or Date: and a Subject: or To:.
func outlookBlock(lines []string, i int) bool {
	seen := map[string]bool{}
	for j := i + 1; j < len(lines) && j <= i+6; j++ {
		t := strings.TrimSpace(lines[j])
		if t == "" {
			continue
		}
		m := outlookField.FindStringSubmatch(t)
		if m == nil {
			break
		}
		seen[strings.ToLower(m[1])] = true
	}
	return (seen["sent"] || seen["date"]) && (seen["subject"] || seen["to"])
}

// wroteLine reports whether an attribution line ("On ... wrote:",
// possibly wrapped over up to three lines) starts at i and is followed
// by quoted lines.
func wroteLine(lines []string, i int) bool {
	if !strings.HasPrefix(strings.TrimSpace(lines[i]), "On ") {
		return false
	}
	for j := i; j < len(lines) && j < i+3; j++ {
		t := strings.TrimSpace(lines[j])
		if j > i && (t == "" || strings.HasPrefix(t, ">")) {
			return false
		}
		if !strings.HasSuffix(t, "wrote:") {
			continue
		}
		for k := j + 1; k < len(lines); k++ {
			q := strings.TrimSpace(lines[k])
			if q == "" {
				continue
			}
			return strings.HasPrefix(q, ">")
		}
		return false
	}
	return false
}

// isForwardedText reports whether text is mainly a forwarded message: a
// forwarded-message or "Original Message" marker, or an Outlook header
// block, with at most a few lines written above it. A "Fw:"/"Fwd:"
// subject allows any amount of text above.
func isForwardedText(text, subject string) bool {
	fwdSubject := forwardSubject.MatchString(subject)
	lines := strings.Split(text, "\n")
	above := 0
	for i, l := range lines {
		t := strings.TrimSpace(l)
		marker := forwardedLine.MatchString(t)
		header := originalMessage.MatchString(t) ||
			(strings.HasPrefix(strings.ToLower(strings.TrimLeft(t, "*")), "from") && outlookField.MatchString(t) && outlookBlock(lines, i))
		switch {
		case marker && (above <= 5 || fwdSubject):
			return true
		case header && (above == 0 || fwdSubject):
			return true
		}
		if t != "" {
			above++
		}
	}
	return false
}

func hasWords(s string) bool {
	for _, r := range s {
		if r > ' ' && !strings.ContainsRune("-_>*.=", r) {
			return true
		}
	}
	return false
}
