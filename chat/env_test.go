package chat_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/chat"
	"rfadesk/chat/discordtest"
	"rfadesk/demo"
	"rfadesk/mailbox"
	"rfadesk/store"
)

var _ chat.Desk = (*bot.Desk)(nil)

var t0 = context.Background()

// Discord ids of the test guild.
const (
	guildID   = "100"
	channelID = "200"
	opsID     = "300"
	staffRole = "700"
	dutyRole  = "701"
	priya     = "501" // staff
	mallory   = "502" // not staff
	tom       = "503" // staff
)

// clock is the desk's settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// env is a desk over a real store with mail to a real loopback SMTP
// server and chat to the fake Discord. start and stop run the daemon's
// goroutines; the store, the fake and the SMTP server outlive them.
type env struct {
	t     *testing.T
	fake  *discordtest.Server
	smtp  *demo.SMTPCapture
	db    *store.DB
	clock *clock
	log   *slog.Logger
	uid   *atomic.Uint32

	desk    *bot.Desk
	console *chat.Console
	chatD   *bot.Deliverer
	stop    func()
	// manualChat leaves chat items to the test: no chat deliverer runs.
	manualChat bool
	// deferAfter is the console's Options.DeferAfter (0: its default).
	deferAfter time.Duration
	// stopConsole ends the console's run alone (start runs it), and
	// runConsole runs it again, as an instance that loses and wins
	// leadership does, while the desk and deliverers go on.
	stopConsole, runConsole func()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "desk.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	capture, err := demo.StartSMTPCapture(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { capture.Close() })
	fake := discordtest.New(&discordtest.Options{GuildID: guildID})
	t.Cleanup(fake.Close)
	fake.AddMember(discordtest.Member{UserID: priya, Name: "Priya Shah", Roles: []string{staffRole}})
	fake.AddMember(discordtest.Member{UserID: tom, Name: "Tom Reed", Roles: []string{staffRole, dutyRole}})
	fake.AddMember(discordtest.Member{UserID: mallory, Name: "Mallory"})
	return &env{t: t, fake: fake, smtp: capture, db: db, uid: new(atomic.Uint32),
		clock: &clock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)},
		log:   slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))}
}

