// Package etcdtest starts a throwaway etcd cluster on loopback for tests:
// real etcd processes (Debian's etcd-server, 3.4), each with its own data
// directory under the test's temporary directory and its own free client
// and peer ports. Members can be killed and restarted to test failover.
// Every process is killed in t.Cleanup, so nothing outlives the test.
package etcdtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// RequireEnv names the environment variable that turns a missing etcd
// into a test failure instead of a skip (set it to "1" in CI).
const RequireEnv = "RFADESK_REQUIRE_ETCD"

// Options configures Start. A nil *Options means the defaults.
type Options struct {
	// Members is the cluster size; default 3.
	Members int
	// MaxTxnOps is etcd's --max-txn-ops; default 8192 (etcd's own
	// default, 128, is too small for rfadesk's group commits; the
	// README says so).
	MaxTxnOps int
	// MaxRequestBytes is etcd's --max-request-bytes; 0 keeps etcd's
	// default (1.5 MiB), which the driver is written to stay under.
	MaxRequestBytes int
}

// Cluster is a running etcd cluster. Its methods may be called from
// several goroutines.
type Cluster struct {
	t       testing.TB
	bin     string
	members []*member
}

type member struct {
	name, dataDir      string
	clientURL, peerURL string
	args               []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Start launches a cluster and waits until every member answers. If etcd
// is not installed Start calls t.Skip, unless RFADESK_REQUIRE_ETCD=1,
// then t.Fatal.
func Start(t testing.TB, opts *Options) *Cluster {
	t.Helper()
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Members == 0 {
		o.Members = 3
	}
	if o.MaxTxnOps == 0 {
		o.MaxTxnOps = 8192
	}
	bin, err := exec.LookPath("etcd")
	if err != nil {
		msg := "etcdtest: etcd is not installed (apt-get install etcd-server)"
		if os.Getenv(RequireEnv) == "1" {
			t.Fatal(msg + " and " + RequireEnv + "=1")
		}
		t.Skip(msg)
	}
	dir, err := os.MkdirTemp("", "rfadesk-etcd-")
	if err != nil {
		t.Fatalf("etcdtest: %v", err)
	}
	c := &Cluster{t: t, bin: bin}
	t.Cleanup(func() {
		c.Stop()
		os.RemoveAll(dir)
	})
	ports, err := freePorts(2 * o.Members)
	if err != nil {
		t.Fatalf("etcdtest: %v", err)
	}
	var initial []string
	for i := range o.Members {
		m := &member{
			name:      fmt.Sprintf("n%d", i+1),
			dataDir:   filepath.Join(dir, fmt.Sprintf("n%d", i+1)),
			clientURL: fmt.Sprintf("http://127.0.0.1:%d", ports[2*i]),
			peerURL:   fmt.Sprintf("http://127.0.0.1:%d", ports[2*i+1]),
		}
		c.members = append(c.members, m)
		initial = append(initial, m.name+"="+m.peerURL)
	}
	token := fmt.Sprintf("rfadesk-%d-%d", os.Getpid(), time.Now().UnixNano())
	for _, m := range c.members {
		m.args = []string{
			"--name", m.name, "--data-dir", m.dataDir,
			"--listen-client-urls", m.clientURL, "--advertise-client-urls", m.clientURL,
			"--listen-peer-urls", m.peerURL, "--initial-advertise-peer-urls", m.peerURL,
			"--initial-cluster", strings.Join(initial, ","),
			"--initial-cluster-state", "new", "--initial-cluster-token", token,
			"--max-txn-ops", strconv.Itoa(o.MaxTxnOps),
			"--heartbeat-interval", "50", "--election-timeout", "500",
			"--log-level", "error", "--logger", "zap",
		}
		if o.MaxRequestBytes > 0 {
			m.args = append(m.args, "--max-request-bytes", strconv.Itoa(o.MaxRequestBytes))
		}
		if err := c.launch(m); err != nil {
			t.Fatalf("etcdtest: %v", err)
		}
	}
	if err := c.waitReady(30 * time.Second); err != nil {
		t.Fatalf("etcdtest: %v", err)
	}
	return c
}

// Endpoints returns every member's client URL.
func (c *Cluster) Endpoints() []string {
	var eps []string
	for _, m := range c.members {
		eps = append(eps, m.clientURL)
	}
	return eps
}

// Endpoint returns member i's client URL.
func (c *Cluster) Endpoint(i int) string { return c.members[i].clientURL }

// Client returns a client of the whole cluster, closed in t.Cleanup.
func (c *Cluster) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatalf("etcdtest: client: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// Kill SIGKILLs member i and waits for it to exit.
func (c *Cluster) Kill(i int) {
	m := c.members[i]
	m.mu.Lock()
	cmd, done := m.cmd, m.done
	m.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
}

// Restart starts member i again on its data directory after Kill.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	m := c.members[i]
	args := make([]string, 0, len(m.args))
	for j := 0; j < len(m.args); j++ {
		if m.args[j] == "--initial-cluster-state" {
			args = append(args, m.args[j], "existing")
			j++
			continue
		}
		args = append(args, m.args[j])
	}
	m.args = args
	if err := c.launch(m); err != nil {
		c.t.Fatalf("etcdtest: restart %s: %v", m.name, err)
	}
}

// Stop kills every member. It is called in t.Cleanup.
func (c *Cluster) Stop() {
	for i := range c.members {
		c.Kill(i)
	}
}

func (c *Cluster) launch(m *member) error {
	cmd := exec.Command(c.bin, m.args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	logf, err := os.OpenFile(m.dataDir+".log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", m.name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		m.mu.Lock()
		if m.cmd == cmd {
			m.cmd = nil
		}
		m.mu.Unlock()
		close(done)
	}()
	m.mu.Lock()
	m.cmd, m.done = cmd, done
	m.mu.Unlock()
	return nil
}

// waitReady waits until every member reports its status.
func (c *Cluster) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for _, m := range c.members {
		cli, err := clientv3.New(clientv3.Config{Endpoints: []string{m.clientURL}, DialTimeout: time.Second, Logger: zap.NewNop()})
		if err != nil {
			return err
		}
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, err = cli.Put(ctx, "/etcdtest/ready/"+m.name, "1")
			cancel()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				cli.Close()
				log, _ := os.ReadFile(m.dataDir + ".log")
				return fmt.Errorf("member %s not ready after %s: %v\n%s", m.name, limit, err, log)
			}
			time.Sleep(100 * time.Millisecond)
		}
		cli.Close()
	}
	return nil
}

func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, errors.Join(errors.New("free port"), err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
