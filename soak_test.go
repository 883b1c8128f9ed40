package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"rfadesk/chat"
	"rfadesk/chat/discordtest"
	"rfadesk/config"
	"rfadesk/demo"
	"rfadesk/demo/faultproxy"
	"rfadesk/store"
)

// soakSample is one reading of the daemon's process-wide resources.
type soakSample struct {
	at         time.Duration // since the traffic started
	goroutines int
	heapInUse  uint64 // bytes, after a GC
	daemonHeap int64  // bytes of heapInUse the daemon allocated (daemonHeap)
	fds        int
}

// takeSoakSample collects garbage, then reads the goroutine count, the
// heap in use and the number of open file descriptors of this process.
func takeSoakSample(t *testing.T, at time.Duration) soakSample {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("counting open files: %v", err)
	}
	return soakSample{at: at, goroutines: runtime.NumGoroutine(), heapInUse: ms.HeapInuse, daemonHeap: daemonHeap(), fds: len(fds)}
}

// harnessFrames name the functions whose allocations are the test's
// servers keeping a record of the traffic (every request the fake Discord
// got, every mail captured or appended), not the daemon's.
var harnessFrames = []string{
	"rfadesk/chat/discordtest.",
	"rfadesk/demo.",
	"rfadesk.TestSoakStaysFlat",
	"github.com/emersion/go-imap/v2/imapserver",
	"github.com/emersion/go-smtp.(*Server)",
	"github.com/emersion/go-smtp.(*Conn)",
}

// daemonHeap estimates the in-use bytes, from the heap profile, of the
// allocations not made by the test's servers (harnessFrames). The
// profile reflects the last completed GC, hence the two.
func daemonHeap() int64 {
	runtime.GC()
	runtime.GC()
	n, _ := runtime.MemProfile(nil, false)
	records := make([]runtime.MemProfileRecord, n+100)
	n, _ = runtime.MemProfile(records, false)
	var total int64
	for _, r := range records[:n] {
		if objs := r.InUseObjects(); objs > 0 && !harnessStack(r.Stack()) {
			// Unsample as pprof does: an allocation of size s was
			// recorded with probability 1-exp(-s/rate).
			avg := float64(r.InUseBytes()) / float64(objs)
			total += int64(float64(r.InUseBytes()) / (1 - math.Exp(-avg/float64(runtime.MemProfileRate))))
		}
	}
	return total
}

func harnessStack(pcs []uintptr) bool {
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		for _, h := range harnessFrames {
			if strings.HasPrefix(f.Function, h) {
				return true
			}
		}
		if !more {
			return false
		}
	}
}

