package report

import (
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
// read first; the first occurrence of a field wins. Fields no label gave
// are then looked for in the prose of the subject and body, conservatively:
// an empty field is preferred to a wrong guess. Multi-line values are joined
// with "\n". Parse is pure and safe for concurrent use.
func Parse(subject, body string) Report {
	r := Report{CanReplicate: ReplicateUnknown}
	lines := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
	seen := map[fieldKey]bool{} // fields a label answered, even with "n/a"
	for i := 0; i < len(lines); i++ {
		field, val, ok := labelLine(lines[i])
		if !ok {
			continue
		}
		vals, next := collect(lines, i+1, field, val)
		i = next - 1
		if !seen[field] && len(vals) > 0 {
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
	case fieldActionTaken:
		r.ActionTaken = joined
	case fieldErrorMessage:
		r.ErrorMessage = unquote(joined)
	case fieldCanReplicate:
		r.CanReplicate = ParseReplicate(joined)
	case fieldComponents:
		r.Components = splitComponents(vals)
	}
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
