package mailbox

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"rfadesk/bot"
)

// authHeader builds a header block from lines as they appear in a raw
// message (folded lines start with a space or tab).
func authHeader(t *testing.T, lines ...string) header {
	t.Helper()
	raw := strings.Join(lines, "\r\n") + "\r\n\r\n"
	h, _ := splitMessage([]byte(raw), false)
	if len(h) == 0 {
		t.Fatalf("no header parsed from %q", raw)
	}
	return h
}

var firstHeaderFrom = regexp.MustCompile(`header\.from=([^\s;]+)`)

func TestAuthVerdict(t *testing.T) {
	const us = "mx.rfadesk.example"
	tests := []struct {
		name  string
		id    string
		from  string // the parsed From domain; "" takes the first header.from in lines
		lines []string
		want  bot.AuthVerdict
	}{{
		name: "gmail all pass, folded, comments with '=' and ';'",
		id:   "mx.google.com",
		lines: []string{
			"Authentication-Results: mx.google.com;",
			"       dkim=pass header.i=@willowtree.sch.uk header.s=20230601 header.b=Kq3Vx9aB;",
			"       arc=pass (i=1 spf=pass spfdomain=willowtree.sch.uk dkim=pass dkdomain=willowtree.sch.uk dmarc=pass fromdomain=willowtree.sch.uk);",
			"       spf=pass (google.com: domain of p.shah@willowtree.sch.uk designates 209.85.220.41 as permitted sender) smtp.mailfrom=p.shah@willowtree.sch.uk;",
			"       dmarc=pass (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from=willowtree.sch.uk",
		},
		want: bot.AuthPass,
	}, {
		name: "gmail dmarc fail although spf passes for the envelope domain",
		id:   "mx.google.com",
		lines: []string{
			"Authentication-Results: mx.google.com;",
			"       spf=pass (google.com: domain of bounce@mailer.example.net designates 203.0.113.77 as permitted sender) smtp.mailfrom=bounce@mailer.example.net;",
			"       dmarc=fail (p=REJECT sp=REJECT dis=QUARANTINE) header.from=willowtree.sch.uk",
		},
		want: bot.AuthFail,
	}, {
		name: "postfix with opendkim and opendmarc: one group of three fields",
		id:   us,
		lines: []string{
			"Received: from mx.rfadesk.example by imap.rfadesk.example with LMTP; Thu, 26 Nov 2026 09:12:41 +0000",
			"DMARC-Filter: OpenDMARC Filter v1.4.2 mx.rfadesk.example 4DqK1T2bQvz9sWP",
			"Authentication-Results: mx.rfadesk.example; dmarc=none (p=none dis=none) header.from=oakfield.sch.uk",
			"Authentication-Results: mx.rfadesk.example; spf=fail smtp.mailfrom=oakfield.sch.uk",
			"DKIM-Filter: OpenDKIM Filter v2.11.0 mx.rfadesk.example 4DqK1T2bQvz9sWP",
			"Authentication-Results: mx.rfadesk.example;",
			"\tdkim=fail reason=\"signature verification failed\" (2048-bit key; unprotected) header.d=oakfield.sch.uk header.i=@oakfield.sch.uk header.b=\"Zx;9Q\"",
			"Received: from relay.example.net (relay.example.net [198.51.100.9]) by mx.rfadesk.example (Postfix)",
		},
		want: bot.AuthFail,
	}, {
		name: "no dmarc verdict, dkim pass outweighs spf fail (forwarded mail)",
		id:   us,
		lines: []string{
			"Authentication-Results: mx.rfadesk.example; spf=fail smtp.mailfrom=lists.example.org",
			"Authentication-Results: mx.rfadesk.example; dkim=pass (2048-bit key; unprotected) header.d=oakfield.sch.uk",
		},
		want: bot.AuthPass,
	}, {
		name:  "dovecot pigeonhole style with version number",
		id:    us,
		lines: []string{"Authentication-Results: mx.rfadesk.example 1; dmarc=fail header.from=willowtree.sch.uk"},
		want:  bot.AuthFail,
	}, {
		name:  "authserv-id matched case-insensitively",
		id:    us,
		lines: []string{"Authentication-Results: MX.RfaDesk.Example; dmarc=pass header.from=oakfield.sch.uk"},
		want:  bot.AuthPass,
	}, {
		name:  "quoted authserv-id",
		id:    us,
		lines: []string{`Authentication-Results: "mx.rfadesk.example"; spf=pass smtp.mailfrom=oakfield.sch.uk`},
		want:  bot.AuthPass,
	}, {
		name:  "method with version and spaces around '='",
		id:    us,
		lines: []string{"Authentication-Results: mx.rfadesk.example; dmarc/1 = fail (p=reject) header.from=willowtree.sch.uk"},
		want:  bot.AuthFail,
	}, {
		name:  "none: no methods run",
		id:    us,
		lines: []string{"Authentication-Results: mx.rfadesk.example; none"},
		want:  bot.AuthUnknown,
	}, {
		name:  "softfail and dkim none say nothing",
		id:    us,
		lines: []string{"Authentication-Results: mx.rfadesk.example; spf=softfail smtp.mailfrom=oakfield.sch.uk; dkim=none"},
		want:  bot.AuthUnknown,
	}, {
		name:  "dmarc temperror falls back to spf",
		id:    us,
		lines: []string{"Authentication-Results: mx.rfadesk.example; dmarc=temperror header.from=oakfield.sch.uk; spf=fail smtp.mailfrom=oakfield.sch.uk"},
		want:  bot.AuthFail,
	}, {
		name:  "dmarc fail wins over dmarc pass in the same group",
		id:    us,
		lines: []string{"Authentication-Results: mx.rfadesk.example; dmarc=pass header.from=a.example; dmarc=fail header.from=b.example"},
		want:  bot.AuthFail,
	}, {
		name: "untrusted authserv-id ignored",
		id:   us,
		lines: []string{
			"Authentication-Results: mx.schools-gateway.example; dmarc=fail header.from=oakfield.sch.uk",
			"Authentication-Results: mx.rfadesk.example.evil.example; dmarc=fail header.from=oakfield.sch.uk",
		},
		want: bot.AuthUnknown,
	}, {
		name: "untrusted field above ours ignored, ours read",
		id:   us,
		lines: []string{
			"Authentication-Results: mx.schools-gateway.example; dmarc=pass header.from=willowtree.sch.uk",
			"Authentication-Results: mx.rfadesk.example; dmarc=fail header.from=willowtree.sch.uk",
		},
		want: bot.AuthFail,
	}, {
		name: "two trusted fields across a Received: the topmost wins (forged pass below)",
		id:   us,
		lines: []string{
			"Authentication-Results: mx.rfadesk.example; dmarc=fail (p=reject) header.from=willowtree.sch.uk",
			"Received: from mailer.example.net (mailer.example.net [203.0.113.77]) by mx.rfadesk.example (Postfix)",
			"Authentication-Results: mx.rfadesk.example; dmarc=pass header.from=willowtree.sch.uk",
		},
		want: bot.AuthFail,
	}, {
		name: "two trusted fields across a Received: the topmost wins (pass above)",
		id:   us,
		lines: []string{
			"Authentication-Results: mx.rfadesk.example; dmarc=pass header.from=willowtree.sch.uk",
			"Received: from mailer.example.net (mailer.example.net [203.0.113.77]) by mx.rfadesk.example (Postfix)",
			"Authentication-Results: mx.rfadesk.example; dmarc=fail header.from=willowtree.sch.uk",
		},
		want: bot.AuthPass,
	}, {
		// The spoof of issue #7: our server checked the attacker's own
		// domain, we read the victim's address as the author.
		name:  "dmarc pass for another domain than the parsed From",
		id:    us,
		from:  "willowtree.sch.uk",
		lines: []string{"Authentication-Results: mx.rfadesk.example; dmarc=pass (p=reject) header.from=evil.example; dkim=pass header.d=evil.example; spf=pass smtp.mailfrom=evil.example"},
		want:  bot.AuthFail,
	}, {
		name:  "dmarc pass without header.from counts for nothing, not even with spf",
		id:    us,
		from:  "oakfield.sch.uk",
		lines: []string{"Authentication-Results: mx.rfadesk.example; dmarc=pass; spf=pass smtp.mailfrom=oakfield.sch.uk"},
		want:  bot.AuthUnknown,
	}, {
		name:  "header.from matched case-insensitively, trailing dot, spaces around '='",
		id:    us,
		from:  "OakField.sch.uk",
		lines: []string{"Authentication-Results: mx.rfadesk.example; dmarc=pass header.from = Oakfield.SCH.uk."},
		want:  bot.AuthPass,
	}, {
		name:  "internationalised From domain matches its xn-- form",
		id:    us,
		from:  "école.example",
		lines: []string{"Authentication-Results: mx.rfadesk.example; dmarc=pass header.from=xn--cole-9oa.example"},
		want:  bot.AuthPass,
	}, {
		name:  "header.from inside a quoted reason is not read",
		id:    us,
		from:  "oakfield.sch.uk",
		lines: []string{`Authentication-Results: mx.rfadesk.example; dmarc=pass reason="header.from=oakfield.sch.uk ok" header.from=evil.example`},
		want:  bot.AuthFail,
	}, {
		name: "exchange online: pass for another domain after a stray ';'",
		id:   AuthServIDExchangeOnline,
		from: "willowtree.sch.uk",
		lines: []string{
			"Authentication-Results: spf=pass (sender IP is 203.0.113.77); smtp.mailfrom=evil.example; dkim=pass; header.d=evil.example;dmarc=pass action=none; header.from=evil.example;compauth=pass reason=100",
		},
		want: bot.AuthFail,
	}, {
		name: "nothing trusted configured",
		id:   "",
		lines: []string{
			"Authentication-Results: mx.rfadesk.example; dmarc=fail header.from=willowtree.sch.uk",
		},
		want: bot.AuthUnknown,
	}, {
		name:  "no Authentication-Results at all",
		id:    us,
		lines: []string{"From: a@b.example", "Subject: hello"},
		want:  bot.AuthUnknown,
	}, {
		name:  "semicolon and dmarc=fail inside a comment do not count",
		id:    us,
		lines: []string{`Authentication-Results: mx.rfadesk.example; spf=pass (note; dmarc=fail \) still comment (nested) ) smtp.mailfrom=oakfield.sch.uk`},
		want:  bot.AuthPass,
	}, {
		name:  "dmarc=fail inside a quoted string does not count",
		id:    us,
		lines: []string{`Authentication-Results: mx.rfadesk.example; dkim=pass reason="x; dmarc=fail" header.d=oakfield.sch.uk`},
		want:  bot.AuthPass,
	}, {
		name: "exchange online: no authserv-id, trusted with the sentinel",
		id:   AuthServIDExchangeOnline,
		lines: []string{
			"Authentication-Results: spf=fail (sender IP is 203.0.113.77)",
			" smtp.mailfrom=willowtree.sch.uk; dkim=none (message not signed)",
			" header.d=none;dmarc=fail action=oreject",
			" header.from=willowtree.sch.uk;compauth=fail reason=000",
			"Received: from mailer.example.net (203.0.113.77) by AM4PEPF00027A5F.mail.protection.outlook.com",
			"Authentication-Results: spf=pass smtp.mailfrom=willowtree.sch.uk;dmarc=pass action=none header.from=willowtree.sch.uk",
		},
		want: bot.AuthFail,
	}, {
		name: "exchange online odd form with stray ';' before properties",
		id:   AuthServIDExchangeOnline,
		lines: []string{
			"Authentication-Results: spf=pass (sender IP is 209.85.222.48); smtp.mailfrom=oakfield.sch.uk; dkim=pass (signature was verified); header.d=oakfield.sch.uk;dmarc=pass action=none; header.from=oakfield.sch.uk;compauth=pass reason=100",
		},
		want: bot.AuthPass,
	}, {
		name: "exchange online intra-org: dmarc none, nothing failed",
		id:   AuthServIDExchangeOnline,
		lines: []string{
			"Authentication-Results: dkim=none (message not signed)",
			" header.d=none;dmarc=none action=none header.from=rfadesk.example;",
		},
		want: bot.AuthUnknown,
	}, {
		name: "exchange online sentinel ignores fields that carry an authserv-id",
		id:   AuthServIDExchangeOnline,
		lines: []string{
			"Authentication-Results: mx.rfadesk.example; dmarc=fail header.from=willowtree.sch.uk",
		},
		want: bot.AuthUnknown,
	}, {
		name: "a field without authserv-id is not trusted under a real id",
		id:   us,
		lines: []string{
			"Authentication-Results: spf=fail smtp.mailfrom=willowtree.sch.uk;dmarc=fail action=oreject header.from=willowtree.sch.uk",
		},
		want: bot.AuthUnknown,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := tt.from
			if from == "" {
				if m := firstHeaderFrom.FindStringSubmatch(strings.Join(tt.lines, " ")); m != nil {
					from = m[1]
				}
			}
			if got := authVerdict(authHeader(t, tt.lines...), tt.id, from); got != tt.want {
				t.Errorf("authVerdict(id %q, from %q) = %v, want %v", tt.id, from, got, tt.want)
			}
		})
	}
}

