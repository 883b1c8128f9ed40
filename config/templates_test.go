package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func withDeskKeys(keys string) string {
	return strings.Replace(loopbackTOML, "[desk]\n", "[desk]\n"+keys+"\n", 1) + "password = \"pw\"\n"
}

func TestConfigTemplatesDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "reopen.txt.tmpl"), []byte("Reopened {{.Ref}}.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(writeConfig(t, withDeskKeys(`templates_dir = "`+dir+`"`)), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if o := cfg.Desk.Templates.Overridden(); len(o) != 1 || o[0] != "reopen.txt.tmpl" {
		t.Errorf("overridden %v, want [reopen.txt.tmpl]", o)
	}
	if cfg, err := Load(writeConfig(t, withDeskKeys("")), noEnv); err != nil || cfg.Desk.Templates == nil || len(cfg.Desk.Templates.Overridden()) != 0 {
		t.Errorf("unset: %v, %v", err, cfg)
	}

	// A bad file is an error naming the key and the file; so is a
	// missing directory.
	bad := t.TempDir()
	for name, body := range map[string]string{
		"closure.txt.tmpl":     "{{.Nope}}",
		"thanks.txt.tmpl":      "hello",
		"dead_letter.txt.tmpl": "A message in {{.Mailbx}} failed.\n",
	} {
		if err := os.WriteFile(filepath.Join(bad, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, err = Load(writeConfig(t, withDeskKeys(`templates_dir = "`+bad+`"`)), noEnv)
	for _, want := range []string{
		"desk.templates_dir: " + bad + "/closure.txt.tmpl: does not render",
		"desk.templates_dir: " + bad + "/thanks.txt.tmpl: not a template",
		"desk.templates_dir: " + bad + "/dead_letter.txt.tmpl: does not render with sample data",
		"can't evaluate field Mailbx",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want one with %q", err, want)
		}
	}
	_, err = Load(writeConfig(t, withDeskKeys(`templates_dir = "`+filepath.Join(bad, "none")+`"`)), noEnv)
	if err == nil || !strings.Contains(err.Error(), "desk.templates_dir:") {
		t.Errorf("missing dir: %v", err)
	}
}

func TestConfigShutdownGrace(t *testing.T) {
	cfg, err := Load(writeConfig(t, withDeskKeys("")), noEnv)
	if err != nil || cfg.ShutdownGrace != 10*time.Second {
		t.Fatalf("default: %v, %v", err, cfg)
	}
	cfg, err = Load(writeConfig(t, withDeskKeys(`shutdown_grace = "3s"`)), noEnv)
	if err != nil || cfg.ShutdownGrace != 3*time.Second {
		t.Fatalf("3s: %v, %v", err, cfg)
	}
	for _, v := range []string{"soon", "-1s", "1h"} {
		_, err := Load(writeConfig(t, withDeskKeys(`shutdown_grace = "`+v+`"`)), noEnv)
		if err == nil || !strings.Contains(err.Error(), "desk.shutdown_grace:") {
			t.Errorf("shutdown_grace = %q: %v", v, err)
		}
	}
}

// The example documents both keys; uncommented, they load (the
// templates_dir line with a directory that exists).
func TestExampleOpsKeysLoad(t *testing.T) {
	ex, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for l := range strings.Lines(string(ex)) {
		switch {
		case strings.HasPrefix(l, "# templates_dir = "):
			keys = append(keys, `templates_dir = "`+t.TempDir()+`"`)
		case strings.HasPrefix(l, "# shutdown_grace = "):
			keys = append(keys, strings.TrimPrefix(l, "# "))
		}
	}
	if len(keys) != 2 {
		t.Fatalf("config.example.toml documents %d of templates_dir, shutdown_grace", len(keys))
	}
	if _, err := Load(writeConfig(t, withDeskKeys(strings.Join(keys, "\n"))), noEnv); err != nil {
		t.Fatal(err)
	}
}
