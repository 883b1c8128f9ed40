package mailbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
)

var update = flag.Bool("update", false, "rewrite testdata/mime/*.golden.json from the current output")

// goldenOpts are the options every corpus file is parsed with.
var goldenOpts = ParseOptions{MaxAttachmentSize: 8192, LoopValue: "desk-test"}

// goldenMail is what a golden file records of a parsed message.
type goldenMail struct {
	Error       string         `json:"error,omitempty"`
	DedupeKey   string         `json:"dedupe_key"`
	MessageID   string         `json:"message_id,omitempty"`
	InReplyTo   []string       `json:"in_reply_to,omitempty"`
	References  []string       `json:"references,omitempty"`
	From        *bot.Address   `json:"from,omitempty"`
	Ambiguous   string         `json:"author_ambiguous,omitempty"`
	ReplyTo     []bot.Address  `json:"reply_to,omitempty"`
	To          []bot.Address  `json:"to,omitempty"`
	Cc          []bot.Address  `json:"cc,omitempty"`
	Subject     string         `json:"subject,omitempty"`
	Date        string         `json:"date,omitempty"`
	Text        string         `json:"text,omitempty"`
	Reply       string         `json:"reply,omitempty"`
	Forwarded   bool           `json:"forwarded,omitempty"`
	Attachments []goldenAttach `json:"attachments,omitempty"`
	Auto        string         `json:"auto,omitempty"`
	Bounce      *bot.Bounce    `json:"bounce,omitempty"`
	LoopHeader  bool           `json:"loop_header,omitempty"`
	Size        int            `json:"size"`
}

type goldenAttach struct {
	bot.Attachment
	SHA256 string `json:"sha256,omitempty"`
}

func toGolden(raw []byte, m *bot.Mail, err error) goldenMail {
	g := goldenMail{DedupeKey: DedupeKey(raw), Size: len(raw)}
	if err != nil {
		g.Error = err.Error()
		return g
	}
	from := m.From
	g.DedupeKey, g.MessageID, g.InReplyTo, g.References = m.DedupeKey, m.MessageID, m.InReplyTo, m.References
	g.From, g.Ambiguous, g.ReplyTo, g.To, g.Cc, g.Subject = &from, m.AuthorAmbiguous, m.ReplyTo, m.To, m.Cc, m.Subject
	if !m.Date.IsZero() {
		g.Date = m.Date.Format(time.RFC3339)
	}
	g.Text, g.Reply, g.Forwarded = clip(m.Text), clip(m.Reply), m.Forwarded
	for _, a := range m.Attachments {
		ga := goldenAttach{Attachment: a}
		ga.Data = nil // the digest stands for the bytes
		if a.Data != nil {
			sum := sha256.Sum256(a.Data)
			ga.SHA256 = hex.EncodeToString(sum[:])
		}
		g.Attachments = append(g.Attachments, ga)
	}
	g.Auto, g.Bounce, g.LoopHeader, g.Size = m.Auto.String(), m.Bounce, m.LoopHeader, m.Size
	return g
}

// clip keeps golden files readable when a corpus file has a huge body.
func clip(s string) string {
	const keep = 2000
	if len(s) <= keep {
		return s
	}
	return s[:keep] + fmt.Sprintf("...[%d bytes, sha256 %x]", len(s), sha256.Sum256([]byte(s)))
}

func corpus(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "mime", "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("corpus has %d files, want at least 20", len(files))
	}
	return files
}

// TestParseGolden parses every testdata/mime/*.eml file and compares the
// result with NAME.golden.json (rewritten by go test -update).
func TestParseGolden(t *testing.T) {
	for _, file := range corpus(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".eml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			m, perr := Parse(raw, goldenOpts)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(toGolden(raw, m, perr)); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			goldenFile := strings.TrimSuffix(file, ".eml") + ".golden.json"
			if *update {
				if err := os.WriteFile(goldenFile, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(goldenFile)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("parse of %s differs from %s:\n--- got\n%s\n--- want\n%s", file, goldenFile, got, want)
			}
		})
	}
}
