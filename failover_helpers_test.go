package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"rfadesk/chat/discordtest"
	"rfadesk/demo"
	"rfadesk/demo/faultproxy"
	"rfadesk/mailbox/dovecottest"
	"rfadesk/store/kv/etcdtest"
)

// The failover tests (failover_test.go) run two rfadesk instances, "a"
// and "b", as child processes on one etcd cluster, one Dovecot and one
// SMTP capture per instance (so every accepted mail is known by sender),
// and watch both /healthz endpoints to see who leads. Each child is this
// test binary re-executed as the real command line, "rfadesk run -config
// FILE" (TestMain with RFADESK_TEST_AS_MAIN=1), so SIGTERM takes the
// daemon's own shutdown path.

// failoverToken is the admin token of every instance the rig runs.
const failoverToken = "failover-admin-token-0123456789abcdef"

// failoverOptions configures newFailoverRig; the zero value is two
// instances connected straight to etcd, without Discord.
type failoverOptions struct {
	// discord points both instances at one fake Discord.
	discord bool
	// proxied names the instance that reaches etcd only through one
	// fault proxy per member (rig.proxies); the other connects directly.
	proxied string
	// extraTOML is added to both configurations, before the
	// [[organisation]] table.
	extraTOML string
}

// failoverRig is the world of one failover test.
type failoverRig struct {
	t       *testing.T
	etcd    *etcdtest.Cluster
	mail    *dovecottest.Server
	discord *discordtest.Server // nil without failoverOptions.discord
	proxies []*faultproxy.Proxy // the proxied instance's way to etcd
	desks   map[string]*deskInstance
	watch   *leaderWatch

	// onAccept, when set, is called for every mail an SMTP capture
	// accepts, before its 250 is written, with the sending instance.
	onAccept atomic.Pointer[func(d *deskInstance, m demo.CapturedMail)]
}

