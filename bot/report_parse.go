package bot

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseReport reads the report fields from a message's subject and body
// text. body is the new text of the mail (quoted history removed, HTML
// already turned into text, table rows one per line). It never fails: what
// it cannot find stays empty (CanReplicate: ReplicateUnknown).
//
// Labelled lines in the body ("Site location: North campus", "**2. Error
// message** - ...", a label alone on its line with the value below) are
// read first; the first occurrence of a field wins. Fields no label gave
// are then looked for in the prose of the subject and body, conservatively:
// an empty field is preferred to a wrong guess. Multi-line values are joined
// with "\n". ParseReport is pure and safe for concurrent use.
func ParseReport(subject, body string) Report {
	r := Report{CanReplicate: ReplicateUnknown}
	lines := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
	seen := map[string]bool{} // fields a label answered, even with "n/a"
	for i := 0; i < len(lines); i++ {
		field, val, ok := rpLabelLine(lines[i])
		if !ok {
			continue
		}
		vals, next := rpCollect(lines, i+1, field, val)
		i = next - 1
		if !seen[field] && len(vals) > 0 {
			seen[field] = true
			rpSet(&r, field, vals)
		}
	}
	prose := subject + "\n\n" + rpBeforeSignOff(lines)
	if len(prose) > rpMaxProse {
		prose = prose[:rpMaxProse]
	}
	if !seen[FieldSite] {
		r.Site = rpProseSite(prose)
	}
	if !seen[FieldComponents] {
		r.Components = rpProseComponents(prose)
	}
	if !seen[FieldErrorMessage] {
		r.ErrorMessage = rpProseError(prose)
	}
	if !seen[FieldCanReplicate] {
		r.CanReplicate = rpProseReplicate(prose)
	}
	return r
}

// rpMaxProse bounds the text the prose fallbacks read: a report is near
// the top of a mail, and this keeps a huge body cheap.
const rpMaxProse = 64 << 10

// rpSet stores the collected value lines of one labelled field in r.
func rpSet(r *Report, field string, vals []string) {
	joined := strings.TrimSpace(strings.Join(vals, "\n"))
	if rpPlaceholder(joined) {
		return
	}
	switch field {
	case FieldSite:
		r.Site = rpUnquote(joined)
	case FieldLevel:
		r.Level = rpUnquote(joined)
	case FieldActionTaken:
		r.ActionTaken = joined
	case FieldErrorMessage:
		r.ErrorMessage = rpUnquote(joined)
	case FieldCanReplicate:
		r.CanReplicate = ParseReplicate(joined)
	case FieldComponents:
		r.Components = rpSplitComponents(vals)
	}
}

// ParseReplicate maps a free-text answer to "can you replicate it?" to
// yes, no or unknown. "Sometimes", "intermittently" and "not always" count
// as yes (the fault can be replicated); "only once" counts as no; anything
// it does not recognise is ReplicateUnknown.
func ParseReplicate(s string) Replicate {
	if rpPlaceholder(s) {
		return ReplicateUnknown
	}
	s = strings.ToLower(strings.ReplaceAll(s, "’", "'"))
	s = " " + strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	}), " ") + " "
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(s, " "+w+" ") {
				return true
			}
		}
		return false
	}
	if has("no idea", "no clue") {
		return ReplicateUnknown
	}
	first := strings.Fields(s)
	if len(first) == 0 {
		return ReplicateUnknown
	}
	switch first[0] {
	case "yes", "y", "yeah", "yep", "yup", "ye", "affirmative":
		return ReplicateYes
	case "no", "n", "nope", "nah":
		return ReplicateNo
	}
	switch {
	case has("not always", "not every time", "not each time", "not consistently", "only sometimes", "now and then", "on and off"):
		return ReplicateYes
	case has("only once", "once", "just once", "only the once", "one off", "one time", "only one time"):
		return ReplicateNo
	case has("not sure", "unsure", "don't know", "dont know", "do not know", "unknown", "n a", "na", "maybe", "no idea", "not tried", "haven't tried", "have not tried", "tbc", "not yet tried", "possibly"):
		return ReplicateUnknown
	case has("not able", "unable", "can't", "cant", "cannot", "can not", "couldn't", "could not", "never", "not reproducible", "not replicable", "false", "negative", "wasn't able", "weren't able", "haven't been able"):
		return ReplicateNo
	case has("always", "every time", "everytime", "each time", "sometimes", "intermittently", "intermittent", "occasionally", "often", "usually", "consistently", "reliably", "frequently", "regularly", "sure", "definitely", "true", "correct", "can", "able", "reproducible", "replicable", "repeatable", "it does"):
		return ReplicateYes
	}
	return ReplicateUnknown
}

