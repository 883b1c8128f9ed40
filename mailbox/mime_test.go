package mailbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
)

func parseFile(t *testing.T, name string) (*bot.Mail, []byte, error) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "mime", name+".eml"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(raw, goldenOpts)
	return m, raw, err
}

func contains(t *testing.T, what, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Errorf("%s = %q, want it to contain %q", what, s, sub)
	}
}

func lacks(t *testing.T, what, s, sub string) {
	t.Helper()
	if strings.Contains(s, sub) {
		t.Errorf("%s = %q, want it not to contain %q", what, s, sub)
	}
}

// TestParseCorpus states, file by file, the behaviour each corpus message
// exists to show (the golden files pin everything else).
func TestParseCorpus(t *testing.T) {
	tests := []struct {
		file  string
		check func(t *testing.T, m *bot.Mail)
	}{
		{"gmail_reply_quoted", func(t *testing.T, m *bot.Mail) {
			if m.From.Email != "head@oakprimary.sch.uk" || m.From.Name != "Helen Ashworth" {
				t.Errorf("From = %+v", m.From)
			}
			if len(m.References) != 2 || m.References[1] != "rfa-1042.1764148000@rfadesk.example" {
				t.Errorf("References = %q", m.References)
			}
			if len(m.InReplyTo) != 1 || m.InReplyTo[0] != "rfa-1042.1764148000@rfadesk.example" {
				t.Errorf("InReplyTo = %q", m.InReplyTo)
			}
			if len(m.Cc) != 1 || m.Cc[0].Name != "Bursar, Oak Primary" {
				t.Errorf("Cc = %+v", m.Cc)
			}
			contains(t, "Text", m.Text, "> Thank you for your request")
			contains(t, "Reply", m.Reply, "Yes we can replicate it – it happens every morning on the Year 3 register.")
			lacks(t, "Reply", m.Reply, "wrote:")
			lacks(t, "Reply", m.Reply, "Thank you for your request")
			if !m.Date.Equal(time.Date(2026, 11, 26, 9, 14, 3, 0, time.UTC)) {
				t.Errorf("Date = %v", m.Date)
			}
		}},
		{"outlook_reply_win1252", func(t *testing.T, m *bot.Mail) {
			contains(t, "Text", m.Text, "“Paper jam in tray 2”")
			contains(t, "Text", m.Text, "£45")
			contains(t, "Reply", m.Reply, "Beechwood High School")
			lacks(t, "Reply", m.Reply, "____")
			lacks(t, "Reply", m.Reply, "What exact error message")
		}},
		{"apple_mail_flowed", func(t *testing.T, m *bot.Mail) {
			contains(t, "Text", m.Text, "when they try to log in from the app. It started after the update on Monday.")
			lacks(t, "Reply", m.Reply, "Sent from my iPad")
			lacks(t, "Reply", m.Reply, "Which error message")
		}},
		{"html_only_report_table", func(t *testing.T, m *bot.Mail) {
			for _, line := range []string{
				"Site location: Oak Primary – Main building",
				"Service component(s) affected: SIMS, Registers",
				"Action already taken: Restarted the server and cleared the cache",
				`Exact error message: "Error 1042: cannot save register"`,
				"Can you replicate it?: Yes",
				"Room | 12 | Upstairs",
				"- Used another PC\n  - Same result",
				"Our pupils’ data & registers are affected.",
				"Mrs A. Patel\nSchool Business Manager",
			} {
				contains(t, "Text", m.Text, line)
			}
			lacks(t, "Text", m.Text, "tracking")
			lacks(t, "Text", m.Text, "padding")
			lacks(t, "Text", m.Text, "Support request") // <title>
		}},
		{"alternative_html_placeholder", func(t *testing.T, m *bot.Mail) {
			contains(t, "Text", m.Text, "Site: Maplefield Academy")
			lacks(t, "Text", m.Text, "HTML capable")
		}},
		{"latin1_q_encoded", func(t *testing.T, m *bot.Mail) {
			if m.Subject != "Café till not printing receipts – £5 charge" {
				t.Errorf("Subject = %q", m.Subject)
			}
			if m.From.Name != "Renée François" {
				t.Errorf("From.Name = %q", m.From.Name)
			}
			contains(t, "Text", m.Text, "Site: St Clément's Primary")
		}},
		{"utf8_b_encoded_welsh", func(t *testing.T, m *bot.Mail) {
			if m.Subject != "Problem gyda’r gofrestr – register 📋" {
				t.Errorf("Subject = %q", m.Subject)
			}
			if m.From.Name != "Siân Ŵyn" {
				t.Errorf("From.Name = %q", m.From.Name)
			}
		}},
		{"iso2022jp", func(t *testing.T, m *bot.Mail) {
			if m.Subject != "ログインの問題" || m.From.Name != "田中" {
				t.Errorf("Subject = %q, From.Name = %q", m.Subject, m.From.Name)
			}
			contains(t, "Text", m.Text, "エラー: 認証に失敗しました")
		}},
		{"koi8r", func(t *testing.T, m *bot.Mail) {
			if m.Subject != "Ошибка входа" || m.From.Name != "Иван Петров" {
				t.Errorf("Subject = %q, From.Name = %q", m.Subject, m.From.Name)
			}
			contains(t, "Text", m.Text, "Не могу войти в систему.")
		}},
		{"unknown_charset", func(t *testing.T, m *bot.Mail) {
			if m.Subject != "Server room alarm" {
				t.Errorf("Subject = %q", m.Subject)
			}
			contains(t, "Text", m.Text, "The server room alarm went off at 7am.")
		}},
		{"mixed_attachments_rfc2231", func(t *testing.T, m *bot.Mail) {
			wantAttachments(t, m, "Invoice 2026-11.pdf", "Fehlerbericht Übersicht – Nov.docx", "screen 1.png")
			if a := m.Attachments[0]; !a.Stored || a.ContentType != "application/pdf" || !strings.HasPrefix(string(a.Data), "%PDF-1.4") || a.Size != int64(len(a.Data)) {
				t.Errorf("pdf attachment = %+v", a)
			}
			if m.Attachments[2].Inline {
				t.Error("a mixed attachment without disposition is marked inline")
			}
			contains(t, "Text", m.Text, "Site location: Oak Primary")
		}},
		{"outlook_related_inline_image", func(t *testing.T, m *bot.Mail) {
			wantAttachments(t, m, "image001.png")
			if a := m.Attachments[0]; !a.Inline || !a.Stored || a.ContentType != "image/png" {
				t.Errorf("inline image = %+v", a)
			}
			contains(t, "Text", m.Text, "attendance report")
		}},
		{"outlook_winmail_tnef", func(t *testing.T, m *bot.Mail) {
			wantAttachments(t, m, "winmail.dat")
			if a := m.Attachments[0]; a.ContentType != "application/ms-tnef" || a.Size != 204 || !a.Stored {
				t.Errorf("tnef = %+v", a)
			}
		}},
		{"forward_rfc822_attachment", func(t *testing.T, m *bot.Mail) {
			if !m.Forwarded {
				t.Error("Forwarded = false")
			}
			contains(t, "Text", m.Text, "---------- Forwarded message ---------\nFrom: A Parent <parent.smith@gmail.com>")
			contains(t, "Text", m.Text, "I can see another child's reports.")
			if m.Reply != "FYI - please look into this. Site: Oak Primary." {
				t.Errorf("Reply = %q", m.Reply)
			}
			wantAttachments(t, m, "portal.png")
		}},
		{"forward_inline_gmail", func(t *testing.T, m *bot.Mail) {
			if !m.Forwarded {
				t.Error("Forwarded = false")
			}
			if m.Reply != m.Text {
				t.Errorf("Reply = %q, want the whole text (nothing written above the forward)", m.Reply)
			}
			contains(t, "Text", m.Text, "disk D: is full")
		}},
		{"outlook_original_message_fw", func(t *testing.T, m *bot.Mail) {
			if !m.Forwarded {
				t.Error("Forwarded = false")
			}
			contains(t, "Text", m.Text, "550 5.7.1 rejected")
			if m.Auto != bot.AutoNone {
				t.Errorf("Auto = %v", m.Auto)
			}
		}},
		{"reply_with_signature", func(t *testing.T, m *bot.Mail) {
			if m.Reply != "That fixed it, thank you. You can close the ticket." {
				t.Errorf("Reply = %q", m.Reply)
			}
			contains(t, "Text", m.Text, "\n-- \nSam Lee")
		}},
		{"auto_reply_out_of_office", func(t *testing.T, m *bot.Mail) {
			if m.Auto != bot.AutoReplied || m.Bounce != nil {
				t.Errorf("Auto = %v, Bounce = %+v", m.Auto, m.Bounce)
			}
		}},
		{"list_newsletter", func(t *testing.T, m *bot.Mail) {
			if m.Auto != bot.AutoGenerated {
				t.Errorf("Auto = %v", m.Auto)
			}
			contains(t, "Text", m.Text, "Read more (https://edtechweekly.example.com/a/1)")
		}},
		{"dsn_postfix_bounce", func(t *testing.T, m *bot.Mail) {
			wantBounce(t, m, bot.Bounce{
				OriginalMessageID: "rfa-1042.ack.1764153601@rfadesk.example",
				Recipient:         "nobody@oakprimary.sch.uk",
				Status:            "5.1.1",
				Diagnostic:        "550 5.1.1 <nobody@oakprimary.sch.uk>: Recipient address rejected: User unknown in virtual mailbox table",
			})
			if m.LoopHeader {
				t.Error("LoopHeader set from the bounced message's header")
			}
			if m.Forwarded {
				t.Error("a bounced message counts as forwarded")
			}
			lacks(t, "Text", m.Text, "Reporting-MTA")
		}},
		{"dsn_exchange_rfc822_headers", func(t *testing.T, m *bot.Mail) {
			wantBounce(t, m, bot.Bounce{
				OriginalMessageID: "rfa-1055.ack.1764159000@rfadesk.example",
				Recipient:         "j.bloggs@riverside.sch.uk",
				Status:            "5.1.10",
				Diagnostic:        "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
			})
		}},
		{"mailer_daemon_plain", func(t *testing.T, m *bot.Mail) {
			wantBounce(t, m, bot.Bounce{
				OriginalMessageID: "rfa-1060.upd.1764160000@rfadesk.example",
				Recipient:         "office@cedarlea.sch.uk",
				Status:            "5.2.2",
				Diagnostic:        "mailbox is full: retry timeout exceeded (5.2.2)",
			})
		}},
		{"loop_own_mail", func(t *testing.T, m *bot.Mail) {
			if !m.LoopHeader || m.Auto != bot.AutoGenerated {
				t.Errorf("LoopHeader = %v, Auto = %v", m.LoopHeader, m.Auto)
			}
		}},
		{"auto_generated_mis_alert", func(t *testing.T, m *bot.Mail) {
			if m.Auto != bot.AutoGenerated {
				t.Errorf("Auto = %v", m.Auto)
			}
		}},
		{"large_attachment_capped", func(t *testing.T, m *bot.Mail) {
			wantAttachments(t, m, "census.zip", "pupils.csv")
			if a := m.Attachments[0]; a.Stored || a.Data != nil || a.Size != 12000 {
				t.Errorf("capped attachment = Stored %v, len(Data) %d, Size %d", a.Stored, len(a.Data), a.Size)
			}
			if a := m.Attachments[1]; !a.Stored || a.ContentType != "text/csv" || !strings.HasPrefix(string(a.Data), "UPN,") {
				t.Errorf("csv attachment = %+v", a)
			}
			lacks(t, "Text", m.Text, "UPN")
		}},
		{"malformed_headers_8bit", func(t *testing.T, m *bot.Mail) {
			if m.From.Email != "rene.dupont@fernhill.sch.uk" || m.From.Name != "René Dupont" {
				t.Errorf("From = %+v", m.From)
			}
			if m.Subject != "Projector in hall écran blank" {
				t.Errorf("Subject = %q (want the first Subject, decoded)", m.Subject)
			}
			if m.MessageID != "" || !strings.HasPrefix(m.DedupeKey, "sha256:") {
				t.Errorf("MessageID = %q, DedupeKey = %q", m.MessageID, m.DedupeKey)
			}
			contains(t, "Text", m.Text, "blank écran since Tuesday")
		}},
		{"malformed_bad_boundary", func(t *testing.T, m *bot.Mail) {
			if m.Text != "The door entry system rejects every fob since this morning." {
				t.Errorf("Text = %q", m.Text)
			}
			wantAttachments(t, m, "door.jpg")
		}},
		{"malformed_truncated_multipart", func(t *testing.T, m *bot.Mail) {
			contains(t, "Text", m.Text, "will not calibrate")
			wantAttachments(t, m, "manual.pdf")
		}},
		{"malformed_bad_base64", func(t *testing.T, m *bot.Mail) {
			if m.Text != "The attendance kiosk at reception freezes after the first sign-in.\nSite: Hillcrest" {
				t.Errorf("Text = %q", m.Text)
			}
		}},
		{"malformed_long_line", func(t *testing.T, m *bot.Mail) {
			if len(m.Text) < 200000 || !strings.HasSuffix(m.Text, "end of log") {
				t.Errorf("len(Text) = %d", len(m.Text))
			}
		}},
		{"malformed_missing_boundary_param", func(t *testing.T, m *bot.Mail) {
			if m.Text != "All desk phones lost dial tone at 9:15." {
				t.Errorf("Text = %q", m.Text)
			}
		}},
		{"sender_fallback_messy_refs", func(t *testing.T, m *bot.Mail) {
			if m.From.Email != "office@thornbury.sch.uk" {
				t.Errorf("From = %+v", m.From)
			}
			if m.MessageID != "sender-fallback-1@thornbury.sch.uk" {
				t.Errorf("MessageID = %q", m.MessageID)
			}
			if strings.Join(m.References, " ") != "a@x b@y rfa-1100.ack@rfadesk.example" {
				t.Errorf("References = %q", m.References)
			}
			if len(m.To) != 3 || m.To[2].Email != "second-to@thornbury.sch.uk" {
				t.Errorf("To = %+v", m.To)
			}
			if m.Date.IsZero() {
				t.Error("Date not parsed")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m, raw, err := parseFile(t, tt.file)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if m.Size != len(raw) || m.DedupeKey != DedupeKey(raw) {
				t.Errorf("Size = %d, DedupeKey = %q; want %d, %q", m.Size, m.DedupeKey, len(raw), DedupeKey(raw))
			}
			if m.From.Email != strings.ToLower(m.From.Email) {
				t.Errorf("From.Email %q not lower-cased", m.From.Email)
			}
			if !m.Received.IsZero() {
				t.Error("Received set by Parse")
			}
			tt.check(t, m)
		})
	}
}

func wantAttachments(t *testing.T, m *bot.Mail, names ...string) {
	t.Helper()
	var got []string
	for _, a := range m.Attachments {
		got = append(got, a.Name)
	}
	if strings.Join(got, "|") != strings.Join(names, "|") {
		t.Fatalf("attachments = %q, want %q", got, names)
	}
}

func wantBounce(t *testing.T, m *bot.Mail, want bot.Bounce) {
	t.Helper()
	if m.Auto != bot.AutoBounce || m.Bounce == nil {
		t.Fatalf("Auto = %v, Bounce = %+v; want a bounce", m.Auto, m.Bounce)
	}
	if *m.Bounce != want {
		t.Errorf("Bounce = %+v\nwant %+v", *m.Bounce, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		file string
		want error
	}{
		{"error_no_from", ErrNoFrom},
		{"error_no_header", ErrNoHeader},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m, raw, err := parseFile(t, tt.file)
			if !errors.Is(err, tt.want) || m != nil {
				t.Fatalf("Parse = %v, %v; want nil, %v", m, err, tt.want)
			}
			if k := DedupeKey(raw); k == "" {
				t.Error("DedupeKey empty for an unparsable message")
			}
		})
	}
	if m, err := Parse(nil, ParseOptions{}); !errors.Is(err, ErrNoHeader) || m != nil {
		t.Errorf("Parse(nil) = %v, %v", m, err)
	}
}