func TestParseAuthResults(t *testing.T) {
	tests := []struct {
		in     string
		id     string
		res    []authResult
		wantOK bool
	}{
		{"mx.example.org 1; dkim=pass header.d=a.example (x; y) ; SPF=Fail", "mx.example.org",
			[]authResult{{"dkim", "pass", ""}, {"spf", "fail", ""}}, true},
		{"mx.example.org; none", "mx.example.org", nil, true},
		{"spf=pass (sender IP is 1.2.3.4) smtp.mailfrom=a.example;compauth=pass reason=100", "",
			[]authResult{{"spf", "pass", ""}, {"compauth", "pass", ""}}, true},
		{"mx.example.org; auth=pass smtp.auth=\"u;1\"; dmarc=\"fail\"", "mx.example.org",
			[]authResult{{"auth", "pass", ""}, {"dmarc", "fail", ""}}, true},
		{"mx.example.org; dmarc=pass (p=none) header.from=Example.ORG; dkim=pass header.d=x.example", "mx.example.org",
			[]authResult{{"dmarc", "pass", "example.org"}, {"dkim", "pass", ""}}, true},
		{"dmarc=pass action=none; header.from=a.example;compauth=pass", "",
			[]authResult{{"dmarc", "pass", "a.example"}, {"compauth", "pass", ""}}, true},
		{"  (only a comment)  ", "", nil, false},
		{"", "", nil, false},
		{"mx.example.org; dkim=pass (unclosed comment; dmarc=fail", "mx.example.org",
			[]authResult{{"dkim", "pass", ""}}, true},
	}
	for _, tt := range tests {
		id, res, ok := parseAuthResults(tt.in)
		if id != tt.id || !reflect.DeepEqual(res, tt.res) || ok != tt.wantOK {
			t.Errorf("parseAuthResults(%q) = %q, %v, %v; want %q, %v, %v", tt.in, id, res, ok, tt.id, tt.res, tt.wantOK)
		}
	}
}

