package mailbox

import (
	"strings"

	"golang.org/x/net/idna"

	"rfadesk/bot"
)

// AuthServIDExchangeOnline is a special ParseOptions.AuthServID for a
// mailbox hosted on Microsoft 365 / Exchange Online. Exchange Online
// writes its Authentication-Results without the authserv-id RFC 8601
// requires ("Authentication-Results: spf=pass (sender IP is ...)
// smtp.mailfrom=...; dkim=pass ...;dmarc=pass action=none
// header.from=...;compauth=pass reason=100"), so no configured id can
// match it. With this value the topmost Authentication-Results field
// that has no authserv-id is trusted instead: Exchange Online prepends
// its own on every delivery, so anything a sender wrote sits below it.
// The leading '!' keeps it from ever equalling a real host name.
const AuthServIDExchangeOnline = "!exchange-online"

// authVerdict reads what our own receiving mail server concluded about
// the sender from the Authentication-Results fields (RFC 8601) of h.
//
// Only fields whose authserv-id equals authServID (case-insensitive; an
// optional version number after it is ignored) are trusted; with
// authServID "" nothing is trusted and the verdict is AuthUnknown. With
// AuthServIDExchangeOnline, fields without an authserv-id are trusted.
//
// Only the topmost group of trusted fields counts: the first trusted
// field and the further trusted ones below it up to the next Received:
// field. Mail servers prepend trace fields, so our server's fields sit
// above everything the sender wrote, and a stack of filters on one
// server (OpenDKIM, OpenDMARC, an SPF policy daemon) each adds its own
// field with the same authserv-id, all above the Received: field of the
// hop before. A sender can also write fields with our authserv-id
// (RFC 8601 section 5 asks our server to strip them; not all do); below
// the group they are ignored, and if our server added none they are
// read, which is harmless because only AuthFail changes anything (see
// bot.threadingAllowed) and a forger gains nothing by failing himself.
//
// The verdict: any dmarc=fail gives AuthFail, else dmarc=pass gives
// AuthPass. DMARC results other than pass and fail (none, bestguesspass,
// temperror, ...) count as no DMARC result: then dkim=pass or spf=pass
// gives AuthPass, spf=fail gives AuthFail, anything else AuthUnknown.
//
// A DMARC pass vouches only for the domain in its header.from property,
// which must equal fromDomain, the domain of the From address Parse
// took as the author (case-insensitive, a trailing dot ignored). Our
// server may read an ambiguous From differently from us (two From
// fields, "<victim> <attacker>"): a dmarc=pass for another domain then
// gives AuthFail, the safe side, since it says our server checked a
// different author than the one the mail would be filed under. A
// dmarc=pass without header.from cannot be matched and gives
// AuthUnknown (no fallback to DKIM or SPF: those vouch for no From at
// all). A dmarc=fail gives AuthFail whatever its header.from.
func authVerdict(h header, authServID, fromDomain string) bot.AuthVerdict {
	authServID = strings.TrimSpace(authServID)
	if authServID == "" {
		return bot.AuthUnknown
	}
	var results []authResult
	inGroup := false
	for _, f := range h {
		if inGroup && strings.EqualFold(f.key, "Received") {
			break
		}
		if !strings.EqualFold(f.key, "Authentication-Results") {
			continue
		}
		id, res, ok := parseAuthResults(f.value)
		if !ok || !trustedAuthServ(id, authServID) {
			continue
		}
		inGroup = true
		results = append(results, res...)
	}
	return judgeAuth(results, fromDomain)
}

// trustedAuthServ reports whether a field with authserv-id id (""
// when it has none) was written by the server authServID names.
func trustedAuthServ(id, authServID string) bool {
	if authServID == AuthServIDExchangeOnline {
		return id == ""
	}
	return id != "" && strings.EqualFold(id, authServID)
}

// authResult is one resinfo of an Authentication-Results field: the
// method and its result, lower-cased, and for dmarc the domain of its
// header.from property (lower-cased, "" when absent); other properties
// are not kept.
type authResult struct {
	method     string
	result     string
	headerFrom string
}

// judgeAuth turns the results of the trusted fields into a verdict (see
// authVerdict).
func judgeAuth(results []authResult, fromDomain string) bot.AuthVerdict {
	fromDomain = normalDomain(fromDomain)
	var dmarcPass, dmarcOther, dmarcUnmatched, dmarcFail, dkimPass, spfPass, spfFail bool
	for _, r := range results {
		switch r.method + "=" + r.result {
		case "dmarc=pass":
			switch {
			case r.headerFrom == "":
				dmarcUnmatched = true
			case fromDomain == "" || r.headerFrom != fromDomain:
				dmarcOther = true
			default:
				dmarcPass = true
			}
		case "dmarc=fail":
			dmarcFail = true
		case "dkim=pass":
			dkimPass = true
		case "spf=pass":
			spfPass = true
		case "spf=fail":
			spfFail = true
		}
	}
	switch {
	case dmarcFail, dmarcOther:
		return bot.AuthFail
	case dmarcUnmatched && !dmarcPass:
		return bot.AuthUnknown
	case dmarcPass, dkimPass, spfPass:
		return bot.AuthPass
	case spfFail:
		return bot.AuthFail
	}
	return bot.AuthUnknown
}

