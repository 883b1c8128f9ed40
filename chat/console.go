package chat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"rfadesk/bot"
	"rfadesk/netaddr"
)

// Desk is what the console needs from the desk engine (*bot.Desk). Every
// method is safe for concurrent use and returns once the change is
// committed.
type Desk interface {
	// RFA leaves message texts out (bot.Message.TextOmitted);
	// MessageText reads one.
	RFA(ctx context.Context, num uint64) (*bot.RFA, error)
	MessageText(ctx context.Context, num uint64, i int) (string, error)
	// ForEachOpenRFA calls fn for every RFA not closed, reading them a
	// page at a time; fn runs outside any store transaction.
	ForEachOpenRFA(ctx context.Context, fn func(*bot.RFA) error) error
	RFAByChatThread(ctx context.Context, threadID string) (*bot.RFA, error)
	MarkChatSeen(ctx context.Context, num uint64, messageID string) error

	// Do performs one staff action: every slash command and thread
	// message that changes an RFA translates to one.
	Do(ctx context.Context, num uint64, a bot.StaffAction, by bot.Actor) error
	Assign(ctx context.Context, num uint64, assignee, by bot.Actor) error
	LogCall(ctx context.Context, c bot.PhoneCall) (*bot.RFA, error)
	// Outages: /desk outage start|update|end (outage.go).
	StartOutage(ctx context.Context, s bot.OutageStart, by bot.Actor) (uint64, error)
	UpdateOutage(ctx context.Context, id uint64, text string, by bot.Actor) error
	EndOutage(ctx context.Context, id uint64, resolution string, by bot.Actor) error
}

// Options carry the console's collaborators; nil fields get defaults.
type Options struct {
	Logger *slog.Logger     // default slog.Default()
	Now    func() time.Time // default time.Now
	// Settings returns the console's current Settings (the SLA clocks
	// and the desk's zone). It is called whenever a card, a thread post
	// or a command needs them, from the console's and the deliverer's
	// goroutines, so it must be cheap and safe for concurrent use; what
	// it returns may change between calls (a reload). Nil means the zero
	// Settings.
	Settings func() Settings
	// MaxAttachment caps each file downloaded from a staff message
	// (default 10 MiB); larger files are not attached and staff are told.
	MaxAttachment int64
	// Timeout bounds each REST call and download (default 30s).
	Timeout time.Duration
	// DeferAfter is how long a slow command (/desk queue) may work before
	// its answer is deferred: Discord is told at once that the answer is
	// coming (it shows "thinking…"), and the answer then replaces that
	// reply. Default 1.5s, well inside Discord's three-second window;
	// negative defers at once.
	DeferAfter time.Duration
}

// Settings are the part of the console's configuration a reload
// (SIGHUP) may change while it runs.
type Settings struct {
	// Clocks computes SLA clocks for cards and /desk queue (the desk's
	// SLA()); nil shows none.
	Clocks Clocker
	// Location is the desk's time zone, for dates staff type and the
	// days releases ship (default Europe/London).
	Location *time.Location
}

// Console is the Discord staff console. Run owns the gateway session
// and handles its events one at a time, in order; Transport may be used
// concurrently from a bot.Deliverer.
type Console struct {
	cfg    Config
	desk   Desk
	opts   Options
	log    *slog.Logger
	s      *discordgo.Session
	http   *http.Client
	events chan any
	cmds   *commandSet

	mu sync.Mutex
	// done is closed when a run of Run returns, and replaced by an open
	// one when Run starts again (a standby that becomes leader).
	done  chan struct{}
	me    string // our user id, from READY
	appID string
	// opened maps threads this console opened to their RFA, for the
	// moment between Discord creating a thread and the desk recording
	// it: a staff message posted then still finds its RFA.
	opened map[string]uint64
}

