package mailbox

import (
	"strings"
	"testing"
)

// One invalid byte in text labelled UTF-8 is read on its own: the valid
// UTF-8 around it stays as written (it used to turn the whole text into
// Windows-1252, "Café" into "CafÃ©").
func TestParseUTF8BodyWithStrayByte(t *testing.T) {
	raw := "From: Ann <ann@school.test>\r\n" +
		"Subject: Caf\xc3\xa9 menu\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: 8bit\r\n\r\n" +
		"Caf\xc3\xa9 menu is broken: r\xe9sum\xc3\xa9 \xe2\x82\xac5\r\n"
	m, err := Parse([]byte(raw), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Café menu is broken: résumé €5"; m.Text != want {
		t.Errorf("Text = %q, want %q", m.Text, want)
	}
	if strings.Contains(m.Text, "Ã") {
		t.Errorf("valid UTF-8 was read as Windows-1252: %q", m.Text)
	}
}

func TestValidUTF8(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"valid stays", "Caf\xc3\xa9", "Café"},
		{"stray latin-1 byte after valid utf-8", "Caf\xc3\xa9\xe9", "Caféé"},
		{"pure windows-1252", "\x93Caf\xe9\x94 \x80", "“Café” €"},
		{"truncated sequence then ascii", "a\xe2\x82b", "aâ‚b"},
		{"undefined windows-1252 byte", "x\x81y", "x\uFFFDy"},
		{"valid U+FFFD kept", "\xef\xbf\xbd\xff", "\uFFFDÿ"},
	}
	for _, tt := range tests {
		if got := validUTF8(tt.in); got != tt.want {
			t.Errorf("%s: validUTF8(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}
