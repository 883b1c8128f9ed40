package mailbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"rfadesk/bot"
	"rfadesk/demo"
	"rfadesk/mailbox/dovecottest"
)

// This file holds the test harness: the two servers behind one interface,
// a recording Ingester and helpers. The scenarios are in
// intake_scenarios_test.go and run over both servers.

// server is an IMAP server the scenarios run against.
type server struct {
	name, addr, user, password string
	// appendAt stores raw in mailbox with INTERNALDATE date and returns its UID.
	appendAt func(t *testing.T, mailbox string, raw []byte, date time.Time) uint32
	// drop breaks every open connection; the mail survives.
	drop func(t *testing.T)
}

// forEachServer runs body once over the in-process demo server and once
// over a real Dovecot (skipped when Dovecot is not installed).
func forEachServer(t *testing.T, mailboxes []string, body func(t *testing.T, s *server)) {
	t.Run("memserver", func(t *testing.T) {
		t.Parallel()
		m, err := demo.StartIMAP(&demo.IMAPOptions{Mailboxes: mailboxes})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		body(t, &server{
			name: "memserver", addr: m.Addr(), user: m.Username(), password: m.Password(),
			appendAt: func(t *testing.T, mailbox string, raw []byte, date time.Time) uint32 {
				uid, err := m.Append(context.Background(), mailbox, raw, date)
				if err != nil {
					t.Fatal(err)
				}
				return uid
			},
			drop: func(*testing.T) { m.DropConnections() },
		})
	})
	t.Run("dovecot", func(t *testing.T) {
		t.Parallel()
		d := dovecottest.Start(t, &dovecottest.Options{Mailboxes: mailboxes})
		body(t, &server{
			name: "dovecot", addr: d.Addr(), user: d.User(), password: d.Password(),
			appendAt: func(t *testing.T, mailbox string, raw []byte, date time.Time) uint32 {
				return d.Append(t, mailbox, raw, date)
			},
			drop: func(t *testing.T) { d.Restart(t) },
		})
	})
}

// appendMsg stores raw in mailbox as received now.
func (s *server) appendMsg(t *testing.T, mailbox string, raw []byte) uint32 {
	t.Helper()
	return s.appendAt(t, mailbox, raw, time.Now())
}

// client returns a logged-in client for inspecting the server.
func (s *server) client(t *testing.T) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(s.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(s.user, s.password).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

// ids returns the Message-IDs in mailbox in UID order ("?" for messages
// without one), and whether any of them is \Seen.
func (s *server) ids(t *testing.T, mailbox string) (ids []string, seen bool) {
	t.Helper()
	ids, seen, err := s.tryIDs(t, mailbox)
	if err != nil {
		t.Fatal(err)
	}
	return ids, seen
}

// tryIDs is ids, with an error when the mailbox cannot be examined.
func (s *server) tryIDs(t *testing.T, mailbox string) (ids []string, seen bool, err error) {
	t.Helper()
	c := s.client(t)
	defer c.Close()
	if _, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return nil, false, fmt.Errorf("examine %s: %w", mailbox, err)
	}
	var all imap.UIDSet
	all.AddRange(1, 0)
	body := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(all, &imap.FetchOptions{Flags: true, BodySection: []*imap.FetchItemBodySection{body}}).Collect()
	if err != nil {
		return nil, false, err
	}
	slices.SortFunc(msgs, func(a, b *imapclient.FetchMessageBuffer) int { return int(a.UID) - int(b.UID) })
	for _, m := range msgs {
		id := headerValue(m.FindBodySection(body), "Message-Id")
		if id == "" {
			id = "?"
		}
		ids = append(ids, id)
		seen = seen || slices.Contains(m.Flags, imap.FlagSeen)
	}
	return ids, seen, nil
}

// unflagged counts the messages in mailbox without flag.
func (s *server) unflagged(t *testing.T, mailbox string, flag imap.Flag) int {
	t.Helper()
	c := s.client(t)
	defer c.Close()
	if _, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	data, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{flag}}, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	return len(data.AllUIDs())
}

