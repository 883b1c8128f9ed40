package ha

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"rfadesk/store/kv"
)

// campaignResult is what a Campaign run in a goroutine returned, and
// when that goroutine saw it return.
type campaignResult struct {
	term *Term
	err  error
	at   time.Time
}

func campaignAsync(ctx context.Context, e *Elector) <-chan campaignResult {
	ch := make(chan campaignResult, 1)
	go func() {
		term, err := e.Campaign(ctx)
		ch <- campaignResult{term: term, err: err, at: time.Now()}
	}()
	return ch
}

func awaitCampaign(t *testing.T, ch <-chan campaignResult) campaignResult {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("Campaign: %v", r.err)
		}
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("Campaign did not return in 30 s")
		return campaignResult{}
	}
}

// endedAt records, in its own goroutine, when term's Done is closed.
func endedAt(term *Term) <-chan time.Time {
	ch := make(chan time.Time, 1)
	go func() {
		<-term.Done()
		ch <- time.Now()
	}()
	return ch
}

func awaitTime(t *testing.T, ch <-chan time.Time) time.Time {
	t.Helper()
	select {
	case at := <-ch:
		return at
	case <-time.After(30 * time.Second):
		t.Fatal("term not over after 30 s")
		return time.Time{}
	}
}

// fencedPut writes a key under the test's prefix in a transaction
// fenced as the store's etcd driver fences its commits, and reports
// whether it was committed.
func fencedPut(t *testing.T, cli *clientv3.Client, f kv.Fence) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(f.Key), "=", f.Rev)).
		Then(clientv3.OpPut(testPrefix(t)+"data", "written")).
		Commit()
	if err != nil {
		t.Fatalf("fenced txn: %v", err)
	}
	return resp.Succeeded
}

func electionKeys(t *testing.T, cli *clientv3.Client) int64 {
	t.Helper()
	resp, err := cli.Get(testContext(t), testPrefix(t)+"leader/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Count
}

func newTestElector(t *testing.T, cli *clientv3.Client, name string) *Elector {
	return NewElector(cli, Options{
		Lease:  testLease,
		Name:   name,
		Prefix: testPrefix(t),
		Logger: slog.New(slog.NewTextHandler(newTestLogWriter(t), &slog.HandlerOptions{Level: slog.LevelInfo})).With("t", name),
	})
}

func testPrefix(t *testing.T) string { return "/hatest/" + t.Name() + "/" }

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func waitRole(t *testing.T, e *Elector, want Role) {
	t.Helper()
	waitFor(t, e.Name()+" to be "+string(want), func() bool { return e.Role() == want })
}

// waitFor polls cond until it holds, failing the test after 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testLogWriter sends log lines to t.Log until the test's cleanup runs;
// the electors' goroutines may still log after that.
type testLogWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func newTestLogWriter(t *testing.T) *testLogWriter {
	w := &testLogWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return w
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}
