package bot

import "strings"

// Contact is how people reach the desk besides email: the desk's own
// words from [desk] (config validates them: printable, no markup needed,
// lengths capped), shown on the landing, status and public status pages
// and in acknowledgements. Every field may be empty.
type Contact struct {
	// Phone is the number as written for people, e.g. "01603 631436
	// (option 1)"; one line.
	Phone string
	// KnowledgeBaseURL is an http(s) link to self-help articles.
	KnowledgeBaseURL string
	// PostalAddress may span lines ("\n" between them).
	PostalAddress string
}

// IsZero reports whether no contact detail is set.
func (c Contact) IsZero() bool { return c == Contact{} }

// PostalLines returns the postal address one line per element, blank
// lines dropped; nil if none.
func (c Contact) PostalLines() []string {
	var out []string
	for _, l := range strings.Split(c.PostalAddress, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
