package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"rfadesk/chat/discordtest"
	"rfadesk/config"
	"rfadesk/demo"
)

// syncBuffer is a log destination read after the daemon stopped.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The secrets of the full run; each is distinctive, so finding one in a
// log line cannot be a coincidence.
const (
	secretIMAPPassword = "imap-pw-7f3a9c1e5b2d"
	secretSMTPPassword = "smtp-pw-4e8b0d6a2c9f"
	secretAdminToken   = "admin-tok-1c5e9a3f7b0d"
	secretWebToken     = "web-tok-8d2f6b0e4a7c"
	secretDiscordToken = "discord-tok-3b7f1d5a9e2c"
	secretEtcdPassword = "etcd-pw-9a4c2e6b8d1f"
)

// fullRun is a daemon on loopback with every secret configured: IMAP
// and SMTP passwords, the admin token, a [[web.token]], a Discord token
// (a fake Discord) and an etcd login (the store stays bbolt; [store]
// names a cluster to copy to), logging JSON at debug level into logs.
type fullRun struct {
	base string
	imap *demo.IMAPServer
	smtp *demo.SMTPCapture
	logs *syncBuffer
}

func startFullRun(t *testing.T, metricsListen bool) *fullRun {
	t.Helper()
	fake := discordtest.New(&discordtest.Options{GuildID: "100"})
	t.Cleanup(fake.Close)
	imapSrv, err := demo.StartIMAP(&demo.IMAPOptions{Username: "support@example.org", Password: secretIMAPPassword})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { imapSrv.Close() })
	smtpSrv, err := demo.StartSMTPCapture(&demo.SMTPCaptureOptions{Username: "desk", Password: secretSMTPPassword})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtpSrv.Close() })
	dir := t.TempDir()
	path := filepath.Join(dir, "rfadesk.toml")
	body := fmt.Sprintf(`[desk]
name = "Test Desk"
address = "support@example.org"
store = %q
base_url = "https://support.example.org"
[imap]
address = %q
security = "none"
username = "support@example.org"
password = %q
[smtp]
address = %q
security = "none"
username = "desk"
password = %q
[web]
listen = "127.0.0.1:0"
admin_token = %q
[[web.token]]
name = "Priya Shah"
token = %q
[discord]
guild_id = "100"
channel_id = "200"
staff_role_id = "700"
ops_channel_id = "300"
api_base = %q
[log]
level = "debug"
format = "json"
[[organisation]]
name = "Oak Primary School"
domains = ["oakprimary.sch.uk"]
[store]
endpoints = ["http://127.0.0.1:2379"]
username = "rfadesk"
password = %q
`, filepath.Join(dir, "rfadesk.db"), imapSrv.Addr(), secretIMAPPassword, smtpSrv.Addr(), secretSMTPPassword,
		secretAdminToken, secretWebToken, fake.APIBase(), secretEtcdPassword)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, func(k string) string {
		return map[string]string{"RFADESK_DISCORD_TOKEN": secretDiscordToken}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Discord.Enabled {
		t.Fatal("the Discord console is not enabled")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	run := &fullRun{base: "http://" + ln.Addr().String(), imap: imapSrv, smtp: smtpSrv, logs: &syncBuffer{}}
	o := daemonOptions{Logger: newConfigLogger(run.logs, cfg.Log), Listener: ln, StoreNoSync: true}
	if metricsListen {
		if o.MetricsListener, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		run.base = "http://" + o.MetricsListener.Addr().String()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runDaemon(ctx, cfg, o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
	return run
}

// get fetches url with bearer ("" for none) and returns status and body.
func get(t *testing.T, url, bearer string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricValue reads one sample (name with its labels, as exposed) from
// a Prometheus text exposition; ok is false when it is absent.
func metricValue(exposition, series string) (float64, bool) {
	for line := range strings.Lines(exposition) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}

// waitMetric polls /metrics until series reaches at least want.
func waitMetric(t *testing.T, url, bearer, series string, want float64) string {
	t.Helper()
	var body string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var code int
		code, body = get(t, url, bearer)
		if v, ok := metricValue(body, series); code == http.StatusOK && ok && v >= want {
			return body
		}
	}
	t.Fatalf("%s never reached %v:\n%s", series, want, body)
	return ""
}

// TestFullRunLogsNoSecretAndCountsInMetrics pushes three mails through
// a daemon with every secret configured, reads /healthz, /metrics and
// the API, then checks that every log line is one JSON object, that the
// lines about an RFA name it (rfa=RFA-N), and that no line holds a
// configured secret or any RFA's status token.
func TestFullRunLogsNoSecretAndCountsInMetrics(t *testing.T) {
	run := startFullRun(t, false)
	for _, s := range demo.Seeds()[:3] {
		if _, err := run.imap.Append(context.Background(), "INBOX", s.Raw, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	metricsURL := run.base + "/metrics"
	if code, body := get(t, metricsURL, ""); code != http.StatusUnauthorized || strings.Contains(body, "rfadesk_") {
		t.Errorf("/metrics without a token = %d, want 401", code)
	}
	if code, _ := get(t, metricsURL, "wrong-token-0123456789"); code != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong token = %d, want 401", code)
	}
	body := waitMetric(t, metricsURL, secretWebToken, "rfadesk_ack_latency_seconds_count", 3)
	for series, want := range map[string]float64{
		`rfadesk_mail_fetched_total`:                                3,
		`rfadesk_mail_ingested_total{result="created"}`:             3,
		`rfadesk_mail_refused_total{reason="duplicate"}`:            0,
		`rfadesk_rfas{severity="none",status="new"}`:                3,
		`rfadesk_rfas{severity="critical",status="open"}`:           0,
		`rfadesk_outbox_failures_total{failure="auth",kind="mail"}`: -1, // absent until one happens
	} {
		got, ok := metricValue(body, series)
		if want < 0 {
			if ok {
				t.Errorf("%s = %v, want absent", series, got)
			}
			continue
		}
		if !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
	for series, least := range map[string]float64{
		`rfadesk_outbox_delivered_total{kind="mail"}`: 3,
		`rfadesk_store_file_bytes`:                    1,
	} {
		if got, _ := metricValue(body, series); got < least {
			t.Errorf("%s = %v, want at least %v", series, got, least)
		}
	}
	for _, series := range []string{`rfadesk_outbox_backlog{kind="mail"}`, `rfadesk_outbox_backlog{kind="chat"}`,
		`rfadesk_sla_points_due_soon`, `rfadesk_sla_points_overdue`, `rfadesk_sla_breached_rfas`,
		`rfadesk_connection_up{component="imap"}`, `rfadesk_connection_up{component="smtp"}`, `rfadesk_connection_up{component="discord"}`} {
		if _, ok := metricValue(body, series); !ok {
			t.Errorf("/metrics has no %s", series)
		}
	}
	waitMetric(t, metricsURL, secretAdminToken, `rfadesk_connection_up{component="imap"}`, 1)

	// Every RFA's status token, read through the API.
	var tokens []string
	for n := 1; n <= 3; n++ {
		code, one := get(t, fmt.Sprintf("%s/api/rfas/RFA-%d", run.base, n), secretAdminToken)
		m := regexp.MustCompile(`[?&]t=([A-Za-z0-9_-]+)`).FindStringSubmatch(one)
		if code != http.StatusOK || m == nil {
			t.Fatalf("RFA-%d: %d %s", n, code, one)
		}
		tokens = append(tokens, m[1])
		if code, _ := get(t, fmt.Sprintf("%s/rfa/RFA-%d?t=%s", run.base, n, m[1]), ""); code != http.StatusOK {
			t.Errorf("status page of RFA-%d: %d", n, code)
		}
	}
	get(t, run.base+"/healthz", "")
	get(t, run.base+"/healthz", secretAdminToken)
	get(t, run.base+"/api/rfas", secretWebToken)
	get(t, run.base+"/api/rfas", "not-"+secretWebToken)

	logs := run.logs.String()
	secrets := map[string]string{
		"imap.password": secretIMAPPassword, "smtp.password": secretSMTPPassword,
		"web.admin_token": secretAdminToken, "web.token": secretWebToken, "discord token": secretDiscordToken,
		"store.password": secretEtcdPassword,
	}
	for i, tok := range tokens {
		secrets[fmt.Sprintf("status token of RFA-%d", i+1)] = tok
	}
	lines, aboutRFA1 := 0, false
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		lines++
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not one JSON object: %v: %s", err, line)
		}
		if rec["rfa"] == "RFA-1" {
			aboutRFA1 = true
		}
		for what, s := range secrets {
			if strings.Contains(line, s) {
				t.Errorf("a log line holds the %s: %s", what, line)
			}
		}
	}
	if lines < 10 || !aboutRFA1 {
		t.Errorf("%d log lines, one with rfa=RFA-1: %v; the run logged too little to prove anything:\n%s", lines, aboutRFA1, logs)
	}
}

// TestMetricsListenServesWithoutAToken: with metrics.listen, /metrics
// is on its own listener, open, and nothing else is served there.
func TestMetricsListenServesWithoutAToken(t *testing.T) {
	run := startFullRun(t, true)
	body := waitMetric(t, run.base+"/metrics", "", `rfadesk_connection_up{component="smtp"}`, 1)
	if !strings.Contains(body, "# TYPE rfadesk_ack_latency_seconds histogram") {
		t.Errorf("no latency histogram:\n%s", body)
	}
	if code, _ := get(t, run.base+"/api/rfas", secretAdminToken); code != http.StatusNotFound {
		t.Errorf("the metrics listener serves the API: %d", code)
	}
}
