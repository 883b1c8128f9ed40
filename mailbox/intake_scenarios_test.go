package mailbox

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

var folders = []string{"Processed", "Failed"}

// A backlog is ingested once, in UID order, in batches; good mail goes to
// Processed, unparsable mail to Failed; nothing is marked \Seen; a message
// appended while idling is picked up through IDLE (the poll timer is an
// hour); a later restart ingests nothing that was already recorded.
func TestIntakeBacklogIdleAndRestart(t *testing.T) {
	forEachServer(t, []string{}, func(t *testing.T, s *server) { // intake creates the folders
		date := time.Date(2026, 3, 4, 10, 11, 12, 0, time.UTC)
		s.appendAt(t, "INBOX", msg("a@x"), date)
		s.appendMsg(t, "INBOX", msg("b@x"))
		s.appendMsg(t, "INBOX", msg("c@x"))
		s.appendMsg(t, "INBOX", badMsg("bad@x"))
		s.appendMsg(t, "INBOX", msg("d@x"))
		rec := newRecorder()
		health := &healthLog{}
		_, stop := runIntake(t, s, rec, health, nil)

		s.waitIDs(t, "Processed", "a@x", "b@x", "c@x", "d@x")
		s.waitIDs(t, "Failed", "bad@x")
		s.waitIDs(t, "INBOX")
		created, _, offered := rec.snapshot()
		if want := []string{"a@x", "b@x", "c@x", "dead:bad@x", "d@x"}; !slices.Equal(created, want) {
			t.Fatalf("created %v, want %v", created, want)
		}
		if want := [][]uint32{{1, 2}, {3, 4}, {5}}; !slices.EqualFunc(offered, want, slices.Equal) {
			t.Fatalf("batches %v, want %v", offered, want)
		}
		if got := rec.receivedAt("mid:a@x"); !got.Equal(date) {
			t.Fatalf("Mail.Received = %v, want the INTERNALDATE %v", got, date)
		}
		if ids, seen := s.ids(t, "Processed"); seen {
			t.Fatalf("intake set \\Seen on %v", ids)
		}
		if ev := health.get(); len(ev) == 0 || ev[0] != "up" {
			t.Fatalf("health events %v, want first up", ev)
		}

		s.appendMsg(t, "INBOX", msg("e@x")) // intake is idling or about to
		s.waitIDs(t, "Processed", "a@x", "b@x", "c@x", "d@x", "e@x")
		stop()

		// Restart with the same desk state: only new mail is offered.
		s.appendMsg(t, "INBOX", msg("f@x"))
		_, stop = runIntake(t, s, rec, nil, nil)
		s.waitIDs(t, "Processed", "a@x", "b@x", "c@x", "d@x", "e@x", "f@x")
		stop()
		created, keys, _ := rec.snapshot()
		if want := []string{"a@x", "b@x", "c@x", "dead:bad@x", "d@x", "e@x", "f@x"}; !slices.Equal(created, want) {
			t.Fatalf("created %v, want %v", created, want)
		}
		if len(keys) != len(created) {
			t.Fatalf("offered keys %v: something was offered twice", keys)
		}
	})
}

// A crash after Ingest committed but before the move leaves the batch in
// the mailbox below the cursor; the next start offers it again, the desk
// answers "duplicate", and it is moved without creating anything.
func TestIntakeSweepAfterCrashBeforeMove(t *testing.T) {
	forEachServer(t, folders, func(t *testing.T, s *server) {
		s.appendMsg(t, "INBOX", msg("a@x"))
		s.appendMsg(t, "INBOX", badMsg("bad@x"))
		rec := newRecorder()
		crash, cancel := context.WithCancel(context.Background())
		defer cancel()
		rec.setAfterCommit(cancel) // the process dies right after the commit
		_, stop := runIntakeCtx(crash, t, s, rec, nil, nil)
		<-crash.Done()
		stop()
		rec.setAfterCommit(nil)
		if ids, _ := s.ids(t, "INBOX"); len(ids) != 2 {
			t.Fatalf("INBOX after crash = %v, want both messages left", ids)
		}

		s.appendMsg(t, "INBOX", msg("c@x"))
		_, stop = runIntake(t, s, rec, nil, nil)
		s.waitIDs(t, "Processed", "a@x", "c@x")
		s.waitIDs(t, "Failed", "bad@x")
		s.waitIDs(t, "INBOX")
		stop()
		created, keys, _ := rec.snapshot()
		if want := []string{"a@x", "dead:bad@x", "c@x"}; !slices.Equal(created, want) {
			t.Fatalf("created %v, want %v", created, want)
		}
		if want := []string{"mid:a@x", "mid:bad@x", "mid:a@x", "mid:bad@x", "mid:c@x"}; !slices.Equal(keys, want) {
			t.Fatalf("offered keys %v, want %v", keys, want)
		}
	})
}

