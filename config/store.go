package config

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	clientv3 "go.etcd.io/etcd/client/v3"

	"rfadesk/ha"
	"rfadesk/netaddr"
	"rfadesk/store/kv"
)

// Store backends ([store] backend).
const (
	BackendBolt = "bbolt"
	BackendEtcd = "etcd"
)

// Defaults and bounds of [store] and [ha].
const (
	DefaultEtcdPrefix      = kv.DefaultEtcdPrefix
	DefaultEtcdDialTimeout = 5 * time.Second
	DefaultHALease         = 5 * time.Second
	MinHALease             = time.Second
	MaxHALease             = time.Minute
	// EtcdReceiptsName is the file name of the receipt log of an etcd
	// store in the systemd state directory ($STATE_DIRECTORY).
	EtcdReceiptsName = "etcd.receipts"
)

// Store is the validated [store] section: which backend holds the desk's
// data and how to reach each backend the file describes. Etcd is filled
// whenever store.endpoints is set, whatever the backend, so that
// "rfadesk store copy" can copy a bbolt store to the etcd cluster the
// file names.
type Store struct {
	// Backend is BackendBolt (the default) or BackendEtcd.
	Backend string
	// Path is the bbolt file: store.path, or desk.store, its older name
	// (when both are set they must be equal). Required for the bbolt
	// backend; "" when neither is set.
	Path string
	// Receipts is the local file of the SMTP receipt log (see
	// store.ReceiptsPath for its format). For bbolt it is always Path +
	// ".receipts", beside the file, where backup and restore expect it,
	// and store.receipts must not be set. For etcd it is store.receipts,
	// by default $STATE_DIRECTORY/etcd.receipts (the directory systemd's
	// StateDirectory= names); without either it is an error. The file is
	// per instance: each machine keeps its own.
	Receipts string
	// Etcd is how to reach the etcd cluster; zero when store.endpoints
	// is unset (then the backend is bbolt).
	Etcd Etcd
}

// Etcd is the validated etcd part of [store].
type Etcd struct {
	// Endpoints are the members' client URLs, each http(s)://host:port,
	// all with one scheme; http only for loopback hosts (the rule of
	// package netaddr: desk data and the password would cross the
	// network in clear).
	Endpoints []string
	// Prefix starts every key rfadesk writes (default "/rfadesk/"); it
	// begins and ends with "/". Two desks on one cluster need two
	// prefixes.
	Prefix string
	// TLS is nil for http endpoints; otherwise the client's TLS
	// configuration: store.ca_file's roots (the system's when unset) and
	// the client certificate of store.cert_file and store.key_file, read
	// and checked at load time. Clone it before changing it.
	TLS *tls.Config
	// Username and Password log in to etcd's auth; both "" when auth is
	// off. Password comes from store.password, store.password_file or
	// RFADESK_ETCD_PASSWORD and never prints (see Secret).
	Username string
	Password Secret
	// DialTimeout bounds the first connection (store.dial_timeout,
	// default 5s).
	DialTimeout time.Duration
}

// Configured reports whether store.endpoints is set.
func (e *Etcd) Configured() bool { return len(e.Endpoints) > 0 }

// ClientConfig is the clientv3.Config that reaches the cluster: the
// endpoints, a clone of TLS, the login and the dial timeout; ctx is the
// client's context (cancelling it closes the client). It does no I/O:
// clientv3.New dials.
func (e *Etcd) ClientConfig(ctx context.Context) clientv3.Config {
	c := clientv3.Config{
		Endpoints:   append([]string(nil), e.Endpoints...),
		DialTimeout: e.DialTimeout,
		Username:    e.Username,
		Password:    e.Password.Reveal(),
		Context:     ctx,
	}
	if e.TLS != nil {
		c.TLS = e.TLS.Clone()
	}
	return c
}

