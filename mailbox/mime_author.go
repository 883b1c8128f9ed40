package mailbox

import (
	"strings"

	"rfadesk/bot"
)

// The reasons Parse gives in bot.Mail.AuthorAmbiguous, one per way a
// mail can leave its author in doubt. Each is a mail another mail server
// may read differently from us, so that the DMARC verdict it wrote may
// be about another address than the one we took as the author.
const (
	// AmbiguousFromFields: two or more From fields.
	AmbiguousFromFields = "more than one From header"
	// AmbiguousFromAddresses: one From field naming two or more
	// addresses, also when only a lenient reading finds the second
	// ("<victim> <attacker>", an address inside a malformed encoded word).
	AmbiguousFromAddresses = "more than one address in From"
	// AmbiguousFromLenient: a From field that does not parse as RFC
	// 5322, from which one address was picked out leniently.
	AmbiguousFromLenient = "From is malformed and was read leniently"
	// AmbiguousSenderOnly: no From address at all; the Sender field was
	// taken instead.
	AmbiguousSenderOnly = "no From address, only Sender"
)

// author returns the author of the mail whose header is h: the first
// address of the From fields, or failing that of the Sender field. why
// is "" when the author is certain, and otherwise one of the Ambiguous*
// reasons. ok is false when neither field holds an address.
func author(h header) (a bot.Address, why string, ok bool) {
	froms := h.Values("From")
	var list []bot.Address
	lenientOnly, extra := false, false
	for _, v := range froms {
		addrs, lenient := parseAddresses(v)
		list = append(list, addrs...)
		if lenient {
			lenientOnly = true
			extra = extra || countAddressTokens(v) > 1
		}
	}
	switch {
	case len(list) == 0:
		list = parseAddressList(h.Get("Sender"))
		if len(list) == 0 {
			return bot.Address{}, "", false
		}
		why = AmbiguousSenderOnly
	case len(froms) > 1:
		why = AmbiguousFromFields
	case len(list) > 1 || extra:
		why = AmbiguousFromAddresses
	case lenientOnly:
		why = AmbiguousFromLenient
	}
	return list[0], why, true
}

// countAddressTokens counts the distinct local@domain tokens written
// anywhere in the raw field value v, encoded words and comments
// included.
func countAddressTokens(v string) int {
	seen := map[string]bool{}
	for _, tok := range bareEmail.FindAllString(validUTF8(v), -1) {
		seen[strings.ToLower(tok)] = true
	}
	return len(seen)
}