// parseAuthResults parses an unfolded Authentication-Results value:
//
//	authserv-id [version] ( ";" resinfo )* | authserv-id [version] ";" "none"
//
// where resinfo is "method[/version]=result" followed by reason= and
// ptype.property=value items. Comments (nested parentheses, with
// backslash escapes) are dropped and semicolons inside quoted strings do
// not split. A value whose first part already holds "method=result" has
// no authserv-id (Exchange Online): id is then "". ok is false when the
// value is empty.
func parseAuthResults(v string) (id string, res []authResult, ok bool) {
	parts := splitAuthResults(v)
	if len(parts) == 0 {
		return "", nil, false
	}
	if !strings.Contains(parts[0], "=") {
		words := strings.Fields(parts[0])
		if len(words) == 0 {
			return "", nil, false
		}
		id = strings.Trim(words[0], `"`)
		if id == "" {
			return "", nil, false
		}
		parts = parts[1:]
	}
	for _, p := range parts {
		if r, ok := parseResinfo(p); ok {
			res = append(res, r)
			continue
		}
		// Properties after a stray ';' (Exchange Online) belong to the
		// result before them.
		if n := len(res); n > 0 && res[n-1].method == "dmarc" && res[n-1].headerFrom == "" {
			res[n-1].headerFrom = headerFromProperty(strings.Fields(p))
		}
	}
	return id, res, true
}

// parseResinfo reads "method[/version] = result ..." from one
// comment-free resinfo. Parts that are no method result ("none", or a
// stray "ptype.property=value" after a misplaced ';') are refused.
func parseResinfo(p string) (authResult, bool) {
	eq := strings.IndexByte(p, '=')
	if eq < 0 {
		return authResult{}, false
	}
	method := strings.ToLower(strings.TrimSpace(p[:eq]))
	if i := strings.IndexByte(method, '/'); i >= 0 {
		method = strings.TrimSpace(method[:i])
	}
	if method == "" || strings.ContainsAny(method, ". \t") {
		return authResult{}, false
	}
	rest := strings.Fields(p[eq+1:])
	if len(rest) == 0 {
		return authResult{}, false
	}
	result := strings.ToLower(strings.Trim(rest[0], `"`))
	r := authResult{method: method, result: result}
	if method == "dmarc" {
		r.headerFrom = headerFromProperty(rest[1:])
	}
	return r, true
}

// headerFromProperty returns the domain of the header.from property
// among the words that follow a result ("header.from=example.org", also
// written "header.from = example.org"), or "". Words inside a quoted
// reason are skipped.
func headerFromProperty(words []string) string {
	quoted := false
	for i := 0; i < len(words); i++ {
		w := words[i]
		odd := strings.Count(w, `"`)%2 == 1
		if quoted || odd {
			quoted = quoted != odd
			continue
		}
		key, val, _ := strings.Cut(w, "=")
		if !strings.EqualFold(key, "header.from") {
			continue
		}
		if !strings.Contains(w, "=") && i+1 < len(words) { // "header.from =..."
			i++
			val = strings.TrimPrefix(words[i], "=")
		}
		if val == "" && i+1 < len(words) { // "... = example.org"
			i++
			val = words[i]
		}
		return normalDomain(val)
	}
	return ""
}

// normalDomain lower-cases a domain and drops quotes, a trailing dot,
// and anything up to an '@' (some servers write a whole address). An
// internationalised domain is given in its ASCII (xn--) form, so
// "école.example" and "xn--cole-9oa.example" compare equal.
func normalDomain(d string) string {
	d = strings.Trim(strings.TrimSpace(d), `"`)
	if i := strings.LastIndexByte(d, '@'); i >= 0 {
		d = d[i+1:]
	}
	d = strings.ToLower(strings.TrimSuffix(d, "."))
	if a, err := idna.Punycode.ToASCII(d); err == nil {
		d = a
	}
	return d
}

// splitAuthResults drops the comments of v and splits it at the
// semicolons outside quoted strings, trimming each part and dropping
// empty ones. An unclosed comment or quote runs to the end of v.
func splitAuthResults(v string) []string {
	var (
		parts   []string
		cur     strings.Builder
		depth   int // comment nesting
		quoted  bool
		escaped bool
	)
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			parts = append(parts, s)
		}
		cur.Reset()
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case escaped:
			escaped = false
			if depth == 0 {
				cur.WriteByte(c)
			}
		case c == '\\' && (quoted || depth > 0):
			escaped = true
			if quoted {
				cur.WriteByte(c)
			}
		case quoted:
			cur.WriteByte(c)
			if c == '"' {
				quoted = false
			}
		case c == '(':
			if depth == 0 {
				cur.WriteByte(' ')
			}
			depth++
		case depth > 0:
			if c == ')' {
				depth--
			}
		case c == '"':
			quoted = true
			cur.WriteByte(c)
		case c == ';':
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return parts
}
