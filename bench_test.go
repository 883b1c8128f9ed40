package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	bolt "go.etcd.io/bbolt"

	"rfadesk/chat"
	"rfadesk/chat/discordtest"
	"rfadesk/config"
	"rfadesk/demo"
	"rfadesk/mailbox/dovecottest"
)

// The intake benchmarks run the real daemon (fsynced store) against a
// real Dovecot and the capture SMTP server, and print the figures the
// README quotes. Run them with
//
//	go test -run '^$' -bench 'Intake|MailToCard' -benchtime 1x .
//
// (bench/run runs them with bench/archive and prints one table.)
//
// Each does its work once whatever b.N is: the figures are rates and
// latencies measured inside, reported with b.ReportMetric and printed
// as table rows.

const (
	backlogMails = 10_000
	latencyMails = 100
)

// BenchmarkIntakeBacklog: 10,000 mails already in Dovecot, from daemon
// start to the last acknowledgement accepted by the SMTP server, beside
// the two ceilings: one go-imap connection's UID FETCH of the same mails,
// and fsynced bbolt commits per second on the store's disk (each mail
// costs at least one: its delivery record).
func BenchmarkIntakeBacklog(b *testing.B) {
	srv := dovecottest.Start(b, &dovecottest.Options{Mailboxes: []string{"Processed", "Failed"}})
	smtp := startBenchSMTP(b)
	appendBacklog(b, srv, backlogMails)
	dir := b.TempDir()

	fetchRate := fetchCeiling(b, srv, backlogMails)
	// The disk is shared: measure the commit ceiling on both sides of
	// the run and compare with their mean.
	commitBefore := commitCeiling(b, dir)

	b.ResetTimer()
	start := time.Now()
	stop := startBenchDaemon(b, dir, srv, smtp.Addr())
	intakeDone := watchInboxEmpty(b, srv)
	msgs := waitAcks(b, smtp, backlogMails, 10*time.Minute)
	stop()
	b.StopTimer()
	emptied := <-intakeDone
	commitAfter := commitCeiling(b, dir)
	checkOneAckEach(b, msgs, backlogMails)

	last := msgs[len(msgs)-1].At
	rate := float64(backlogMails) / last.Sub(start).Seconds()
	commitRate := (commitBefore + commitAfter) / 2
	share := 100 * rate / commitRate
	b.ReportMetric(rate, "mails/s")
	b.ReportMetric(fetchRate, "fetch-mails/s")
	b.ReportMetric(commitRate, "commits/s")
	b.ReportMetric(share, "%commit-ceiling")
	printHeader()
	printRow(fmt.Sprintf("Backlog of %d mails in Dovecot, start to last ack accepted", backlogMails), fmt.Sprintf("%.0f mails/s", rate), "")
	printRow("Ceiling: one go-imap connection, UID FETCH of the same mails", fmt.Sprintf("%.0f mails/s", fetchRate), "context")
	printRow("Ceiling: fsynced bbolt commits/s, same disk (before, after)", fmt.Sprintf("%.0f (%.0f, %.0f)", commitRate, commitBefore, commitAfter), "")
	printRow("Backlog as a share of the commit ceiling", fmt.Sprintf("%.0f%%", share), ">= 50%")
	printRow("  first ack accepted after", fmt.Sprintf("%.2f s", msgs[0].At.Sub(start).Seconds()), "")
	if !emptied.IsZero() {
		printRow("  every mail committed and moved out of INBOX after", fmt.Sprintf("%.1f s", emptied.Sub(start).Seconds()), "")
	}
	printRow("  last ack accepted after", fmt.Sprintf("%.1f s", last.Sub(start).Seconds()), "")
	if !emptied.IsZero() && last.After(emptied) {
		acked := 0
		for _, m := range msgs {
			if !m.At.After(emptied) {
				acked++
			}
		}
		printRow("  acks once intake was done (deliverer alone)", fmt.Sprintf("%.0f mails/s", float64(len(msgs)-acked)/last.Sub(emptied).Seconds()), "")
	}
}

func printHeader() {
	fmt.Printf("| %-62s | %-22s | %-9s |\n", "Figure", "This run", "Aim")
	fmt.Printf("|%s|%s:|%s|\n", strings.Repeat("-", 64), strings.Repeat("-", 23), strings.Repeat("-", 11))
}

func printRow(what, value, aim string) {
	fmt.Printf("| %-62s | %22s | %-9s |\n", what, value, aim)
}

