package config

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"rfadesk/ha"
	"rfadesk/store"
)

// storeBase is loopbackTOML with an IMAP password: a valid bbolt desk
// (desk.store = "x.db") to which a test appends [store] and [ha].
const storeBase = loopbackTOML + "password = \"pw\"\n"

// tlsFiles are PEM files for the TLS keys of [store]: a CA, a client
// certificate it signed and its key, another key, and a file that is not
// PEM at all.
type tlsFiles struct{ ca, cert, key, otherKey, junk string }

func writeTLSFiles(t *testing.T) tlsFiles {
	t.Helper()
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	newKey := func() (*ecdsa.PrivateKey, []byte) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return k, der
	}
	caKey, _ := newKey()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test etcd CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	clientKey, clientKeyDER := newKey()
	clientTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "rfadesk"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	clientDER, err := x509.CreateCertificate(rand.Reader, clientTmpl, caTmpl, &clientKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	_, otherDER := newKey()
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return tlsFiles{
		ca:       write("ca.pem", "CERTIFICATE", caDER),
		cert:     write("client.pem", "CERTIFICATE", clientDER),
		key:      write("client.key", "EC PRIVATE KEY", clientKeyDER),
		otherKey: write("other.key", "EC PRIVATE KEY", otherDER),
		junk:     junk,
	}
}

