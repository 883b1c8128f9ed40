package mailbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rfadesk/bot"
)

// The five From forms a hostile probe used to append a spoofed reply to
// someone else's RFA (issue #7), each a real message whose DMARC pass at
// our server is for the attacker's domain: the author is flagged as
// ambiguous, the victim's address is still read (nothing is lost), and
// the DMARC pass does not count for the victim's domain.
func TestParseAmbiguousAuthor(t *testing.T) {
	const victim = "p.shah@willowtree.sch.uk"
	tests := []struct {
		file     string
		wantWhy  string
		wantAuth bot.AuthVerdict
	}{
		{"ambiguous_two_from_headers.eml", AmbiguousFromFields, bot.AuthFail},
		{"ambiguous_two_from_addresses.eml", AmbiguousFromAddresses, bot.AuthFail},
		{"ambiguous_encoded_word_hides_address.eml", AmbiguousFromAddresses, bot.AuthFail},
		{"ambiguous_angle_addr_pair.eml", AmbiguousFromAddresses, bot.AuthFail},
		// No From, so no DMARC result; DKIM and SPF pass for the
		// attacker's domain: only the ambiguity stops the threading.
		{"ambiguous_sender_without_from.eml", AmbiguousSenderOnly, bot.AuthPass},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "mime", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(raw, ParseOptions{AuthServID: "mx.rfadesk.example"})
			if err != nil {
				t.Fatal(err)
			}
			if m.AuthorAmbiguous != tt.wantWhy {
				t.Errorf("AuthorAmbiguous = %q, want %q", m.AuthorAmbiguous, tt.wantWhy)
			}
			if m.From.Email != victim {
				t.Errorf("From = %q, want %q", m.From.Email, victim)
			}
			if m.Auth != tt.wantAuth {
				t.Errorf("Auth = %v, want %v", m.Auth, tt.wantAuth)
			}
		})
	}
}

func TestAuthor(t *testing.T) {
	tests := []struct {
		name     string
		header   string
		wantFrom string
		wantWhy  string
	}{
		{"one address", "From: Ann <ann@school.test>", "ann@school.test", ""},
		{"from and a different sender", "From: Head <head@school.test>\r\nSender: office@school.test", "head@school.test", ""},
		{"encoded name", "From: =?utf-8?q?Zo=C3=AB?= <zoe@school.test>", "zoe@school.test", ""},
		{"two from fields, same address", "From: ann@school.test\r\nFrom: ann@school.test", "ann@school.test", AmbiguousFromFields},
		{"empty first from, address in the second", "From:\r\nFrom: ann@school.test", "ann@school.test", AmbiguousFromFields},
		{"group of two", "From: Staff: ann@school.test, bob@school.test;", "ann@school.test", AmbiguousFromAddresses},
		{"lenient single address", "From: Ann Teacher ann@school.test", "ann@school.test", AmbiguousFromLenient},
		{"address in a comment of a lenient value", "From: <ann@school.test> (x@evil.example) junk<", "ann@school.test", AmbiguousFromAddresses},
		{"unparsable from, sender", "From: undisclosed\r\nSender: ann@school.test", "ann@school.test", AmbiguousSenderOnly},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := splitMessage([]byte(tt.header+"\r\n\r\n"), false)
			a, why, ok := author(h)
			if !ok || a.Email != tt.wantFrom || why != tt.wantWhy {
				t.Errorf("author = %q, %q, %v; want %q, %q", a.Email, why, ok, tt.wantFrom, tt.wantWhy)
			}
		})
	}
	if _, _, ok := author(header{{key: "From", value: "nobody"}}); ok {
		t.Error("author of a From without address is ok")
	}
}

// Bidirectional formatting characters (U+202E and friends) are removed
// from every text Parse hands on: subject, display names, attachment
// names, body and reply.
func TestParseNeutralizesBidi(t *testing.T) {
	raw := "From: =?utf-8?q?Ann_=E2=80=AETeacher?= <ann@school.test>\r\n" +
		"To: \"Desk \u2067x\u2069\" <desk@rfadesk.test>\r\n" +
		"Cc: Bob\u200f <bob@school.test>\r\n" +
		"Reply-To: \"R\u202dR\" <r@school.test>\r\n" +
		"Subject: =?utf-8?b?" + "SW52b2ljZSDigK5mZHAuZXhl" + "?=\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee \u202eexe.pdf\u202c attached\r\n" +
		"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename*=utf-8''invoice%E2%80%AEfdp.exe\r\n\r\nx\r\n--b--\r\n"
	m, err := Parse([]byte(raw), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var shown []string
	shown = append(shown, m.Subject, m.From.Name, m.Text, m.Reply)
	for _, l := range [][]bot.Address{m.To, m.Cc, m.ReplyTo} {
		for _, a := range l {
			shown = append(shown, a.Name)
		}
	}
	for _, a := range m.Attachments {
		shown = append(shown, a.Name)
	}
	for _, s := range shown {
		if bot.NeutralizeBidi(s) != s {
			t.Errorf("bidi control left in %q", s)
		}
	}
	if m.Subject != "Invoice fdp.exe" || m.From.Name != "Ann Teacher" || len(m.Attachments) != 1 || m.Attachments[0].Name != "invoicefdp.exe" {
		t.Errorf("Subject %q, From.Name %q, Attachments %+v", m.Subject, m.From.Name, m.Attachments)
	}
	if !strings.Contains(m.Text, "See exe.pdf attached") {
		t.Errorf("Text = %q", m.Text)
	}
}
