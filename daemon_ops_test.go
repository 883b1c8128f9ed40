package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/config"
	"rfadesk/demo"
	"rfadesk/store"
)

// queueAck records one mail from a school in the store at cfg, without
// a daemon, so that its acknowledgement waits in the outbox.
func queueAck(t *testing.T, cfg *config.Config) {
	t.Helper()
	st, err := store.Open(cfg.Store.Path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	desk := bot.NewDesk(st, cfg.Desk, &bot.DeskOptions{Logger: newLogger(t.Output(), slog.LevelWarn)})
	done := make(chan error, 1)
	go func() { done <- desk.Run(ctx) }()
	now := time.Now()
	_, err = desk.Ingest(ctx, "INBOX", 1, []bot.Fetched{{UID: 1, DedupeKey: "queued-1", Mail: &bot.Mail{
		MessageID: "<printer-1@oakprimary.sch.uk>", From: bot.Address{Name: "Jane Smith", Email: "jane@oakprimary.sch.uk"},
		To: []bot.Address{{Email: "support@example.org"}}, Subject: "Printer in the staff room",
		Date: now, Received: now, Text: "The staff room printer jams on every page.",
	}}})
	cancel()
	<-done
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// loopbackOpsConfig writes a loopback configuration (IMAP unreachable)
// with SMTP at smtpAddr and extra [desk] keys, and loads it.
func loopbackOpsConfig(t *testing.T, smtpAddr, deskKeys string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "rfadesk.toml")
	writeLoopbackConfig(t, path, filepath.Join(dir, "rfadesk.db"), "127.0.0.1:1", "support@example.org", "pw", smtpAddr)
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	body = []byte(strings.Replace(string(body), "[desk]\n", "[desk]\n"+deskKeys+"\n", 1))
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A mail queued when the stop comes is sent before the store closes:
// the daemon is stopped before its loops could send anything, so only
// the shutdown's flush can have sent it.
func TestShutdownFlushesQueuedMail(t *testing.T) {
	smtp, err := demo.StartSMTPCapture(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	cfg := loopbackOpsConfig(t, smtp.Addr(), `shutdown_grace = "5m"`)
	queueAck(t, cfg)
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // SIGTERM before the first delivery
	if err := runDaemon(ctx, cfg, daemonOptions{Logger: newLogger(t.Output(), slog.LevelInfo), StoreNoSync: true}); err != nil {
		t.Fatal(err)
	}
	msgs := smtp.Messages()
	if len(msgs) != 1 || !strings.Contains(string(msgs[0].Data), "Printer in the staff room") || msgs[0].To[0] != "jane@oakprimary.sch.uk" {
		t.Fatalf("captured %d mails, want the acknowledgement to jane: %+v", len(msgs), msgs)
	}
	if n := outboxLen(t, cfg); n != 0 {
		t.Errorf("outbox holds %d items after the flush, want 0 (the delivery was recorded)", n)
	}
}

// With the SMTP server unreachable, the flush does not wait out the
// grace (5 minutes here, beyond the test's patience): the failed
// attempt is rescheduled, nothing is due, the daemon stops; the mail
// stays queued for the next start.
func TestShutdownUnreachableSMTPKeepsMail(t *testing.T) {
	cfg := loopbackOpsConfig(t, "127.0.0.1:1", `shutdown_grace = "5m"`)
	queueAck(t, cfg)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := runDaemon(ctx, cfg, daemonOptions{Logger: newLogger(t.Output(), slog.LevelInfo), StoreNoSync: true}); err != nil {
		t.Fatal(err)
	}
	if n := outboxLen(t, cfg); n != 1 {
		t.Errorf("outbox holds %d items, want the acknowledgement still queued", n)
	}
}

func outboxLen(t *testing.T, cfg *config.Config) int {
	t.Helper()
	st, err := store.Open(cfg.Store.Path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	desk := bot.NewDesk(st, cfg.Desk, nil)
	items, err := desk.Outbox(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return len(items)
}

// SIGHUP: a reloaded organisation takes effect on the next mail; a
// broken file changes nothing and says why in the log.
func TestReloadOrganisations(t *testing.T) {
	imapSrv, err := demo.StartIMAP(&demo.IMAPOptions{Username: "support@example.org", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer imapSrv.Close()
	smtp, err := demo.StartSMTPCapture(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "rfadesk.toml")
	writeLoopbackConfig(t, path, filepath.Join(dir, "rfadesk.db"), imapSrv.Addr(), "support@example.org", "pw", smtp.Addr())
	original, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	reload := make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- runDaemon(ctx, cfg, daemonOptions{
			Logger:      newLogger(io.MultiWriter(logs, t.Output()), slog.LevelInfo),
			StoreNoSync: true, Reload: reload, ConfigPath: path,
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	}()

	ackTo := func(n int, from string) string {
		t.Helper()
		raw := fmt.Sprintf("From: %s <%s@newschool.sch.uk>\r\nTo: support@example.org\r\nSubject: Projector %d\r\nMessage-ID: <p%d@newschool.sch.uk>\r\nDate: %s\r\n\r\nThe hall projector shows no picture.\r\n",
			from, strings.ToLower(from), n, n, time.Now().Format(time.RFC1123Z))
		if _, err := imapSrv.Append(ctx, "INBOX", []byte(raw), time.Now()); err != nil {
			t.Fatal(err)
		}
		wctx, wcancel := context.WithTimeout(ctx, time.Minute)
		defer wcancel()
		msgs, err := smtp.Wait(wctx, n)
		if err != nil {
			t.Fatalf("waiting for acknowledgement %d: %v", n, err)
		}
		return string(msgs[n-1].Data)
	}
	reloadAndWait := func(logLine string) {
		t.Helper()
		before := strings.Count(logs.String(), logLine)
		reload <- struct{}{}
		deadline := time.Now().Add(time.Minute)
		for strings.Count(logs.String(), logLine) == before {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the log after a reload:\n%s", logLine, logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	const known = "Organisation: New School"

	if ack := ackTo(1, "Jane"); strings.Contains(ack, known) {
		t.Fatalf("a school not yet configured is known:\n%s", ack)
	}
	withSchool := string(original) + "[[organisation]]\nname = \"New School\"\ndomains = [\"newschool.sch.uk\"]\n"
	if err := os.WriteFile(path, []byte(withSchool), 0o600); err != nil {
		t.Fatal(err)
	}
	reloadAndWait("reload: configuration applied")
	if ack := ackTo(2, "Tom"); !strings.Contains(ack, known) {
		t.Fatalf("the reloaded organisation is not used:\n%s", ack)
	}

	// A broken file (the school gone, a misspelt key) changes nothing.
	broken := strings.Replace(string(original), "[desk]\n", "[desk]\nresponse_tagret = \"1 hour\"\n", 1)
	if err := os.WriteFile(path, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	reloadAndWait("reload refused")
	if !strings.Contains(logs.String(), "desk.response_tagret: unknown key") {
		t.Errorf("the log does not name the problem:\n%s", logs.String())
	}
	if ack := ackTo(3, "Ann"); !strings.Contains(ack, known) {
		t.Fatalf("a refused reload changed the organisations:\n%s", ack)
	}
}

// check-config renders the operator's templates: a good one is listed,
// a broken one is an error naming the file.
func TestCheckConfigTemplates(t *testing.T) {
	dir := t.TempDir()
	tmplDir := filepath.Join(dir, "templates")
	if err := os.Mkdir(tmplDir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(tmplDir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("reopen.txt.tmpl", "Reopened {{.Ref}}: {{.Link}}\n")
	path := filepath.Join(dir, "rfadesk.toml")
	writeLoopbackConfig(t, path, filepath.Join(dir, "rfadesk.db"), "127.0.0.1:1", "support@example.org", "pw", "127.0.0.1:1")
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	body = []byte(strings.Replace(string(body), "[desk]\n", "[desk]\ntemplates_dir = \""+tmplDir+"\"\n", 1))
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	if err := run(t.Context(), []string{"check-config", "-config", path}, &stdout, &stderr); err != nil {
		t.Fatalf("check-config: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "templates replaced from desk.templates_dir: reopen.txt.tmpl") {
		t.Errorf("stdout does not list the override:\n%s", stdout.String())
	}
	write("closure.txt.tmpl", "Closed {{.Ref}} {{.Reason}}\n")
	stdout.Reset()
	stderr.Reset()
	if err := run(t.Context(), []string{"check-config", "-config", path}, &stdout, &stderr); err == nil {
		t.Fatal("check-config accepted a template that does not render")
	}
	if want := "desk.templates_dir: " + tmplDir + "/closure.txt.tmpl: does not render"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr does not say %q:\n%s", want, stderr.String())
	}

	// A staff notice's subject naming a field its view lacks: the file
	// and the field are named.
	if err := os.Remove(filepath.Join(tmplDir, "closure.txt.tmpl")); err != nil {
		t.Fatal(err)
	}
	write("dependency_down.subject.tmpl", "rfadesk: {{.Dependency}} is down\n")
	stdout.Reset()
	stderr.Reset()
	if err := run(t.Context(), []string{"check-config", "-config", path}, &stdout, &stderr); err == nil {
		t.Fatal("check-config accepted a subject naming a field that does not exist")
	}
	for _, want := range []string{"desk.templates_dir: " + tmplDir + "/dependency_down.subject.tmpl: does not render with sample data", "can't evaluate field Dependency"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr.String())
		}
	}
}
