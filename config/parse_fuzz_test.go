package config_test

import (
	"os"
	"strings"
	"testing"

	"rfadesk/config"
)

// FuzzParse feeds arbitrary bytes to the config loader. Its contract: a
// config or an error, never both nor neither, the same answer every time,
// and an error that says something.
func FuzzParse(f *testing.F) {
	if example, err := os.ReadFile("../config.example.toml"); err == nil {
		f.Add(example)
	}
	f.Add([]byte("[desk]\nname = \"Desk\"\naddress = \"support@example.org\"\nstore = \"/tmp/x.db\"\n[imap]\naddress = \"127.0.0.1:1\"\nsecurity = \"none\"\nusername = \"u\"\npassword = \"p\"\n[smtp]\naddress = \"127.0.0.1:2\"\nsecurity = \"none\"\n[[organisation]]\nname = \"Oak\"\ndomains = [\"oak.sch.uk\"]\n"))
	f.Add([]byte("[desk\nname = 3"))
	f.Add([]byte("[dsek]\nnmae = \"x\"\n[sla]\nresponse = \"-4h\"\n"))
	getenv := func(key string) string {
		if key == "RFADESK_IMAP_PASSWORD" {
			return "from-env"
		}
		return ""
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse(data, getenv)
		if (cfg == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v", cfg != nil, err)
		}
		cfg2, err2 := config.Parse(data, getenv)
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("not deterministic: %v vs %v", err, err2)
		}
		_ = cfg2
		if err != nil && strings.TrimSpace(strings.TrimPrefix(err.Error(), "config:")) == "" {
			t.Fatalf("error says nothing: %q", err)
		}
	})
}
