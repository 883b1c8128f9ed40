package demo

import (
	"embed"
	"io/fs"
	"sort"
)

//go:embed seeds/*.eml
var seedFS embed.FS

// Seed is one example email the demo delivers to its mailbox.
type Seed struct {
	Name string // file name, e.g. "01-login-outage.eml"
	Raw  []byte
}

// Seeds returns the demo's example emails in delivery order: realistic
// school reports (plain text, an HTML table, prose), an out-of-office, an
// attachment with a colleague copied, a reply that supplies missing
// fields, and a message that cannot be parsed.
func Seeds() []Seed {
	names, err := fs.Glob(seedFS, "seeds/*.eml")
	if err != nil {
		panic(err) // the pattern is fixed
	}
	sort.Strings(names)
	out := make([]Seed, 0, len(names))
	for _, n := range names {
		b, err := seedFS.ReadFile(n)
		if err != nil {
			panic(err) // embedded files are always readable
		}
		out = append(out, Seed{Name: n[len("seeds/"):], Raw: crlf(b)})
	}
	return out
}

// crlf turns bare LF line ends into CRLF, as mail on the wire has them.
func crlf(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/40)
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}
