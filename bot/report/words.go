package report

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Labels are recognised by their words, not by a list of exact phrases,
// so the contract's own wording ("[LEVEL(s)] action taken", "Service
// component(s) affected") and its everyday variants ("L2 actions taken",
// "1st line action taken?", "Are you able to reproduce the error?") are
// all understood. labelWords normalises a label; fieldForLabel then asks
// each field's rule in turn whether the words are made of its vocabulary.

// maxLabelWords bounds the content words of a label: a longer line is a
// sentence, not a label.
const maxLabelWords = 9

// labelWords normalises a label into content words and the support levels
// it names. It lower-cases, straightens apostrophes, drops parentheticals
// ("component(s)", "(optional)"), splits on punctuation (so case, a
// trailing "?" and "L1/L2" make no difference), takes the support levels
// out ("Level 1", "levels 1 and 2", "1st line", "first-level", "L2" give
// "1", "2"), drops filler words ("please", "have", "you") and
// makes plurals singular ("actions" → "action"). words is nil for a label
// longer than maxLabelWords content words.
func labelWords(label string) (words, levels []string) {
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
		l = l[:i] + " " + l[i+j+1:]
	}
	l = levelRange.ReplaceAllString(l, "$1 to $2")
	raw := strings.FieldsFunc(l, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
	raw, levels = takeLevels(raw)
	for _, w := range raw {
		w = strings.TrimSuffix(strings.Trim(w, "'"), "'s")
		if w == "" || fillerWords[w] {
			continue
		}
		words = append(words, singular(w))
	}
	if len(words) > maxLabelWords {
		return nil, nil
	}
	return words, levels
}

// levelRange matches a range of levels, "1-3" or "1 – 2".
var levelRange = regexp.MustCompile(`(\d)\s*[-–]\s*(\d)`)

// fillerWords carry no meaning of their own in a label or question.
// Question words ("what", "which") are kept: "What have you tried?" is a
// label where a lone "Tried" or "Done" is not.
var fillerWords = setOf("please", "kindly", "provide", "state", "give", "enter", "list", "confirm",
	"your", "our", "the", "any", "a", "an", "s", "e", "g", "eg", "have", "has", "had",
	"been", "you", "we", "i", "is", "are", "was", "were", "do", "does", "did", "of", "or", "and", "so",
	"if", "in", "on", "at", "to", "for", "it", "this", "that", "there", "be", "can", "could", "you've",
	"we've", "i've", "yet")

// singular makes an English plural singular, well enough for labels:
// "actions" → "action", "entries" → "entry", "fixes" → "fix". Words
// ending in "ss", "us" or "is" ("process", "campus", "diagnosis") and
// short words ("has") stay as they are.
func singular(w string) string {
	switch {
	case len(w) <= 3 || strings.HasSuffix(w, "ss") || strings.HasSuffix(w, "us") || strings.HasSuffix(w, "is"):
		return w
	case strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes") || strings.HasSuffix(w, "sses"):
		return w[:len(w)-2]
	case strings.HasSuffix(w, "s"):
		return w[:len(w)-1]
	}
	return w
}

// levelNumbers reads one level number: "1", "one", "1st", "first".
var levelNumbers = map[string]string{
	"one": "1", "two": "2", "three": "3", "four": "4",
	"first": "1", "second": "2", "third": "3", "fourth": "4",
	"1st": "1", "2nd": "2", "3rd": "3", "4th": "4",
}

func levelNumber(w string) (string, bool) {
	if n, ok := levelNumbers[w]; ok {
		return n, true
	}
	if len(w) == 1 && '1' <= w[0] && w[0] <= '9' {
		return w, true
	}
	return "", false
}

// takeLevels removes the support levels named in words and returns the
// other words and the levels, each once, in ascending order. It reads
// "level 1", "levels 1 and 2", "levels 1 to 3", "lvl 2", "1st line",
// "first and second line", "second-level" and "l1"/"L2". A number not next
// to "level" or "line" ("Level 3 corridor" keeps "corridor", "Room 1"
// keeps "1") is left alone, and so is "level" without a number.
func takeLevels(words []string) (rest, levels []string) {
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			levels = append(levels, n)
		}
	}
	// numbersAt reads "1", "1 and 2", "1 to 3", "1 2" (from "1/2" or
	// "1-2") starting at words[i] and returns them and the index after.
	numbersAt := func(i int) ([]string, int) {
		var ns []string
		for i < len(words) {
			n, ok := levelNumber(words[i])
			if !ok {
				break
			}
			ns = append(ns, n)
			i++
			if i+1 < len(words) && (words[i] == "and" || words[i] == "or" || words[i] == "to") {
				if next, ok := levelNumber(words[i+1]); ok {
					if words[i] == "to" {
						for k := n[0] + 1; k < next[0]; k++ {
							ns = append(ns, string(k))
						}
					}
					i++
				}
			}
		}
		return ns, i
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "level" || w == "levels" || w == "lvl":
			if ns, next := numbersAt(i + 1); len(ns) > 0 {
				for _, n := range ns {
					add(n)
				}
				i = next - 1
				continue
			}
		case len(w) == 2 && w[0] == 'l' && '1' <= w[1] && w[1] <= '9':
			add(w[1:])
			continue
		default:
			if ns, next := numbersAt(i); len(ns) > 0 && next < len(words) &&
				(words[next] == "level" || words[next] == "line" || words[next] == "levels" || words[next] == "lines") {
				for _, n := range ns {
					add(n)
				}
				i = next
				continue
			}
		}
		rest = append(rest, w)
	}
	slices.SortFunc(levels, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
	return rest, levels
}

