package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// noEnv is an empty environment for config.Load.
func noEnv(string) string { return "" }

// writeConfig writes body as a config file in a fresh directory and
// returns its path.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rfadesk.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCheckConfig: check-config prints a summary of a good file and every
// problem of a bad one, naming the keys.
func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	writeLoopbackConfig(t, good, filepath.Join(dir, "rfadesk.db"), "127.0.0.1:143", "support@example.org", "pw", "127.0.0.1:25")
	out, errOut, err := runCmd(t, "check-config", "-config", good)
	if err != nil || !strings.Contains(out, "ok: desk Test Desk <support@example.org>, 1 organisations") || !strings.Contains(out, "web 127.0.0.1:0") {
		t.Fatalf("good config: %v\n%s%s", err, out, errOut)
	}
	bad := writeConfig(t, "[desk]\naddress = \"support@example.org\"\n[smtp]\naddress = \"smtp.example.org:25\"\nsecurity = \"none\"\n[imap]\ncolour = 1\n")
	_, errOut, err = runCmd(t, "check-config", "-config", bad)
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"store.path: missing", "desk.base_url:", "smtp.security: \"none\"", "imap.address: missing", "imap.colour: unknown key"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("check-config output does not mention %q:\n%s", want, errOut)
		}
	}
}
