package config

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"rfadesk/bot"
)

// rawStaff is the [staff] section: whose mail is staff mail.
type rawStaff struct {
	Addresses []string `toml:"addresses"`
	Domains   []string `toml:"domains"`
}

// validateStaff checks [staff] into the desk's staff matcher. desk is
// the desk's own address and orgs the organisations, in the order of
// [[organisation]] (validateDesk): a staff address or domain may not
// belong to a school, or that school's mail would be staff mail.
func validateStaff(raw rawStaff, desk bot.Address, orgs []bot.Organisation, errs []error) (bot.StaffMatcher, []error) {
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	orgOf := func(domain string) string {
		for i, o := range orgs {
			if slices.Contains(o.Domains, domain) {
				return fmt.Sprintf("organisation[%d] (%q)", i, o.Name)
			}
		}
		return ""
	}
	var s bot.StaffMatcher
	for i, v := range raw.Addresses {
		key := fmt.Sprintf("staff.addresses[%d]", i)
		a, err := mail.ParseAddress(strings.TrimSpace(v))
		switch {
		case err != nil:
			bad(key, "%q is not an email address: write it as \"tom@example.org\"", v)
			continue
		case a.Name != "":
			bad(key, "%q has a display name: write only the address, e.g. \"tom@example.org\" (names come from each mail's From)", v)
			continue
		}
		addr := strings.ToLower(a.Address)
		dom := addr[strings.LastIndexByte(addr, '@')+1:]
		switch {
		case desk.Email != "" && strings.EqualFold(addr, desk.Email):
			bad(key, "%q is the desk's own address (desk.address): list the staff members' own addresses", v)
		case orgOf(dom) != "":
			bad(key, "%q is in the domain of %s: a school's address cannot be staff; remove it from one of them", v, orgOf(dom))
		case !slices.Contains(s.Addresses, addr):
			s.Addresses = append(s.Addresses, addr)
		}
	}
	for i, v := range raw.Domains {
		key := fmt.Sprintf("staff.domains[%d]", i)
		dom := strings.ToLower(strings.TrimSpace(v))
		switch {
		case dom == "" || strings.ContainsAny(dom, "@ /<>") || !strings.Contains(dom, ".") || strings.HasPrefix(dom, ".") || strings.HasSuffix(dom, "."):
			bad(key, "%q is not a mail domain: write the part after @, e.g. \"example.org\"", v)
		case orgOf(dom) != "":
			bad(key, "%q is also the domain of %s: a domain is either staff or a school's; remove it from one of them", v, orgOf(dom))
		case !slices.Contains(s.Domains, dom):
			s.Domains = append(s.Domains, dom)
		}
	}
	return s, errs
}

// staffWarning is the start-up warning for staff mail that cannot be
// told from forged mail: [staff] is set but no Authentication-Results
// are trusted (imap.authserv_id empty).
func staffWarning(s bot.StaffMatcher, authServID string) string {
	if authServID != "" || (len(s.Addresses) == 0 && len(s.Domains) == 0) {
		return ""
	}
	return "imap.authserv_id: empty while [staff] is set: a mail forging a staff member's From cannot be caught and would be relayed to the requester; set it to your receiving mail server's authserv-id"
}
