// Package dovecottest starts a throwaway Dovecot IMAP server for tests.
//
// Each Server is a real Dovecot 2.3 master process with its own config,
// maildir and one user, listening on 127.0.0.1 at a free port. It runs as
// the unprivileged user "nobody" when the test runs as root (Dovecot refuses
// to run its login process as root), and as the current user otherwise. The
// process group is killed in t.Cleanup, so nothing outlives the test.
package dovecottest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// RequireEnv names the environment variable that turns a missing Dovecot
// into a test failure instead of a skip (set it to "1" in CI).
const RequireEnv = "RFADESK_REQUIRE_DOVECOT"

// Options configures Start. A nil *Options means the defaults.
type Options struct {
	// User and Password are the one account's credentials; defaults
	// "support@example.test" and "secret".
	User, Password string
	// Mailboxes are created after start (INBOX always exists), e.g.
	// "Processed", "Failed".
	Mailboxes []string
}

// Server is a running Dovecot instance. Its methods may be called from
// several goroutines.
type Server struct {
	dir      string
	conf     string
	addr     string
	user     string
	password string
	bin      string
	cred     *syscall.Credential

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
}

// Start launches a Dovecot on 127.0.0.1:<free port> with a temporary
// maildir and one user; it is stopped in t.Cleanup. If dovecot is not
// installed Start calls t.Skip, unless RFADESK_REQUIRE_DOVECOT=1, then
// t.Fatal.
func Start(t testing.TB, opts *Options) *Server {
	t.Helper()
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.User == "" {
		o.User = "support@example.test"
	}
	if o.Password == "" {
		o.Password = "secret"
	}
	bin := findDovecot()
	if bin == "" {
		msg := "dovecottest: dovecot is not installed (apt-get install dovecot-imapd)"
		if os.Getenv(RequireEnv) == "1" {
			t.Fatal(msg + " and " + RequireEnv + "=1")
		}
		t.Skip(msg)
	}

	s := &Server{user: o.User, password: o.Password, bin: bin}
	runUser, cred, err := runAs()
	if err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	s.cred = cred
	s.dir, err = os.MkdirTemp("", "rfadesk-dovecot-")
	if err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(s.dir) })
	if err := reachable(s.dir); err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := s.writeFiles(runUser, port); err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	t.Cleanup(s.Stop)
	if err := s.start(); err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	if len(o.Mailboxes) > 0 {
		c := s.Dial(t)
		for _, mb := range o.Mailboxes {
			if err := c.Create(mb, nil).Wait(); err != nil {
				t.Fatalf("dovecottest: create %q: %v", mb, err)
			}
		}
		c.Close()
	}
	return s
}

// Addr returns the host:port the server listens on.
func (s *Server) Addr() string { return s.addr }

// User returns the account's user name.
func (s *Server) User() string { return s.user }

// Password returns the account's password.
func (s *Server) Password() string { return s.password }

// Dir returns the instance directory (config, log, maildir).
func (s *Server) Dir() string { return s.dir }

// Dial returns a client logged in as the account; it is closed in t.Cleanup.
func (s *Server) Dial(t testing.TB) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(s.addr, nil)
	if err != nil {
		t.Fatalf("dovecottest: dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(s.user, s.password).Wait(); err != nil {
		t.Fatalf("dovecottest: login: %v", err)
	}
	return c
}

// Append stores raw in mailbox with the given INTERNALDATE (now if zero)
// through an IMAP APPEND and returns the new message's UID.
func (s *Server) Append(t testing.TB, mailbox string, raw []byte, date time.Time) uint32 {
	t.Helper()
	c := s.Dial(t)
	defer c.Close()
	cmd := c.Append(mailbox, int64(len(raw)), &imap.AppendOptions{Time: date})
	if _, err := cmd.Write(raw); err != nil {
		t.Fatalf("dovecottest: append: %v", err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatalf("dovecottest: append: %v", err)
	}
	data, err := cmd.Wait()
	if err != nil {
		t.Fatalf("dovecottest: append to %q: %v", mailbox, err)
	}
	return uint32(data.UID)
}

// Stop kills the Dovecot process group and returns once the master has
// exited and the port no longer accepts connections. It is idempotent and
// registered in t.Cleanup by Start.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	pgid := s.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGKILL)
	<-s.exited
	s.cmd = nil
	// The children (imap-login, imap, auth) die with the group but may
	// still hold the run directory's sockets a moment after the master is
	// reaped; a new master that finds one of them answering refuses to
	// start ("Dovecot is already running?"). Wait until the group is gone.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Killed children may hold the listener a moment longer than the master.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		conn, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err != nil {
			return
		}
		conn.Close()
		time.Sleep(5 * time.Millisecond)
	}
}