// String describes the store for a person, without secrets: "bbolt FILE"
// or "etcd URL,... prefix P".
func (s Store) String() string {
	if s.Backend == BackendEtcd {
		return fmt.Sprintf("etcd %s prefix %s", strings.Join(s.Etcd.Endpoints, ","), s.Etcd.Prefix)
	}
	return "bbolt " + s.Path
}

// HA is the validated [ha] section: ha.Options for ha.NewElector, filled
// when the backend is etcd and zero otherwise (a bbolt store has one
// process, so nothing to elect). Lease is ha.lease (default 5s, whole
// seconds from 1s to 1m); Name is ha.name (default "hostname:pid"; one
// line of at most 128 characters); Prefix is store.prefix, so the
// election lives beside the desk's data. Logger is left for the caller.
type HA struct {
	ha.Options
}

// rawStore is the [store] section as written.
type rawStore struct {
	Backend      string   `toml:"backend"`
	Path         string   `toml:"path"`
	Receipts     string   `toml:"receipts"`
	Endpoints    []string `toml:"endpoints"`
	Prefix       string   `toml:"prefix"`
	CAFile       string   `toml:"ca_file"`
	CertFile     string   `toml:"cert_file"`
	KeyFile      string   `toml:"key_file"`
	Username     string   `toml:"username"`
	Password     string   `toml:"password"`
	PasswordFile string   `toml:"password_file"`
	DialTimeout  string   `toml:"dial_timeout"`
}

// rawHA is the [ha] section as written; nil when the file has none.
type rawHA struct {
	Lease string `toml:"lease"`
	Name  string `toml:"name"`
}

// validateStore checks [store] and desk.store (deskStore). getenv gives
// RFADESK_ETCD_PASSWORD and STATE_DIRECTORY. An unknown backend is
// reported alone: what else is required depends on it.
func validateStore(raw rawStore, deskStore string, getenv func(string) string, errs []error) (Store, []error) {
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("store.%s: "+format, append([]any{key}, args...)...))
	}
	s := Store{Backend: or(strings.TrimSpace(raw.Backend), BackendBolt)}
	switch s.Backend {
	case BackendBolt, BackendEtcd:
	default:
		bad("backend", "%q is not a backend: use \"bbolt\" (one file, the default) or \"etcd\"", raw.Backend)
		return s, errs
	}

	switch path, old := strings.TrimSpace(raw.Path), strings.TrimSpace(deskStore); {
	case path != "" && old != "" && filepath.Clean(path) != filepath.Clean(old):
		bad("path", "%q differs from desk.store %q: desk.store is the older name of store.path; keep one of them", path, old)
		s.Path = path
	case path != "":
		s.Path = path
	default:
		s.Path = old
	}
	if s.Backend == BackendBolt && s.Path == "" {
		bad("path", "missing: set it (or desk.store, its older name) to the path of the bbolt file, e.g. \"/var/lib/rfadesk/rfadesk.db\"")
	}

	var etcdErrs []error
	s.Etcd, etcdErrs = validateEtcd(raw, getenv)
	errs = append(errs, etcdErrs...)
	if s.Backend == BackendEtcd && len(raw.Endpoints) == 0 {
		bad("endpoints", "missing: backend \"etcd\" needs the cluster's client URLs, e.g. [\"https://etcd1.example.org:2379\", \"https://etcd2.example.org:2379\", \"https://etcd3.example.org:2379\"]")
	}

	receipts := strings.TrimSpace(raw.Receipts)
	switch {
	case s.Backend == BackendBolt && receipts != "":
		bad("receipts", "a bbolt store keeps its receipt log beside its file (%s.receipts), where backup and restore expect it: remove store.receipts", s.Path)
	case s.Backend == BackendBolt:
		if s.Path != "" {
			s.Receipts = s.Path + ".receipts" // store.ReceiptsPath
		}
	case receipts == "":
		dir, _, _ := strings.Cut(getenv("STATE_DIRECTORY"), ":")
		if dir == "" {
			bad("receipts", "missing: backend \"etcd\" keeps the log of mail the SMTP server accepted in a local file: set it, e.g. \"/var/lib/rfadesk/%s\" (under systemd with StateDirectory= it defaults to $STATE_DIRECTORY/%s)", EtcdReceiptsName, EtcdReceiptsName)
			break
		}
		s.Receipts = filepath.Join(dir, EtcdReceiptsName)
	default:
		if fi, err := os.Stat(filepath.Dir(receipts)); err != nil || !fi.IsDir() {
			bad("receipts", "%q: its directory does not exist: create it or choose a file in an existing directory", receipts)
		}
		s.Receipts = receipts
	}
	return s, errs
}

