package bot

import (
	"slices"
	"strings"
	"testing"
)

// FuzzThreading feeds hostile Message-ID, In-Reply-To, References and
// subject values to the threading helpers: NormalizeMessageID, the
// reply headers (threadHeaders) and the [RFA-N] subject tag. Contracts:
// normalising is idempotent and yields a trimmed, lower-case id without
// angle brackets; a reply answers the mail's own id, keeps the thread's
// root, ends with the mail's id and carries at most ten references; a
// subject tag names RFA-N only for a valid N, and FormatRef round-trips it.
func FuzzThreading(f *testing.F) {
	f.Add("<CAF=abc123@mail.gmail.com>", "<rfa-1.7f3a@support.example.org>", "<root@oakprimary.sch.uk> <rfa-1.7f3a@support.example.org>", "Re: [RFA-12] Attendance report blank")
	f.Add("", "", "", "Printer jam")
	f.Add(" < x@y > ", "<a@b>", "<a@b> <a@b> <a@b> <a@b> <a@b> <a@b> <a@b> <a@b> <a@b> <a@b> <a@b> <c@d>", "[ rfa-0 ] [RFA-18446744073709551616]")
	f.Fuzz(func(t *testing.T, msgID, inReplyTo, references, subject string) {
		norm := func(list string) []string {
			var out []string
			for _, id := range strings.Fields(list) {
				if n := NormalizeMessageID(id); n != "" {
					out = append(out, n)
				}
			}
			return out
		}
		id := NormalizeMessageID(msgID)
		if again := NormalizeMessageID(id); again != id {
			t.Fatalf("NormalizeMessageID not idempotent: %q -> %q -> %q", msgID, id, again)
		}
		if id != strings.ToLower(id) || id != strings.TrimSpace(id) || strings.HasPrefix(id, "<") || strings.HasSuffix(id, ">") {
			t.Fatalf("NormalizeMessageID(%q) = %q: not normal", msgID, id)
		}
		m := &Mail{MessageID: id, InReplyTo: norm(inReplyTo), References: norm(references), Subject: subject}
		before := slices.Clone(m.References)
		irt, refs := threadHeaders(m)
		if irt != m.MessageID {
			t.Fatalf("In-Reply-To = %q, want the mail's own id %q", irt, m.MessageID)
		}
		if !slices.Equal(m.References, before) {
			t.Fatalf("threadHeaders changed the mail's References: %q -> %q", before, m.References)
		}
		if len(refs) > 10 {
			t.Fatalf("%d references, at most 10", len(refs))
		}
		if id != "" && refs[len(refs)-1] != id {
			t.Fatalf("references %q do not end with the mail's id %q", refs, id)
		}
		switch {
		case len(before) > 0 && refs[0] != before[0]:
			t.Fatalf("references %q lost the thread's root %q", refs, before[0])
		case len(before) == 0 && len(m.InReplyTo) > 0 && refs[0] != m.InReplyTo[0]:
			t.Fatalf("references %q do not start with the parent %q", refs, m.InReplyTo[0])
		}
		if sm := refTag.FindStringSubmatch(subject); sm != nil {
			if n, err := ParseRef("RFA-" + sm[1]); err == nil {
				if n == 0 {
					t.Fatalf("ParseRef accepted RFA-0 from %q", subject)
				}
				if back, err := ParseRef(FormatRef(n)); err != nil || back != n {
					t.Fatalf("FormatRef(%d) does not round-trip: %d, %v", n, back, err)
				}
			}
		}
	})
}
