package bot

import (
	"regexp"
	"strings"
)

// severityCues are the phrases SuggestSeverity looks for, most severe
// first: the first severity with a matching phrase wins.
//
// anchors are substrings at least one of which every phrase of re
// contains: re (a large alternation, slow in Go's backtracker) only runs
// on text that has one of them.
var severityCues = []struct {
	sev     Severity
	anchors []string
	re      *regexp.Regexp
}{
	{SeverityCritical, []string{"whole ", "entire ", "all ", "nobody", "no one", "no-one", "none of us", "outage", "down", "data", "lost", "safeguarding"}, regexp.MustCompile(`\b(` +
		`whole school|entire school|(whole|entire) (trust|site)|all (staff|users|teachers|pupils|students|schools)|` +
		`(nobody|no one|no-one|none of us) (can|is able|are able|could)|` +
		`outage|(completely|totally) down|(is|are|went|gone|has gone|have gone|goes) down|down for every(one|body)|` +
		`data (loss|lost|deleted|corrupted|breach)|lost (all )?(our |the )?data|` +
		`safeguarding` +
		`)\b`)},
	{SeveritySerious, []string{"payment", "many ", "several ", "multiple ", "lots of", "a lot of", "register", "attendance"}, regexp.MustCompile(`\b(` +
		`payments? (are |is )?(failing|failed|not working|declined|not going through)|(cannot|can't|can not|unable to) take payments?|` +
		`(many|several|multiple|lots of|a lot of) (users|staff|teachers|classes|pupils|students|people)|` +
		`(cannot|can't|can not|unable to) (take|do|mark|save|complete) (the |our |any )?(registers?|attendance)|` +
		`registers? (are |is )?(not|won't|will not) (working|saving|loading)` +
		`)\b`)},
	{SeverityModerate, []string{"single user", "one ", "just ", "only ", "workaround", "work-around", "work around"}, regexp.MustCompile(`\b(` +
		`single user|one user|just one (user|person|teacher)|only (one|me)|just me|` +
		`one (class|teacher|pupil|student|member of staff|account)|` +
		`workaround|work-around|work around it` +
		`)\b`)},
	{SeverityMinor, []string{"cosmetic", "typo", "spelling", "misspel", "enhancement", "feature request", "suggestion", "question", "how ", "would it be possible", "is it possible", "misaligned", "wrong colo"}, regexp.MustCompile(`\b(` +
		`cosmetic|typo|spelling (mistake|error)|misspel+ed|enhancement|feature request|suggestion|` +
		`question|how (do|can|should) (i|we)|would it be possible|is it possible|` +
		`misaligned|wrong colou?r` +
		`)\b`)},
}

// SuggestSeverity proposes a severity from what a report says: its
// subject, its parsed fields and its text. It is a keyword heuristic, to
// be shown to staff as a suggestion only:
//
//   - Critical: the whole school or all staff affected, nobody can log
//     in, an outage or something down, data loss, safeguarding;
//   - Serious: payments failing, many users, registers cannot be taken;
//   - Moderate: a single user or one class, or a workaround exists;
//   - Minor: cosmetic, a typo, an enhancement or a question;
//
// and "" (awaiting triage) when nothing matches. Matching ignores case;
// the most severe match wins.
func SuggestSeverity(subject string, rep Report, text string) Severity {
	all := strings.ToLower(strings.Join([]string{subject, rep.ErrorMessage, rep.ActionTaken, strings.Join(rep.Components, " "), text}, "\n"))
	all = strings.NewReplacer("’", "'", "\u00a0", " ").Replace(all)
	all = strings.Join(strings.Fields(all), " ")
	for _, c := range severityCues {
		if containsAny(all, c.anchors) && c.re.MatchString(all) {
			return c.sev
		}
	}
	return ""
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
