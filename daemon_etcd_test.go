package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rfadesk/store/kv/etcdtest"
)

// etcdInstance is one in-process daemon of a replicated desk.
type etcdInstance struct {
	name string
	url  string
	stop func() // graceful: SIGTERM's path (flush, resign)
}

// startEtcdInstance runs a daemon named name on the etcd cluster c under
// prefix, with a 2 s lease and unreachable mail servers (only the store
// and the leadership are in play), logging to logs, until stop or the
// test's end.
func startEtcdInstance(t testing.TB, c *etcdtest.Cluster, prefix, name string, logs io.Writer) *etcdInstance {
	t.Helper()
	dir := t.TempDir()
	eps := `"` + strings.Join(c.Endpoints(), `", "`) + `"`
	cfg := unreachableConfig(t, fmt.Sprintf(`[store]
backend = "etcd"
endpoints = [%s]
prefix = %q
receipts = %q
[ha]
lease = "2s"
name = %q
`, eps, prefix, filepath.Join(dir, "receipts"), name))
	cfg.Web.AdminToken = "etcd-test-admin-token"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runDaemon(ctx, cfg, daemonOptions{Logger: newLogger(logs, slog.LevelInfo).With("instance", name), Listener: ln})
	}()
	stopped := false
	in := &etcdInstance{name: name, url: "http://" + ln.Addr().String()}
	in.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon %s: %v", name, err)
		}
	}
	t.Cleanup(in.stop)
	return in
}

// get returns the status and body of GET path.
func (in *etcdInstance) get(t testing.TB, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", in.url+path, nil)
	req.Header.Set("Authorization", "Bearer etcd-test-admin-token")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// logCall logs a phone RFA through the admin API and returns the answer.
func (in *etcdInstance) logCall(t *testing.T, subject string) (*http.Response, string) {
	t.Helper()
	body := fmt.Sprintf(`{"name": "Sam Okafor", "email": "s.okafor@oakprimary.sch.uk", "organisation": "Oak Primary School", "subject": %q, "description": "Down."}`, subject)
	req, _ := http.NewRequestWithContext(t.Context(), "POST", in.url+"/api/rfas", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer etcd-test-admin-token")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// leaderOf waits until exactly one of the instances says it leads and
// returns it with the other.
func leaderOf(t *testing.T, a, b *etcdInstance) (leader, standby *etcdInstance) {
	t.Helper()
	var la, lb int
	waitUntil(t, "one instance to lead", func() bool {
		la, _ = a.get(t, "/healthz/leader")
		lb, _ = b.get(t, "/healthz/leader")
		return (la == 200) != (lb == 200) && (la == 503 || lb == 503)
	})
	if la == 200 {
		return a, b
	}
	return b, a
}

// TestTwoInstancesOnEtcd runs two daemons on one real etcd cluster: one
// leads and takes changes, the other serves reads from the store and
// refuses changes with 503 and Retry-After; when the leader stops, the
// other leads within moments (it resigned) and takes changes, and the
// RFA numbers go on without a gap or a repeat.
func TestTwoInstancesOnEtcd(t *testing.T) {
	c := etcdtest.Start(t, nil)
	prefix := fmt.Sprintf("/two-instances-%d/", time.Now().UnixNano())
	a := startEtcdInstance(t, c, prefix, "a", t.Output())
	b := startEtcdInstance(t, c, prefix, "b", t.Output())
	leader, standby := leaderOf(t, a, b)
	t.Logf("%s leads, %s stands by", leader.name, standby.name)

	if code, body := standby.get(t, "/healthz"); code != 503 || body != "standby" {
		t.Errorf("standby /healthz = %d %q, want 503 standby", code, body)
	}
	res, body := leader.logCall(t, "SIMS down (1)")
	if res.StatusCode != http.StatusCreated || !strings.Contains(body, "RFA-1") {
		t.Fatalf("log a call on the leader: %d %s", res.StatusCode, body)
	}
	res, _ = standby.logCall(t, "SIMS down (refused)")
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("log a call on the standby: %d Retry-After %q, want 503 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	// The standby reads what the leader wrote.
	if code, body := standby.get(t, "/api/rfas/RFA-1"); code != 200 || !strings.Contains(body, "SIMS down (1)") {
		t.Errorf("standby GET RFA-1 = %d %.200s", code, body)
	}

	stopped := time.Now()
	leader.stop()
	waitUntil(t, "the standby to lead", func() bool {
		code, _ := standby.get(t, "/healthz/leader")
		return code == 200
	})
	t.Logf("takeover after the leader resigned: %v", time.Since(stopped).Round(time.Millisecond))
	res, body = standby.logCall(t, "SIMS down (2)")
	if res.StatusCode != http.StatusCreated || !strings.Contains(body, "RFA-2") {
		t.Fatalf("log a call on the new leader: %d %s, want RFA-2", res.StatusCode, body)
	}
	if code, body := standby.get(t, "/api/rfas"); code != 200 || strings.Count(body, `"ref":"RFA-`) != 2 && strings.Count(body, `"ref": "RFA-`) != 2 {
		t.Errorf("the new leader lists %d %.300s, want RFA-1 and RFA-2", code, body)
	}
}