// soakDuration is how long the soak sends traffic: RFADESK_SOAK, a Go
// duration such as 60s or 5m. Without it the soak is skipped: it is
// evidence to run on purpose, not part of every test run.
func soakDuration(t *testing.T) time.Duration {
	v := os.Getenv("RFADESK_SOAK")
	if v == "" {
		t.Skip("set RFADESK_SOAK (e.g. 60s or 5m) to run the soak")
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 10*time.Second {
		t.Fatalf("RFADESK_SOAK=%q: want a duration of at least 10s, such as 5m", v)
	}
	return d
}

// TestSoakStaysFlat runs the real daemon against the in-process IMAP
// server, the SMTP capture and the fake Discord, the SMTP and Discord
// REST connections going through fault proxies that cut a connection
// every few seconds and black-hole all of them now and then, while mail
// arrives at 10 a second and staff answer in chat threads. After a
// warm-up it samples goroutines, heap in use and open files every few
// seconds; the last third's maximum must stay within a bound of the first
// third's (checkSoakFlat).
// After healing, every mail must have become exactly one RFA with one
// acknowledgement accepted, and every staff reply must be delivered.
func TestSoakStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("the soak sends traffic for a minute")
	}
	traffic := soakDuration(t)
	// Sample one allocation per 512 bytes so that daemonHeap sees the
	// daemon's share of the heap in detail.
	defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
	runtime.MemProfileRate = 512
	warmUp := traffic / 6
	const (
		mailEvery   = 100 * time.Millisecond
		sampleEvery = 3 * time.Second
		faultEvery  = 2 * time.Second
	)

	imapSrv, err := demo.StartIMAP(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer imapSrv.Close()
	smtpSrv, err := demo.StartSMTPCapture(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer smtpSrv.Close()
	smtpProxy, err := faultproxy.New(smtpSrv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer smtpProxy.Close()
	fake := discordtest.New(&discordtest.Options{GuildID: "100"})
	defer fake.Close()
	fake.AddMember(discordtest.Member{UserID: "501", Name: "Priya Shah", Roles: []string{"700"}})
	api, err := url.Parse(fake.APIBase())
	if err != nil {
		t.Fatal(err)
	}
	discordProxy, err := faultproxy.New(api.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer discordProxy.Close()
	api.Host = discordProxy.Addr() // REST through the proxy; the gateway is dropped by fake.Drop

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rfadesk.toml")
	writeLoopbackConfig(t, cfgPath, filepath.Join(dir, "rfadesk.db"), imapSrv.Addr(), imapSrv.Username(), imapSrv.Password(), smtpProxy.Addr())
	cfg, err := config.Load(cfgPath, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Discord = config.Discord{Enabled: true, Config: chat.Config{Token: "test-token", GuildID: "100", ChannelID: "200", StaffRoleID: "700", OpsChannelID: "300", APIBase: api.String()}}
	cfg.Desk.Chat = true

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	metricsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- runDaemon(ctx, cfg, daemonOptions{Logger: newLogger(t.Output(), slog.LevelWarn), StoreNoSync: true, MetricsListener: metricsLn})
	}()
	stopDaemon := func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	}

	trafficCtx, stopTraffic := context.WithTimeout(ctx, traffic)
	defer stopTraffic()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		sent    int
		replies = map[string]string{} // thread -> staff message id
	)
	wg.Add(3)
	go func() { // mail at a steady rate
		defer wg.Done()
		tick := time.NewTicker(mailEvery)
		defer tick.Stop()
		for {
			select {
			case <-trafficCtx.Done():
				return
			case <-tick.C:
			}
			mu.Lock()
			sent++
			i := sent
			mu.Unlock()
			if _, err := imapSrv.Append(ctx, "INBOX", schoolMail(i), time.Now()); err != nil {
				t.Errorf("appending mail %d: %v", i, err)
				return
			}
		}
	}()
	go func() { // staff answer every third card's thread, once, a moment after it appears
		defer wg.Done()
		type card struct {
			ordinal int
			first   time.Time
		}
		seen := map[string]card{}
		for n := 0; trafficCtx.Err() == nil; n++ {
			for _, m := range fake.Messages("200") {
				if m.Thread == "" {
					continue
				}
				c, ok := seen[m.Thread]
				if !ok {
					seen[m.Thread] = card{len(seen), time.Now()}
					continue
				}
				mu.Lock()
				_, answered := replies[m.Thread]
				mu.Unlock()
				if answered || c.ordinal%3 != 0 || time.Since(c.first) < 2*time.Second {
					continue
				}
				msg := fake.Say(m.Thread, "501", "We have reset the session store: please try again.")
				mu.Lock()
				replies[m.Thread] = msg.ID
				mu.Unlock()
			}
			select {
			case <-trafficCtx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	go func() { // faults: a cut every tick, a black hole or gateway drop now and then
		defer wg.Done()
		for n := 1; ; n++ {
			select {
			case <-trafficCtx.Done():
				return
			case <-time.After(faultEvery):
			}
			p := smtpProxy
			if n%2 == 0 {
				p = discordProxy
			}
			if conns := p.Conns(); len(conns) > 0 {
				conns[n%len(conns)].Cut()
			}
			switch n % 7 {
			case 3:
				smtpProxy.BlackHole()
				discordProxy.BlackHole()
				time.Sleep(time.Second)
				smtpProxy.Heal()
				discordProxy.Heal()
			case 5:
				fake.Drop()
			}
		}
	}()

	// Sample after the warm-up, while the traffic lasts.
	start := time.Now()
	var samples []soakSample
	for next := warmUp; next < traffic; next += sampleEvery {
		select {
		case <-trafficCtx.Done():
		case <-time.After(time.Until(start.Add(next))):
		}
		if trafficCtx.Err() != nil {
			break
		}
		s := takeSoakSample(t, time.Since(start).Round(time.Millisecond))
		samples = append(samples, s)
		t.Logf("sample at %v: %d goroutines, %.1f MB heap in use (%.1f MB the daemon's), %d open files", s.at, s.goroutines, mb(s.heapInUse), mb(s.daemonHeap), s.fds)
	}
	wg.Wait()
	smtpProxy.Heal()
	discordProxy.Heal()
	checkSoakFlat(t, samples)

	// After healing, everything sent arrives.
	mu.Lock()
	mails := sent
	pending := slices.Collect(maps.Values(replies))
	mu.Unlock()
	t.Logf("%d mails sent, %d staff replies posted", mails, len(pending))
	waitUntil(t, "an acknowledgement for every mail", func() bool { return len(ackIDs(smtpSrv.Messages())) == mails })
	undelivered := func() (ids []string) {
		for _, id := range pending {
			if m, ok := fake.Message(id); !ok || !slices.Contains(m.Reactions, "✅") {
				ids = append(ids, id)
			}
		}
		return ids
	}
	for deadline := time.Now().Add(60 * time.Second); len(undelivered()) > 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if ids := undelivered(); len(ids) > 0 {
		t.Errorf("%d of %d staff replies never marked delivered (message ids %v); %d gateway identifies, %d resumes",
			len(ids), len(pending), ids, fake.Identifies(), fake.Resumes())
	}
	waitUntil(t, "an empty outbox", func() bool { return outboxBacklog(t, "http://"+metricsLn.Addr().String()+"/metrics") == 0 })
	time.Sleep(300 * time.Millisecond) // let a duplicate, if any is coming, arrive before counting
	stopDaemon()

	acks := ackIDs(smtpSrv.Messages())
	resent := 0
	for i := 1; i <= mails; i++ {
		rcpt := fmt.Sprintf("req%02d@oakprimary.sch.uk", i)
		if n := len(acks[rcpt]); n != 1 {
			t.Errorf("%s got %d distinct acknowledgements, want 1: %v", rcpt, n, acks[rcpt])
		}
		for _, n := range acks[rcpt] {
			resent += n - 1
		}
	}
	t.Logf("%d acknowledgements sent again under the same Message-ID after a cut", resent)
	db, err := store.Open(cfg.Store.Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if st, _ := db.Stats(t.Context()); st.RFAs != mails || st.Outbox != 0 {
		t.Errorf("store: %d RFAs (want %d), %d outbox items left (want 0)", st.RFAs, mails, st.Outbox)
	}
	inbox, processed := countMailboxes(t, mailServer{addr: imapSrv.Addr(), user: imapSrv.Username(), pass: imapSrv.Password()})
	if inbox != 0 || int(processed) != mails {
		t.Errorf("mailbox: %d left in INBOX, %d in Processed; want 0 and %d", inbox, processed, mails)
	}
}

// checkSoakFlat fails the test when the last third of samples reaches
// past the first third's maximum by more than a fixed allowance:
// 20 goroutines, 20 open files, or half the daemon's heap plus 1 MB (the
// whole heap grows with the fakes' record of the traffic, so it is only
// logged). A goroutine or file leaked per mail breaks this at once, a
// heap leak of about 8 KB per mail in 60 s, 2 KB in RFADESK_SOAK=5m.
func checkSoakFlat(t *testing.T, samples []soakSample) {
	t.Helper()
	if len(samples) < 3 {
		t.Fatalf("only %d samples; the soak is too short", len(samples))
	}
	third := len(samples) / 3
	first, last := peak(samples[:third]), peak(samples[len(samples)-third:])
	t.Logf("first third's peak: %d goroutines, %.1f MB heap (%.1f MB the daemon's), %d files; last third's: %d goroutines, %.1f MB (%.1f MB), %d files",
		first.goroutines, mb(first.heapInUse), mb(first.daemonHeap), first.fds, last.goroutines, mb(last.heapInUse), mb(last.daemonHeap), last.fds)
	if last.goroutines > first.goroutines+20 {
		t.Errorf("goroutines grew from %d to %d", first.goroutines, last.goroutines)
	}
	if last.fds > first.fds+20 {
		t.Errorf("open files grew from %d to %d", first.fds, last.fds)
	}
	if last.daemonHeap > first.daemonHeap*3/2+1<<20 {
		t.Errorf("the daemon's heap in use grew from %d to %d bytes", first.daemonHeap, last.daemonHeap)
	}
}

// peak is the highest of each reading in samples.
func peak(samples []soakSample) soakSample {
	var p soakSample
	for _, s := range samples {
		p.goroutines = max(p.goroutines, s.goroutines)
		p.heapInUse = max(p.heapInUse, s.heapInUse)
		p.daemonHeap = max(p.daemonHeap, s.daemonHeap)
		p.fds = max(p.fds, s.fds)
	}
	return p
}

// ackIDs counts the acknowledgements ("[RFA-N] Received", not a reply)
// sent to each requester, by Message-ID.
func ackIDs(msgs []demo.CapturedMail) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, m := range msgs {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			continue
		}
		subject := msg.Header.Get("Subject")
		if !strings.HasPrefix(subject, "[RFA-") || !strings.Contains(subject, "] Received") {
			continue
		}
		if out[m.To[0]] == nil {
			out[m.To[0]] = map[string]int{}
		}
		out[m.To[0]][msg.Header.Get("Message-Id")]++
	}
	return out
}

func mb[N int64 | uint64](n N) float64 { return float64(n) / (1 << 20) }

// outboxBacklog sums the daemon's rfadesk_outbox_backlog gauges; -1 when
// /metrics cannot be read.
func outboxBacklog(t *testing.T, metricsURL string) float64 {
	res, err := http.Get(metricsURL)
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return -1
	}
	var total float64
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, "rfadesk_outbox_backlog") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		total += v
	}
	return total
}