// BenchmarkIntakeLatency: with the daemon idling on an empty mailbox,
// mails land one at a time (IMAP APPEND returns) and the time until the
// SMTP server accepts each acknowledgement is taken.
func BenchmarkIntakeLatency(b *testing.B) {
	srv := dovecottest.Start(b, &dovecottest.Options{Mailboxes: []string{"Processed", "Failed"}})
	smtp := startBenchSMTP(b)
	dir := b.TempDir()
	stop := startBenchDaemon(b, dir, srv, smtp.Addr())
	defer stop()

	// Warm up: the first mail dials SMTP and fills caches.
	landAndWait(b, srv, smtp, 0)
	b.ResetTimer()
	lat := make([]time.Duration, 0, latencyMails)
	for i := 1; i <= latencyMails; i++ {
		lat = append(lat, landAndWait(b, srv, smtp, i))
		time.Sleep(200 * time.Millisecond) // let the move and record finish: one mail at a time
	}
	b.StopTimer()
	slices.Sort(lat)
	med := lat[len(lat)/2]
	p99 := lat[(len(lat)*99+99)/100-1]
	b.ReportMetric(float64(med.Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	printHeader()
	printRow(fmt.Sprintf("Latency, mail lands to its ack accepted: median of %d", latencyMails), fmt.Sprintf("%.0f ms", float64(med.Microseconds())/1000), "<= 600 ms")
	printRow(fmt.Sprintf("Latency, mail lands to its ack accepted: p99 of %d", latencyMails), fmt.Sprintf("%.0f ms", float64(p99.Microseconds())/1000), "< 1 s")
	printRow("  of which Dovecot's own IDLE notification delay", "500 ms", "")
}

// benchMail is a realistic report from a distinct requester (the
// per-sender rate limit would otherwise hold back acknowledgements).
func benchMail(i int) []byte {
	return []byte(fmt.Sprintf("From: Requester %[1]d <req%[1]d@oakprimary.sch.uk>\r\n"+
		"To: support@example.org\r\nSubject: Registers will not save (%[1]d)\r\n"+
		"Date: Thu, 26 Nov 2026 09:%02[2]d:00 +0000\r\nMessage-ID: <bench-%[1]d@oakprimary.sch.uk>\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
		"Hello,\r\n\r\nSince this morning the attendance registers will not save for any\r\n"+
		"class in the main building. Teachers press Save and get an error.\r\n\r\n"+
		"Site: Main building\r\nComponent: Attendance\r\nLevel: Bronze\r\n"+
		"Action taken: restarted the browser and tried another PC\r\n"+
		"Error message: Invalid session token (E%[1]d)\r\nCan replicate: yes\r\n\r\n"+
		"Thanks,\r\nRequester %[1]d\r\nOak Primary School\r\n", i, i%60))
}

func startBenchSMTP(b *testing.B) *demo.SMTPCapture {
	b.Helper()
	s, err := demo.StartSMTPCapture(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// appendBacklog delivers n mails into INBOX the way a local delivery
// agent does, as files in the Maildir's new/ directory (owned like the
// directory): far faster than APPEND, and Dovecot indexes them at the
// first SELECT, which fetchCeiling does before anything is timed.
func appendBacklog(b *testing.B, srv *dovecottest.Server, n int) {
	b.Helper()
	newDir := filepath.Join(srv.Dir(), "mail", srv.User(), "Maildir", "new")
	fi, err := os.Stat(newDir)
	if err != nil {
		b.Fatalf("maildir of the test Dovecot: %v", err)
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	now := time.Now()
	for i := 1; i <= n; i++ {
		raw := benchMail(i)
		name := fmt.Sprintf("%d.M%dP%dQ%d.bench,S=%d", now.Unix(), now.Nanosecond()/1000, os.Getpid(), i, len(raw))
		path := filepath.Join(newDir, name)
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			b.Fatal(err)
		}
		if st != nil {
			if err := os.Chown(path, int(st.Uid), int(st.Gid)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// fetchCeiling fetches every mail in INBOX over one connection, as
// intake does (UID, INTERNALDATE, RFC822.SIZE, BODY.PEEK[]), once to
// warm Dovecot's caches and once timed, and returns mails per second.
func fetchCeiling(b *testing.B, srv *dovecottest.Server, n int) float64 {
	b.Helper()
	c := srv.Dial(b)
	defer c.Close()
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		b.Fatal(err)
	}
	var rate float64
	for range 2 {
		var all imap.UIDSet
		all.AddRange(1, 0)
		body := &imap.FetchItemBodySection{Peek: true}
		start := time.Now()
		cmd := c.Fetch(all, &imap.FetchOptions{UID: true, InternalDate: true, RFC822Size: true, BodySection: []*imap.FetchItemBodySection{body}})
		got := 0
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			buf, err := msg.Collect()
			if err != nil {
				b.Fatal(err)
			}
			if buf.FindBodySection(body) != nil {
				got++
			}
		}
		if err := cmd.Close(); err != nil {
			b.Fatal(err)
		}
		if got != n {
			b.Fatalf("fetched %d mails, want %d", got, n)
		}
		rate = float64(n) / time.Since(start).Seconds()
	}
	return rate
}

// watchInboxEmpty polls INBOX over its own connection every 100 ms and
// sends the time it was first seen empty (intake has committed and
// moved every mail), or the zero time if that does not happen before
// the benchmark ends.
func watchInboxEmpty(b *testing.B, srv *dovecottest.Server) <-chan time.Time {
	b.Helper()
	c := srv.Dial(b)
	out := make(chan time.Time, 1)
	go func() {
		defer c.Close()
		deadline := time.Now().Add(10 * time.Minute)
		for time.Now().Before(deadline) {
			st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
			if err != nil {
				break
			}
			if st.NumMessages != nil && *st.NumMessages == 0 {
				out <- time.Now()
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		out <- time.Time{}
	}()
	return out
}

// commitCeiling returns fsynced bbolt commits per second in dir, each a
// small Update like a delivery record, over about a second. It first
// flushes the page cache (sync(2)), so writeback left by earlier work
// (Dovecot runs with mail_fsync=never) does not slow it down.
func commitCeiling(b *testing.B, dir string) float64 {
	b.Helper()
	syscall.Sync()
	path := filepath.Join(dir, "ceiling.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer os.Remove(path)
	defer db.Close()
	val := []byte(strings.Repeat("x", 200))
	start := time.Now()
	n := 0
	for ; time.Since(start) < time.Second || n < 500; n++ {
		err := db.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("b"))
			if err != nil {
				return err
			}
			return bk.Put(binary.BigEndian.AppendUint64(nil, uint64(n)), val)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

// startBenchDaemon runs the daemon in-process with an fsynced store in
// dir, its loaded configuration changed by edits, and returns a stop
// function.
func startBenchDaemon(b *testing.B, dir string, srv *dovecottest.Server, smtpAddr string, edits ...func(*config.Config)) (stop func()) {
	b.Helper()
	cfgPath := filepath.Join(dir, "rfadesk.toml")
	writeLoopbackConfig(b, cfgPath, filepath.Join(dir, "rfadesk.db"), srv.Addr(), srv.User(), srv.Password(), smtpAddr)
	cfg, err := config.Load(cfgPath, func(string) string { return "" })
	if err != nil {
		b.Fatal(err)
	}
	for _, edit := range edits {
		edit(cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// Info level as in production, formatted but not written.
	go func() { done <- runDaemon(ctx, cfg, daemonOptions{Logger: newLogger(io.Discard, slog.LevelInfo)}) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				b.Errorf("daemon: %v", err)
			}
		})
	}
	b.Cleanup(stop)
	return stop
}

func waitAcks(b *testing.B, smtp *demo.SMTPCapture, n int, limit time.Duration) []demo.CapturedMail {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	msgs, err := smtp.Wait(ctx, n)
	if err != nil {
		b.Fatal(err)
	}
	return msgs
}

// checkOneAckEach fails unless each of the n requesters got exactly one
// acknowledgement.
func checkOneAckEach(b *testing.B, msgs []demo.CapturedMail, n int) {
	b.Helper()
	seen := make(map[string]int, n)
	for _, m := range msgs {
		seen[m.To[0]]++
	}
	for i := 1; i <= n; i++ {
		if c := seen[fmt.Sprintf("req%d@oakprimary.sch.uk", i)]; c != 1 {
			b.Fatalf("req%d got %d acknowledgements, want 1", i, c)
		}
	}
}

// landAndWait appends mail i and returns the time from APPEND's OK to
// the SMTP server accepting its acknowledgement.
func landAndWait(b *testing.B, srv *dovecottest.Server, smtp *demo.SMTPCapture, i int) time.Duration {
	b.Helper()
	before := len(smtp.Messages())
	srv.Append(b, "INBOX", benchMail(i), time.Time{})
	landed := time.Now()
	msgs := waitAcks(b, smtp, before+1, time.Minute)
	m := msgs[before]
	if want := fmt.Sprintf("req%d@oakprimary.sch.uk", i); m.To[0] != want {
		b.Fatalf("acknowledgement went to %s, want %s", m.To[0], want)
	}
	return m.At.Sub(landed)
}

// BenchmarkMailToCard: with the daemon idling on an empty mailbox and
// connected to the fake Discord, mails land one at a time (IMAP APPEND
// returns) and the time until the card's create request reaches the
// fake (Message.Stored) is taken. The reference is the fake's own
// answer to the same card POSTed straight to it.
func BenchmarkMailToCard(b *testing.B) {
	srv := dovecottest.Start(b, &dovecottest.Options{Mailboxes: []string{"Processed", "Failed"}})
	smtp := startBenchSMTP(b)
	fake := discordtest.New(&discordtest.Options{GuildID: "100"})
	b.Cleanup(fake.Close)
	stop := startBenchDaemon(b, b.TempDir(), srv, smtp.Addr(), func(cfg *config.Config) {
		cfg.Discord = config.Discord{Enabled: true, Config: chat.Config{Token: "bench-token", GuildID: "100",
			ChannelID: benchCardChannel, StaffRoleID: "700", OpsChannelID: "300", APIBase: fake.APIBase()}}
		cfg.Desk.Chat = true
	})
	defer stop()

	card, _ := landAndCard(b, srv, fake, 0) // warm up: the first card dials the fake
	b.ResetTimer()
	lat := make([]time.Duration, 0, latencyMails)
	for i := 1; i <= latencyMails; i++ {
		_, d := landAndCard(b, srv, fake, i)
		lat = append(lat, d)
		time.Sleep(200 * time.Millisecond) // let the thread, move and ack finish: one mail at a time
	}
	b.StopTimer()
	ref := fakeResponseTimes(b, fake, card.Body, latencyMails)
	med, p99 := medianP99(lat)
	refMed, refP99 := medianP99(ref)
	b.ReportMetric(ms(med), "median-ms")
	b.ReportMetric(ms(p99), "p99-ms")
	printHeader()
	printRow(fmt.Sprintf("Mail lands to its Discord card at the fake: median of %d", latencyMails), fmt.Sprintf("%.0f ms", ms(med)), "")
	printRow(fmt.Sprintf("Mail lands to its Discord card at the fake: p99 of %d", latencyMails), fmt.Sprintf("%.0f ms", ms(p99)), "")
	printRow("  of which Dovecot's own IDLE notification delay", "500 ms", "")
	printRow("Reference: the fake's answer to a card POST, median / p99", fmt.Sprintf("%.2f / %.2f ms", ms(refMed), ms(refP99)), "context")
}

const benchCardChannel = "200"

// landAndCard appends mail i and returns its card and the time from
// APPEND's OK to the fake storing the card.
func landAndCard(b *testing.B, srv *dovecottest.Server, fake *discordtest.Server, i int) (discordtest.Message, time.Duration) {
	b.Helper()
	before := len(fake.Messages(benchCardChannel))
	subject := fmt.Sprintf("Registers will not save (%d)", i)
	srv.Append(b, "INBOX", benchMail(i), time.Time{})
	landed := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var card discordtest.Message
	err := fake.Wait(ctx, func() bool {
		for _, m := range fake.Messages(benchCardChannel)[before:] {
			if m.Bot && strings.Contains(string(m.Body), subject) {
				card = m
				return true
			}
		}
		return false
	})
	if err != nil {
		b.Fatalf("no card for mail %d: %v", i, err)
	}
	return card, card.Stored.Sub(landed)
}

// fakeResponseTimes POSTs body to the fake as a new message n times over
// one keep-alive connection and returns each round trip.
func fakeResponseTimes(b *testing.B, fake *discordtest.Server, body []byte, n int) []time.Duration {
	b.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	out := make([]time.Duration, 0, n)
	for i := 0; i <= n; i++ {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, fake.APIBase()+"/channels/400/messages", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bot bench-token")
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("fake answered a card POST with %d", resp.StatusCode)
		}
		if i > 0 { // the first one dials
			out = append(out, d)
		}
	}
	return out
}

// medianP99 sorts lat and returns its median and 99th percentile.
func medianP99(lat []time.Duration) (med, p99 time.Duration) {
	slices.Sort(lat)
	return lat[len(lat)/2], lat[(len(lat)*99+99)/100-1]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
