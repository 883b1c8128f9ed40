package report

import (
	"regexp"
	"strings"
	"unicode"
)

// labelLine reports whether line is a labelled line and returns its field
// and the value written on the same line (empty when the label stands alone).
func labelLine(line string) (field fieldKey, value string, ok bool) {
	s := stripDecor(line)
	if s == "" || len(s) > 2000 {
		return "", "", false
	}
	cut, width := separator(s)
	label := s
	if cut >= 0 {
		label, value = s[:cut], s[cut+width:]
	}
	if len(label) > 80 {
		return "", "", false
	}
	field = fieldForLabel(normLabel(label))
	if field == "" {
		return "", "", false
	}
	value = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(value), ":=-–—*|?"))
	value = strings.TrimSpace(strings.TrimRight(value, "*"))
	return field, value, true
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

// normLabel lower-cases a label, drops parentheticals, punctuation and
// leading filler words.
func normLabel(label string) string {
	l := strings.ToLower(strings.ReplaceAll(label, "’", "'"))
	for {
		i := strings.IndexByte(l, '(')
		if i < 0 {
			break
		}
		j := strings.IndexByte(l[i:], ')')
		if j < 0 {
			l = l[:i]
			break
		}
		l = l[:i] + l[i+j+1:]
	}
	words := strings.FieldsFunc(l, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
	for len(words) > 1 {
		switch words[0] {
		case "please", "kindly", "provide", "state", "give", "enter", "describe", "list", "confirm", "your", "the", "any", "a", "an":
			words = words[1:]
			continue
		}
		break
	}
	if len(words) > 9 {
		return ""
	}
	return strings.Join(words, " ")
}

// fieldForLabel maps a normalised label to a report field, or "".
func fieldForLabel(l string) fieldKey {
	switch l {
	case "site", "site location", "location", "school site", "campus", "building", "where",
		"site name", "which site", "school site location", "site campus", "campus site", "site affected",
		"affected site", "location of issue", "location of problem", "location of the issue", "which campus",
		"campus location", "building name", "school location", "site building", "premises", "site or campus":
		return fieldSite
	case "component", "components", "service component", "service components", "service component affected",
		"service components affected", "component affected", "components affected", "affected component",
		"affected components", "module", "modules", "module affected", "modules affected", "affected module",
		"affected modules", "system", "systems", "system affected", "affected system", "service", "services",
		"service affected", "services affected", "affected service", "affected services", "area affected",
		"areas affected", "affected area", "affected areas", "product", "product affected",
		"application", "feature", "features", "feature affected", "which module", "which system",
		"which component", "which service", "part of the system", "service component's affected":
		return fieldComponents
	case "support level", "level of support", "support tier", "tier", "contract level", "level", "service level",
		"sla level", "sla", "support package", "support contract", "contract", "support plan", "support type",
		"contract type", "sla tier", "level of service", "support level tier":
		return fieldLevel
	case "action taken", "actions taken", "action already taken", "actions already taken", "steps taken",
		"step taken", "steps already taken", "steps tried", "what have you tried", "what have you tried so far",
		"what you have tried", "what we have tried", "what has been tried", "what has been done",
		"what have you done", "what have you done so far", "troubleshooting done", "troubleshooting",
		"troubleshooting steps", "troubleshooting so far", "troubleshooting already done", "tried so far",
		"already tried", "things tried", "things we have tried", "actions so far", "action so far",
		"steps so far", "what we've tried", "what i've tried", "what we tried", "what i have tried",
		"attempted fixes", "done so far", "what have you already tried":
		return fieldActionTaken
	case "error", "errors", "error message", "error messages", "exact error message", "exact error",
		"error text", "message shown", "message displayed", "error shown", "error displayed", "error received",
		"error message shown", "error message received", "error message displayed", "error seen",
		"error details", "error code", "on screen message", "on screen error", "what error do you see",
		"what does the error say", "error wording", "exact wording of error", "exact message", "exact wording",
		"warning message", "what is the error", "screen message", "exact error text", "error message text":
		return fieldErrorMessage
	}
	if isReplicateLabel(l) {
		return fieldCanReplicate
	}
	return ""
}

// isReplicateLabel accepts short questions and labels about replicating
// the fault ("Can you replicate it", "Reproducible", "Able to reproduce")
// but not "Steps to reproduce" or "Date replicated".
func isReplicateLabel(l string) bool {
	words := strings.Fields(l)
	if len(words) == 0 || len(words) > 7 {
		return false
	}
	hit := false
	for _, w := range words {
		switch w {
		case "step", "steps", "how", "when", "date", "time", "who", "where", "why":
			return false
		}
		for _, stem := range []string{"replica", "reproduc", "recreat", "repeatab"} {
			if strings.HasPrefix(w, stem) {
				hit = true
			}
		}
	}
	return hit
}
