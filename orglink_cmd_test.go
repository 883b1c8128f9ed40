package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"rfadesk/bot"
	"rfadesk/store"
)

// orgLinkCmd runs "rfadesk org-link -config cfgPath args...".
func orgLinkCmd(cfgPath string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"org-link", "-config", cfgPath}, args...), &stdout, &stderr)
	return stdout.String() + stderr.String(), err
}

var orgURLPattern = regexp.MustCompile(`https://support\.example\.org(/org/[a-z0-9-]+\?t=[A-Za-z0-9_-]{22,})`)

func TestOrgLinkCommandWithoutDaemon(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "live.db")
	closed := listen(t)
	deadAddr := closed.Addr().String()
	closed.Close()
	cfgPath := filepath.Join(dir, "rfadesk.toml")
	writeAdminConfig(t, cfgPath, live, "127.0.0.1:1", "u", "p", "127.0.0.1:1", deadAddr)

	out, err := orgLinkCmd(cfgPath, "oak primary school")
	m := orgURLPattern.FindStringSubmatch(out)
	if err != nil || m == nil || !strings.Contains(m[1], "/org/oak-primary-school?t=") {
		t.Fatalf("create without daemon: %v\n%s", err, out)
	}
	if out, err := orgLinkCmd(cfgPath, "Nowhere School"); err == nil || !strings.Contains(err.Error(), "Oak Primary School") {
		t.Errorf("unknown school: %v\n%s", err, out)
	}
	if out, err := orgLinkCmd(cfgPath, "-list"); err != nil || !strings.Contains(out, "1\torganisation\tOak Primary School\t/org/oak-primary-school") || strings.Contains(out, "?t=") {
		t.Errorf("list: %v\n%s", err, out)
	}
	if out, err := orgLinkCmd(cfgPath, "-revoke", "1"); err != nil || !strings.Contains(out, "revoked link 1") {
		t.Errorf("revoke: %v\n%s", err, out)
	}
	if _, err := orgLinkCmd(cfgPath, "-revoke", "7"); err == nil {
		t.Error("revoking an unknown link succeeded")
	}
	if _, err := orgLinkCmd(cfgPath, "-list", "Oak"); err == nil {
		t.Error("-list with a NAME accepted")
	}

	db, err := store.Open(live, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	links := &bot.OrgLinks{Store: db}
	token := m[1][strings.Index(m[1], "t=")+2:]
	if _, err := links.OrgPage(context.Background(), "oak-primary-school", token, 0); err == nil {
		t.Error("the revoked link still opens its page")
	}
}

func TestOrgLinkCommandAsksTheDaemon(t *testing.T) {
	d := startAdminDaemon(t, nil)
	cfgPath, addr := d.cfgPath, d.webAddr

	// The daemon holds the store: this link can only come from its API.
	out, err := orgLinkCmd(cfgPath, "Oak Primary School")
	m := orgURLPattern.FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("create with the daemon running: %v\n%s", err, out)
	}
	get := func() int {
		resp, err := http.Get("http://" + addr + m[1])
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(); code != http.StatusOK {
		t.Fatalf("the new link: %d", code)
	}
	if out, err := orgLinkCmd(cfgPath, "-trust", "Oak Primary School"); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("a school named as a trust: %v\n%s", err, out)
	}
	if out, err := orgLinkCmd(cfgPath, "-list"); err != nil || !strings.Contains(out, "Oak Primary School") {
		t.Errorf("list: %v\n%s", err, out)
	}
	if out, err := orgLinkCmd(cfgPath, "-revoke", "1"); err != nil {
		t.Fatalf("revoke: %v\n%s", err, out)
	}
	if code := get(); code != http.StatusNotFound {
		t.Errorf("the revoked link: %d", code)
	}
}
