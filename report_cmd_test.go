package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/store"
)

// cmdOut runs "rfadesk ARGS..." and returns its stdout and stderr.
func cmdOut(args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	return stdout.String() + stderr.String(), err
}

// putClosedRFA stores RFA-1, logged in March 2023 and closed then, with a
// message text, in the store at path.
func putClosedRFA(t *testing.T, path string) {
	t.Helper()
	db, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Date(2023, 3, 6, 9, 0, 0, 0, time.UTC)
	err = db.Update(context.Background(), func(tx bot.Tx) error {
		n, err := tx.NextRFANumber()
		if err != nil {
			return err
		}
		return tx.PutRFA(&bot.RFA{Num: n, Status: bot.StatusClosed, Channel: bot.ChannelEmail, Subject: "Old", Created: at,
			Organisation: "Oak Primary School", Token: "tok",
			Messages: []bot.Message{{At: at, Direction: bot.Inbound, Text: "old words"}},
			Events: []bot.Event{{At: at, Kind: bot.EventCreated}, {At: at.Add(time.Hour), Kind: bot.EventCleared},
				{At: at.Add(2 * time.Hour), Kind: bot.EventClosed}}})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReportExportPurgeCommandsWithoutDaemon(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "live.db")
	closed := listen(t)
	deadAddr := closed.Addr().String()
	closed.Close()
	cfgPath := filepath.Join(dir, "rfadesk.toml")
	writeAdminConfig(t, cfgPath, live, "127.0.0.1:1", "u", "p", "127.0.0.1:1", deadAddr)
	putClosedRFA(t, live)

	if out, err := cmdOut("report", "-config", cfgPath, "-month", "2023-03", "-format", "csv"); err != nil ||
		!strings.Contains(out, "2023-03,all,,1,") || !strings.Contains(out, "organisation,Oak Primary School,1,") {
		t.Errorf("report: %v\n%s", err, out)
	}
	if out, err := cmdOut("export", "-config", cfgPath, "-format", "csv"); err != nil || !strings.Contains(out, "RFA-1,closed,email,,Old,Oak Primary School") {
		t.Errorf("export: %v\n%s", err, out)
	}
	if out, err := cmdOut("purge", "-config", cfgPath, "-dry-run"); err != nil || !strings.Contains(out, "would purge RFA-1: closed 2023-03-06") {
		t.Errorf("purge -dry-run: %v\n%s", err, out)
	}
	if out, err := cmdOut("purge", "-config", cfgPath); err != nil || !strings.Contains(out, "purged RFA-1") {
		t.Errorf("purge: %v\n%s", err, out)
	}
	if out, err := cmdOut("purge", "-config", cfgPath, "-dry-run"); err != nil || !strings.Contains(out, "would purge 0 RFAs closed more than 2 years ago") {
		t.Errorf("purge -dry-run after purge: %v\n%s", err, out)
	}
	if out, err := cmdOut("report", "-config", cfgPath, "-month", "March"); err == nil {
		t.Errorf("-month March accepted:\n%s", out)
	}
}

func TestReportExportPurgeCommandsAskTheDaemon(t *testing.T) {
	d := startAdminDaemon(t, func(storePath string) { putClosedRFA(t, storePath) })
	cfgPath := d.cfgPath

	// The daemon holds the store: these answers can only come from its API.
	if out, err := cmdOut("report", "-config", cfgPath, "-month", "2023-03"); err != nil || !strings.Contains(out, "<svg") || !strings.Contains(out, "Oak Primary School") {
		t.Errorf("report: %v\n%.400s", err, out)
	}
	if out, err := cmdOut("export", "-config", cfgPath, "-format", "json"); err != nil || !strings.Contains(out, `"subject":"Old"`) {
		t.Errorf("export: %v\n%s", err, out)
	}
	if out, err := cmdOut("export", "-config", cfgPath, "-organisation", "oak primary school"); err != nil || !strings.Contains(out, "old words") {
		t.Errorf("export -organisation: %v\n%.300q", err, out)
	}
	if out, err := cmdOut("purge", "-config", cfgPath); err != nil || !strings.Contains(out, "purged RFA-1") {
		t.Errorf("purge: %v\n%s", err, out)
	}
}