func TestStoreDefaultsToBbolt(t *testing.T) {
	cfg, err := Load(writeConfig(t, storeBase), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Store
	if s.Backend != BackendBolt || s.Path != "x.db" || s.Etcd.Configured() || s.Etcd.TLS != nil {
		t.Errorf("store = %+v", s)
	}
	if s.Receipts != store.ReceiptsPath("x.db") {
		t.Errorf("receipts = %q, want %q beside the file", s.Receipts, store.ReceiptsPath("x.db"))
	}
	if cfg.HA != (HA{}) {
		t.Errorf("ha = %+v on a bbolt desk", cfg.HA)
	}
	if got := s.String(); got != "bbolt x.db" {
		t.Errorf("String() = %q", got)
	}
}

// store.path and desk.store name one file: either, or both when equal.
func TestStorePathAndDeskStore(t *testing.T) {
	noDeskStore := strings.Replace(storeBase, "store = \"x.db\"\n", "", 1)
	for name, body := range map[string]string{
		"store.path only":  noDeskStore + "[store]\npath = \"y.db\"\n",
		"both, equal":      strings.Replace(storeBase, "x.db", "y.db", 1) + "[store]\npath = \"./y.db\"\n",
		"desk.store only":  strings.Replace(storeBase, "x.db", "y.db", 1),
		"backend explicit": noDeskStore + "[store]\nbackend = \"bbolt\"\npath = \"y.db\"\n",
	} {
		cfg, err := Load(writeConfig(t, body), noEnv)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if want := filepath.Clean(cfg.Store.Path); want != "y.db" {
			t.Errorf("%s: path %q", name, cfg.Store.Path)
		}
	}
}

// etcdBase is a valid etcd desk on a loopback cluster with a receipt log
// in dir.
func etcdBase(dir string) string {
	return storeBase + fmt.Sprintf("[store]\nbackend = \"etcd\"\nendpoints = [\"http://127.0.0.1:2379\", \"http://localhost:22379\"]\nreceipts = %q\n", filepath.Join(dir, "r"))
}

func TestStoreEtcd(t *testing.T) {
	dir := t.TempDir()
	cfg, err := Load(writeConfig(t, etcdBase(dir)), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.Store.Etcd
	if cfg.Store.Backend != BackendEtcd || !reflect.DeepEqual(e.Endpoints, []string{"http://127.0.0.1:2379", "http://localhost:22379"}) ||
		e.Prefix != DefaultEtcdPrefix || e.DialTimeout != 5*time.Second || e.TLS != nil || e.Username != "" || e.Password != "" {
		t.Errorf("etcd = %+v", e)
	}
	if cfg.Store.Receipts != filepath.Join(dir, "r") {
		t.Errorf("receipts = %q", cfg.Store.Receipts)
	}
	host, _ := os.Hostname()
	if want := fmt.Sprintf("%s:%d", host, os.Getpid()); cfg.HA.Lease != 5*time.Second || cfg.HA.Name != want || cfg.HA.Prefix != "/rfadesk/" {
		t.Errorf("ha = %+v, want the defaults 5s and %q", cfg.HA, want)
	}
	if got := cfg.Store.String(); got != "etcd http://127.0.0.1:2379,http://localhost:22379 prefix /rfadesk/" {
		t.Errorf("String() = %q", got)
	}

	// Under systemd the receipt log defaults to the state directory.
	body := strings.Replace(etcdBase(dir), fmt.Sprintf("receipts = %q\n", filepath.Join(dir, "r")), "", 1) +
		"prefix = \"/desk-b/\"\ndial_timeout = \"2s\"\nusername = \"rfadesk\"\n[ha]\nlease = \"3s\"\nname = \"desk-a\"\n"
	env := func(k string) string {
		return map[string]string{"STATE_DIRECTORY": "/var/lib/rfadesk:/var/lib/other", "RFADESK_ETCD_PASSWORD": "etcd-env-pw"}[k]
	}
	cfg, err = Load(writeConfig(t, body), env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Store.Receipts != "/var/lib/rfadesk/etcd.receipts" || cfg.HA != (HA{ha.Options{Lease: 3 * time.Second, Name: "desk-a", Prefix: "/desk-b/"}}) {
		t.Errorf("receipts %q, ha %+v", cfg.Store.Receipts, cfg.HA)
	}
	ctx := context.Background()
	cc := cfg.Store.Etcd.ClientConfig(ctx)
	if !reflect.DeepEqual(cc.Endpoints, cfg.Store.Etcd.Endpoints) || cc.Username != "rfadesk" || cc.Password != "etcd-env-pw" ||
		cc.DialTimeout != 2*time.Second || cc.TLS != nil || cc.Context != ctx || cfg.Store.Etcd.Prefix != "/desk-b/" {
		t.Errorf("client config = %+v", cc)
	}
}

func TestStoreEtcdTLS(t *testing.T) {
	f := writeTLSFiles(t)
	dir := t.TempDir()
	https := func(extra string) string {
		return storeBase + fmt.Sprintf("[store]\nbackend = \"etcd\"\nendpoints = [\"https://etcd1.example.org:2379\"]\nreceipts = %q\n%s", filepath.Join(dir, "r"), extra)
	}
	// https alone: the system's roots, no client certificate.
	cfg, err := Load(writeConfig(t, https("")), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.Store.Etcd.TLS; c == nil || c.RootCAs != nil || len(c.Certificates) != 0 || c.MinVersion != 0x0303 {
		t.Errorf("TLS for https without files = %+v", c)
	}
	cfg, err = Load(writeConfig(t, https(fmt.Sprintf("ca_file = %q\ncert_file = %q\nkey_file = %q\n", f.ca, f.cert, f.key))), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Store.Etcd.TLS
	if c == nil || c.RootCAs == nil || len(c.Certificates) != 1 {
		t.Fatalf("TLS = %+v", c)
	}
	cc := cfg.Store.Etcd.ClientConfig(context.Background())
	if cc.TLS == c || cc.TLS == nil || len(cc.TLS.Certificates) != 1 {
		t.Errorf("ClientConfig should carry a clone of the TLS configuration: %p %p", cc.TLS, c)
	}
}

// Every problem of [store] and [ha], one line each, naming the key.
func TestStoreAndHAErrors(t *testing.T) {
	f := writeTLSFiles(t)
	dir := t.TempDir()
	noDeskStore := strings.Replace(storeBase, "store = \"x.db\"\n", "", 1)
	etcd := etcdBase(dir)
	https := func(extra string) string {
		return storeBase + fmt.Sprintf("[store]\nbackend = \"etcd\"\nendpoints = [\"https://etcd1.example.org:2379\"]\nreceipts = %q\n%s", filepath.Join(dir, "r"), extra)
	}
	etcdNoReceipts := storeBase + "[store]\nbackend = \"etcd\"\nendpoints = [\"http://127.0.0.1:2379\"]\n"
	for _, tc := range []struct{ name, body, want string }{
		{"unknown backend", storeBase + "[store]\nbackend = \"sqlite\"\n", `store.backend: "sqlite" is not a backend: use "bbolt"`},
		{"path differs from desk.store", storeBase + "[store]\npath = \"y.db\"\n", `store.path: "y.db" differs from desk.store "x.db"`},
		{"no bbolt file", noDeskStore, "store.path: missing: set it (or desk.store, its older name)"},
		{"etcd without endpoints", storeBase + "[store]\nbackend = \"etcd\"\nreceipts = \"r\"\n", "store.endpoints: missing: backend \"etcd\" needs"},
		{"endpoint without scheme", etcd + "endpoints = [\"etcd1.example.org:2379\"]\n", `store.endpoints[0]: "etcd1.example.org:2379" is not an etcd client URL`},
		{"endpoint without port", etcd + "endpoints = [\"https://etcd1.example.org\"]\n", `store.endpoints[0]: "https://etcd1.example.org" is not an etcd client URL`},
		{"endpoint with a path", etcd + "endpoints = [\"https://etcd1:2379/v3\"]\n", `store.endpoints[0]: "https://etcd1:2379/v3" is not an etcd client URL`},
		{"endpoint with a login", etcd + "endpoints = [\"https://u:p@etcd1:2379\"]\n", `store.endpoints[0]: "https://u:p@etcd1:2379" is not an etcd client URL`},
		{"endpoint of another scheme", etcd + "endpoints = [\"unix://etcd1:2379\"]\n", `store.endpoints[0]: "unix://etcd1:2379" is not an etcd client URL`},
		{"plain http off loopback", etcd + "endpoints = [\"http://127.0.0.1:2379\", \"http://etcd2.example.org:2379\"]\n", `store.endpoints[1]: "http://etcd2.example.org:2379": plain http sends desk data and the etcd password in clear`},
		{"http and https mixed", etcd + "endpoints = [\"http://127.0.0.1:2379\", \"https://127.0.0.1:2380\"]\n", "store.endpoints: mixes http:// and https://"},
		{"prefix without a leading slash", etcd + "prefix = \"rfadesk/\"\n", `store.prefix: "rfadesk/": start and end it with "/"`},
		{"prefix without a trailing slash", etcd + "prefix = \"/rfadesk\"\n", `store.prefix: "/rfadesk": start and end it with "/"`},
		{"dial_timeout not a duration", etcd + "dial_timeout = \"soon\"\n", `store.dial_timeout: "soon" is not a duration`},
		{"dial_timeout too short", etcd + "dial_timeout = \"10ms\"\n", "store.dial_timeout: 10ms is out of range: use between 100ms and 1m"},
		{"ca_file missing", https(fmt.Sprintf("ca_file = %q\n", filepath.Join(dir, "nope.pem"))), "store.ca_file: cannot read it"},
		{"ca_file not PEM", https(fmt.Sprintf("ca_file = %q\n", f.junk)), "store.ca_file: " + fmt.Sprintf("%q", f.junk) + " holds no PEM certificate"},
		{"cert_file without key_file", https(fmt.Sprintf("cert_file = %q\n", f.cert)), "store.cert_file: cert_file and key_file go together"},
		{"key_file without cert_file", https(fmt.Sprintf("key_file = %q\n", f.key)), "store.cert_file: cert_file and key_file go together"},
		{"key of another certificate", https(fmt.Sprintf("cert_file = %q\nkey_file = %q\n", f.cert, f.otherKey)), "store.cert_file: cannot load the client certificate with store.key_file"},
		{"TLS files with http endpoints", etcd + fmt.Sprintf("ca_file = %q\n", f.ca), "store.ca_file: TLS files are set but the endpoints are http://"},
		{"password and password_file", etcd + "username = \"u\"\npassword = \"a\"\npassword_file = \"/etc/hostname\"\n", "store.password: set either password or password_file, not both"},
		{"password_file unreadable", etcd + fmt.Sprintf("username = \"u\"\npassword_file = %q\n", filepath.Join(dir, "nope")), "store.password_file: cannot read it"},
		{"username without password", etcd + "username = \"rfadesk\"\n", "store.password: missing for rfadesk: set password, password_file, or the environment variable RFADESK_ETCD_PASSWORD"},
		{"password without username", etcd + "password = \"etcd-pw\"\n", "store.username: missing: a password is set"},
		{"etcd keys without endpoints", storeBase + fmt.Sprintf("[store]\nca_file = %q\n", f.ca), "store.ca_file: set without store.endpoints"},
		{"receipts with bbolt", storeBase + "[store]\nreceipts = \"r\"\n", "store.receipts: a bbolt store keeps its receipt log beside its file (x.db.receipts)"},
		{"etcd receipts nowhere", etcdNoReceipts, "store.receipts: missing: backend \"etcd\" keeps the log"},
		{"etcd receipts in no directory", etcdNoReceipts + fmt.Sprintf("receipts = %q\n", filepath.Join(dir, "no", "r")), "its directory does not exist"},
		{"[ha] with bbolt", storeBase + "[ha]\n", "ha: leader election needs store.backend = \"etcd\""},
		{"lease not a duration", etcd + "[ha]\nlease = \"soon\"\n", `ha.lease: "soon" is not a duration`},
		{"lease too short", etcd + "[ha]\nlease = \"500ms\"\n", "ha.lease: 500ms is out of range: use between 1s and 1m0s"},
		{"lease too long", etcd + "[ha]\nlease = \"2m\"\n", "ha.lease: 2m0s is out of range"},
		{"lease in fractions of a second", etcd + "[ha]\nlease = \"1500ms\"\n", "ha.lease: 1.5s is not a whole number of seconds"},
		{"name with a newline", etcd + "[ha]\nname = \"a\\nb\"\n", `ha.name: "a\nb": write one line`},
		{"name too long", etcd + "[ha]\nname = \"" + strings.Repeat("n", 129) + "\"\n", "ha.name:"},
		{"unknown key", etcd + "colour = \"red\"\n", "store.colour: unknown key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// etcd's later "endpoints" line replaces the first: TOML
			// forbids a key twice, so rewrite instead of appending.
			body := dedupeKey(tc.body, "endpoints")
			_, err := Load(writeConfig(t, body), noEnv)
			if err == nil {
				t.Fatalf("accepted:\n%s", body)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error does not say %q:\n%s", tc.want, msg)
			}
			if n := strings.Count(msg, "\n") + 1; n != 1 {
				t.Errorf("want one problem, got %d:\n%s", n, msg)
			}
		})
	}
}

// dedupeKey keeps the last line setting key, so a test can override a
// key of a base configuration by appending.
func dedupeKey(body, key string) string {
	lines := strings.Split(body, "\n")
	last := -1
	for i, l := range lines {
		if strings.HasPrefix(l, key+" =") {
			last = i
		}
	}
	var out []string
	for i, l := range lines {
		if strings.HasPrefix(l, key+" =") && i != last {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// The etcd password never prints: not through fmt (any verb, nested in
// Config), slog, JSON, nor an error. Reveal and ClientConfig give it.
func TestEtcdPasswordNeverPrints(t *testing.T) {
	const pw = "etcd-pw-5c1e9b7d3a"
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "etcd.pass")
	if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, extra := range map[string]string{
		"password":      "username = \"rfadesk\"\npassword = \"" + pw + "\"\n",
		"password_file": fmt.Sprintf("username = \"rfadesk\"\npassword_file = %q\n", pwFile),
		"environment":   "username = \"rfadesk\"\n",
	} {
		t.Run(name, func(t *testing.T) {
			env := func(k string) string { return map[string]string{"RFADESK_ETCD_PASSWORD": pw}[k] }
			cfg, err := Load(writeConfig(t, etcdBase(dir)+extra), env)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Store.Etcd.Password.Reveal() != pw || cfg.Store.Etcd.ClientConfig(context.Background()).Password != pw {
				t.Fatalf("password = %q", cfg.Store.Etcd.Password.Reveal())
			}
			var out bytes.Buffer
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
				fmt.Fprintf(&out, verb+"\n", cfg)
				fmt.Fprintf(&out, verb+"\n", cfg.Store)
				fmt.Fprintf(&out, verb+"\n", cfg.Store.Etcd.Password)
			}
			out.WriteString(cfg.Store.String())
			for _, h := range []slog.Handler{slog.NewTextHandler(&out, nil), slog.NewJSONHandler(&out, nil)} {
				slog.New(h).Info("config", "store", cfg.Store, "etcd", cfg.Store.Etcd, "password", cfg.Store.Etcd.Password)
			}
			j, err := json.Marshal(cfg.Store)
			if err != nil {
				t.Fatal(err)
			}
			out.Write(j)
			if strings.Contains(out.String(), pw) || strings.Contains(out.String(), fmt.Sprintf("%x", pw)) {
				t.Errorf("the password printed:\n%s", out.String())
			}
			if !strings.Contains(out.String(), "(hidden)") {
				t.Errorf("the password field does not show as (hidden):\n%s", out.String())
			}
		})
	}
	// A syntax error on the password's line does not show it either.
	_, err := Load(writeConfig(t, etcdBase(dir)+"password = "+pw+"\n"), noEnv)
	if err == nil || strings.Contains(err.Error(), pw) {
		t.Errorf("syntax error: %v", err)
	}
}

// config.example.toml documents every key of [store] and [ha].
func TestExampleDocumentsStoreAndHA(t *testing.T) {
	ex, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range []struct {
		name string
		typ  reflect.Type
	}{{"\n[store]\n", reflect.TypeFor[rawStore]()}, {"\n# [ha]\n", reflect.TypeFor[rawHA]()}} {
		_, body, ok := strings.Cut(string(ex), sec.name)
		if !ok {
			t.Errorf("config.example.toml has no %s", strings.TrimSpace(sec.name))
			continue
		}
		body, _, _ = strings.Cut(body, "\n[")
		for i := range sec.typ.NumField() {
			key := sec.typ.Field(i).Tag.Get("toml")
			if !strings.Contains(body, key+" = ") {
				t.Errorf("config.example.toml does not document %s %s", strings.TrimSpace(sec.name), key)
			}
		}
	}
	if !strings.Contains(string(ex), "--max-txn-ops 8192") {
		t.Error("config.example.toml does not give the etcd flag --max-txn-ops 8192")
	}
}
