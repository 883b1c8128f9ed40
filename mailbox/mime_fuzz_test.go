package mailbox

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"rfadesk/bot"
)

// FuzzParse feeds arbitrary bytes to the parser (without Parse's panic
// guard, so a panic fails the fuzzer) and checks the invariants of a
// successful parse. Seeds: testdata/mime/*.eml and testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, file := range corpus(f) {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		if len(raw) > 64<<10 {
			continue // huge seeds make the fuzzer spend its time minimising
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		key := DedupeKey(raw)
		if key == "" {
			t.Fatal("DedupeKey empty")
		}
		m, err := parse(raw, ParseOptions{MaxAttachmentSize: 1024, LoopValue: "fuzz"})
		if err != nil {
			if m != nil {
				t.Fatal("non-nil Mail with an error")
			}
			return
		}
		if m.DedupeKey == "" || m.DedupeKey != key {
			t.Fatalf("Mail.DedupeKey = %q, DedupeKey = %q", m.DedupeKey, key)
		}
		for _, id := range append(append([]string{m.MessageID}, m.InReplyTo...), m.References...) {
			if id != "" && !validMessageID(id) {
				t.Fatalf("kept message id %q fails validMessageID", id)
			}
		}
		if m.From.Email == "" || m.From.Email != strings.ToLower(m.From.Email) {
			t.Fatalf("From.Email = %q", m.From.Email)
		}
		if m.Size != len(raw) {
			t.Fatalf("Size = %d, want %d", m.Size, len(raw))
		}
		for what, s := range map[string]string{"Text": m.Text, "Reply": m.Reply, "Subject": m.Subject, "From.Name": m.From.Name} {
			if !utf8.ValidString(s) {
				t.Fatalf("%s is not valid UTF-8: %q", what, s)
			}
		}
		if m.Text != "" && strings.TrimSpace(m.Reply) == "" {
			t.Fatalf("Reply empty for Text %q", m.Text)
		}
		if (m.Auto == bot.AutoBounce) != (m.Bounce != nil) {
			t.Fatalf("Auto = %v with Bounce %+v", m.Auto, m.Bounce)
		}
		for _, a := range m.Attachments {
			if a.Stored != (a.Data != nil) || a.Size < int64(len(a.Data)) || a.Size > 0 && a.Stored && a.Size != int64(len(a.Data)) || a.Name == "" {
				t.Fatalf("attachment %+v (len(Data) %d)", a, len(a.Data))
			}
		}
	})
}
