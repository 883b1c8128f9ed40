package web

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// checkAccessible applies the basic accessibility checks every page must
// pass: a language on <html>, a viewport for phones, exactly one <h1>,
// headings that do not skip a level, a label for every control a person
// fills in (a <label for> naming its id, or aria-label), and text on
// every button.
func checkAccessible(t *testing.T, name, page string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	attr := func(n *html.Node, key string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == key {
				return a.Val, true
			}
		}
		return "", false
	}
	var textOf func(n *html.Node) string
	textOf = func(n *html.Node) string {
		if n.Type == html.TextNode {
			return n.Data
		}
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			b.WriteString(textOf(c))
		}
		return b.String()
	}
	labels := map[string]bool{}
	var controls []*html.Node
	h1s, lastLevel, viewport := 0, 0, false
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "html":
				if lang, _ := attr(n, "lang"); lang == "" {
					t.Errorf("%s: <html> has no lang", name)
				}
			case "meta":
				if v, _ := attr(n, "name"); v == "viewport" {
					viewport = true
				}
			case "h1", "h2", "h3", "h4":
				level := int(n.Data[1] - '0')
				if level == 1 {
					h1s++
				}
				if lastLevel > 0 && level > lastLevel+1 {
					t.Errorf("%s: <%s> %q follows an <h%d>: a heading level is skipped", name, n.Data, strings.TrimSpace(textOf(n)), lastLevel)
				}
				lastLevel = level
			case "label":
				if f, ok := attr(n, "for"); ok {
					labels[f] = true
				}
			case "input", "textarea", "select":
				if typ, _ := attr(n, "type"); typ != "hidden" && typ != "submit" {
					controls = append(controls, n)
				}
			case "button":
				if strings.TrimSpace(textOf(n)) == "" {
					t.Errorf("%s: a button has no text", name)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if h1s != 1 {
		t.Errorf("%s: %d <h1>, want one", name, h1s)
	}
	if !viewport {
		t.Errorf("%s: no viewport meta: the page will not read well on a phone", name)
	}
	for _, c := range controls {
		id, _ := attr(c, "id")
		aria, _ := attr(c, "aria-label")
		typ, _ := attr(c, "type")
		// A radio or checkbox is labelled by the <label> around it.
		wrapped := c.Parent != nil && c.Parent.Type == html.ElementNode && c.Parent.Data == "label"
		if !labels[id] && aria == "" && !((typ == "radio" || typ == "checkbox") && wrapped) {
			n, _ := attr(c, "name")
			t.Errorf("%s: the control %q has no label", name, n)
		}
	}
}

// TestPagesPassBasicAccessibilityChecks runs checkAccessible over every
// page a requester or a school sees.
func TestPagesPassBasicAccessibilityChecks(t *testing.T) {
	h := newTestHandler(t, nil)
	for _, path := range []string{"/", "/status", "/rfa/RFA-1?t=" + token1, "/rfa/RFA-2?t=token-of-rfa-2-BBBBBBBBBBBBBBBB", "/rfa/RFA-1?t=wrong"} {
		_, page := do(t, h, "GET", path, nil)
		checkAccessible(t, path, page)
	}
	rig := newPortalRig(t, 1024)
	_, page := rig.do("GET", "/new", nil, "", nil)
	checkAccessible(t, "/new", page)
}
