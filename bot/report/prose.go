package report

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Prose fallbacks for Parse: used only for fields no label gave.
// Each one would rather find nothing than guess.

// siteRe matches "at our Northgate site", "in the Science building": one
// to four capitalised words (or numbers) before a site noun.
var siteRe = regexp.MustCompile(`\b(?:[Aa]t|[Ii]n|[Ff]rom)\s+(?:our|the)\s+((?:[A-Z0-9][\w'&.-]*\s+){1,4}(?:[Ss]ite|[Cc]ampus|[Bb]uilding|[Bb]lock))\b`)

// proseSite finds a site named in prose, keeping its noun ("Northgate
// site"). Web sites ("the Parent Portal site") are not school sites.
func proseSite(text string) string {
	for _, m := range siteRe.FindAllStringSubmatch(text, 8) {
		web := false
		for _, w := range strings.Fields(lowerASCII(m[1])) {
			switch w {
			case "portal", "app", "web", "website", "internet", "login", "support", "help", "microsoft", "google":
				web = true
			}
		}
		if !web {
			return strings.Join(strings.Fields(m[1]), " ")
		}
	}
	return ""
}

// knownComponent is one built-in component and the whole-word phrases that
// name it in prose; caseSensitive phrases must match exactly (Reports,
// HR, Email are everyday words in lower case).
type knownComponent struct {
	name          string
	phrases       []string
	caseSensitive bool
}

var knownComponents = []knownComponent{
	{name: "Attendance", phrases: []string{"attendance"}},
	{name: "Assessment", phrases: []string{"assessment", "assessments"}},
	{name: "Behaviour", phrases: []string{"behaviour", "behavior"}},
	{name: "Timetable", phrases: []string{"timetable", "timetables", "timetabling"}},
	{name: "Admissions", phrases: []string{"admissions"}},
	{name: "Parent App", phrases: []string{"parent app"}},
	{name: "Parent Portal", phrases: []string{"parent portal"}},
	{name: "Payments", phrases: []string{"payments", "online payment", "payment system"}},
	{name: "Reports", phrases: []string{"Reports", "Reporting", "report cards", "reports module"}, caseSensitive: true},
	{name: "Login/Sign-in", phrases: []string{"login", "log-in", "logon", "sign-in", "signin", "single sign-on", "SSO"}},
	{name: "SIMS sync", phrases: []string{"sims sync", "sims synchronisation", "sims synchronization", "sync with sims", "sims integration"}},
	{name: "Census", phrases: []string{"census"}},
	{name: "Exams", phrases: []string{"exams", "exam entries", "exam results"}},
	{name: "Homework", phrases: []string{"homework"}},
	{name: "Email", phrases: []string{"Email module", "email module", "Email system", "email system", "emails to parents", "parent emails", "email sending"}, caseSensitive: true},
	{name: "Finance", phrases: []string{"finance module", "Finance", "finance system"}, caseSensitive: true},
	{name: "HR", phrases: []string{"HR"}, caseSensitive: true},
}

// jobWords after a component name make it a job title or team, not a
// component ("Exams Officer", "attendance team").
var jobWords = []string{"officer", "manager", "lead", "team", "department", "dept", "office", "administrator", "admin", "coordinator", "co-ordinator", "assistant", "director", "clerk", "staff"}

// proseComponents lists the built-in components named in text, in the
// order of the built-in list.
func proseComponents(text string) []string {
	lower := lowerASCII(text)
	var out []string
	for _, c := range knownComponents {
		for _, p := range c.phrases {
			hay, needle := text, p
			if !c.caseSensitive {
				hay, needle = lower, lowerASCII(p)
			}
			if findWord(hay, needle) {
				out = append(out, c.name)
				break
			}
		}
	}
	return out
}

// findWord reports whether needle occurs in hay as a whole word that is
// not followed by a job word.
func findWord(hay, needle string) bool {
	for off := 0; off < len(hay); {
		i := strings.Index(hay[off:], needle)
		if i < 0 {
			return false
		}
		i += off
		j := i + len(needle)
		off = j
		if !wholeWord(hay, i, j) {
			continue
		}
		next := strings.Fields(strings.ToLower(hay[j:min(len(hay), j+30)]))
		job := false
		for _, w := range jobWords {
			if len(next) > 0 && strings.TrimRight(next[0], ".,;") == w {
				job = true
			}
		}
		if !job {
			return true
		}
	}
	return false
}