// New builds a console over desk from cfg as package config validated it
// (it refuses only a Config missing required fields, or an APIBase that
// is not an http(s) URL or is plain http off loopback). It does not connect:
// Run does.
func New(cfg Config, desk Desk, opts *Options) (*Console, error) {
	if cfg.Token == "" || cfg.GuildID == "" || cfg.ChannelID == "" || cfg.StaffRoleID == "" {
		return nil, errors.New("chat: Config needs Token, GuildID, ChannelID and StaffRoleID (load it with package config)")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxAttachment == 0 {
		o.MaxAttachment = 10 << 20
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	if o.DeferAfter == 0 {
		o.DeferAfter = 1500 * time.Millisecond
	}
	client, err := newHTTPClient(cfg.APIBase, o.Timeout)
	if err != nil {
		return nil, fmt.Errorf("chat: discord.api_base: %w", err)
	}
	token := strings.TrimSpace(cfg.Token)
	if !strings.HasPrefix(token, "Bot ") {
		token = "Bot " + token
	}
	s, err := discordgo.New(token)
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	s.Client = client
	// Our outbox owns retries: one attempt per Deliver.
	s.ShouldRetryOnRateLimit = false
	s.MaxRestRetries = 0
	s.ShouldReconnectOnError = true
	s.StateEnabled = false
	s.SyncEvents = true // handlers only queue events; Run handles them in order
	s.LogLevel = discordgo.LogError
	s.Identify.Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages | discordgo.IntentMessageContent
	c := &Console{cfg: cfg, desk: desk, opts: o, log: o.Logger, s: s, http: client,
		events: make(chan any, 256), done: make(chan struct{}), cmds: newCommandSet()}
	s.AddHandler(func(_ *discordgo.Session, e *discordgo.Ready) { c.queue(e) })
	s.AddHandler(func(_ *discordgo.Session, e *discordgo.MessageCreate) { c.queue(e) })
	s.AddHandler(func(_ *discordgo.Session, e *discordgo.InteractionCreate) { c.queue(e) })
	s.AddHandler(func(_ *discordgo.Session, e *discordgo.Resumed) {
		c.log.Info("chat: gateway session resumed")
		c.queue(e)
	})
	s.AddHandler(func(_ *discordgo.Session, e *discordgo.Disconnect) { c.log.Info("chat: gateway disconnected") })
	return c, nil
}

// queue hands an event to Run; it blocks while Run's queue is full and
// drops the event once Run has returned.
func (c *Console) queue(e any) {
	c.mu.Lock()
	done := c.done
	c.mu.Unlock()
	select {
	case c.events <- e:
	case <-done:
	}
}

func (c *Console) botID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.me
}

// Run connects to the gateway (retrying with backoff while Discord is
// unreachable), registers the slash commands on the guild, catches up on
// thread messages sent while rfadesk was down, and handles events until
// ctx is done; then it closes the session (which takes about a second)
// and returns ctx.Err(). discordgo reconnects and resumes the session
// after a gateway drop. Run may be called again after it returns (an
// instance that leads again), never twice at once; events left from a
// previous run are dropped, as the catch-up at READY finds what they
// held.
func (c *Console) Run(ctx context.Context) error {
	c.mu.Lock()
	select {
	case <-c.done: // a previous run ended
		c.done = make(chan struct{})
	default:
	}
	done := c.done
	c.mu.Unlock()
	defer close(done)
	for drained := false; !drained; {
		select {
		case <-c.events:
		default:
			drained = true
		}
	}
	wait := time.Second
	for {
		if err := ctx.Err(); err != nil { // stopped before the gateway opened
			return err
		}
		err := c.checkGateway()
		if err == nil {
			err = c.s.Open()
		}
		if err == nil {
			break
		}
		c.log.Warn("chat: cannot open the Discord gateway; retrying", "err", err, "in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 5*time.Minute)
	}
	defer c.s.Close()
	registered, caughtUp := false, false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e := <-c.events:
			switch e := e.(type) {
			case *discordgo.Ready:
				c.onReady(ctx, e, &registered)
				caughtUp = true
			case *discordgo.Resumed:
				// A run after an earlier one resumes the old gateway
				// session (discordgo keeps its id) and gets no READY:
				// catch up on what happened in between here instead.
				// A resume within a run needs nothing: Discord
				// replays the events missed.
				if !caughtUp {
					c.onResumedRun(ctx, &registered)
					caughtUp = true
				}
			case *discordgo.MessageCreate:
				c.onMessage(ctx, e)
			case *discordgo.InteractionCreate:
				c.onInteraction(ctx, e.Interaction)
			}
		}
	}
}

// checkGateway asks for the gateway address (from api_base's /gateway,
// as discordgo will) and refuses one the bot token must not be sent to
// in clear: wss anywhere, ws only on a loopback host.
func (c *Console) checkGateway() error {
	addr, err := c.s.Gateway()
	if err != nil {
		return err
	}
	return checkGatewayURL(addr)
}