// Restart kills the running instance (clients see their connections drop
// without a goodbye, as in a crash) and starts a new one on the same
// directory and port; the mailbox contents survive.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		t.Fatalf("dovecottest: restart: %v", err)
	}
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(s.bin, "-F", "-c", s.conf)
	cmd.Dir = s.dir
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: s.cred}
	out, err := os.OpenFile(filepath.Join(s.dir, "stderr.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close() // the child holds its own copy
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := greet(s.addr)
		if err == nil {
			s.cmd, s.exited = cmd, exited
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("dovecot exited: %s", s.log())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
			return fmt.Errorf("dovecot not ready after 10s: %v\n%s", err, s.log())
		}
	}
}

// log returns Dovecot's own output and log file, for error messages.
func (s *Server) log() string {
	var b strings.Builder
	for _, name := range []string{"stderr.log", "dovecot.log"} {
		data, _ := os.ReadFile(filepath.Join(s.dir, name))
		b.Write(data)
	}
	return b.String()
}

// greet connects and reads the IMAP greeting.
func greet(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "* OK") {
		return fmt.Errorf("unexpected greeting %q", line)
	}
	return nil
}

func findDovecot() string {
	if p, err := exec.LookPath("dovecot"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/dovecot", "/usr/local/sbin/dovecot"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// runAs picks the account Dovecot runs as: "nobody" when we are root,
// ourselves otherwise. cred is nil when no switch is needed.
func runAs() (*user.User, *syscall.Credential, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		return u, nil, err
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, nil, fmt.Errorf("running as root needs a 'nobody' user: %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return u, &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// reachable makes dir traversable and checks that every ancestor is too,
// since Dovecot's processes run as another user when we are root.
func reachable(dir string) error {
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s is not traversable by nobody (mode %v): point TMPDIR elsewhere", p, fi.Mode().Perm())
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) writeFiles(u *user.User, port int) error {
	group, err := user.LookupGroupId(u.Gid)
	if err != nil {
		return err
	}
	if strings.ContainsAny(s.user+s.password, ":\n") {
		return errors.New("user and password must not contain ':' or newlines")
	}
	d := s.dir
	conf := fmt.Sprintf(`instance_name = rfadesk-test-%[2]d
base_dir = %[1]s/run
state_dir = %[1]s/state
protocols = imap
listen = 127.0.0.1
log_path = %[1]s/dovecot.log
default_internal_user = %[3]s
default_internal_group = %[4]s
default_login_user = %[3]s
first_valid_uid = 0
mail_uid = %[3]s
mail_gid = %[4]s
auth_mechanisms = plain login
disable_plaintext_auth = no
mail_location = maildir:%[1]s/mail/%%u/Maildir
mail_fsync = never
ssl = no
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/users
}
userdb {
  driver = static
  args = home=%[1]s/mail/%%u
}
service imap-login {
  chroot =
  service_count = 0
  process_min_avail = 1
  inet_listener imap {
    port = %[2]d
  }
}
service imap {
  process_min_avail = 1
}
service auth {
  process_min_avail = 1
}
service anvil {
  chroot =
}
service auth-worker {
  user = $default_internal_user
}
`, d, port, u.Username, group.Name)
	s.conf = filepath.Join(d, "dovecot.conf")
	files := map[string]string{
		s.conf:                    conf,
		filepath.Join(d, "users"): s.user + ":{PLAIN}" + s.password + "\n",
	}
	for name, content := range files {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			return err
		}
	}
	for _, sub := range []string{"run", "state", "mail"} {
		if err := os.Mkdir(filepath.Join(d, sub), 0o755); err != nil {
			return err
		}
	}
	if s.cred == nil {
		return nil
	}
	return filepath.Walk(d, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(s.cred.Uid), int(s.cred.Gid))
	})
}