// validateEtcd checks the etcd keys of [store], whatever the backend.
// Without store.endpoints the others must be unset, and the Etcd is zero
// (RFADESK_ETCD_PASSWORD is then ignored).
func validateEtcd(raw rawStore, getenv func(string) string) (Etcd, []error) {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("store.%s: "+format, append([]any{key}, args...)...))
	}
	if len(raw.Endpoints) == 0 {
		for _, k := range []struct{ key, value string }{
			{"prefix", raw.Prefix}, {"ca_file", raw.CAFile}, {"cert_file", raw.CertFile}, {"key_file", raw.KeyFile},
			{"username", raw.Username}, {"password", raw.Password}, {"password_file", raw.PasswordFile}, {"dial_timeout", raw.DialTimeout},
		} {
			if k.value != "" {
				bad(k.key, "set without store.endpoints: name the etcd cluster's client URLs, or remove it")
			}
		}
		return Etcd{}, errs
	}
	e := Etcd{Prefix: or(raw.Prefix, DefaultEtcdPrefix), DialTimeout: DefaultEtcdDialTimeout, Username: raw.Username}

	var https, plain int
	for i, ep := range raw.Endpoints {
		key := fmt.Sprintf("endpoints[%d]", i)
		u, err := url.Parse(strings.TrimSpace(ep))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Port() == "" ||
			u.User != nil || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
			bad(key, "%q is not an etcd client URL: write http(s)://host:port, e.g. \"https://etcd1.example.org:2379\"", ep)
			continue
		}
		if u.Scheme == "http" {
			plain++
			if !netaddr.IsLoopback(u.Hostname()) {
				bad(key, "%q: plain http sends desk data and the etcd password in clear and is allowed only for a loopback address; use https://", ep)
				continue
			}
		} else {
			https++
		}
		e.Endpoints = append(e.Endpoints, u.Scheme+"://"+u.Host)
	}
	if https > 0 && plain > 0 {
		bad("endpoints", "mixes http:// and https:// URLs: the client uses one transport for every member; use https:// for all")
	}

	if p := e.Prefix; !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") || strings.ContainsFunc(p, unicode.IsControl) {
		bad("prefix", "%q: start and end it with \"/\", e.g. \"/rfadesk/\" (each desk on a cluster needs its own)", raw.Prefix)
	}
	if raw.DialTimeout != "" {
		d, err := time.ParseDuration(raw.DialTimeout)
		switch {
		case err != nil:
			bad("dial_timeout", "%q is not a duration: write it like \"5s\"", raw.DialTimeout)
		case d < 100*time.Millisecond || d > time.Minute:
			bad("dial_timeout", "%s is out of range: use between 100ms and 1m", d)
		default:
			e.DialTimeout = d
		}
	}

	var tlsErrs []error
	e.TLS, tlsErrs = etcdTLS(raw, https > 0)
	errs = append(errs, tlsErrs...)
	if e.TLS != nil && plain > 0 && https == 0 {
		bad("ca_file", "TLS files are set but the endpoints are http://, which would ignore them: write the endpoints as https://")
	}

	if raw.Password != "" && raw.PasswordFile != "" {
		bad("password", "set either password or password_file, not both")
	}
	passwordRead := true
	switch {
	case raw.PasswordFile != "":
		b, err := os.ReadFile(raw.PasswordFile)
		if err != nil {
			bad("password_file", "cannot read it: %v", err)
			passwordRead = false
		}
		e.Password = Secret(strings.TrimRight(string(b), "\r\n"))
	case raw.Password != "":
		e.Password = Secret(raw.Password)
	default:
		e.Password = Secret(getenv("RFADESK_ETCD_PASSWORD"))
	}
	if e.Username != "" && e.Password == "" && passwordRead {
		bad("password", "missing for %s: set password, password_file, or the environment variable RFADESK_ETCD_PASSWORD", e.Username)
	}
	if e.Username == "" && e.Password != "" {
		bad("username", "missing: a password is set (password, password_file or RFADESK_ETCD_PASSWORD), so set the etcd user it belongs to, or remove the password when the cluster has auth off")
	}
	return e, errs
}

