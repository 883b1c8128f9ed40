package config

import (
	"os"
	"strings"
	"testing"

	"rfadesk/bot"
)

// withDesk returns loopbackTOML, with an IMAP password, and extra keys
// in its [desk] section.
func withDesk(extra string) string {
	return strings.Replace(loopbackTOML+"password = \"pw\"\n", "base_url = \"https://support.example.org\"\n",
		"base_url = \"https://support.example.org\"\n"+extra+"\n", 1)
}

func TestConfigContactDetails(t *testing.T) {
	cfg, err := Parse([]byte(withDesk(`phone = " 01603 631436 (option 1) "
knowledge_base_url = "https://help.example.org/kb"
postal_address = """
Example Service Desk
  County Hall

Norwich NR1 2DH
"""`)), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := bot.Contact{
		Phone:            "01603 631436 (option 1)",
		KnowledgeBaseURL: "https://help.example.org/kb",
		PostalAddress:    "Example Service Desk\nCounty Hall\n\nNorwich NR1 2DH",
	}
	if cfg.Desk.Contact != want {
		t.Errorf("Contact = %+v, want %+v", cfg.Desk.Contact, want)
	}
	cfg, err = Parse([]byte(withDesk("")), noEnv)
	if err != nil || !cfg.Desk.Contact.IsZero() {
		t.Errorf("unset contact details: %+v, %v", cfg.Desk.Contact, err)
	}
}

func TestConfigContactDetailsRejected(t *testing.T) {
	for _, tc := range []struct{ toml, want string }{
		{`phone = "01603\n631436"`, "desk.phone: has a line break"},
		{"phone = \"01603 \u202e631436\"", "desk.phone: has a line break or control character"},
		{`phone = "` + strings.Repeat("1", 65) + `"`, "desk.phone: too long (65 bytes)"},
		{`phone = "call us"`, `desk.phone: "call us" has no digits`},
		{`knowledge_base_url = "javascript:alert(1)"`, `desk.knowledge_base_url: "javascript:alert(1)" is not an http(s) URL`},
		{`knowledge_base_url = "help.example.org/kb"`, "is not an http(s) URL"},
		{`knowledge_base_url = "https://user:pw@help.example.org/"`, "is not an http(s) URL"},
		{`knowledge_base_url = "https://help.example.org/a b"`, "is not an http(s) URL"},
		{`knowledge_base_url = "https://h.example/` + strings.Repeat("a", 600) + `"`, "desk.knowledge_base_url: too long"},
		{`postal_address = "Desk\tRoom 1"`, "desk.postal_address: has a control character"},
		{`postal_address = "` + strings.Repeat(`line\n`, 9) + `"`, "desk.postal_address: too long"},
		{`postal_address = "` + strings.Repeat("a", 81) + `"`, "desk.postal_address: too long"},
	} {
		_, err := Parse([]byte(withDesk(tc.toml)), noEnv)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.toml, err, tc.want)
		}
	}
}

// The contact keys config.example.toml documents (commented out) load as
// documented once uncommented.
func TestExampleContactKeysLoad(t *testing.T) {
	data, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	in := false
	for i, l := range lines {
		if strings.HasPrefix(l, "# phone = ") {
			in = true
		}
		if in {
			lines[i] = strings.TrimPrefix(l, "# ")
			if strings.HasPrefix(l, `# """`) {
				break
			}
		}
	}
	env := func(k string) string { return map[string]string{"RFADESK_IMAP_PASSWORD": "x"}[k] }
	cfg, err := Parse([]byte(strings.Join(lines, "\n")), env)
	if err != nil {
		t.Fatal(err)
	}
	want := bot.Contact{Phone: "01603 631436 (option 1)", KnowledgeBaseURL: "https://help.example.org/kb",
		PostalAddress: "Example Service Desk\nCounty Hall, Martineau Lane\nNorwich NR1 2DH"}
	if cfg.Desk.Contact != want {
		t.Errorf("Contact = %+v, want %+v", cfg.Desk.Contact, want)
	}
}
