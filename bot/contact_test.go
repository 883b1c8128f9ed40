package bot_test

import (
	"strings"
	"testing"

	"rfadesk/bot"
)

var testContact = bot.Contact{
	Phone:            "01603 631436 (option 1)",
	KnowledgeBaseURL: "https://help.example.org/kb?a=1&b=<2>",
	PostalAddress:    "Example Service Desk\nCounty Hall & Annexe\n\nNorwich NR1 2DH",
}

// The acknowledgement carries a "Contact us" block with the desk's
// phone, knowledge base and postal address, escaped in the HTML part,
// for a sender outside the organisations as well as a known one.
func TestAckCarriesContactDetails(t *testing.T) {
	f := newFixtureWith(t, func(c *bot.DeskConfig) { c.Contact = testContact })
	f.ingest(
		mail("c1@oakprimary.sch.uk", "Ann|ann@oakprimary.sch.uk", "Login fails", fullReport),
		mail("c2@unrelated.example", "Bob|bob@unrelated.example", "Hello", "hi"),
	)
	acks := mailsFor(f.outbox(), "acknowledgement")
	if len(acks) != 2 {
		t.Fatalf("%d acknowledgements, want 2", len(acks))
	}
	for _, it := range acks {
		text, html := it.Mail.Text, it.Mail.HTML
		wantText := "Contact us:\n    Phone: 01603 631436 (option 1)\n    Help articles: https://help.example.org/kb?a=1&b=<2>\n" +
			"    Post:\n        Example Service Desk\n        County Hall & Annexe\n        Norwich NR1 2DH\n\nExample Service Desk\n"
		if !strings.HasSuffix(text, wantText) {
			t.Errorf("text part does not end with the contact block:\n%s", text)
		}
		for _, want := range []string{
			"<li>Phone: 01603 631436 (option 1)</li>",
			`<a href="https://help.example.org/kb?a=1&amp;b=%3c2%3e">https://help.example.org/kb?a=1&amp;b=&lt;2&gt;</a>`,
			"<li>Post:<br>Example Service Desk<br>County Hall &amp; Annexe<br>Norwich NR1 2DH</li>",
		} {
			if !strings.Contains(html, want) {
				t.Errorf("HTML part lacks %q:\n%s", want, html)
			}
		}
		if strings.Contains(html, "<2>") {
			t.Error("HTML part has the URL unescaped")
		}
	}
}

// Without contact details the acknowledgement has no "Contact us" block
// and ends as it always did.
func TestAckWithoutContactDetails(t *testing.T) {
	f := newFixture(t)
	f.ingest(mail("c1@oakprimary.sch.uk", "Ann|ann@oakprimary.sch.uk", "Login fails", fullReport))
	ack := mailsFor(f.outbox(), "acknowledgement")[0].Mail
	if strings.Contains(ack.Text, "Contact us") || strings.Contains(ack.HTML, "Contact us") {
		t.Errorf("contact block without contact details:\n%s", ack.Text)
	}
	if !strings.HasSuffix(ack.Text, "in the subject when you reply.\n\nExample Service Desk\n") {
		t.Errorf("text part ends differently:\n%s", ack.Text)
	}
}

func TestContactPostalLines(t *testing.T) {
	if got := testContact.PostalLines(); strings.Join(got, "|") != "Example Service Desk|County Hall & Annexe|Norwich NR1 2DH" {
		t.Errorf("PostalLines = %q", got)
	}
	if (bot.Contact{}).PostalLines() != nil || !(bot.Contact{}).IsZero() || testContact.IsZero() {
		t.Error("empty contact misreported")
	}
}
