package mailbox

import "testing"

func TestStripQuotes(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"nothing to strip", "Hello\n\nThe printer is fixed.", "Hello\n\nThe printer is fixed."},
		{"gmail attribution",
			"Yes, it still fails.\n\nOn Wed, 25 Nov 2026 at 16:40, Support Desk <support@rfadesk.example> wrote:\n\n> Does it still fail?\n> Desk",
			"Yes, it still fails."},
		{"wrapped attribution",
			"Fixed now.\n\nOn Wed, 25 Nov 2026 at 16:40, Support Desk <\nsupport@rfadesk.example> wrote:\n> Is it fixed?",
			"Fixed now."},
		{"apple attribution",
			"Thanks\n\nOn 25 Nov 2026, at 17:03, Desk <d@x> wrote:\n\n> q",
			"Thanks"},
		{"attribution without quotes is kept",
			"On Monday the server wrote: nothing to the log.\nWe checked it.",
			"On Monday the server wrote: nothing to the log.\nWe checked it."},
		{"interleaved quotes dropped",
			"> Which site?\nOak Primary\n> Which level?\nGold",
			"Oak Primary\nGold"},
		{"outlook block with separator",
			"Done.\n\nRegards\nGareth\n\n________________________________\nFrom: Desk <d@x>\nSent: 25 November 2026 15:12\nTo: Gareth\nSubject: RFA-1\n\nOld text",
			"Done.\n\nRegards\nGareth"},
		{"outlook block without separator",
			"Done.\n\nFrom: Desk <d@x>\nSent: Wednesday, November 25, 2026 3:12 PM\nTo: Gareth <g@x>\nCc: Bursar <b@x>\nSubject: RE: RFA-1\n\nOld",
			"Done."},
		{"bold outlook block",
			"Done.\n\n*From:* Desk <d@x>\n*Sent:* 25 November 2026 15:12\n*To:* Gareth\n*Subject:* RFA-1\n\nOld",
			"Done."},
		{"a From: line in the text is kept",
			"From: the office PC\nthe error shows daily.",
			"From: the office PC\nthe error shows daily."},
		{"underscores without headers kept",
			"Name ____________ signed\n____________\nThanks",
			"Name ____________ signed\n____________\nThanks"},
		{"original message",
			"See below.\n\n-----Original Message-----\nFrom: x\nOld",
			"See below."},
		{"spaced original message",
			"See below.\n----- Original Message -----\nOld",
			"See below."},
		{"signature",
			"Thanks, close it.\n\n-- \nSam Lee\nIT",
			"Thanks, close it."},
		{"signature then quotes",
			"Works.\n-- \nSam\n\nOn Tue, 24 Nov 2026, Desk wrote:\n> q",
			"Works."},
		{"dashes in text are not a signature",
			"Step 1 -- restart\nStep 2 -- log in",
			"Step 1 -- restart\nStep 2 -- log in"},
		{"forward marker",
			"Please look.\n\n---------- Forwarded message ---------\nFrom: a\n\nbody",
			"Please look."},
		{"phone footer",
			"On my way in.\n\nSent from my iPhone",
			"On my way in."},
		{"all quoted keeps text",
			"> only a quote\n> nothing new",
			"> only a quote\n> nothing new"},
		{"only forwarded keeps text",
			"-----Original Message-----\nFrom: a\nSubject: b\n\nbody",
			"-----Original Message-----\nFrom: a\nSubject: b\n\nbody"},
		{"only signature keeps text",
			"-- \nSam Lee",
			"-- \nSam Lee"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stripQuotes(tt.text); got != tt.want {
				t.Errorf("stripQuotes(%q)\n got %q\nwant %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestIsForwardedText(t *testing.T) {
	tests := []struct {
		name, text, subject string
		want                bool
	}{
		{"gmail marker at top", "---------- Forwarded message ---------\nFrom: a\n\nx", "Fwd: x", true},
		{"gmail marker after a note", "FYI\n\n---------- Forwarded message ---------\nFrom: a", "x", true},
		{"apple marker", "Begin forwarded message:\n\nFrom: a", "", true},
		{"original message at top", "-----Original Message-----\nFrom: a\nSent: b\nTo: c\nSubject: d\n\nx", "", true},
		{"outlook block at top", "From: a\nSent: b\nTo: c\nSubject: d\n\nx", "", true},
		{"reply with original message below", "My answer is yes.\n\n-----Original Message-----\nFrom: a\n\nq", "RE: q", false},
		{"FW subject with original message below", "Please see below.\n\n-----Original Message-----\nFrom: a\n\nq", "FW: q", true},
		{"marker after a long letter", "1\n2\n3\n4\n5\n6\n7\n---------- Forwarded message ---------\nx", "Re: x", false},
		{"plain mail", "Hello\nThe printer is broken.", "Printer", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isForwardedText(tt.text, tt.subject); got != tt.want {
				t.Errorf("isForwardedText = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestReplyFromHTML checks quote stripping on HTML-only replies, whose
// quoted history exists only as markup until it is converted.
func TestReplyFromHTML(t *testing.T) {
	tests := []struct {
		name, html, want string
	}{
		{"outlook", `<div><p class=MsoNormal>Still broken in room 4.<o:p></o:p></p></div>` +
			`<div style="border:none;border-top:solid #E1E1E1 1.0pt"><p class=MsoNormal><b>From:</b> Support Desk &lt;support@rfadesk.example&gt;<br>` +
			`<b>Sent:</b> 25 November 2026 15:12<br><b>To:</b> Gareth &lt;g@x.sch.uk&gt;<br><b>Subject:</b> RFA-1050</p></div><p>Is it fixed?</p>`,
			"Still broken in room 4."},
		{"gmail", `<div dir="ltr">Fixed, thanks!</div><br><div class="gmail_quote"><div class="gmail_attr">On Wed, 25 Nov 2026 at 16:40, Desk &lt;d@x&gt; wrote:<br></div>` +
			`<blockquote class="gmail_quote"><div>Is it fixed?</div></blockquote></div>`,
			"Fixed, thanks!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := "From: g@x.sch.uk\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + tt.html
			m, err := Parse([]byte(raw), ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Reply != tt.want {
				t.Errorf("Reply = %q, want %q (Text %q)", m.Reply, tt.want, m.Text)
			}
		})
	}
}
