package mailbox

import (
	"strings"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxHTMLNest bounds the nesting depth at which blockquotes, list items
// and table cells are laid out as blocks of their own; deeper content is
// written inline (protection against quadratic work on hostile HTML).
const maxHTMLNest = 40

// htmlToText converts an HTML document to readable plain text: script,
// style and head are dropped; block elements and <br> break lines;
// paragraphs, headings, lists and tables are separated by a blank line;
// list items become "- item"; blockquotes become "> " lines; each table
// row becomes one line, a two-cell row as "label: value" and other rows
// as cells joined by " | "; entities are decoded and white space is
// collapsed outside <pre>.
func htmlToText(s string) string {
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		// The parser refuses documents nested too deeply; keep their text.
		return tokenText(s)
	}
	var w textWriter
	w.children(doc, 0)
	return w.String()
}

// tokenText is the fallback conversion: the text of s, a line break at
// every block-level tag, script and style contents dropped.
func tokenText(s string) string {
	var w textWriter
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return w.String()
		case html.TextToken:
			if skip == 0 {
				w.text(string(z.Text()))
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch a {
			case atom.Script, atom.Style, atom.Head, atom.Title:
				if tt == html.StartTagToken {
					skip++
				} else if skip > 0 {
					skip--
				}
			case atom.Br, atom.P, atom.Div, atom.Li, atom.Tr, atom.Table, atom.Blockquote,
				atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Ul, atom.Ol, atom.Pre:
				w.lineBreak()
			case atom.Td, atom.Th:
				w.text(" ")
			}
		}
	}
}

// textWriter accumulates lines of text.
type textWriter struct {
	out          strings.Builder
	cur          strings.Builder
	pendingSpace bool
	pre          int
}

func (w *textWriter) text(s string) {
	if w.pre > 0 {
		for i, l := range strings.Split(s, "\n") {
			if i > 0 {
				w.newline()
			}
			w.cur.WriteString(strings.TrimRight(l, "\r"))
		}
		return
	}
	for _, r := range s {
		switch {
		case r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\ufeff' || r == '\u00ad':
			continue
		case unicode.IsSpace(r):
			if w.cur.Len() > 0 {
				w.pendingSpace = true
			}
			continue
		}
		if w.pendingSpace {
			w.cur.WriteByte(' ')
			w.pendingSpace = false
		}
		w.cur.WriteRune(r)
	}
}

// newline ends the current line, even an empty one.
func (w *textWriter) newline() {
	w.out.WriteString(strings.TrimRight(w.cur.String(), " \t"))
	w.out.WriteByte('\n')
	w.cur.Reset()
	w.pendingSpace = false
}

// lineBreak ends the current line if it has text.
func (w *textWriter) lineBreak() {
	if w.cur.Len() > 0 {
		w.newline()
	}
}

// paragraph ends the current line and leaves a blank line.
func (w *textWriter) paragraph() {
	w.lineBreak()
	if o := w.out.String(); o != "" && !strings.HasSuffix(o, "\n\n") {
		w.out.WriteByte('\n')
	}
}

// block writes already laid-out lines as a block of their own.
func (w *textWriter) block(s string, para bool) {
	if strings.TrimSpace(s) == "" {
		return
	}
	if para {
		w.paragraph()
	} else {
		w.lineBreak()
	}
	w.out.WriteString(s)
	w.out.WriteByte('\n')
	if para {
		w.paragraph()
	}
}

// String returns the text with trailing spaces, runs of blank lines and
// surrounding blank lines removed.
func (w *textWriter) String() string {
	w.lineBreak()
	return tidyLines(w.out.String())
}

// tidyLines trims each line's trailing space, keeps at most one blank
// line in a row and trims the text.
func tidyLines(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := true
	for _, l := range lines {
		if l != "-- " {
			l = strings.TrimRight(l, " \t\u00a0")
		}
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

func (w *textWriter) children(n *html.Node, depth int) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.node(c, depth)
	}
}

// sub lays out n's children on a fresh writer.
func sub(n *html.Node, depth int) string {
	var s textWriter
	s.children(n, depth+1)
	return s.String()
}