// errorTriggers are words after which a quoted string is the error text.
var errorTriggers = []string{"error", "errors", "says", "said", "saying", "message", "messages", "shows", "showing", "shown", "displays", "displayed", "displaying", "reads", "reading", "popup", "pop-up", "warning"}

// gapWord reports whether w may stand between a trigger and the
// opening quote of an error message.
func gapWord(w string) bool {
	switch w {
	case "that", "which", "saying", "says", "said", "reading", "reads", "of", "with", "the", "a", "an",
		"message", "box", "popup", "pop-up", "window", "dialog", "up", "on", "screen", "shows", "showing", "shown",
		"displays", "displayed", "appears", "appeared", "comes", "came", "is", "was", "as", "follows", "following",
		"it", "error", "code", "text", "just", "now", "always", "still", "get", "got", "getting", "we", "i", "see",
		"seeing", "users", "staff", "simply", "this":
		return true
	}
	return false
}

// proseError finds a quoted message that follows an error word
// ("it says 'Invalid session token (E1042)'"). Only the words in
// gapWords may stand between the trigger and the quote.
func proseError(text string) string {
	lower := lowerASCII(text)
	for _, t := range errorTriggers {
		for off := 0; off < len(lower); {
			i := strings.Index(lower[off:], t)
			if i < 0 {
				break
			}
			i += off
			j := i + len(t)
			off = j
			if !wholeWordPlain(lower, i, j) {
				continue
			}
			if q := quotedAfter(text, j); q != "" {
				return q
			}
		}
	}
	return ""
}

func wholeWordPlain(s string, i, j int) bool {
	if i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:i]); unicode.IsLetter(r) || unicode.IsDigit(r) {
			return false
		}
	}
	if j < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[j:]); unicode.IsLetter(r) || unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// quotedAfter returns the quoted text that opens within a few gap words
// after text[:at], with whitespace collapsed, or "".
func quotedAfter(text string, at int) string {
	gap := 0
	for i := at; i < len(text) && gap < 60; {
		r, n := utf8.DecodeRuneInString(text[i:])
		closer, isQuote := closingQuote(r)
		if isQuote {
			return quotedBody(text[i+n:], closer)
		}
		if unicode.IsLetter(r) {
			end := i
			for end < len(text) {
				r2, n2 := utf8.DecodeRuneInString(text[end:])
				if !unicode.IsLetter(r2) && r2 != '-' {
					break
				}
				end += n2
			}
			if !gapWord(strings.ToLower(text[i:end])) {
				return ""
			}
			gap += end - i
			i = end
			continue
		}
		if !strings.ContainsRune(" \t\n:,-–—", r) || strings.HasPrefix(text[i:], "\n\n") {
			return ""
		}
		gap += n
		i += n
	}
	return ""
}

// closingQuote returns the closing quote for an opening quote rune.
func closingQuote(r rune) (rune, bool) {
	switch r {
	case '"':
		return '"', true
	case '\'':
		return '\'', true
	case '“':
		return '”', true
	case '‘':
		return '’', true
	case '«':
		return '»', true
	}
	return 0, false
}

// quotedBody reads up to the closing quote; a single quote only closes
// when not followed by a letter (so "can't" stays inside).
func quotedBody(s string, closer rune) string {
	for i := 0; i < len(s) && i < 400; {
		r, n := utf8.DecodeRuneInString(s[i:])
		if strings.HasPrefix(s[i:], "\n\n") {
			return ""
		}
		if r == closer || (closer == '"' && r == '”') {
			next, _ := utf8.DecodeRuneInString(s[i+n:])
			if i+n >= len(s) || !unicode.IsLetter(next) {
				body := strings.Join(strings.Fields(s[:i]), " ")
				if utf8.RuneCountInString(body) < 3 {
					return ""
				}
				return body
			}
		}
		i += n
	}
	return ""
}

var (
	replicateVerb = regexp.MustCompile(`(?i)\b(?:reproduc|replicat|recreat)\w*`)
	happensYes    = regexp.MustCompile(`(?i)\b(?:it|this|the (?:problem|issue|error|fault)) (?:happens|occurs|appears|fails) (?:every time|each time|consistently|always|intermittently|sometimes)\b|\b(?:it|this)(?: is|'s|’s) (?:reproducible|replicable|repeatable)\b|\bhappens every (?:single )?time\b`)
	happensNo     = regexp.MustCompile(`(?i)\b(?:only (?:happened|occurred|appeared) once|tried to (?:reproduce|replicate|recreate)\b[^.!?]{0,60}\bbut (?:could not|couldn't|couldn’t|can't|can’t|cannot|failed|was unable|were unable|no luck)|happened only once|(?:it|this)(?: is|'s|’s) not (?:reproducible|replicable|repeatable))\b`)
)

