package bot

import "fmt"

// AuthVerdict is what our own receiving mail server concluded about the
// sender of an inbound mail, read from the Authentication-Results header
// (RFC 8601) it added. The mailbox package decides it; the domain only
// acts on it.
type AuthVerdict int

const (
	// AuthUnknown means no trusted Authentication-Results header was
	// found, none is trusted (no authserv-id configured), or its results
	// say neither pass nor fail (dmarc=none with spf=softfail, ...).
	AuthUnknown AuthVerdict = iota
	// AuthPass means DMARC passed, or without a DMARC verdict, DKIM or
	// SPF passed.
	AuthPass
	// AuthFail means DMARC failed, or without a DMARC verdict, SPF
	// failed and no DKIM signature passed.
	AuthFail
)

func (v AuthVerdict) String() string {
	switch v {
	case AuthPass:
		return "pass"
	case AuthFail:
		return "fail"
	}
	return "unknown"
}

// threadingAllowed reports whether m may join an existing RFA it names
// (by In-Reply-To/References or an [RFA-N] subject tag). From: is
// forgeable, so a mail that our own mail server positively saw fail
// sender authentication (AuthFail) may not thread: it becomes its own
// RFA, flagged with authFlag. AuthUnknown is allowed: most small
// schools' mail passes through servers whose results we cannot check,
// and blocking on "unknown" would split every such conversation. Only a
// positive fail blocks.
//
// A mail whose author is ambiguous (Mail.AuthorAmbiguous) never threads
// either, whatever it names: it opens a new RFA flagged with
// ambiguousFlag.
func threadingAllowed(m *Mail) bool {
	return m.Auth != AuthFail && m.AuthorAmbiguous == ""
}

// authFlag is the RFA.Flag text for a mail that names ref (a formatted
// reference such as "RFA-12") but was refused threading by
// threadingAllowed.
func authFlag(m *Mail, ref string) string {
	if m.AuthorAmbiguous != "" {
		return ambiguousFlag(m, ref)
	}
	return fmt.Sprintf("names %s but %s failed sender authentication (DMARC) at our mail server", ref, m.From.Email)
}

// ambiguousFlag is the RFA.Flag text for a mail whose author cannot be
// told for certain; ref is the RFA it names ("" when none).
func ambiguousFlag(m *Mail, ref string) string {
	flag := "the author cannot be told for certain (" + truncate(m.AuthorAmbiguous, 200) + ")"
	if ref != "" {
		flag += ": it names " + ref + " but was not added to it"
	}
	return flag
}