func (w *textWriter) node(n *html.Node, depth int) {
	switch n.Type {
	case html.TextNode:
		w.text(n.Data)
		return
	case html.DocumentNode:
		w.children(n, depth)
		return
	case html.ElementNode:
	default:
		return
	}
	nest := depth < maxHTMLNest
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Head, atom.Title, atom.Template, atom.Noscript,
		atom.Object, atom.Iframe, atom.Svg, atom.Math, atom.Meta, atom.Link:
		return
	case atom.Br:
		w.newline()
	case atom.Hr:
		w.lineBreak()
	case atom.A:
		w.link(n, depth)
	case atom.Pre:
		w.paragraph()
		w.pre++
		w.children(n, depth+1)
		w.pre--
		w.paragraph()
	case atom.Blockquote:
		if !nest {
			w.paragraph()
			w.children(n, depth+1)
			w.paragraph()
			return
		}
		w.block(prefixLines(sub(n, depth), "> ", "> "), true)
	case atom.Li:
		if !nest {
			w.lineBreak()
			w.text("- ")
			w.children(n, depth+1)
			w.lineBreak()
			return
		}
		t := strings.ReplaceAll(sub(n, depth), "\n\n", "\n")
		if t == "" {
			return
		}
		w.block(prefixLines(t, "- ", "  "), false)
	case atom.Table:
		if !nest {
			w.paragraph()
			w.children(n, depth+1)
			w.paragraph()
			return
		}
		w.paragraph()
		w.table(n, depth)
		w.paragraph()
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Ul, atom.Ol, atom.Dl:
		w.paragraph()
		w.children(n, depth+1)
		w.paragraph()
	case atom.Div, atom.Tr, atom.Td, atom.Th, atom.Section, atom.Article, atom.Header,
		atom.Footer, atom.Address, atom.Center, atom.Dt, atom.Dd, atom.Form, atom.Fieldset,
		atom.Nav, atom.Aside, atom.Main, atom.Figure, atom.Figcaption, atom.Details,
		atom.Summary, atom.Caption, atom.Body, atom.Html, atom.Tbody, atom.Thead, atom.Tfoot:
		w.lineBreak()
		w.children(n, depth+1)
		w.lineBreak()
	default:
		w.children(n, depth+1)
	}
}

// link writes an anchor's text, followed by its web address in
// parentheses when the text does not already show it.
func (w *textWriter) link(n *html.Node, depth int) {
	var href string
	for _, a := range n.Attr {
		if a.Key == "href" {
			href = strings.TrimSpace(a.Val)
		}
	}
	before := w.cur.Len() + w.out.Len()
	var t strings.Builder
	collectText(n, &t, 0)
	w.children(n, depth+1)
	lower := strings.ToLower(href)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return
	}
	bare := strings.TrimPrefix(strings.TrimPrefix(href, "https://"), "http://")
	if w.cur.Len()+w.out.Len() == before || strings.Contains(t.String(), strings.TrimSuffix(bare, "/")) {
		return
	}
	w.text(" (" + href + ")")
}

func collectText(n *html.Node, b *strings.Builder, depth int) {
	if depth > maxHTMLNest {
		return
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
		collectText(c, b, depth+1)
	}
}

// table writes one line per row, a cell's own line breaks becoming
// spaces. Layout rows (a single cell of several lines, or a cell holding
// a nested table) are written cell by cell instead.
func (w *textWriter) table(n *html.Node, depth int) {
	for _, row := range rows(n, nil) {
		var cells []string
		layout := false
		for c := row.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode || (c.DataAtom != atom.Td && c.DataAtom != atom.Th) {
				continue
			}
			cells = append(cells, sub(c, depth+1))
			layout = layout || hasTable(c, 0)
		}
		if layout || len(cells) == 1 && strings.Contains(cells[0], "\n") {
			for _, c := range cells {
				w.block(c, true)
			}
			continue
		}
		for i, c := range cells {
			cells[i] = strings.Join(strings.Fields(c), " ")
		}
		if line := rowLine(cells); line != "" {
			w.lineBreak()
			w.text(line)
			w.lineBreak()
		}
	}
}

// rowLine joins a row's cells: "label: value" for two cells, " | "
// between the non-empty cells otherwise.
func rowLine(cells []string) string {
	if len(cells) == 2 {
		label := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(cells[0]), ":"))
		value := strings.TrimSpace(cells[1])
		switch {
		case label == "":
			return value
		case value == "":
			return label + ":"
		}
		return label + ": " + value
	}
	var keep []string
	for _, c := range cells {
		if c = strings.TrimSpace(c); c != "" {
			keep = append(keep, c)
		}
	}
	return strings.Join(keep, " | ")
}

// hasTable reports whether n contains a table element.
func hasTable(n *html.Node, depth int) bool {
	if depth > maxHTMLNest {
		return false
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.DataAtom == atom.Table || hasTable(c, depth+1) {
			return true
		}
	}
	return false
}

// rows returns the tr elements of a table, not descending into nested
// tables.
func rows(n *html.Node, acc []*html.Node) []*html.Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		switch c.DataAtom {
		case atom.Tr:
			acc = append(acc, c)
		case atom.Table:
		default:
			acc = rows(c, acc)
		}
	}
	return acc
}

// prefixLines puts first before the first line of s and rest before
// every other line (blank lines included, trimmed).
func prefixLines(s, first, rest string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		p := rest
		if i == 0 {
			p = first
		}
		lines[i] = strings.TrimRight(p+l, " ")
		if lines[i] == "" && rest == "> " {
			lines[i] = ">"
		}
	}
	return strings.Join(lines, "\n")
}
