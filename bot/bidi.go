package bot

import "strings"

// NeutralizeBidi returns s with every Unicode bidirectional formatting
// character removed: the embeddings and overrides (U+202A–U+202E), the
// isolates (U+2066–U+2069) and the marks (U+200E, U+200F, U+061C). Such
// characters let a sender make text read differently from what it is
// ("invoice\u202efdp.exe" shows as "invoiceexe.pdf"), so every string a
// sender controls is passed through it before it is stored or shown (page,
// chat, mail). Other characters, newlines included, are kept.
func NeutralizeBidi(s string) string {
	if !strings.ContainsFunc(s, isBidiControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isBidiControl(r) {
			return -1
		}
		return r
	}, s)
}

// isBidiControl reports whether r is a bidirectional formatting character.
func isBidiControl(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200E, r == 0x200F, r == 0x061C:
		return true
	}
	return false
}