// When the mailbox is deleted and recreated (new UIDVALIDITY) with the
// same mail in it, the cursor restarts and the desk recognises the mail:
// nothing new is created, and the copies are moved away.
func TestIntakeUIDValidityChange(t *testing.T) {
	forEachServer(t, append([]string{"Support"}, folders...), func(t *testing.T, s *server) {
		s.appendMsg(t, "Support", msg("a@x"))
		s.appendMsg(t, "Support", msg("b@x"))
		rec := newRecorder()
		in, stop := runIntake(t, s, rec, nil, func(c *IMAPConfig, _ *Intake) { c.Mailbox = "Support" })
		defer stop()
		s.waitIDs(t, "Processed", "a@x", "b@x")
		before, _ := rec.Cursor(context.Background(), "Support")

		c := s.client(t)
		if err := c.Delete("Support").Wait(); err != nil {
			t.Fatal(err)
		}
		if err := c.Create("Support", nil).Wait(); err != nil {
			t.Fatal(err)
		}
		s.appendMsg(t, "Support", msg("a@x"))
		s.appendMsg(t, "Support", msg("b@x"))
		s.appendMsg(t, "Support", msg("c@x"))
		in.Kick() // the memserver does not tell a client its mailbox was replaced
		s.waitIDs(t, "Processed", "a@x", "b@x", "a@x", "b@x", "c@x")
		s.waitIDs(t, "Support")
		created, _, _ := rec.snapshot()
		if want := []string{"a@x", "b@x", "c@x"}; !slices.Equal(created, want) {
			t.Fatalf("created %v, want %v", created, want)
		}
		after, _ := rec.Cursor(context.Background(), "Support")
		if after.UIDValidity == before.UIDValidity || after.LastUID != 3 {
			t.Fatalf("cursor %+v -> %+v, want a new UIDVALIDITY at UID 3", before, after)
		}
	})
}

// A connection broken under the intake is re-established, mail appended
// meanwhile is taken, and health goes down then up again.
func TestIntakeReconnects(t *testing.T) {
	forEachServer(t, folders, func(t *testing.T, s *server) {
		rec := newRecorder()
		health := &healthLog{}
		_, stop := runIntake(t, s, rec, health, nil)
		defer stop()
		s.appendMsg(t, "INBOX", msg("a@x"))
		s.waitIDs(t, "Processed", "a@x")

		s.drop(t)
		s.appendMsg(t, "INBOX", msg("b@x"))
		s.waitIDs(t, "Processed", "a@x", "b@x")
		s.appendMsg(t, "INBOX", msg("c@x")) // and IDLE works on the new connection
		s.waitIDs(t, "Processed", "a@x", "b@x", "c@x")
		created, _, _ := rec.snapshot()
		if want := []string{"a@x", "b@x", "c@x"}; !slices.Equal(created, want) {
			t.Fatalf("created %v, want %v", created, want)
		}
		ev := health.get()
		down := slices.IndexFunc(ev, func(e string) bool { return strings.HasPrefix(e, "down: imap:") })
		if down < 1 || !slices.Contains(ev[down:], "up") {
			t.Fatalf("health events %v, want up, down, up", ev)
		}
	})
}

// While Ingest fails nothing is moved; once it recovers the same messages
// are offered again and handled once.
func TestIntakeIngestErrorMovesNothing(t *testing.T) {
	forEachServer(t, folders, func(t *testing.T, s *server) {
		s.appendMsg(t, "INBOX", msg("a@x"))
		s.appendMsg(t, "INBOX", msg("b@x"))
		rec := newRecorder()
		rec.setFailing(true)
		health := &healthLog{}
		_, stop := runIntake(t, s, rec, health, nil)
		defer stop()
		eventually(t, "two failed Ingest calls", func() bool { return rec.failCount() >= 2 })
		if ids, _ := s.ids(t, "INBOX"); !slices.Equal(ids, []string{"a@x", "b@x"}) {
			t.Fatalf("INBOX while failing = %v", ids)
		}
		if ids, _ := s.ids(t, "Processed"); len(ids) != 0 {
			t.Fatalf("Processed while failing = %v", ids)
		}
		if ev := health.get(); !slices.ContainsFunc(ev, func(e string) bool { return strings.Contains(e, "disk full") }) {
			t.Fatalf("health events %v, want the Ingest error", ev)
		}

		rec.setFailing(false)
		s.waitIDs(t, "Processed", "a@x", "b@x")
		created, _, offered := rec.snapshot()
		if !slices.Equal(created, []string{"a@x", "b@x"}) {
			t.Fatalf("created %v", created)
		}
		for _, b := range offered {
			if !slices.Equal(b, []uint32{1, 2}) {
				t.Fatalf("offered batches %v, want always [1 2]", offered)
			}
		}
	})
}