func TestDedupeKey(t *testing.T) {
	tests := []struct {
		name, raw, want string
	}{
		{"message id", "From: a@b\r\nMessage-ID: <ABC@Example.COM>\r\n\r\nx", "mid:abc@example.com"},
		{"folded id", "Message-ID:\r\n <x1@y>\r\nFrom: a@b\r\n\r\n", "mid:x1@y"},
		{"first of two", "Message-ID: <one@y>\nMessage-ID: <two@y>\n\n", "mid:one@y"},
		{"no header block", "\n\nbody only", "sha256:"},
		{"empty id", "Message-ID: <>\nFrom: a@b\n\n", "sha256:"},
		{"garbage", "\x00\xff\xfe", "sha256:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DedupeKey([]byte(tt.raw))
			if tt.want == "sha256:" {
				if !strings.HasPrefix(got, "sha256:") || len(got) != len("sha256:")+64 {
					t.Errorf("DedupeKey = %q, want a sha256 key", got)
				}
				if other := DedupeKey([]byte(tt.raw + " ")); other == got {
					t.Error("different raw bytes gave the same sha256 key")
				}
				return
			}
			if got != tt.want {
				t.Errorf("DedupeKey = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseOptions(t *testing.T) {
	raw := []byte("From: Head <head@oakprimary.sch.uk>\r\nX-Rfadesk-Loop: desk-a\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nhello\r\n--b\r\n" +
		"Content-Type: application/octet-stream; name=blob.bin\r\n\r\n" + strings.Repeat("x", 100) + "\r\n--b--\r\n")
	tests := []struct {
		name       string
		opts       ParseOptions
		wantLoop   bool
		wantStored bool
	}{
		{"zero value", ParseOptions{}, false, true},
		{"other desk's loop value", ParseOptions{LoopValue: "desk-b"}, false, true},
		{"our loop value", ParseOptions{LoopValue: "desk-a"}, true, true},
		{"cap below size", ParseOptions{MaxAttachmentSize: 99}, false, false},
		{"cap at size", ParseOptions{MaxAttachmentSize: 100}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(raw, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if m.LoopHeader != tt.wantLoop {
				t.Errorf("LoopHeader = %v, want %v", m.LoopHeader, tt.wantLoop)
			}
			wantAttachments(t, m, "blob.bin")
			a := m.Attachments[0]
			if a.Stored != tt.wantStored || (a.Data != nil) != tt.wantStored || a.Size != 100 {
				t.Errorf("attachment Stored %v, Data %d bytes, Size %d; want Stored %v, Size 100", a.Stored, len(a.Data), a.Size, tt.wantStored)
			}
		})
	}
}

// BenchmarkParse parses the whole corpus once per iteration.
func BenchmarkParse(b *testing.B) {
	var raws [][]byte
	total := 0
	for _, file := range corpus(b) {
		raw, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		raws = append(raws, raw)
		total += len(raw)
	}
	b.SetBytes(int64(total))
	for b.Loop() {
		for _, raw := range raws {
			_, _ = Parse(raw, goldenOpts)
		}
	}
}