// start runs a desk, its mail and chat deliverers and a console.
func (e *env) start() {
	t := e.t
	t.Helper()
	var mailD, chatD atomic.Pointer[bot.Deliverer]
	e.desk = bot.NewDesk(e.db, bot.DeskConfig{
		Name:      "Example Service Desk",
		Address:   bot.Address{Name: "Example Service Desk", Email: "support@example.org"},
		BaseURL:   "https://support.example.org",
		LoopValue: "support@example.org",
		Organisations: []bot.Organisation{
			{Name: "Oak Primary School", Trust: "Riverside Learning Trust", Domains: []string{"oakprimary.sch.uk"}},
		},
		Chat: true,
	}, &bot.DeskOptions{Now: e.clock.Now, Logger: e.log, OnOutbox: func() {
		if d := mailD.Load(); d != nil {
			d.Kick()
		}
		if d := chatD.Load(); d != nil {
			d.Kick()
		}
	}})
	sender, err := mailbox.NewSender(mailbox.SMTPConfig{Address: e.smtp.Addr(), Security: mailbox.SecurityNone},
		mailbox.SenderOptions{From: bot.Address{Name: "Example Service Desk", Email: "support@example.org"}, LoopValue: "support@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	e.console, err = chat.New(chat.Config{
		Token: "test-token", GuildID: guildID, ChannelID: channelID, StaffRoleID: staffRole,
		OnDutyRoleID: dutyRole, OpsChannelID: opsID, APIBase: e.fake.APIBase(),
	}, e.desk, &chat.Options{Logger: e.log, Now: e.clock.Now, Settings: func() chat.Settings { return chat.Settings{Clocks: e.desk.SLA()} }, DeferAfter: e.deferAfter})
	if err != nil {
		t.Fatal(err)
	}
	// Retries are due at once: the deliverers' clock runs a day ahead.
	ahead := func() time.Time { return e.clock.Now().Add(24 * time.Hour) }
	md := bot.NewDeliverer(e.desk, bot.MailTransport(sender), &bot.DelivererOptions{Now: ahead, Logger: e.log})
	// Idle is short because the desk does not wake the deliverers for the
	// reaction it queues when a mail is accepted (see the report).
	cd := bot.NewDeliverer(e.desk, e.console.Transport(), &bot.DelivererOptions{Now: ahead, Logger: e.log,
		AuthHint: "check discord.token", Idle: 50 * time.Millisecond})
	mailD.Store(md)
	chatD.Store(cd)
	e.chatD = cd
	// The deliverers record results on the desk without a deadline, so
	// they and the console stop before the desk does.
	deskCtx, stopDesk := context.WithCancel(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	var wg, deskWG sync.WaitGroup
	deskWG.Add(1)
	go func() { defer deskWG.Done(); e.desk.Run(deskCtx) }()
	runs := []func(context.Context) error{md.Run}
	if !e.manualChat {
		runs = append(runs, cd.Run)
	}
	for _, run := range runs {
		wg.Add(1)
		go func() { defer wg.Done(); run(ctx) }()
	}
	var consoleWG sync.WaitGroup
	stopConsole := func() {}
	e.runConsole = func() {
		cctx, cancel := context.WithCancel(ctx)
		consoleWG.Add(1)
		go func() { defer consoleWG.Done(); e.console.Run(cctx) }()
		stopConsole = func() { cancel(); consoleWG.Wait() }
	}
	e.stopConsole = func() { stopConsole() }
	e.runConsole()
	stopped := false
	e.stop = func() {
		if !stopped {
			stopped = true
			cancel()
			wg.Wait()
			consoleWG.Wait()
			stopDesk()
			deskWG.Wait()
		}
	}
	t.Cleanup(e.stop)
}

// with returns e reporting to the subtest t.
func (e *env) with(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// wait polls the fake until cond holds (every fake change re-checks;
// desk-side changes are re-checked every few milliseconds).
func (e *env) wait(what string, cond func() bool) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			e.t.Fatalf("timed out waiting for %s", what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// ingest delivers a requester's mail to the desk.
func (e *env) ingest(id, subject, body string, inReplyTo ...string) {
	e.t.Helper()
	m := &bot.Mail{
		MessageID: id, InReplyTo: inReplyTo, References: inReplyTo,
		From:    bot.Address{Name: "Sarah Okafor", Email: "s.okafor@oakprimary.sch.uk"},
		To:      []bot.Address{{Email: "support@example.org"}},
		Subject: subject, Text: body, Reply: body, DedupeKey: "mid:" + id,
		Received: e.clock.Now().Add(-time.Minute),
	}
	if _, err := e.desk.Ingest(context.Background(), "INBOX", 7, []bot.Fetched{{UID: e.uid.Add(1), Mail: m}}); err != nil {
		e.t.Fatalf("ingest: %v", err)
	}
}

func (e *env) rfa(num uint64) *bot.RFA {
	e.t.Helper()
	r, err := e.desk.RFAWithTexts(context.Background(), num)
	if err != nil {
		e.t.Fatalf("RFA %d: %v", num, err)
	}
	return r
}

// mails returns the captured mails whose text contains s.
func (e *env) mails(s string) []string {
	var out []string
	for _, m := range e.smtp.Messages() {
		if strings.Contains(string(m.Data), s) {
			out = append(out, string(m.Data))
		}
	}
	return out
}

// botMessages returns the bot's messages in a channel containing s.
func (e *env) botMessages(channel, s string) []discordtest.Message {
	var out []discordtest.Message
	for _, m := range e.fake.Messages(channel) {
		if m.Bot && strings.Contains(m.Content+string(m.Body), s) {
			out = append(out, m)
		}
	}
	return out
}

// callback waits for the answer to interaction id.
func (e *env) callback(id string) discordtest.Callback {
	e.t.Helper()
	var cb discordtest.Callback
	e.wait("the answer to interaction "+id, func() bool {
		var ok bool
		cb, ok = e.fake.Callback(id)
		return ok
	})
	return cb
}

func hasEvent(r *bot.RFA, kind bot.EventKind, actor string) bool {
	for _, ev := range r.Events {
		if ev.Kind == kind && strings.Contains(ev.Actor, actor) {
			return true
		}
	}
	return false
}

const fullReport = `Hello,

Site: Main building
Component(s): Login, Attendance
Support level: Gold
Action taken: Restarted the PCs
Error message: "Invalid session token (E1042)"
Can you replicate it: Yes
`
