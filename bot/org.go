package bot

import "strings"

// Organisation is a school, optionally inside a trust (a multi-academy
// trust), recognised by its mail domains.
type Organisation struct {
	Name    string
	Trust   string
	Domains []string
	// Contacts receive service notices (outage.go); none means the
	// requesters seen from the organisation recently.
	Contacts []Address
}

// Directory maps sender domains to organisations. It is immutable after
// NewDirectory and safe for concurrent use.
type Directory struct {
	byDomain map[string]*Organisation
}

// NewDirectory indexes orgs by domain (lower-cased). A later organisation
// claiming a domain already claimed is ignored: config validation reports
// duplicates before it gets here.
func NewDirectory(orgs []Organisation) *Directory {
	d := &Directory{byDomain: make(map[string]*Organisation)}
	for i := range orgs {
		o := &orgs[i]
		for _, dom := range o.Domains {
			dom = strings.ToLower(strings.TrimSpace(dom))
			if _, dup := d.byDomain[dom]; !dup && dom != "" {
				d.byDomain[dom] = o
			}
		}
	}
	return d
}

// Lookup returns the organisation that owns domain, matching the domain
// itself or any parent domain (mail.oakprimary.sch.uk matches
// oakprimary.sch.uk). It returns nil when none does.
func (d *Directory) Lookup(domain string) *Organisation {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	for domain != "" {
		if o, ok := d.byDomain[domain]; ok {
			return o
		}
		i := strings.IndexByte(domain, '.')
		if i < 0 {
			break
		}
		domain = domain[i+1:]
	}
	return nil
}