// newFailoverRig starts etcd, Dovecot (with Processed and Failed), the
// SMTP captures and, if asked, the fake Discord and the fault proxies;
// writes both instances' configurations and starts watching their
// /healthz. It starts no instance. Everything stops in t.Cleanup.
func newFailoverRig(t *testing.T, o failoverOptions) *failoverRig {
	t.Helper()
	r := &failoverRig{t: t, desks: map[string]*deskInstance{}}
	r.etcd = etcdtest.Start(t, nil)
	r.mail = dovecottest.Start(t, &dovecottest.Options{Mailboxes: []string{"Processed", "Failed"}})
	if o.discord {
		r.discord = discordtest.New(&discordtest.Options{GuildID: "100"})
		t.Cleanup(r.discord.Close)
	}
	prefix := fmt.Sprintf("/rfadesk-%s-%d/", regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-"), time.Now().UnixNano())
	for _, name := range []string{"a", "b"} {
		d := &deskInstance{name: name, dir: t.TempDir()}
		d.cfgPath = filepath.Join(d.dir, "rfadesk.toml")
		d.logPath = filepath.Join(d.dir, "daemon.log")
		smtp, err := demo.StartSMTPCapture(&demo.SMTPCaptureOptions{OnAccept: func(m demo.CapturedMail) {
			if h := r.onAccept.Load(); h != nil {
				(*h)(d, m)
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { smtp.Close() })
		d.smtp = smtp
		endpoints := r.etcd.Endpoints()
		if name == o.proxied {
			endpoints = nil
			for _, ep := range r.etcd.Endpoints() {
				p, err := faultproxy.New(strings.TrimPrefix(ep, "http://"))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { p.Close() })
				r.proxies = append(r.proxies, p)
				endpoints = append(endpoints, "http://"+p.Addr())
			}
		}
		d.etcdEndpoints = endpoints
		r.desks[name] = d
	}
	// The web ports are picked last, both at once: a port picked and
	// closed earlier could be handed to a listener made after it (a
	// fault proxy, an SMTP capture) before the daemon binds it.
	addrs := freeAddrs(t, 2)
	for i, name := range []string{"a", "b"} {
		d := r.desks[name]
		d.webAddr = addrs[i]
		r.writeConfig(d, prefix, d.etcdEndpoints, o.extraTOML)
	}
	r.watch = startLeaderWatch(r.desks)
	t.Cleanup(func() {
		r.watch.close()
		for _, d := range r.desks {
			d.kill()
		}
		if t.Failed() {
			for _, name := range []string{"a", "b"} {
				t.Logf("instance %s, last lines of its log:\n%s", name, r.desks[name].logTail(60))
			}
		}
		// RFADESK_FAILOVER_LOGS=DIR keeps every instance's whole log.
		if dir := os.Getenv("RFADESK_FAILOVER_LOGS"); dir != "" {
			for name, d := range r.desks {
				if b, err := os.ReadFile(d.logPath); err == nil {
					os.WriteFile(filepath.Join(dir, t.Name()+"-"+name+".log"), b, 0o600)
				}
			}
		}
	})
	return r
}

// writeConfig writes d's configuration: the loopback Dovecot, d's own
// SMTP capture, its web server with the admin token, the etcd store at
// prefix through endpoints, a 2 s lease, and Oak Primary School.
func (r *failoverRig) writeConfig(d *deskInstance, prefix string, endpoints []string, extra string) {
	r.t.Helper()
	quoted := make([]string, len(endpoints))
	for i, ep := range endpoints {
		quoted[i] = fmt.Sprintf("%q", ep)
	}
	discord := ""
	if r.discord != nil {
		discord = fmt.Sprintf("[discord]\ntoken = \"test-token\"\nguild_id = \"100\"\nchannel_id = \"200\"\n"+
			"staff_role_id = \"700\"\nops_channel_id = \"300\"\napi_base = %q\n", r.discord.APIBase())
	}
	body := fmt.Sprintf(`[desk]
name = "Test Desk"
address = "support@example.org"
base_url = "https://support.example.org"
shutdown_grace = "10s"
[imap]
address = %q
security = "none"
username = %q
password = %q
[smtp]
address = %q
security = "none"
[web]
listen = %q
admin_token = %q
[store]
backend = "etcd"
endpoints = [%s]
prefix = %q
receipts = %q
[ha]
lease = "2s"
name = %q
%s%s[[organisation]]
name = "Oak Primary School"
domains = ["oakprimary.sch.uk"]
`, r.mail.Addr(), r.mail.User(), r.mail.Password(), d.smtp.Addr(), d.webAddr, failoverToken,
		strings.Join(quoted, ", "), prefix, filepath.Join(d.dir, "receipts.log"), d.name, discord, extra)
	if err := os.WriteFile(d.cfgPath, []byte(body), 0o600); err != nil {
		r.t.Fatal(err)
	}
}

// other returns the instance that is not d.
func (r *failoverRig) other(d *deskInstance) *deskInstance {
	if d.name == "a" {
		return r.desks["b"]
	}
	return r.desks["a"]
}

// toRequesters returns every mail to a requester (at Oak Primary)
// accepted by either SMTP capture: staff and manager mail left out.
func (r *failoverRig) toRequesters() []demo.CapturedMail {
	var out []demo.CapturedMail
	for _, m := range append(r.desks["a"].smtp.Messages(), r.desks["b"].smtp.Messages()...) {
		if len(m.To) > 0 && strings.HasSuffix(m.To[0], "@oakprimary.sch.uk") {
			out = append(out, m)
		}
	}
	return out
}

// acknowledged counts the requests 1..n with at least one accepted
// acknowledgement.
func (r *failoverRig) acknowledged(n int) int {
	acks := ackIDsByRequest(r.toRequesters())
	got := 0
	for i := 1; i <= n; i++ {
		if len(acks[crashLoopMessageID(i)]) > 0 {
			got++
		}
	}
	return got
}

// deskInstance is one rfadesk child process, started and stopped by the
// test any number of times on the same configuration, web address and
// log file.
type deskInstance struct {
	name, dir, cfgPath, logPath, webAddr string
	etcdEndpoints                        []string // its [store] endpoints (direct, or its fault proxies)
	smtp                                 *demo.SMTPCapture

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd has been waited for
	runs   int
}

// start launches the instance; it must not be running.
func (d *deskInstance) start(t *testing.T) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd != nil {
		t.Fatalf("instance %s is running already", d.name)
	}
	logf, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	d.runs++
	fmt.Fprintf(logf, "=== run %d of instance %s, started %s\n", d.runs, d.name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(os.Args[0], "run", "-config", d.cfgPath)
	cmd.Env = append(os.Environ(), "RFADESK_TEST_AS_MAIN=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start instance %s: %v", d.name, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(exited)
	}()
	d.cmd, d.exited = cmd, exited
}

// signal sends sig to the running process and returns the channel
// closed when it has exited; nil when it is not running. It may be
// called from any goroutine (an SMTP capture's OnAccept).
func (d *deskInstance) signal(sig syscall.Signal) <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil {
		return nil
	}
	d.cmd.Process.Signal(sig)
	return d.exited
}

// reap waits up to limit for the process to exit and forgets it,
// returning how it ended; it fails the test if it does not exit.
func (d *deskInstance) reap(t *testing.T, limit time.Duration) *os.ProcessState {
	t.Helper()
	d.mu.Lock()
	cmd, exited := d.cmd, d.exited
	d.mu.Unlock()
	if cmd == nil {
		t.Fatalf("instance %s is not running", d.name)
	}
	select {
	case <-exited:
	case <-time.After(limit):
		t.Fatalf("instance %s did not exit within %v\n%s", d.name, limit, d.logTail(40))
	}
	d.mu.Lock()
	d.cmd = nil
	d.mu.Unlock()
	return cmd.ProcessState
}

// sigkill kills the instance with SIGKILL and waits for it.
func (d *deskInstance) sigkill(t *testing.T) {
	t.Helper()
	d.signal(syscall.SIGKILL)
	if st := d.reap(t, 30*time.Second); !killedBy(st, syscall.SIGKILL) {
		t.Fatalf("instance %s was not killed by SIGKILL: %v\n%s", d.name, st, d.logTail(40))
	}
}

// sigterm stops the instance with SIGTERM, waits for it and fails the
// test unless it exited with status 0 (a clean shutdown).
func (d *deskInstance) sigterm(t *testing.T) {
	t.Helper()
	d.signal(syscall.SIGTERM)
	if st := d.reap(t, 60*time.Second); !st.Success() {
		t.Fatalf("instance %s did not shut down cleanly on SIGTERM: %v\n%s", d.name, st, d.logTail(40))
	}
}

// kill SIGKILLs the instance if it runs, without checks (t.Cleanup).
func (d *deskInstance) kill() {
	if exited := d.signal(syscall.SIGKILL); exited != nil {
		<-exited
	}
	d.mu.Lock()
	d.cmd = nil
	d.mu.Unlock()
}

func killedBy(st *os.ProcessState, sig syscall.Signal) bool {
	ws, ok := st.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

// logTail returns the last n lines of the instance's log, every run,
// leaving out the web server's lines about the watch's /healthz polls.
func (d *deskInstance) logTail(n int) string {
	b, err := os.ReadFile(d.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	var kept []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, "path=/healthz ") {
			kept = append(kept, line)
		}
	}
	return lastLines(strings.Join(kept, "\n"), n)
}

// logLines returns the lines of the instance's log holding any of the
// words, every run.
func (d *deskInstance) logLines(words ...string) []string {
	b, _ := os.ReadFile(d.logPath)
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		for _, w := range words {
			if strings.Contains(line, w) {
				out = append(out, line)
				break
			}
		}
	}
	return out
}

// mailFeeder appends schoolMail(i), i = first, first+1, ..., to INBOX
// over its own IMAP connection, one every interval, until stopped or,
// when last > 0, until it has appended mail last.
type mailFeeder struct {
	stopc chan struct{}
	done  chan struct{}
	last  atomic.Int64 // the last i appended
	err   error
}

func startMailFeeder(t *testing.T, srv *dovecottest.Server, first, last int, every time.Duration) *mailFeeder {
	t.Helper()
	c := srv.Dial(t)
	f := &mailFeeder{stopc: make(chan struct{}), done: make(chan struct{})}
	f.last.Store(int64(first - 1))
	go func() {
		defer close(f.done)
		defer c.Close()
		for i := first; last <= 0 || i <= last; i++ {
			select {
			case <-f.stopc:
				return
			case <-time.After(every):
			}
			if f.err = appendRange(c, i, i); f.err != nil {
				return
			}
			f.last.Store(int64(i))
		}
	}()
	return f
}

// stop ends the feed and returns the last mail appended.
func (f *mailFeeder) stop(t *testing.T) int {
	t.Helper()
	close(f.stopc)
	return f.wait(t)
}

// wait waits for the feed to end (its last mail appended, or stop) and
// returns the last mail appended.
func (f *mailFeeder) wait(t *testing.T) int {
	t.Helper()
	<-f.done
	if f.err != nil {
		t.Fatalf("feeding mail: %v", f.err)
	}
	return int(f.last.Load())
}

// appendRange appends schoolMail(from..to) to INBOX over c.
func appendRange(c *imapclient.Client, from, to int) error {
	for i := from; i <= to; i++ {
		raw := schoolMail(i)
		cmd := c.Append("INBOX", int64(len(raw)), &imap.AppendOptions{Time: time.Now()})
		if _, err := cmd.Write(raw); err != nil {
			return fmt.Errorf("append %d: %w", i, err)
		}
		if err := cmd.Close(); err != nil {
			return fmt.Errorf("append %d: %w", i, err)
		}
		if _, err := cmd.Wait(); err != nil {
			return fmt.Errorf("append %d: %w", i, err)
		}
	}
	return nil
}

// waitWithin polls cond every 50 ms until it holds; the limit only turns
// a hang into a readable failure.
func waitWithin(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
	}
}

// freeAddrs returns n distinct free loopback addresses, holding each
// port until all are picked.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs
}