// sentenceWindow is how far around a verb proseReplicate looks.
const sentenceWindow = 200

// proseReplicate reads first-person statements such as "we can
// reproduce it every time" or "I couldn't replicate it". Questions and
// conditionals ("let us know if you can reproduce it") are ignored.
func proseReplicate(text string) Replicate {
	if happensNo.MatchString(text) {
		return ReplicateNo
	}
	for _, loc := range replicateVerb.FindAllStringIndex(text, -1) {
		from := max(0, loc[0]-sentenceWindow) // windows keep many verbs linear
		start := from + strings.LastIndexAny(text[from:loc[0]], ".!?")
		if p := from + strings.LastIndex(text[from:loc[0]], "\n\n"); p > start {
			start = p + 1
		}
		after := text[loc[1]:min(len(text), loc[1]+sentenceWindow)]
		if end := strings.IndexAny(after, ".!?"); end >= 0 && after[end] == '?' {
			continue
		}
		if v := modal(text[max(start+1, from):loc[0]]); v != ReplicateUnknown {
			return v
		}
	}
	if happensYes.MatchString(text) {
		return ReplicateYes
	}
	return ReplicateUnknown
}

// modal reads the words just before a replicate verb: an optional
// subject, auxiliaries and a modal ("we have not been able to").
func modal(pre string) Replicate {
	words := strings.Fields(strings.ToLower(strings.ReplaceAll(pre, "’", "'")))
	for _, w := range words {
		if w == "if" || w == "whether" || w == "please" || w == "you" || w == "try" || w == "trying" {
			return ReplicateUnknown
		}
	}
	pop := func(set ...string) (string, bool) {
		if len(words) == 0 {
			return "", false
		}
		last := strings.Trim(words[len(words)-1], ",;:")
		for _, s := range set {
			if last == s {
				words = words[:len(words)-1]
				return last, true
			}
		}
		return "", false
	}
	for {
		if _, ok := pop("easily", "always", "consistently", "reliably", "also", "still", "now", "actually"); !ok {
			break
		}
	}
	neg, found := false, false
	if w, ok := pop("can", "could", "can't", "cannot", "couldn't"); ok {
		found, neg = true, w != "can" && w != "could"
	} else if _, ok := pop("to"); ok {
		w, ok := pop("able", "unable", "managed", "failed")
		if !ok {
			return ReplicateUnknown
		}
		found, neg = true, w == "unable" || w == "failed"
	} else if _, ok := pop("not"); ok {
		return ReplicateUnknown
	}
	if !found {
		return ReplicateUnknown
	}
	for {
		w, ok := pop("not", "have", "has", "been", "are", "am", "is", "were", "was", "haven't", "hasn't", "aren't",
			"weren't", "wasn't", "never", "also", "still", "so", "far", "now", "we've", "i've", "we're", "i'm", "they've")
		if !ok {
			break
		}
		if w == "not" || w == "never" || strings.HasSuffix(w, "n't") {
			neg = !neg
		}
		if strings.Contains(w, "'") { // a contracted subject ends the phrase
			return verdict(neg)
		}
	}
	if len(words) == 0 {
		return verdict(neg)
	}
	if _, ok := pop("we", "i", "staff", "users", "teachers", "they", "colleagues", "everyone", "both", "teacher", "user"); ok {
		return verdict(neg)
	}
	return ReplicateUnknown
}

func verdict(neg bool) Replicate {
	if neg {
		return ReplicateNo
	}
	return ReplicateYes
}

// isWordRune reports whether r next to a match continues a word, so
// the match is not a whole word.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '@'
}

// wholeWord reports whether text[i:j] is bounded as a whole word, not
// part of an address, host name or label ("Email:").
func wholeWord(text string, i, j int) bool {
	if i > 0 {
		r, _ := utf8.DecodeLastRuneInString(text[:i])
		if isWordRune(r) || r == '.' || r == '/' || r == '-' {
			return false
		}
	}
	if j < len(text) {
		r, n := utf8.DecodeRuneInString(text[j:])
		if isWordRune(r) || r == ':' || r == '-' {
			return false
		}
		if r == '.' && j+n < len(text) {
			if r2, _ := utf8.DecodeRuneInString(text[j+n:]); unicode.IsLetter(r2) {
				return false
			}
		}
	}
	return true
}
