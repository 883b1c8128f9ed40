package report

import (
	"regexp"
	"strings"
)

// labelLine reports whether line is a labelled line and returns its
// field, the support levels its label names ("Level 1 action taken" gives
// ["1"]) and the value written on the same line (empty when the label
// stands alone).
func labelLine(line string) (field fieldKey, levels []string, value string, ok bool) {
	s := stripDecor(line)
	if s == "" || len(s) > 2000 {
		return "", nil, "", false
	}
	cut, width := separator(s)
	label := s
	if cut >= 0 {
		label, value = s[:cut], s[cut+width:]
	}
	if len(label) > 80 {
		return "", nil, "", false
	}
	words, levels := labelWords(label)
	field = fieldForLabel(words, levels)
	if field == "" {
		return "", nil, "", false
	}
	value = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(value), ":=-–—*|?"))
	value = strings.TrimSpace(strings.TrimRight(value, "*"))
	return field, levels, value, true
}

// separator finds the first label/value separator in s and its width.
func separator(s string) (at, width int) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ':', '=', '?', '\t':
			return i, 1
		case ' ':
			for _, sep := range []string{" - ", " – ", " — ", " | ", " -- "} {
				if strings.HasPrefix(s[i:], sep) {
					return i, len(sep)
				}
			}
		}
	}
	return -1, 0
}

// stripDecor removes bullets, numbering and emphasis before a label.
func stripDecor(line string) string {
	s := strings.TrimSpace(strings.ReplaceAll(line, "**", ""))
	for range 3 {
		before := s
		s = strings.TrimLeft(s, "#>")
		s = numbering.ReplaceAllString(s, "")
		for _, b := range []string{"- ", "* ", "• ", "· ", "– ", "◦ ", "‣ ", "o "} {
			s = strings.TrimPrefix(s, b)
		}
		s = strings.TrimSpace(strings.Trim(s, "_"))
		if s == before {
			break
		}
	}
	return strings.TrimSpace(strings.TrimPrefix(s, "*"))
}

var numbering = regexp.MustCompile(`^(?:\(?\d{1,2}[.)]|[qQ]\d{1,2}[.):]?|\(?[a-hA-H]\))\s+`)