// checkGatewayURL accepts wss:// URLs and ws:// URLs on loopback hosts.
func checkGatewayURL(addr string) error {
	u, err := url.Parse(addr)
	if err != nil {
		return fmt.Errorf("chat: gateway address %q: %w", addr, err)
	}
	switch {
	case u.Scheme == "wss" && u.Host != "":
		return nil
	case u.Scheme == "ws" && netaddr.IsLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("chat: refusing gateway address %q: the bot token would travel in clear (want wss://, or ws:// on a loopback host)", addr)
}

func (c *Console) onReady(ctx context.Context, e *discordgo.Ready, registered *bool) {
	c.mu.Lock()
	if e.User != nil {
		c.me = e.User.ID
	}
	c.appID = c.me
	if e.Application != nil && e.Application.ID != "" {
		c.appID = e.Application.ID
	}
	appID := c.appID
	c.mu.Unlock()
	if !*registered {
		_, err := c.s.ApplicationCommandBulkOverwrite(appID, c.cfg.GuildID, c.cmds.definitions(), discordgo.WithContext(ctx))
		if err != nil {
			c.log.Error("chat: registering slash commands failed; will retry at the next session", "err", err)
		} else {
			*registered = true
		}
	}
	if err := c.catchUp(ctx); err != nil {
		c.log.Error("chat: catching up on thread messages", "err", err)
	}
}

// onResumedRun does for a run that resumed an earlier run's session what
// onReady does: registers the slash commands and catches up.
func (c *Console) onResumedRun(ctx context.Context, registered *bool) {
	c.mu.Lock()
	appID := c.appID
	c.mu.Unlock()
	if !*registered && appID != "" {
		if _, err := c.s.ApplicationCommandBulkOverwrite(appID, c.cfg.GuildID, c.cmds.definitions(), discordgo.WithContext(ctx)); err != nil {
			c.log.Error("chat: registering slash commands failed; will retry at the next session", "err", err)
		} else {
			*registered = true
		}
	}
	if err := c.catchUp(ctx); err != nil {
		c.log.Error("chat: catching up on thread messages", "err", err)
	}
}

// onMessage handles a live MESSAGE_CREATE: only guild messages of our
// guild in an RFA's thread matter.
func (c *Console) onMessage(ctx context.Context, e *discordgo.MessageCreate) {
	if e.GuildID != c.cfg.GuildID {
		return // direct messages and other guilds
	}
	if err := c.threadMessage(ctx, e.Message, e.Member); err != nil {
		c.log.Error("chat: handling a thread message", "channel", e.ChannelID, "message", e.ID, "err", err)
	}
}

// catchUp handles, in order, the thread messages of every RFA not
// closed that arrived after the last one the desk saw. It reads only the
// open RFAs (the desk's open index), whatever the archive's size.
func (c *Console) catchUp(ctx context.Context) error {
	var errs []error
	err := c.desk.ForEachOpenRFA(ctx, func(r *bot.RFA) error {
		if r.Chat.ThreadID == "" || r.Status == bot.StatusClosed {
			return nil
		}
		if err := c.catchUpThread(ctx, r); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.Ref(), err))
		}
		return ctx.Err()
	})
	return errors.Join(append(errs, err)...)
}

func (c *Console) catchUpThread(ctx context.Context, r *bot.RFA) error {
	after := r.Chat.LastSeen
	if after == "" {
		after = r.Chat.ThreadID // thread messages come after its starter
	}
	members := map[string]*discordgo.Member{}
	for {
		msgs, err := c.s.ChannelMessages(r.Chat.ThreadID, 100, "", after, "", discordgo.WithContext(ctx))
		if err != nil {
			return err
		}
		sortMessages(msgs)
		for _, m := range msgs {
			var mem *discordgo.Member
			if m.Author != nil && !m.Author.Bot {
				mem = members[m.Author.ID]
				if mem == nil {
					mem, err = c.s.GuildMember(c.cfg.GuildID, m.Author.ID, discordgo.WithContext(ctx))
					if restCode(err) == 10007 { // unknown member: left the guild
						mem, err = &discordgo.Member{}, nil
					}
					if err != nil {
						return err
					}
					members[m.Author.ID] = mem
				}
			}
			if err := c.threadMessage(ctx, m, mem); err != nil {
				return err
			}
			after = m.ID
		}
		if len(msgs) < 100 {
			break
		}
	}
	if snowflakeLess(r.Chat.LastSeen, after) && after != r.Chat.ThreadID {
		// Every message up to after is handled (bots' posts included):
		// the next catch-up starts there.
		return c.desk.MarkChatSeen(ctx, r.Num, after)
	}
	return nil
}

func sortMessages(msgs []*discordgo.Message) {
	for i := 1; i < len(msgs); i++ {
		for j := i; j > 0 && snowflakeLess(msgs[j].ID, msgs[j-1].ID); j-- {
			msgs[j], msgs[j-1] = msgs[j-1], msgs[j]
		}
	}
}

func snowflakeLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func hasRole(m *discordgo.Member, role string) bool {
	if m == nil {
		return false
	}
	for _, r := range m.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// actor names a Discord member for the RFA history.
func actor(m *discordgo.Member, u *discordgo.User) bot.Actor {
	if u == nil && m != nil {
		u = m.User
	}
	name := ""
	if m != nil && m.Nick != "" {
		name = m.Nick
	} else if u != nil {
		name = u.DisplayName()
	}
	id := ""
	if u != nil {
		id = "discord:" + u.ID
	}
	return bot.Actor{Name: name, ID: id}
}
