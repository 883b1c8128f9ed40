package bot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSeverityAnchorsNeverChangeTheAnswer checks that every phrase of
// each cue contains one of its anchors: with the prefilter off, the
// suggestion for every report in the corpus and for each phrase-bearing
// sentence below is the same.
func TestSeverityAnchorsNeverChangeTheAnswer(t *testing.T) {
	texts := []string{
		"The whole school is affected", "entire trust offline", "all teachers locked out", "none of us could log in",
		"it went down at 9", "down for everybody", "we lost all our data", "data breach suspected", "a safeguarding concern",
		"payments declined", "cannot take payment", "lots of people", "can't mark the register", "registers won't saving",
		"single user", "just one teacher", "only me", "one member of staff", "there is a work around it",
		"a typo on the report", "misspellled word", "feature request", "how do we export", "would it be possible to", "wrong color",
	}
	files, _ := filepath.Glob("testdata/report/*.txt")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	unfiltered := func(text string) Severity {
		all := strings.Join(strings.Fields(strings.ToLower(text)), " ")
		for _, c := range severityCues {
			if c.re.MatchString(all) {
				return c.sev
			}
		}
		return ""
	}
	for _, text := range texts {
		if got, want := SuggestSeverity("", Report{}, text), unfiltered(text); got != want {
			t.Errorf("%q: prefiltered %q, regexp alone %q", text, got, want)
		}
	}
}