// waitIDs waits until mailbox holds exactly want (in UID order).
func (s *server) waitIDs(t *testing.T, mailbox string, want ...string) {
	t.Helper()
	eventually(t, fmt.Sprintf("%s holds %v", mailbox, want), func() bool {
		got, _, err := s.tryIDs(t, mailbox)
		return err == nil && slices.Equal(got, want)
	})
}

// eventually polls cond until it holds; it fails the test after a
// generous ceiling (this is a deadlock guard, not a timing assertion).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// msg builds a small message with the given Message-ID.
func msg(id string) []byte {
	return []byte("From: Ann Teacher <ann@school.example>\r\nTo: support@example.test\r\n" +
		"Subject: help with " + id + "\r\nMessage-ID: <" + id + ">\r\n\r\nThe register page is down.\r\n")
}

// badMsg is a message the stand-in parser refuses (no valid From).
func badMsg(id string) []byte {
	return []byte("Message-ID: <" + id + ">\r\nFrom: not an address\r\nSubject: ?\r\n\r\n\xff\xfe\r\n")
}

// headerValue reads one header field with net/mail, "" if absent.
func headerValue(raw []byte, key string) string {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	return strings.Trim(m.Header.Get(key), "<> ")
}

// standInParse stands in for mailbox.Parse: Message-ID and From only.
func standInParse(raw []byte) (*bot.Mail, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	from, err := mail.ParseAddress(m.Header.Get("From"))
	if err != nil {
		return nil, fmt.Errorf("bad From: %w", err)
	}
	id := bot.NormalizeMessageID(m.Header.Get("Message-Id"))
	return &bot.Mail{MessageID: id, From: bot.Address{Name: from.Name, Email: strings.ToLower(from.Address)},
		Subject: m.Header.Get("Subject"), DedupeKey: standInKey(raw)}, nil
}

func standInKey(raw []byte) string {
	if id := bot.NormalizeMessageID(headerValue(raw, "Message-Id")); id != "" {
		return "mid:" + id
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// recorder is a hand-written Ingester: it keeps everything in memory and
// dedupes by key, as the desk does.
type recorder struct {
	mu      sync.Mutex
	cursors map[string]bot.Cursor
	seen    map[string]bot.Disposition
	created []string   // Message-IDs of new mail (or "dead:"+id), in order
	offered [][]uint32 // UIDs of every Ingest call, failed ones included
	keys    []string   // keys of every message offered to a successful Ingest
	// received holds Mail.Received by key, as first offered.
	received map[string]time.Time
	failing  bool // Ingest fails while set
	fails    int  // failed Ingest calls
	// afterCommit, if set, runs after a successful Ingest, outside the lock.
	afterCommit func()
}

var _ Ingester = (*recorder)(nil)

func newRecorder() *recorder {
	return &recorder{cursors: map[string]bot.Cursor{}, seen: map[string]bot.Disposition{}, received: map[string]time.Time{}}
}

func (r *recorder) Cursor(_ context.Context, mailbox string) (bot.Cursor, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cursors[mailbox], nil
}

func (r *recorder) Ingest(_ context.Context, mailbox string, uidValidity uint32, batch []bot.Fetched) ([]bot.Outcome, error) {
	r.mu.Lock()
	uids := make([]uint32, len(batch))
	for k, d := range batch {
		uids[k] = d.UID
	}
	r.offered = append(r.offered, uids)
	if r.failing {
		r.fails++
		r.mu.Unlock()
		return nil, errors.New("disk full")
	}
	if !slices.IsSorted(uids) || len(slices.Compact(slices.Clone(uids))) != len(uids) {
		r.mu.Unlock()
		return nil, fmt.Errorf("batch UIDs not strictly ascending: %v", uids)
	}
	var out []bot.Outcome
	for _, d := range batch {
		if (d.Mail == nil) == (d.ParseErr == nil) || d.DedupeKey == "" {
			r.mu.Unlock()
			return nil, fmt.Errorf("malformed Fetched %+v", d)
		}
		if d.Mail != nil && d.Mail.Received.IsZero() {
			r.mu.Unlock()
			return nil, errors.New("Received not set from INTERNALDATE")
		}
		r.keys = append(r.keys, d.DedupeKey)
		if _, ok := r.received[d.DedupeKey]; !ok && d.Mail != nil {
			r.received[d.DedupeKey] = d.Mail.Received
		}
		o := bot.Outcome{UID: d.UID}
		if disp, ok := r.seen[d.DedupeKey]; ok {
			o.Result, o.Disposition = "duplicate", disp
		} else if d.ParseErr != nil {
			o.Result, o.Disposition = "dead-letter", bot.ToFailed
			r.created = append(r.created, "dead:"+strings.TrimPrefix(d.DedupeKey, "mid:"))
		} else {
			o.Result, o.Disposition = "created", bot.ToProcessed
			r.created = append(r.created, d.Mail.MessageID)
		}
		r.seen[d.DedupeKey] = o.Disposition
		out = append(out, o)
	}
	c := r.cursors[mailbox]
	last := batch[len(batch)-1].UID
	if c.UIDValidity != uidValidity || last > c.LastUID {
		c = bot.Cursor{UIDValidity: uidValidity, LastUID: last}
	}
	r.cursors[mailbox] = c
	hook := r.afterCommit
	r.mu.Unlock()
	if hook != nil {
		hook()
	}
	return out, nil
}

func (r *recorder) snapshot() (created []string, keys []string, offered [][]uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.created), slices.Clone(r.keys), slices.Clone(r.offered)
}

func (r *recorder) receivedAt(key string) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.received[key]
}