// rpLabelLine reports whether line is a labelled line and returns its field
// and the value written on the same line (empty when the label stands alone).
func rpLabelLine(line string) (field, value string, ok bool) {
	s := rpStripDecor(line)
	if s == "" || len(s) > 2000 {
		return "", "", false
	}
	cut, width := rpSeparator(s)
	label := s
	if cut >= 0 {
		label, value = s[:cut], s[cut+width:]
	}
	if len(label) > 80 {
		return "", "", false
	}
	field = rpFieldForLabel(rpNormLabel(label))
	if field == "" {
		return "", "", false
	}
	value = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(value), ":=-–—*|?"))
	value = strings.TrimSpace(strings.TrimRight(value, "*"))
	return field, value, true
}

// rpSeparator finds the first label/value separator in s and its width.
func rpSeparator(s string) (at, width int) {
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

// rpStripDecor removes bullets, numbering and emphasis before a label.
func rpStripDecor(line string) string {
	s := strings.TrimSpace(strings.ReplaceAll(line, "**", ""))
	for range 3 {
		before := s
		s = strings.TrimLeft(s, "#>")
		s = rpNumbering.ReplaceAllString(s, "")
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

var rpNumbering = regexp.MustCompile(`^(?:\(?\d{1,2}[.)]|[qQ]\d{1,2}[.):]?|\(?[a-hA-H]\))\s+`)

// rpNormLabel lower-cases a label, drops parentheticals, punctuation and
// leading filler words.
func rpNormLabel(label string) string {
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

// rpFieldForLabel maps a normalised label to a report field, or "".
func rpFieldForLabel(l string) string {
	switch l {
	case "site", "site location", "location", "school site", "campus", "building", "where",
		"site name", "which site", "school site location", "site campus", "campus site", "site affected",
		"affected site", "location of issue", "location of problem", "location of the issue", "which campus",
		"campus location", "building name", "school location", "site building", "premises", "site or campus":
		return FieldSite
	case "component", "components", "service component", "service components", "service component affected",
		"service components affected", "component affected", "components affected", "affected component",
		"affected components", "module", "modules", "module affected", "modules affected", "affected module",
		"affected modules", "system", "systems", "system affected", "affected system", "service", "services",
		"service affected", "services affected", "affected service", "affected services", "area affected",
		"areas affected", "affected area", "affected areas", "product", "product affected",
		"application", "feature", "features", "feature affected", "which module", "which system",
		"which component", "which service", "part of the system", "service component's affected":
		return FieldComponents
	case "support level", "level of support", "support tier", "tier", "contract level", "level", "service level",
		"sla level", "sla", "support package", "support contract", "contract", "support plan", "support type",
		"contract type", "sla tier", "level of service", "support level tier":
		return FieldLevel
	case "action taken", "actions taken", "action already taken", "actions already taken", "steps taken",
		"step taken", "steps already taken", "steps tried", "what have you tried", "what have you tried so far",
		"what you have tried", "what we have tried", "what has been tried", "what has been done",
		"what have you done", "what have you done so far", "troubleshooting done", "troubleshooting",
		"troubleshooting steps", "troubleshooting so far", "troubleshooting already done", "tried so far",
		"already tried", "things tried", "things we have tried", "actions so far", "action so far",
		"steps so far", "what we've tried", "what i've tried", "what we tried", "what i have tried",
		"attempted fixes", "done so far", "what have you already tried":
		return FieldActionTaken
	case "error", "errors", "error message", "error messages", "exact error message", "exact error",
		"error text", "message shown", "message displayed", "error shown", "error displayed", "error received",
		"error message shown", "error message received", "error message displayed", "error seen",
		"error details", "error code", "on screen message", "on screen error", "what error do you see",
		"what does the error say", "error wording", "exact wording of error", "exact message", "exact wording",
		"warning message", "what is the error", "screen message", "exact error text", "error message text":
		return FieldErrorMessage
	}
	if rpIsReplicateLabel(l) {
		return FieldCanReplicate
	}
	return ""
}

// rpIsReplicateLabel accepts short questions and labels about replicating
// the fault ("Can you replicate it", "Reproducible", "Able to reproduce")
// but not "Steps to reproduce" or "Date replicated".
func rpIsReplicateLabel(l string) bool {
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

// rpCollect gathers the value lines of a label found on line start-1,
// starting with the same-line value, and returns the index of the first
// line it did not consume.
func rpCollect(lines []string, start int, field, val string) ([]string, int) {
	var vals []string
	if val != "" {
		vals = append(vals, val)
	}
	i := start
	if val == "" { // label alone: the value is below, after at most one blank line
		if i < len(lines) && strings.TrimSpace(lines[i]) == "" && i+1 < len(lines) && !rpStops(lines[i+1]) {
			if utf8.RuneCountInString(strings.TrimSpace(lines[i+1])) > 60 {
				return nil, i // prose after a blank line is not this field's answer
			}
			i++
		}
		if i >= len(lines) || rpStops(lines[i]) || rpLooksLikeField(lines[i]) {
			return nil, i
		}
		vals = append(vals, rpValueLine(lines[i], field))
		i++
	}
	single := field == FieldSite || field == FieldLevel || field == FieldCanReplicate
	if single || rpClosedQuote(vals[0]) {
		return vals, i
	}
	for ; i < len(lines) && !rpStops(lines[i]) && !rpLooksLikeField(lines[i]); i++ {
		if field == FieldComponents && val != "" && !rpIsBullet(lines[i]) && !rpIndented(lines[i]) &&
			!strings.HasSuffix(strings.TrimSpace(vals[len(vals)-1]), ",") {
			break
		}
		vals = append(vals, rpValueLine(lines[i], field))
	}
	return vals, i
}

// rpValueLine trims a continuation line; component bullets lose their marker.
func rpValueLine(line, field string) string {
	if field == FieldComponents {
		return rpStripDecor(line)
	}
	return strings.TrimSpace(line)
}

// rpStops reports whether a value stops before line: a blank line, another
// label or a sign-off.
func rpStops(line string) bool {
	if strings.TrimSpace(line) == "" || rpIsSignOff(line) {
		return true
	}
	_, _, ok := rpLabelLine(line)
	return ok
}

// rpLooksLikeField reports whether line is a form field of a kind the
// parser does not read ("Message: ...", "Submitted: ..."), which ends a
// multi-line value just as a known label does.
func rpLooksLikeField(line string) bool {
	if rpIndented(line) {
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

func rpIsBullet(line string) bool {
	s := strings.TrimSpace(line)
	return s != rpStripDecor(line) && !strings.HasPrefix(s, "**")
}

func rpIndented(line string) bool {
	return strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")
}

// rpIsSignOff reports whether line starts the sender's sign-off.
func rpIsSignOff(line string) bool {
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

// rpBeforeSignOff returns the body up to its sign-off line.
func rpBeforeSignOff(lines []string) string {
	for i, l := range lines {
		if rpIsSignOff(l) {
			return strings.Join(lines[:i], "\n")
		}
	}
	return strings.Join(lines, "\n")
}

// rpPlaceholder reports whether an answer means "nothing to say".
func rpPlaceholder(s string) bool {
	switch strings.Trim(strings.ToLower(strings.TrimSpace(s)), ".!") {
	case "", "n/a", "na", "none", "-", "--", "?", "tbc", "not applicable", "nil", "no error", "no error message",
		"none shown", "no message", "nothing", "nothing yet", "n.a":
		return true
	}
	return false
}

var rpQuotePairs = [][2]string{{`"`, `"`}, {"'", "'"}, {"“", "”"}, {"‘", "’"}, {"„", "“"}, {"«", "»"}, {"`", "`"}, {"”", "”"}}

// rpUnquote strips one pair of outer quotes.
func rpUnquote(s string) string {
	s = strings.TrimSpace(s)
	for _, q := range rpQuotePairs {
		if len(s) > len(q[0])+len(q[1]) && strings.HasPrefix(s, q[0]) && strings.HasSuffix(s, q[1]) {
			inner := s[len(q[0]) : len(s)-len(q[1])]
			if !strings.Contains(inner, q[1]) || q[0] != q[1] {
				return strings.TrimSpace(inner)
			}
		}
	}
	return s
}

// rpClosedQuote reports whether v is entirely one quoted string.
func rpClosedQuote(v string) bool {
	u := rpUnquote(v)
	return u != strings.TrimSpace(v)
}

// rpSplitComponents splits component values on commas, "and", "/", ";" and
// "&", trims them and drops case-insensitive duplicates.
func rpSplitComponents(vals []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range vals {
		v = strings.NewReplacer(",", "\x00", ";", "\x00", "/", "\x00", " & ", "\x00").Replace(v)
		for _, part := range strings.Split(v, "\x00") {
			for _, item := range rpSplitAnd(part) {
				item = strings.TrimSpace(strings.Trim(rpUnquote(strings.TrimSpace(item)), ".*"))
				key := strings.ToLower(item)
				if rpPlaceholder(item) || key == "etc" || key == "and" || seen[key] {
					continue
				}
				seen[key] = true
				out = append(out, item)
			}
		}
	}
	return out
}

// rpSplitAnd splits s on the word "and" in any case.
func rpSplitAnd(s string) []string {
	var out []string
	lower := rpLowerASCII(s)
	for {
		i := strings.Index(lower, " and ")
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s, lower = s[i+5:], lower[i+5:]
	}
}

// rpLowerASCII lower-cases ASCII letters only, so byte offsets in the
// result are offsets in s (strings.ToLower may change lengths).
func rpLowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