// TestParseAuth runs corpus mails through Parse: Mail.Auth comes from
// the trusted header only, and stays unknown when nothing is trusted.
func TestParseAuth(t *testing.T) {
	tests := []struct {
		file string
		id   string
		want bot.AuthVerdict
	}{
		{"auth_forged_reply_dmarc_fail.eml", "mx.rfadesk.example", bot.AuthFail},
		{"auth_forged_reply_dmarc_fail.eml", "MX.RFADESK.EXAMPLE", bot.AuthFail},
		{"auth_forged_reply_dmarc_fail.eml", "", bot.AuthUnknown},
		{"auth_forged_reply_dmarc_fail.eml", "mx.other.example", bot.AuthUnknown},
		{"auth_exchange_online_reply.eml", AuthServIDExchangeOnline, bot.AuthPass},
		{"auth_exchange_online_reply.eml", "mx.rfadesk.example", bot.AuthUnknown},
		{"apple_mail_flowed.eml", "mx.rfadesk.example", bot.AuthUnknown},
	}
	for _, tt := range tests {
		raw, err := os.ReadFile(filepath.Join("testdata", "mime", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		m, err := Parse(raw, ParseOptions{AuthServID: tt.id})
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if m.Auth != tt.want {
			t.Errorf("%s with AuthServID %q: Auth = %v, want %v", tt.file, tt.id, m.Auth, tt.want)
		}
	}
}
