package report

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// collect gathers the value lines of a label found on line start-1,
// starting with the same-line value, and returns the index of the first
// line it did not consume.
func collect(lines []string, start int, field fieldKey, val string) ([]string, int) {
	var vals []string
	if val != "" {
		vals = append(vals, val)
	}
	i := start
	if val == "" { // label alone: the value is below, after at most one blank line
		if i < len(lines) && strings.TrimSpace(lines[i]) == "" && i+1 < len(lines) && !stops(lines[i+1]) {
			if utf8.RuneCountInString(strings.TrimSpace(lines[i+1])) > 60 {
				return nil, i // prose after a blank line is not this field's answer
			}
			i++
		}
		if i >= len(lines) || stops(lines[i]) || looksLikeField(lines[i]) {
			return nil, i
		}
		vals = append(vals, valueLine(lines[i], field))
		i++
	}
	single := field == fieldSite || field == fieldLevel || field == fieldCanReplicate
	if single || closedQuote(vals[0]) {
		return vals, i
	}
	for ; i < len(lines) && !stops(lines[i]) && !looksLikeField(lines[i]); i++ {
		if field == fieldComponents && val != "" && !isBullet(lines[i]) && !indented(lines[i]) &&
			!strings.HasSuffix(strings.TrimSpace(vals[len(vals)-1]), ",") {
			break
		}
		vals = append(vals, valueLine(lines[i], field))
	}
	return vals, i
}

// valueLine trims a continuation line; component bullets lose their marker.
func valueLine(line string, field fieldKey) string {
	if field == fieldComponents {
		return stripDecor(line)
	}
	return strings.TrimSpace(line)
}

// stops reports whether a value stops before line: a blank line, another
// label or a sign-off.
func stops(line string) bool {
	if strings.TrimSpace(line) == "" || isSignOff(line) {
		return true
	}
	_, _, _, ok := labelLine(line)
	return ok
}

// looksLikeField reports whether line is a form field of a kind the
// parser does not read ("Message: ...", "Submitted: ..."), which ends a
// multi-line value just as a known label does.
func looksLikeField(line string) bool {
	if indented(line) {
		return false
	}
	label, _, ok := strings.Cut(line, ": ")
	if !ok || len(label) > 25 || label == "" || !unicode.IsUpper([]rune(label)[0]) {
		return false
	}
	for _, r := range label {
		if !unicode.IsLetter(r) && r != ' ' {
			return false
		}
	}
	return len(strings.Fields(label)) <= 3
}

func isBullet(line string) bool {
	s := strings.TrimSpace(line)
	return s != stripDecor(line) && !strings.HasPrefix(s, "**")
}

func indented(line string) bool {
	return strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")
}

// isSignOff reports whether line starts the sender's sign-off.
func isSignOff(line string) bool {
	s := strings.ToLower(strings.TrimSpace(line))
	if s == "--" || s == "-- " || strings.HasPrefix(s, "sent from my") {
		return true
	}
	if len(s) > 40 {
		return false
	}
	s = strings.TrimRight(s, ",.! ")
	for _, p := range []string{"kind regards", "regards", "best regards", "warm regards", "many thanks", "thanks", "thank you", "best wishes", "cheers", "best", "yours sincerely", "yours faithfully", "all the best"} {
		if s == p || strings.HasPrefix(s, p+" ") && len(s) < len(p)+25 {
			return true
		}
	}
	return false
}

// beforeSignOff returns the body up to its sign-off line.
func beforeSignOff(lines []string) string {
	for i, l := range lines {
		if isSignOff(l) {
			return strings.Join(lines[:i], "\n")
		}
	}
	return strings.Join(lines, "\n")
}

// placeholder reports whether an answer means "nothing to say".
func placeholder(s string) bool {
	switch strings.Trim(strings.ToLower(strings.TrimSpace(s)), ".!") {
	case "", "n/a", "na", "none", "-", "--", "?", "tbc", "not applicable", "nil", "no error", "no error message",
		"none shown", "no message", "nothing", "nothing yet", "n.a":
		return true
	}
	return false
}

var quotePairs = [][2]string{{`"`, `"`}, {"'", "'"}, {"“", "”"}, {"‘", "’"}, {"„", "“"}, {"«", "»"}, {"`", "`"}, {"”", "”"}}

// unquote strips one pair of outer quotes.
func unquote(s string) string {
	s = strings.TrimSpace(s)
	for _, q := range quotePairs {
		if len(s) > len(q[0])+len(q[1]) && strings.HasPrefix(s, q[0]) && strings.HasSuffix(s, q[1]) {
			inner := s[len(q[0]) : len(s)-len(q[1])]
			if !strings.Contains(inner, q[1]) || q[0] != q[1] {
				return strings.TrimSpace(inner)
			}
		}
	}
	return s
}

// closedQuote reports whether v is entirely one quoted string.
func closedQuote(v string) bool {
	u := unquote(v)
	return u != strings.TrimSpace(v)
}

// splitComponents splits component values on commas, "and", "/", ";" and
// "&", trims them and drops case-insensitive duplicates.
func splitComponents(vals []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range vals {
		v = strings.NewReplacer(",", "\x00", ";", "\x00", "/", "\x00", " & ", "\x00").Replace(v)
		for _, part := range strings.Split(v, "\x00") {
			for _, item := range splitAnd(part) {
				item = strings.TrimSpace(strings.Trim(unquote(strings.TrimSpace(item)), ".*"))
				key := strings.ToLower(item)
				if placeholder(item) || key == "etc" || key == "and" || seen[key] {
					continue
				}
				seen[key] = true
				out = append(out, item)
			}
		}
	}
	return out
}

// splitAnd splits s on the word "and" in any case.
func splitAnd(s string) []string {
	var out []string
	lower := lowerASCII(s)
	for {
		i := strings.Index(lower, " and ")
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s, lower = s[i+5:], lower[i+5:]
	}
}

// lowerASCII lower-cases ASCII letters only, so byte offsets in the
// result are offsets in s (strings.ToLower may change lengths).
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
