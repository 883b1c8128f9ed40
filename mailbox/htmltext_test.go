package mailbox

import (
	"strings"
	"testing"
)

func TestHTMLToText(t *testing.T) {
	tests := []struct {
		name, html, want string
	}{
		{"plain paragraphs", "<p>One</p><p>Two</p>", "One\n\nTwo"},
		{"divs and br", "<div>Line one</div><div>Line two<br>Line three</div>", "Line one\nLine two\nLine three"},
		{"whitespace collapsed", "<p>  lots \n\t of   space  </p>", "lots of space"},
		{"entities", "<p>Fish &amp; chips &pound;5 &lt;b&gt; &#8211; &quot;x&quot;&nbsp;y</p>", "Fish & chips £5 <b> – \"x\" y"},
		{"script style head dropped", "<html><head><title>T</title><style>p{}</style></head><body><script>alert(1)</script><p>Body</p><noscript>enable js</noscript></body></html>", "Body"},
		{"unordered list", "<ul><li>Alpha</li><li>Beta</li></ul>", "- Alpha\n- Beta"},
		{"ordered list", "<ol><li>First</li><li>Second</li></ol>", "- First\n- Second"},
		{"nested list", "<ul><li>Top<ul><li>Inner</li></ul></li><li>Next</li></ul>", "- Top\n  - Inner\n- Next"},
		{"two-cell rows", "<table><tr><td>Site location</td><td>Oak Primary</td></tr><tr><th>Support level:</th><td>Gold</td></tr></table>", "Site location: Oak Primary\nSupport level: Gold"},
		{"two-cell row empty value", "<table><tr><td>Error message</td><td></td></tr></table>", "Error message:"},
		{"two-cell row empty label", "<table><tr><td></td><td>Only value</td></tr></table>", "Only value"},
		{"three-cell rows", "<table><tr><td>Room</td><td>12</td><td>Upstairs</td></tr><tr><td>A</td><td></td><td>C</td></tr></table>", "Room | 12 | Upstairs\nA | C"},
		{"cell with br joins", "<table><tr><td>Action already taken</td><td>Restarted<br>Rebooted</td></tr></table>", "Action already taken: Restarted Rebooted"},
		{"outlook cells with paragraphs", `<table><tr><td><p class=MsoNormal>Site<o:p></o:p></p></td><td><p class=MsoNormal>Oak<o:p></o:p></p></td></tr></table>`, "Site: Oak"},
		{"layout table", "<table><tr><td><h1>News</h1><p>Para one</p><table><tr><td>K</td><td>V</td></tr></table></td></tr></table>", "News\n\nPara one\n\nK: V"},
		{"blockquote", "<p>Yes</p><blockquote><p>Question?</p><p>More</p></blockquote>", "Yes\n\n> Question?\n>\n> More"},
		{"pre keeps layout", "<pre>a   b\n  c</pre>", "a   b\n  c"},
		{"link with other text", `<a href="https://x.example/a">the page</a>`, "the page (https://x.example/a)"},
		{"autolink not repeated", `<a href="https://x.example/a">https://x.example/a</a>`, "https://x.example/a"},
		{"mailto link", `<a href="mailto:a@b">a@b</a>`, "a@b"},
		{"image only", `<img src="cid:x" alt="logo">`, ""},
		{"zero width removed", "<p>a\u200bb</p>", "ab"},
		{"broken html", "<p>Unclosed <b>bold <i>both</p><div>next", "Unclosed bold both\n\nnext"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := htmlToText(tt.html); got != tt.want {
				t.Errorf("htmlToText(%q)\n got %q\nwant %q", tt.html, got, tt.want)
			}
		})
	}
}

// TestHTMLToTextDeepNesting checks that hostile nesting is laid out
// without blowing up: every word survives.
func TestHTMLToTextDeepNesting(t *testing.T) {
	for _, tag := range []string{"blockquote", "li", "table><tr><td"} {
		open, close := "<"+tag+">", ""
		var b strings.Builder
		for i := 0; i < 2000; i++ {
			b.WriteString(open + "w ")
		}
		b.WriteString(close)
		got := htmlToText(b.String())
		if n := strings.Count(got, "w"); n != 2000 {
			t.Errorf("%s: %d words out of 2000", tag, n)
		}
	}
}

func TestTokenText(t *testing.T) {
	got := tokenText("<style>p{}</style><p>One &amp; two</p><table><tr><td>a</td><td>b</td></tr></table><script>x()</script>end")
	if want := "One & two\na b\nend"; got != want {
		t.Errorf("tokenText = %q, want %q", got, want)
	}
}