// labelRule says which words may make up one field's label: a label
// matches when every content word is in vocab, heads, weakHeads or
// questionWords, and it holds a head, or a weak head and at least one
// other word of the rule ("area affected" but not "area" or "which area").
type labelRule struct {
	heads, weakHeads, vocab map[string]bool
}

func (r labelRule) matches(words []string) bool {
	head, weak, other := false, 0, 0
	for _, w := range words {
		switch {
		case r.heads[w]:
			head = true
		case r.weakHeads[w]:
			weak++
		case questionWords[w]:
		case r.vocab[w]:
			other++
		default:
			return false
		}
	}
	return head || weak > 0 && weak+other > 1
}

// questionWords may stand in any label: "Which site is affected?".
var questionWords = setOf("what", "which")

var (
	// siteRule: "Site location", "Which site is affected?", "Where?".
	siteRule = labelRule{
		heads: setOf("site", "location", "campus", "building", "premise", "where"),
		vocab: setOf("school", "affected", "issue", "problem", "fault", "error", "name", "main"),
	}
	// componentRule: "Service component(s) affected", "Affected areas",
	// "Which module?", but not "Operating system" or "Service level".
	componentRule = labelRule{
		heads:     setOf("component", "module", "system", "service", "feature", "application", "app", "product", "software"),
		weakHeads: setOf("area", "part"),
		vocab:     setOf("affected", "impacted", "involved", "name"),
	}
	// errorRule: "Exact error message", "Error(s)", "Message shown",
	// "What error do you see?", "Precise description of the problem";
	// a lone "Message" or "Description" is a form field, not this one.
	errorRule = labelRule{
		heads:     setOf("error"),
		weakHeads: setOf("message", "wording", "warning", "text", "description", "describe", "code"),
		vocab: setOf("exact", "exactly", "precise", "full", "shown", "displayed", "display", "show", "screen",
			"seen", "see", "received", "receive", "get", "getting", "say", "said", "detail", "problem", "issue",
			"fault", "popup", "pop", "up", "box", "appear", "appearing", "occurring", "wording", "onscreen"),
	}
	// tierRule: the support tier a school may volunteer ("Support level",
	// "Contract", "SLA"): never asked for, kept as an optional extra.
	tierRule = labelRule{
		heads:     setOf("tier", "sla", "contract", "package", "plan", "level", "agreement"),
		weakHeads: setOf("type"),
		vocab:     setOf("support", "service"),
	}
)

// actionHeads name what was done; actionDone says that it was done.
var (
	actionHeads = setOf("action", "step", "thing", "fix", "check", "diagnosis", "diagnostic", "measure",
		"attempt", "support", "investigation", "troubleshooting", "troubleshoot", "work")
	actionDone = setOf("taken", "tried", "done", "attempted", "performed", "completed", "undertaken",
		"carried", "applied", "made", "far")
	actionVocab = setOf("already", "out", "level", "line", "so", "try", "first", "been")
)

// isActionLabel accepts the contract's "[LEVEL(s)] action taken" in its
// everyday forms: "Action(s) already taken", "Level 1 action taken", "L2
// actions taken", "1st line support", "What have you tried so far?",
// "Troubleshooting". A bare "Action" or "Support" is not one, nor is
// "Action required" or "Steps to reproduce".
func isActionLabel(words, levels []string) bool {
	head, done, trouble := 0, false, false
	for _, w := range words {
		switch {
		case actionHeads[w]:
			head++
			trouble = trouble || strings.HasPrefix(w, "troubleshoot")
		case actionDone[w]:
			done = true
		case !actionVocab[w] && !questionWords[w]:
			return false
		}
	}
	switch {
	case trouble:
		return true
	case done:
		return len(words) > 1 // "done" alone is not a label
	case len(levels) > 0:
		return head > 0 // "first level support", "Level 2 checks"
	}
	return false
}

// replicateStems begin the words about replicating a fault.
var replicateStems = []string{"replica", "reproduc", "recreat", "repeat"}

// isReplicateLabel accepts short questions and labels about replicating
// the fault ("Can you replicate it", "Reproducible", "Are you able to
// reproduce the error?") but not "Steps to reproduce" or "Date replicated".
func isReplicateLabel(words []string) bool {
	if len(words) == 0 || len(words) > 5 {
		return false
	}
	hit := false
	for _, w := range words {
		switch w {
		case "step", "how", "when", "date", "time", "who", "where", "why",
			"let", "know", "tell", "whether": // "let us know if you can replicate it?" asks, it does not label
			return false
		}
		for _, stem := range replicateStems {
			hit = hit || strings.HasPrefix(w, stem)
		}
	}
	return hit
}

// fieldForLabel maps a normalised label to a report field, or "". The
// rules are asked most specific first: a label about replicating or about
// the action taken may also name an error or a level.
func fieldForLabel(words, levels []string) fieldKey {
	if len(words) == 0 {
		return ""
	}
	switch {
	case isReplicateLabel(words):
		return fieldCanReplicate
	case isActionLabel(words, levels):
		return fieldActionTaken
	case len(levels) > 0:
		return "" // "Level 3 corridor": a level names no other field
	case errorRule.matches(words):
		return fieldErrorMessage
	case siteRule.matches(words):
		return fieldSite
	case componentRule.matches(words):
		return fieldComponents
	case tierRule.matches(words):
		return fieldLevel
	}
	return ""
}

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