// Without IDLE the intake polls every PollInterval; the fallback moves
// (COPY+EXPUNGE with UIDPLUS, COPY+flag without) take mail out of the
// way as well as MOVE does.
func TestIntakePollingAndMoveFallbacks(t *testing.T) {
	for _, mode := range []moveMode{moveCopyExpunge, moveCopyFlag} {
		t.Run(map[moveMode]string{moveCopyExpunge: "copy-expunge", moveCopyFlag: "copy-flag"}[mode], func(t *testing.T) {
			forEachServer(t, folders, func(t *testing.T, s *server) {
				s.appendMsg(t, "INBOX", msg("a@x"))
				s.appendMsg(t, "INBOX", badMsg("bad@x"))
				rec := newRecorder()
				polling := func(c *IMAPConfig, in *Intake) {
					c.PollInterval = 50 * time.Millisecond
					in.noIdle, in.moveMode = true, mode
				}
				_, stop := runIntake(t, s, rec, nil, polling)
				s.waitIDs(t, "Processed", "a@x")
				s.waitIDs(t, "Failed", "bad@x")
				s.appendMsg(t, "INBOX", msg("b@x")) // found by polling only
				s.waitIDs(t, "Processed", "a@x", "b@x")
				// Let the move finish: stopping between COPY and the flag
				// or EXPUNGE would (rightly) copy again after the restart.
				if mode == moveCopyExpunge {
					s.waitIDs(t, "INBOX")
				} else {
					eventually(t, "all flagged", func() bool { return s.unflagged(t, "INBOX", flagProcessed) == 0 })
				}
				stop()
				left, _ := s.ids(t, "INBOX")
				if mode == moveCopyExpunge && len(left) != 0 {
					t.Fatalf("INBOX after copy+expunge = %v", left)
				}
				if mode == moveCopyFlag && !slices.Equal(left, []string{"a@x", "bad@x", "b@x"}) {
					t.Fatalf("INBOX after copy+flag = %v, want the flagged originals", left)
				}
				// A restart's sweep skips the flagged originals.
				_, stop = runIntake(t, s, rec, nil, polling)
				s.appendMsg(t, "INBOX", msg("c@x"))
				s.waitIDs(t, "Processed", "a@x", "b@x", "c@x")
				stop()
				_, keys, _ := rec.snapshot()
				if want := []string{"mid:a@x", "mid:bad@x", "mid:b@x", "mid:c@x"}; !slices.Equal(keys, want) {
					t.Fatalf("offered keys %v, want %v", keys, want)
				}
			})
		})
	}
}

// Login and connection failures keep Run retrying and report a reason
// naming the setting to fix; the password never appears in it.
func TestIntakeHealthReasons(t *testing.T) {
	forEachServer(t, folders, func(t *testing.T, s *server) {
		cases := []struct {
			name  string
			tweak func(*IMAPConfig, *Intake)
			want  string
		}{
			{"bad password", func(c *IMAPConfig, _ *Intake) { c.Password = "hunter2-wrong" }, "check imap.username and imap.password"},
			{"refused", func(c *IMAPConfig, _ *Intake) { c.Address = "127.0.0.1:1" }, "connection refused: check imap.address"},
			{"not tls", func(c *IMAPConfig, _ *Intake) { c.Security = "tls" }, "check imap.security"},
			{"no such mailbox", func(c *IMAPConfig, _ *Intake) { c.Mailbox = "Nope" }, `cannot open mailbox "Nope"`},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				health := &healthLog{}
				_, stop := runIntake(t, s, newRecorder(), health, tc.tweak)
				eventually(t, "a down report", func() bool { return len(health.get()) > 0 })
				stop()
				ev := health.get()
				if !strings.HasPrefix(ev[0], "down: ") || !strings.Contains(ev[0], tc.want) {
					t.Fatalf("health %q, want down with %q", ev[0], tc.want)
				}
				if strings.Contains(ev[0], "hunter2") || strings.Contains(ev[0], s.password) {
					t.Fatalf("health reason leaks the password: %q", ev[0])
				}
			})
		}
	})
}