// etcdTLS reads store.ca_file, cert_file and key_file into a TLS
// configuration; nil when none is set and no endpoint is https.
func etcdTLS(raw rawStore, https bool) (*tls.Config, []error) {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("store.%s: "+format, append([]any{key}, args...)...))
	}
	if raw.CAFile == "" && raw.CertFile == "" && raw.KeyFile == "" && !https {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if raw.CAFile != "" {
		pem, err := os.ReadFile(raw.CAFile)
		if err != nil {
			bad("ca_file", "cannot read it: %v", err)
		} else {
			c.RootCAs = x509.NewCertPool()
			if !c.RootCAs.AppendCertsFromPEM(pem) {
				bad("ca_file", "%q holds no PEM certificate: give the CA certificate that signed the etcd members' certificates", raw.CAFile)
			}
		}
	}
	switch {
	case (raw.CertFile == "") != (raw.KeyFile == ""):
		bad("cert_file", "cert_file and key_file go together: set both (the client certificate and its private key) or neither")
	case raw.CertFile != "":
		cert, err := tls.LoadX509KeyPair(raw.CertFile, raw.KeyFile)
		if err != nil {
			bad("cert_file", "cannot load the client certificate with store.key_file: %v", err)
		} else {
			c.Certificates = []tls.Certificate{cert}
		}
	}
	return c, errs
}

// validateHA checks [ha] (raw nil when the file has none) for backend
// and the store's etcd prefix. hostname gives the default name's host
// part.
func validateHA(raw *rawHA, backend, prefix string, hostname func() (string, error), errs []error) (HA, []error) {
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("ha.%s: "+format, append([]any{key}, args...)...))
	}
	if backend != BackendEtcd {
		if raw != nil {
			errs = append(errs, fmt.Errorf("ha: leader election needs store.backend = \"etcd\" (a bbolt store is one file used by one process): remove [ha], or move the desk to etcd with \"rfadesk store copy -to etcd\""))
		}
		return HA{}, errs
	}
	if raw == nil {
		raw = &rawHA{}
	}
	h := HA{ha.Options{Lease: DefaultHALease, Name: strings.TrimSpace(raw.Name), Prefix: prefix}}
	if raw.Lease != "" {
		d, err := time.ParseDuration(raw.Lease)
		switch {
		case err != nil:
			bad("lease", "%q is not a duration: write it like \"5s\"", raw.Lease)
		case d < MinHALease || d > MaxHALease:
			bad("lease", "%s is out of range: use between %s and %s", d, MinHALease, MaxHALease)
		case d%time.Second != 0:
			bad("lease", "%s is not a whole number of seconds: etcd grants leases in seconds", d)
		default:
			h.Lease = d
		}
	}
	if h.Name == "" {
		host, err := hostname()
		if err != nil || host == "" {
			host = "localhost"
		}
		h.Name = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if len(h.Name) > 128 || strings.ContainsFunc(h.Name, unicode.IsControl) {
		bad("name", "%q: write one line of at most 128 characters naming this instance, e.g. \"desk-a\", or remove it for hostname:pid", h.Name)
	}
	return h, errs
}
