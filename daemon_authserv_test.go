package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"rfadesk/config"
)

// The daemon says once at start-up that replies are trusted on From
// alone when imap.authserv_id is empty, and says nothing when it is set.
func TestDaemonWarnsOnceWithoutAuthservID(t *testing.T) {
	for _, id := range []string{"", "mx.example.org"} {
		dir := t.TempDir()
		path := filepath.Join(dir, "rfadesk.toml")
		writeLoopbackConfig(t, path, filepath.Join(dir, "rfadesk.db"), "127.0.0.1:143", "support@example.org", "pw", "127.0.0.1:25")
		cfg, err := config.Load(path, noEnv)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Parse.AuthServID = id
		// A store in a directory that does not exist stops the daemon
		// right after its start-up checks.
		cfg.Store.Path = filepath.Join(t.TempDir(), "missing", "desk.db")
		var logs bytes.Buffer
		err = runDaemon(context.Background(), cfg, daemonOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil)), StoreNoSync: true})
		if err == nil {
			t.Fatal("runDaemon started with a store it cannot open")
		}
		n := strings.Count(logs.String(), "From header alone")
		if want := map[string]int{"": 1, "mx.example.org": 0}[id]; n != want || (n == 1 && !strings.Contains(logs.String(), "level=WARN")) {
			t.Errorf("authserv_id %q: %d warnings, want %d:\n%s", id, n, want, logs.String())
		}
	}
}