func TestNewIntakeValidates(t *testing.T) {
	opts := IntakeOptions{Parse: standInParse, DedupeKey: standInKey}
	// Package config reports bad settings to people; NewIntake still
	// refuses what it cannot work with, and plain text off loopback.
	_, err := NewIntake(IMAPConfig{Address: "mail.example.test:143", Security: "none", Username: "u", Password: "p"}, newRecorder(), opts)
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("NewIntake accepted a plaintext non-loopback server: %v", err)
	}
	_, err = NewIntake(IMAPConfig{Address: "mail.example.test:993", Security: "ssl", Username: "u", Password: "p"}, newRecorder(), IntakeOptions{})
	for _, want := range []string{"imap security \"ssl\"", "Parse"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
	_, err = NewIntake(IMAPConfig{Address: "nohost", Security: "tls"}, newRecorder(), opts)
	if err == nil || !strings.Contains(err.Error(), "host:port") {
		t.Errorf("NewIntake accepted an address without a port: %v", err)
	}
	in, err := NewIntake(IMAPConfig{Address: "[::1]:143", Security: "none", Username: "u", Password: "p"}, newRecorder(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if in.cfg.Mailbox != "INBOX" || in.cfg.Processed != "Processed" || in.cfg.Failed != "Failed" ||
		in.cfg.PollInterval != time.Minute || in.cfg.IdleRestart != 10*time.Minute || in.opts.BatchSize != 100 {
		t.Fatalf("defaults not applied: %+v %+v", in.cfg, in.opts)
	}
}

func TestBackoffGrowsToCap(t *testing.T) {
	in := &Intake{backoffMin: time.Second, backoffMax: 2 * time.Minute}
	for n, hi := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if d := in.backoff(n); d < hi/2 || d > hi {
			t.Errorf("backoff(%d) = %v, want in [%v, %v]", n, d, hi/2, hi)
		}
	}
	if d := in.backoff(50); d < time.Minute || d > 2*time.Minute {
		t.Errorf("backoff(50) = %v, want within the 2 min cap", d)
	}
}

// Batches are bounded by bytes as well as by count, so a run of large
// mails cannot exhaust memory: with a limit below two messages' size,
// every message is a batch of its own, and a message bigger than the
// limit still goes through alone.
func TestIntakeBatchesAreBoundedByBytes(t *testing.T) {
	forEachServer(t, []string{"Processed", "Failed"}, func(t *testing.T, s *server) {
		big := msg("big@x")
		big = append(big, bytes.Repeat([]byte("0123456789abcdef\r\n"), 200)...) // about 3.6 kB
		s.appendMsg(t, "INBOX", msg("s1@x"))
		s.appendMsg(t, "INBOX", big)
		s.appendMsg(t, "INBOX", msg("s2@x"))
		s.appendMsg(t, "INBOX", msg("s3@x"))
		rec := newRecorder()
		_, stop := runIntake(t, s, rec, nil, func(_ *IMAPConfig, in *Intake) {
			in.opts.BatchBytes = int64(len(msg("s1@x"))*2 + 10) // two small mails, not three
		})
		s.waitIDs(t, "Processed", "s1@x", "big@x", "s2@x", "s3@x")
		stop()
		_, _, offered := rec.snapshot()
		if want := [][]uint32{{1}, {2}, {3, 4}}; !slices.EqualFunc(offered, want, slices.Equal) {
			t.Fatalf("batches %v, want %v (BatchSize 2, and the big mail alone)", offered, want)
		}
	})
}

func TestFitBytes(t *testing.T) {
	uids := []imap.UID{1, 2, 3, 4}
	for _, c := range []struct {
		sizes map[imap.UID]int64
		limit int64
		want  int
	}{
		{map[imap.UID]int64{1: 10, 2: 10, 3: 10, 4: 10}, 100, 4},
		{map[imap.UID]int64{1: 10, 2: 10, 3: 10, 4: 10}, 25, 2},
		{map[imap.UID]int64{1: 500, 2: 10}, 100, 1}, // too big alone: still goes
		{map[imap.UID]int64{1: 10, 2: 500}, 100, 1},
		{map[imap.UID]int64{}, 1, 4}, // sizes unknown (expunged)
	} {
		if got := fitBytes(uids, c.sizes, c.limit); got != c.want {
			t.Errorf("fitBytes(%v, %d) = %d, want %d", c.sizes, c.limit, got, c.want)
		}
	}
}
