package report

import (
	"regexp"
	"strings"
	"unicode"
)

// Parse reads the report fields from a message's subject and body
// text. body is the new text of the mail (quoted history removed, HTML
// already turned into text, table rows one per line). It never fails: what
// it cannot find stays empty (CanReplicate: ReplicateUnknown).
//
// Labelled lines in the body ("Site location: North campus", "**2. Error
// message** - ...", a label alone on its line with the value below) are
// read first; labels are recognised by their words (see labelWords). The
// first occurrence of a field wins, except that action-taken labels naming
// different support levels ("Level 1 action taken: ...", "Level 2 action
// taken: ...") each add a line to ActionTaken, led by its level ("Level 1:
// restarted the server"). A support tier ("Support level: Gold") fills
// Level, an optional extra. Fields no label gave
// are then looked for in the prose of the subject and body, conservatively:
// an empty field is preferred to a wrong guess. Multi-line values are joined
// with "\n". Parse is pure and safe for concurrent use.
func Parse(subject, body string) Report {
	r := Report{CanReplicate: ReplicateUnknown}
	lines := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
	seen := map[fieldKey]bool{}     // fields a label answered, even with "n/a"
	seenLevels := map[string]bool{} // level sets an action label answered
	for i := 0; i < len(lines); i++ {
		field, levels, val, ok := labelLine(lines[i])
		if !ok {
			continue
		}
		vals, next := collect(lines, i+1, field, val)
		i = next - 1
		if len(vals) == 0 {
			continue
		}
		if field == fieldActionTaken {
			if key := strings.Join(levels, " "); !seenLevels[key] {
				seenLevels[key] = true
				addAction(&r, levels, vals)
			}
			continue
		}
		if !seen[field] {
			seen[field] = true
			setField(&r, field, vals)
		}
	}
	prose := subject + "\n\n" + beforeSignOff(lines)
	if len(prose) > maxProse {
		prose = prose[:maxProse]
	}
	if !seen[fieldSite] {
		r.Site = proseSite(prose)
	}
	if !seen[fieldComponents] {
		r.Components = proseComponents(prose)
	}
	if !seen[fieldErrorMessage] {
		r.ErrorMessage = proseError(prose)
	}
	if !seen[fieldCanReplicate] {
		r.CanReplicate = proseReplicate(prose)
	}
	return r
}

// maxProse bounds the text the prose fallbacks read: a report is near
// the top of a mail, and this keeps a huge body cheap.
const maxProse = 64 << 10

// setField stores the collected value lines of one labelled field in r.
func setField(r *Report, field fieldKey, vals []string) {
	joined := strings.TrimSpace(strings.Join(vals, "\n"))
	if placeholder(joined) {
		return
	}
	switch field {
	case fieldSite:
		r.Site = unquote(joined)
	case fieldLevel:
		r.Level = unquote(joined)
	case fieldErrorMessage:
		r.ErrorMessage = unquote(joined)
	case fieldCanReplicate:
		r.CanReplicate = ParseReplicate(joined)
	case fieldComponents:
		r.Components = splitComponents(vals)
	}
}

// addAction adds the answer to one action-taken label to r.ActionTaken,
// on a line of its own, led by the support levels the label named unless
// the answer already starts with a level of its own.
func addAction(r *Report, levels, vals []string) {
	text := strings.TrimSpace(strings.Join(vals, "\n"))
	if placeholder(text) {
		return
	}
	if lead := levelPhrase(levels); lead != "" && !namesLevel.MatchString(text) {
		text = lead + ": " + text
	}
	if r.ActionTaken != "" {
		text = r.ActionTaken + "\n" + text
	}
	r.ActionTaken = text
}

// namesLevel matches an answer that starts with a support level.
var namesLevel = regexp.MustCompile(`(?i)^(?:levels?\s*\d|lvl\s*\d|l\d\b|(?:\d(?:st|nd|rd|th)|first|second|third|fourth)[\s-]+(?:level|line)\b)`)

// levelPhrase names support levels for a reader: "Level 1", "Levels 1
// and 2", "Levels 1, 2 and 3"; "" for none.
func levelPhrase(levels []string) string {
	switch len(levels) {
	case 0:
		return ""
	case 1:
		return "Level " + levels[0]
	}
	return "Levels " + strings.Join(levels[:len(levels)-1], ", ") + " and " + levels[len(levels)-1]
}

// ParseReplicate maps a free-text answer to "can you replicate it?" to
// yes, no or unknown. "Sometimes", "intermittently" and "not always" count
// as yes (the fault can be replicated); "only once" counts as no; anything
// it does not recognise is ReplicateUnknown.
func ParseReplicate(s string) Replicate {
	if placeholder(s) {
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
