package mailbox

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
)

func TestParseAddressList(t *testing.T) {
	tests := []struct {
		name, in string
		want     []bot.Address
	}{
		{"plain", "Head@OakPrimary.sch.uk", []bot.Address{{Email: "head@oakprimary.sch.uk"}}},
		{"quoted comma name", `"Jones, Gareth" <G.Jones@x.sch.uk>, b@y`, []bot.Address{{Name: "Jones, Gareth", Email: "g.jones@x.sch.uk"}, {Email: "b@y"}}},
		{"encoded name", "=?utf-8?q?Sin=C3=A9ad?= <s@x>", []bot.Address{{Name: "Sinéad", Email: "s@x"}}},
		{"name equal to address dropped", `"s@x" <S@X>`, []bot.Address{{Email: "s@x"}}},
		{"comment name", "MAILER-DAEMON@mx.example (Mail Delivery System)", []bot.Address{{Name: "Mail Delivery System", Email: "mailer-daemon@mx.example"}}},
		{"lenient unquoted dots and brackets", "Mrs. J. Smith [Office] <j.smith@x.sch.uk>", []bot.Address{{Name: "Mrs. J. Smith [Office]", Email: "j.smith@x.sch.uk"}}},
		{"lenient 8-bit name", "Ren\xe9 <r@x>", []bot.Address{{Name: "René", Email: "r@x"}}},
		{"group with a member", "sent by: office@x.sch.uk;", []bot.Address{{Email: "office@x.sch.uk"}}},
		{"lenient unclosed angle", "Jo <Jo@X.sch.uk", []bot.Address{{Name: "Jo", Email: "jo@x.sch.uk"}}},
		{"group without members", "undisclosed-recipients:;", nil},
		{"nothing usable", "Just A Name", nil},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseAddressList(tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("parseAddressList(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("parseAddressList(%q)[%d] = %+v, want %+v", tt.in, i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestParseIDList(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<A@B> <c@d>", "a@b c@d"},
		{"<a@b><c@d>", "a@b c@d"},
		{"<a@b>,\t<c@d>", "a@b c@d"},
		{"a@b c@d", "a@b c@d"},
		{"<> <  > <x@y>", "x@y"},
		{"(comment) <x@y> trailing", "x@y"},
		{"", ""},
		{"<caf\u00e9@d> <x@y> <a\x01b@c>", "x@y"},
		{"<" + strings.Repeat("z", 300) + "@d> <x@y>", "x@y"},
	}
	for _, tt := range tests {
		if got := strings.Join(parseIDList(tt.in), " "); got != tt.want {
			t.Errorf("parseIDList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	want := time.Date(2026, 11, 26, 9, 14, 3, 0, time.UTC)
	for _, in := range []string{
		"Thu, 26 Nov 2026 09:14:03 +0000",
		"Thu, 26 Nov 2026 09:14:03 +0000 (GMT)",
		"26 Nov 2026 09:14:03 +0000",
		"Thursday, 26 November 2026 09:14:03 +0000",
		"Thu,  26 Nov 2026   09:14:03 +0000",
		"2026-11-26T09:14:03Z",
	} {
		if got := parseDate(in); !got.Equal(want) {
			t.Errorf("parseDate(%q) = %v, want %v", in, got, want)
		}
	}
	for _, in := range []string{"", "yesterday", "Thu, 99 Nov 2026"} {
		if got := parseDate(in); !got.IsZero() {
			t.Errorf("parseDate(%q) = %v, want zero", in, got)
		}
	}
}

func TestSplitMessage(t *testing.T) {
	raw := "From sender@x Thu Nov 26 09:00:00 2026\r\n" +
		"Subject: one\r\n two\r\n" +
		"no colon here\r\n" +
		" orphan continuation\r\n" +
		"Bad Key: x\r\n" +
		"X-Empty:\r\n" +
		"Subject: second\r\n" +
		"\r\nbody\r\n"
	h, body := splitMessage([]byte(raw), true)
	if got := h.Get("subject"); got != "one two" {
		t.Errorf("Subject = %q, want the first, unfolded", got)
	}
	if got := h.Values("Subject"); len(got) != 2 {
		t.Errorf("Values(Subject) = %q", got)
	}
	if h.Has("Bad Key") || !h.Has("X-Empty") || len(h) != 3 {
		t.Errorf("header = %+v", h)
	}
	if string(body) != "body\r\n" {
		t.Errorf("body = %q", body)
	}
	if h, body := splitMessage([]byte("Subject: only header"), true); len(h) != 1 || body != nil {
		t.Errorf("header-only message: %+v, %q", h, body)
	}
}

func TestMediaType(t *testing.T) {
	tests := []struct {
		in, wantType, wantKey, wantVal string
	}{
		{`text/plain; charset="UTF-8"`, "text/plain", "charset", "UTF-8"},
		{`Multipart/Mixed; Boundary=abc`, "multipart/mixed", "boundary", "abc"},
		{`attachment; filename*=UTF-8''na%C3%AFve%20file.txt`, "attachment", "filename", "naïve file.txt"},
		{`attachment; filename*0="long "; filename*1="name.pdf"`, "attachment", "filename", "long name.pdf"},
		{`application/pdf; name="=?UTF-8?B?w6kucGRm?="`, "application/pdf", "name", "é.pdf"},
		{`attachment; filename=my report.pdf; size=10`, "attachment", "filename", "my report.pdf"},
		{`multipart/mixed; boundary="a"; boundary="b"`, "multipart/mixed", "boundary", "a"},
	}
	for _, tt := range tests {
		mt, params := mediaType(tt.in)
		if mt != tt.wantType || params[tt.wantKey] != tt.wantVal {
			t.Errorf("mediaType(%q) = %q, %q; want %q, %s=%q", tt.in, mt, params, tt.wantType, tt.wantKey, tt.wantVal)
		}
	}
}

func TestSplitMultipart(t *testing.T) {
	tests := []struct {
		name, body, boundary string
		want                 []string
	}{
		{"crlf", "pre\r\n--b\r\nA: 1\r\n\r\none\r\n--b\r\n\r\ntwo\r\n--b--\r\nepilogue", "b", []string{"A: 1\r\n\r\none", "\r\ntwo"}},
		{"lf and trailing space", "--b \n\none\n--b--", "b", []string{"\none"}},
		{"truncated", "--b\n\none\n--b\n\ntwo and more", "b", []string{"\none", "\ntwo and more"}},
		{"longer line is not a delimiter", "--b\n\n--bb\n--b--", "b", []string{"\n--bb"}},
		{"guessed", "--zz\nContent-Type: text/plain\n\nx\n--zz--", "wrong", []string{"Content-Type: text/plain\n\nx"}},
		{"none", "just text", "b", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := splitMultipart([]byte(tt.body), tt.boundary)
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got {
				if string(got[i]) != tt.want[i] {
					t.Errorf("part %d = %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestLenientTransferDecode(t *testing.T) {
	tests := []struct{ cte, in, want string }{
		{"base64", "SGVsbG8g\nd29ybGQ", "Hello world"},
		{"base64", "SGVs!!bG8=\r\n", "Hello"},
		{"quoted-printable", "caf=E9 =ZZ ok=\r\nnext=\nline", "caf\xe9 =ZZ oknextline"},
		{"7bit", "as is", "as is"},
	}
	for _, tt := range tests {
		if got := string(lenientTransferDecode(tt.cte, []byte(tt.in))); got != tt.want {
			t.Errorf("lenientTransferDecode(%s, %q) = %q, want %q", tt.cte, tt.in, got, tt.want)
		}
	}
}

func TestUnflow(t *testing.T) {
	tests := []struct {
		name, in string
		delsp    bool
		want     string
	}{
		{"soft breaks", "one \ntwo \nthree\nfour", false, "one two three\nfour"},
		{"delsp", "wo  \nrd\n", true, "wo rd\n"},
		{"quoted", "> a \n> b\nc", false, "> a b\nc"},
		{"signature kept", "-- \nSam", false, "-- \nSam"},
	}
	for _, tt := range tests {
		if got := unflow(tt.in, tt.delsp); got != tt.want {
			t.Errorf("%s: unflow(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestDecodeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"=?UTF-8?B?w6k=?= =?UTF-8?B?w6k=?=", "éé"},
		{"=?iso-8859-1?q?=93quoted=94?=", "“quoted”"},
		{"=?x-unknown?q?raw_text?=", "raw text"},
		{"tab\tand\r\nfold  spaces", "tab and fold spaces"},
		{"latin \xe9", "latin é"},
		{"ctl\x01\x7f\u0085", "ctl"},
	}
	for _, tt := range tests {
		if got := decodeText(tt.in); got != tt.want {
			t.Errorf("decodeText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Ids become bbolt keys and are sent back in In-Reply-To/References, so
// Parse keeps only ids the Sender accepts (validMessageID) and a bad
// Message-ID counts as missing.
func TestParseMessageIDValidity(t *testing.T) {
	long := "<" + strings.Repeat("a", 40000) + "@x.test>"
	edge := strings.Repeat("b", maxMessageIDLen-len("@x.test")) + "@x.test" // exactly the limit
	tests := []struct {
		name, msgID, refs, inReplyTo string
		wantMID, wantRefs, wantIRT   string // wantMID "" means a sha256 DedupeKey
	}{
		{"normal ids kept", "<Abc@X.test>", "<r1@x.test> <r2@x.test>", "<r2@x.test>", "abc@x.test", "r1@x.test r2@x.test", "r2@x.test"},
		{"40,000-char Message-ID", long, "", "", "", "", ""},
		{"40,000-char reference", "<m@x.test>", "<r1@x.test> " + long + " <r2@x.test>", long, "m@x.test", "r1@x.test r2@x.test", ""},
		{"id at the length limit", "<" + edge + ">", "<" + edge + ">", "", edge, edge, ""},
		{"id one over the limit", "<b" + edge + ">", "<r1@x.test> <b" + edge + ">", "", "", "r1@x.test", ""},
		{"non-ASCII Message-ID", "<caf\u00e9@x.test>", "", "", "", "", ""},
		{"8-bit Message-ID", "<caf\xe9@x.test>", "", "", "", "", ""},
		{"non-ASCII reference", "<m@x.test>", "<r1@x.test> <caf\u00e9@x.test> <r2@x.test>", "<r\u00e9@x.test>", "m@x.test", "r1@x.test r2@x.test", ""},
		{"bad first Message-ID not replaced by a later one", "<caf\u00e9@x.test> <m@x.test>", "", "", "", "", ""},
		{"space inside brackets", "<a b@x.test>", "<a b@x.test> <r@x.test>", "", "", "r@x.test", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := "From: ann@school.test\r\nMessage-ID: " + tt.msgID + "\r\n"
			if tt.refs != "" {
				raw += "References: " + tt.refs + "\r\n"
			}
			if tt.inReplyTo != "" {
				raw += "In-Reply-To: " + tt.inReplyTo + "\r\n"
			}
			raw += "Subject: hi\r\n\r\nbody\r\n"
			m, err := Parse([]byte(raw), ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if m.MessageID != tt.wantMID {
				t.Errorf("MessageID = %.80q, want %q", m.MessageID, tt.wantMID)
			}
			wantKey := "mid:" + tt.wantMID
			if tt.wantMID == "" {
				sum := sha256.Sum256([]byte(raw))
				wantKey = "sha256:" + hex.EncodeToString(sum[:])
			}
			if m.DedupeKey != wantKey {
				t.Errorf("Mail.DedupeKey = %.80q, want %q", m.DedupeKey, wantKey)
			}
			if k := DedupeKey([]byte(raw)); k != m.DedupeKey {
				t.Errorf("DedupeKey(raw) = %.80q, Mail.DedupeKey = %.80q", k, m.DedupeKey)
			}
			if got := strings.Join(m.References, " "); got != tt.wantRefs {
				t.Errorf("References = %.80q, want %q", got, tt.wantRefs)
			}
			if got := strings.Join(m.InReplyTo, " "); got != tt.wantIRT {
				t.Errorf("InReplyTo = %.80q, want %q", got, tt.wantIRT)
			}
			for _, id := range append(append([]string{m.MessageID}, m.References...), m.InReplyTo...) {
				if id != "" && !validMessageID(id) {
					t.Errorf("kept id %.80q fails validMessageID", id)
				}
			}
		})
	}
}