func (r *recorder) setAfterCommit(f func()) {
	r.mu.Lock()
	r.afterCommit = f
	r.mu.Unlock()
}

func (r *recorder) setFailing(on bool) {
	r.mu.Lock()
	r.failing = on
	r.mu.Unlock()
}

func (r *recorder) failCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fails
}

// healthLog records Health calls.
type healthLog struct {
	mu     sync.Mutex
	events []string // "up" or "down: reason"
}

func (h *healthLog) record(ok bool, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ok {
		h.events = append(h.events, "up")
	} else {
		h.events = append(h.events, "down: "+reason)
	}
}

func (h *healthLog) get() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.events)
}

// runIntake starts an Intake for s on mailbox with short test intervals
// and returns it with a stop function that cancels Run and checks that it
// returned context.Canceled.
func runIntake(t *testing.T, s *server, rec *recorder, health *healthLog, tweak func(*IMAPConfig, *Intake)) (*Intake, func()) {
	t.Helper()
	return runIntakeCtx(context.Background(), t, s, rec, health, tweak)
}

// runIntakeCtx is runIntake under a parent context.
func runIntakeCtx(parent context.Context, t *testing.T, s *server, rec *recorder, health *healthLog, tweak func(*IMAPConfig, *Intake)) (*Intake, func()) {
	t.Helper()
	cfg := IMAPConfig{
		Address: s.addr, Security: "none", Username: s.user, Password: s.password,
		PollInterval: time.Hour, IdleRestart: time.Hour, // tests opt into timers explicitly
	}
	opts := IntakeOptions{Parse: standInParse, DedupeKey: standInKey, BatchSize: 2}
	if health != nil {
		opts.Health = health.record
	}
	in, err := NewIntake(cfg, rec, opts)
	if err != nil {
		t.Fatal(err)
	}
	in.backoffMin, in.backoffMax, in.cmdTimeout = 20*time.Millisecond, 200*time.Millisecond, 10*time.Second
	if tweak != nil {
		tweak(&in.cfg, in)
	}
	// Every log line goes to t.Log and is checked for the password.
	w := testWriter{t: t, secret: in.cfg.Password}
	in.log = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})).With("mailbox", in.cfg.Mailbox)
	ctx, cancel := context.WithCancel(parent)
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("Run returned %v, want context.Canceled", err)
			}
		})
	}
	t.Cleanup(stop)
	return in, stop
}

// testWriter sends log lines to t.Log, so that they show with -v or on
// failure, and fails the test if one contains secret.
type testWriter struct {
	t      *testing.T
	secret string
}

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	if w.secret != "" && bytes.Contains(p, []byte(w.secret)) {
		w.t.Errorf("the password was logged: %s", p)
	}
	return len(p), nil
}
