package bot_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"

	"rfadesk/bot"
)

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Oak Primary School":        "oak-primary-school",
		"  St. Mary's C of E (VA) ": "st-mary-s-c-of-e-va",
		"Ysgol Gŵyr":                "ysgol-g-yr",
		"<>":                        "org",
	} {
		if got := bot.Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestOrgLinksOverTheDesk: links made through the desk open the page of
// their organisation or trust only, with next due times from the desk's
// SLA policy, and stop at once when revoked.
func TestOrgLinksOverTheDesk(t *testing.T) {
	f := newFixture(t)
	f.ingest(mail("<a@oak>", "Ann|ann@oakprimary.sch.uk", "Printer", "Broken"),
		mail("<b@elm>", "Bo|bo@elmpark.sch.uk", "Tills", "Down"),
		mail("<c@x>", "Cy|cy@elsewhere.example", "Hello", "Hi"))
	ctx := context.Background()
	links := f.desk.OrgLinks()

	oak, oakURL, err := links.Create(ctx, bot.OrgKindOrganisation, "oak primary school")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(oakURL)
	if err != nil || u.Path != "/org/oak-primary-school" || !strings.HasPrefix(oakURL, "https://support.example.org/org/") {
		t.Fatalf("URL %q", oakURL)
	}
	token := u.Query().Get("t")
	if raw, err := base64.RawURLEncoding.DecodeString(token); err != nil || len(raw) < 16 {
		t.Errorf("token %q is not 128 bits of base64url", token)
	}
	if oak.Name != "Oak Primary School" || oak.ID == 0 {
		t.Errorf("link = %+v: want the configured name and an id", oak)
	}
	page, err := links.OrgPage(ctx, "oak-primary-school", token, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.RFAs) != 1 || page.RFAs[0].Organisation != "Oak Primary School" || page.Next != 0 {
		t.Fatalf("Oak's page = %+v", page)
	}
	if due := page.RFAs[0].NextDue; due.IsZero() || !due.After(f.now) {
		t.Errorf("next due = %v: want the response clock's due", due)
	}

	_, trustURL, err := links.Create(ctx, bot.OrgKindTrust, "Riverside Learning Trust")
	if err != nil {
		t.Fatal(err)
	}
	tu, _ := url.Parse(trustURL)
	page, err = links.OrgPage(ctx, "riverside-learning-trust", tu.Query().Get("t"), 0)
	if err != nil || len(page.RFAs) != 2 || page.RFAs[0].Num <= page.RFAs[1].Num {
		t.Fatalf("trust page = %+v, %v: want both schools, newest first", page, err)
	}

	for _, c := range []struct {
		kind bot.OrgKind
		name string
	}{{bot.OrgKindOrganisation, "Nowhere"}, {bot.OrgKindTrust, "Oak Primary School"}, {"school", "Oak Primary School"}} {
		if _, _, err := links.Create(ctx, c.kind, c.name); !errors.Is(err, bot.ErrInvalid) {
			t.Errorf("Create(%s, %q) = %v, want ErrInvalid", c.kind, c.name, err)
		}
	}
	if _, err := links.OrgPage(ctx, "riverside-learning-trust", token, 0); !errors.Is(err, bot.ErrOrgLinkNotFound) {
		t.Errorf("Oak's token under the trust's slug: %v", err)
	}
	if _, err := links.Revoke(ctx, oak.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := links.OrgPage(ctx, "oak-primary-school", token, 0); !errors.Is(err, bot.ErrOrgLinkNotFound) {
		t.Errorf("revoked link: %v", err)
	}
	all, err := links.List(ctx)
	if err != nil || len(all) != 2 || all[0].Revoked.IsZero() || !all[1].Revoked.IsZero() {
		t.Errorf("List = %+v, %v", all, err)
	}
}
