package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"rfadesk/bot"
	"rfadesk/config"
	"rfadesk/store"
	"rfadesk/store/kv"
	"rfadesk/store/kv/etcdtest"
)

// fileDigest is kv.Digest of the bbolt file at path, opened read-only.
func fileDigest(t *testing.T, path string) kv.Contents {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	db := kv.NewBolt(bdb)
	defer db.Close()
	c, err := kv.Digest(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// printedDigests returns the source and target digests a store copy
// printed.
func printedDigests(t *testing.T, out string) (src, dst string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^source digest ([0-9a-f]{64})\ntarget digest ([0-9a-f]{64})$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no digests in the output:\n%s", out)
	}
	return m[1], m[2]
}

// appendToFile adds TOML to a configuration file.
func appendToFile(t *testing.T, path, extra string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, "\n"+extra...), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestStoreCopyBoltToEtcdAndBack moves a desk that took mail from its
// bbolt file to a real etcd cluster and from there to a new bbolt file:
// each copy verifies, the digests of the first and last file are equal,
// a non-empty target and a held source are refused, and a daemon started
// on the last file has every RFA.
func TestStoreCopyBoltToEtcdAndBack(t *testing.T) {
	cluster := etcdtest.Start(t, nil)
	live := startAdminDaemonStoppable(t)
	const mails = 12
	for i := 1; i <= mails; i++ {
		if _, err := live.imap.Append(context.Background(), "INBOX", schoolMail(i), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	var before map[string]string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if before = listRFAs(t, live.webAddr); len(before) >= mails {
			break
		}
	}
	if len(before) != mails {
		t.Fatalf("%d RFAs, want %d", len(before), mails)
	}
	dir := filepath.Dir(live.cfgPath)
	var eps []string
	for _, ep := range cluster.Endpoints() {
		eps = append(eps, fmt.Sprintf("%q", ep))
	}
	etcdKeys := fmt.Sprintf("[store]\nendpoints = [%s]\nprefix = \"/copytest/\"\n", strings.Join(eps, ", "))
	appendToFile(t, live.cfgPath, etcdKeys)

	// A daemon holds the file: refused.
	if _, _, err := runCmd(t, "store", "copy", "-config", live.cfgPath, "-to", "etcd"); err == nil || !strings.Contains(err.Error(), "held by a running daemon") {
		t.Fatalf("copy of a held store: %v", err)
	}
	live.stop(t)

	out, errOut, err := runCmd(t, "store", "copy", "-config", live.cfgPath, "-to", "etcd")
	if err != nil {
		t.Fatalf("copy to etcd: %v\n%s%s", err, out, errOut)
	}
	t.Logf("%s", out)
	src1, dst1 := printedDigests(t, out)
	orig := fileDigest(t, live.storePath)
	if src1 != orig.Digest || dst1 != orig.Digest {
		t.Errorf("copy to etcd: digests %s -> %s, the file's %s", src1, dst1, orig.Digest)
	}
	if !strings.Contains(out, fmt.Sprintf("%d keys", orig.Keys)) || !regexp.MustCompile(`(?m)^\s+rfas\s+`+fmt.Sprint(mails)+`\s+`+fmt.Sprint(mails)+`\s*$`).MatchString(out) {
		t.Errorf("the report does not show %d keys and rfas %d %d:\n%s", orig.Keys, mails, mails, out)
	}

	// Again: the cluster's prefix is no longer empty.
	if _, _, err := runCmd(t, "store", "copy", "-config", live.cfgPath, "-to", "etcd"); err == nil || !strings.Contains(err.Error(), "target is not empty") {
		t.Errorf("second copy to etcd: %v", err)
	}

	// Back: a configuration of the desk on etcd, copied to a new file.
	etcdCfg := filepath.Join(dir, "etcd.toml")
	writeAdminConfig(t, etcdCfg, live.storePath, "127.0.0.1:1", "nobody", "pw", live.smtp.Addr(), "127.0.0.1:0")
	appendToFile(t, etcdCfg, etcdKeys+fmt.Sprintf("backend = \"etcd\"\nreceipts = %q\n", filepath.Join(dir, "etcd.receipts")))
	back := filepath.Join(dir, "back.db")
	out, errOut, err = runCmd(t, "store", "copy", "-config", etcdCfg, "-to", "bbolt", "-path", back)
	if err != nil {
		t.Fatalf("copy to bbolt: %v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(errOut, "reading one etcd revision (a snapshot)") {
		t.Errorf("copy from etcd does not say it reads one snapshot:\n%s", errOut)
	}
	src2, dst2 := printedDigests(t, out)
	if src2 != orig.Digest || dst2 != orig.Digest {
		t.Errorf("copy to bbolt: digests %s -> %s, the first file's %s", src2, dst2, orig.Digest)
	}
	if got := fileDigest(t, back); got.Digest != orig.Digest || got.Keys != orig.Keys || fmt.Sprint(got.Buckets) != fmt.Sprint(orig.Buckets) {
		t.Errorf("the file copied back differs:\n got %+v\nwant %+v", got, orig)
	}
	if fi, err := os.Stat(back); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("copied file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	if _, _, err := runCmd(t, "store", "copy", "-config", etcdCfg, "-to", "bbolt", "-path", back); err == nil || !strings.Contains(err.Error(), "exists: -path names a new file") {
		t.Errorf("copy onto an existing file: %v", err)
	}

	// A daemon on the file copied back has every RFA.
	backCfg := filepath.Join(dir, "back.toml")
	backLn := listen(t)
	writeAdminConfig(t, backCfg, back, "127.0.0.1:1", "nobody", "pw", live.smtp.Addr(), backLn.Addr().String())
	startTestDaemon(t, backCfg, backLn)
	restored := listRFAs(t, backLn.Addr().String())
	if fmt.Sprint(restored) != fmt.Sprint(before) {
		t.Errorf("RFAs after bbolt -> etcd -> bbolt:\n got %v\nwant %v", restored, before)
	}
}

// stoppableDaemon is startAdminDaemon's desk with a daemon the test can
// stop before the end.
type stoppableDaemon struct {
	adminDaemon
	cancel context.CancelFunc
	done   chan error
}

func (d *stoppableDaemon) stop(t *testing.T) {
	t.Helper()
	if d.cancel == nil {
		return
	}
	d.cancel()
	if err := <-d.done; err != nil {
		t.Errorf("daemon: %v", err)
	}
	d.cancel = nil
}

// startAdminDaemonStoppable is startAdminDaemon with a stop method.
func startAdminDaemonStoppable(t *testing.T) *stoppableDaemon {
	t.Helper()
	ad, ln := newAdminDaemon(t)
	d := &stoppableDaemon{adminDaemon: ad}
	cfg, err := config.Load(d.cfgPath, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel, d.done = cancel, make(chan error, 1)
	go func() {
		d.done <- runDaemon(ctx, cfg, daemonOptions{Logger: newLogger(t.Output(), slog.LevelWarn), Listener: ln, StoreNoSync: true})
	}()
	t.Cleanup(func() { d.stop(t) })
	return d
}

// TestStoreCopyRefuses: what store copy refuses before it writes
// anything, each with a reason (no etcd needed: nothing is dialled).
func TestStoreCopyRefuses(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "live.db")
	db, err := store.Open(live, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	bboltCfg := filepath.Join(dir, "bbolt.toml")
	writeLoopbackConfig(t, bboltCfg, live, "127.0.0.1:1", "u", "p", "127.0.0.1:1")
	noEtcdCfg := filepath.Join(dir, "no-etcd.toml")
	writeLoopbackConfig(t, noEtcdCfg, live, "127.0.0.1:1", "u", "p", "127.0.0.1:1")
	appendToFile(t, bboltCfg, "[store]\nendpoints = [\"http://127.0.0.1:1\"]\n")
	missingCfg := filepath.Join(dir, "missing.toml")
	writeLoopbackConfig(t, missingCfg, filepath.Join(dir, "nope.db"), "127.0.0.1:1", "u", "p", "127.0.0.1:1")
	appendToFile(t, missingCfg, "[store]\nendpoints = [\"http://127.0.0.1:1\"]\n")
	etcdCfg := filepath.Join(dir, "etcd.toml")
	writeLoopbackConfig(t, etcdCfg, live, "127.0.0.1:1", "u", "p", "127.0.0.1:1")
	appendToFile(t, etcdCfg, fmt.Sprintf("[store]\nbackend = \"etcd\"\nendpoints = [\"http://127.0.0.1:1\"]\nreceipts = %q\n", filepath.Join(dir, "etcd.receipts")))

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no -to", []string{"-config", bboltCfg}, `-to "": use etcd or bbolt`},
		{"an unknown backend", []string{"-config", bboltCfg, "-to", "sqlite"}, `-to "sqlite": use etcd or bbolt`},
		{"the same backend", []string{"-config", bboltCfg, "-to", "bbolt", "-path", filepath.Join(dir, "x.db")}, "the desk's store is already bbolt"},
		{"no cluster named", []string{"-config", noEtcdCfg, "-to", "etcd"}, "names no etcd cluster: set store.endpoints"},
		{"-path with -to etcd", []string{"-config", bboltCfg, "-to", "etcd", "-path", filepath.Join(dir, "x.db")}, "-path is for -to bbolt"},
		{"no store file", []string{"-config", missingCfg, "-to", "etcd"}, "the store file: stat"},
		{"-to bbolt without -path", []string{"-config", etcdCfg, "-to", "bbolt"}, "-to bbolt needs -path FILE"},
		{"an existing -path", []string{"-config", etcdCfg, "-to", "bbolt", "-path", live}, "live.db exists: -path names a new file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCmd(t, append([]string{"store", "copy"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}

	// Deliveries the store does not record yet stay behind: refused.
	r, err := store.OpenReceipts(store.ReceiptsPath(live))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Append(bot.DeliveryReceipt{Item: 1, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	r.Close()
	_, _, err = runCmd(t, "store", "copy", "-config", bboltCfg, "-to", "etcd")
	if err == nil || !strings.Contains(err.Error(), "holds 1 deliveries not yet recorded in the store") {
		t.Errorf("copy with a pending receipt: %v", err)
	}
}
