package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// releasesCmd runs "rfadesk releases -config cfgPath".
func releasesCmd(cfgPath string) (string, error) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"releases", "-config", cfgPath}, &stdout, &stderr)
	return stdout.String() + stderr.String(), err
}

// The default [releases]: a minor release every two weeks from Friday
// 2 January 2026. A line is "date weekday\tkind\tname".
var minorLine = "\tminor\tminor-"

func TestReleasesCommandWithoutDaemon(t *testing.T) {
	dir := t.TempDir()
	closed := listen(t)
	deadAddr := closed.Addr().String()
	closed.Close()
	cfgPath := filepath.Join(dir, "rfadesk.toml")
	writeAdminConfig(t, cfgPath, filepath.Join(dir, "live.db"), "127.0.0.1:1", "u", "p", "127.0.0.1:1", deadAddr)
	out, err := releasesCmd(cfgPath)
	if err != nil || !strings.Contains(out, minorLine) || !strings.Contains(out, " Fri"+minorLine) {
		t.Fatalf("releases without a daemon: %v\n%s", err, out)
	}
}

func TestReleasesCommandAsksTheDaemon(t *testing.T) {
	cfgPath := startAdminDaemon(t, nil).cfgPath
	// The daemon holds the store: the list can only come from its API.
	if out, err := releasesCmd(cfgPath); err != nil || !strings.Contains(out, minorLine) {
		t.Fatalf("releases with the daemon running: %v\n%s", err, out)
	}
}
