package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"rfadesk/bot"
	"rfadesk/config"
	"rfadesk/demo"
	"rfadesk/mailbox"
	"rfadesk/netaddr"
	"rfadesk/store"
	"rfadesk/web"
)

// demoAdminToken is the demo's admin API token. It is a constant, so the
// demo listens on loopback only unless -unsafe-public is given.
const demoAdminToken = "demo-admin-token-not-secret"

// cmdDemo runs the whole flow on embedded servers: go-imap's in-process
// server as the support mailbox, an in-process SMTP server that captures
// outgoing mail, and the store in a temporary directory.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "demo [-listen ADDR] [-unsafe-public] [-store FILE]", stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "`address` for the web server (loopback only, see -unsafe-public)")
	unsafePublic := fs.Bool("unsafe-public", false, "allow a -listen address other than loopback: publishes every status link and the constant admin token")
	storePath := fs.String("store", "", "bbolt `file` to keep (default: a temporary file, removed on exit)")
	verbose := fs.Bool("v", false, "log at debug level")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkDemoListen(*listen, *unsafePublic); err != nil {
		return err
	}
	env, err := startDemo(*listen, *storePath)
	if err != nil {
		return err
	}
	defer env.Close()
	// "localhost" is checked again once resolved.
	if tcp, ok := env.ln.Addr().(*net.TCPAddr); !*unsafePublic && (!ok || !tcp.IP.IsLoopback()) {
		return fmt.Errorf("demo: -listen %s is %s, not loopback: the demo publishes every status link and a constant admin token; add -unsafe-public to allow it", *listen, env.ln.Addr())
	}
	if *unsafePublic {
		fmt.Fprintf(stderr, "rfadesk demo: WARNING: -unsafe-public: anyone who can reach %s can read every status page and use the admin token %q\n", env.ln.Addr(), demoAdminToken)
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := newLogger(stderr, level)

	base := "http://" + env.ln.Addr().String()
	fmt.Fprintf(stdout, `rfadesk demo: a support mailbox with example school emails, an SMTP server that
captures what rfadesk sends, and the store in %s.

  Outgoing mail (acknowledgements arrive here):  %s/demo/mail
  Report a problem on the web:                   %s/new
  The desk's status board:                       %s/status
  Health:                                        %s/healthz
  Admin API:  curl -H 'Authorization: Bearer %s' %s/api/rfas
  Status pages: follow the link in any acknowledgement.

More example emails arrive over IMAP IDLE in a few seconds. Press Ctrl-C to stop.
`, env.cfg.Store.Path, base, base, base, base, demoAdminToken, base)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- runDaemon(ctx, env.cfg, daemonOptions{Logger: log, Listener: env.ln, Sent: env.sent})
	}()
	if err := env.deliverLive(ctx, 3*time.Second); err != nil && ctx.Err() == nil {
		cancel()
		<-done
		return err
	}
	return <-done
}

// checkDemoListen refuses a -listen address that is not loopback
// (127.0.0.0/8, ::1 or "localhost") unless unsafePublic: the demo's
// admin token is a constant and its status links are printed and mailed
// to made-up schools. An empty host (":8080") means every interface and
// is refused too.
func checkDemoListen(listen string, unsafePublic bool) error {
	if unsafePublic {
		return nil
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("demo: -listen %q: %w (want HOST:PORT, e.g. 127.0.0.1:8080)", listen, err)
	}
	if netaddr.IsLoopback(host) {
		return nil
	}
	return fmt.Errorf("demo: -listen %s is not a loopback address: the demo publishes every status link and a constant admin token; use 127.0.0.1:PORT, or add -unsafe-public if you really mean it", listen)
}

// demoEnv is the demo's embedded world.
type demoEnv struct {
	cfg  *config.Config
	ln   net.Listener
	imap *demo.IMAPServer
	smtp *demo.SMTPCapture
	tmp  string
	live []demo.Seed
}

// startDemo starts the embedded servers, delivers the first seeds as a
// backlog and returns the configuration that points rfadesk at them.
func startDemo(listen, storePath string) (*demoEnv, error) {
	env := &demoEnv{}
	ok := false
	defer func() {
		if !ok {
			env.Close()
		}
	}()
	var err error
	if env.ln, err = net.Listen("tcp", listen); err != nil {
		return nil, fmt.Errorf("demo: cannot listen on %s (use -listen ADDR): %w", listen, err)
	}
	if env.imap, err = demo.StartIMAP(&demo.IMAPOptions{Username: "support@rfadesk.test", Password: "demo"}); err != nil {
		return nil, err
	}
	if env.smtp, err = demo.StartSMTPCapture(nil); err != nil {
		return nil, err
	}
	if storePath == "" {
		if env.tmp, err = os.MkdirTemp("", "rfadesk-demo-"); err != nil {
			return nil, err
		}
		storePath = filepath.Join(env.tmp, "rfadesk.db")
	}
	base := "http://" + env.ln.Addr().String()
	env.cfg = &config.Config{
		Desk: bot.DeskConfig{
			Name:           "Example Service Desk",
			Address:        bot.Address{Name: "Example Service Desk", Email: "support@rfadesk.test"},
			LoopValue:      "support@rfadesk.test",
			BaseURL:        base,
			ResponseTarget: "72 hours",
			Hours:          "The desk is open Monday to Friday, 08:00 to 17:00 UK time, except bank holidays",
			AlertTo:        []bot.Address{{Name: "Desk Manager", Email: "desk-manager@rfadesk.test"}},
			Organisations: []bot.Organisation{
				{Name: "Oak Primary School", Trust: "Riverside Learning Trust", Domains: []string{"oakprimary.sch.uk"}},
				{Name: "Elm Park Academy", Trust: "Riverside Learning Trust", Domains: []string{"elmpark.sch.uk", "elmpark-academy.org.uk"}},
				{Name: "Hollyfield School", Domains: []string{"hollyfield.sch.uk"}},
			},
		},
		Store: config.Store{Backend: config.BackendBolt, Path: storePath, Receipts: store.ReceiptsPath(storePath)},
		IMAP: mailbox.IMAPConfig{
			Address: env.imap.Addr(), Security: mailbox.SecurityNone, Username: "support@rfadesk.test", Password: "demo",
			Mailbox: "INBOX", Processed: "Processed", Failed: "Failed", PollInterval: 30 * time.Second,
		},
		Parse: mailbox.ParseOptions{MaxAttachmentSize: config.DefaultMaxAttachmentBytes, LoopValue: "support@rfadesk.test"},
		SMTP:  mailbox.SMTPConfig{Address: env.smtp.Addr(), Security: mailbox.SecurityNone},
		Web:   config.Web{Listen: env.ln.Addr().String(), AdminToken: demoAdminToken},
		Log:   config.Log{Level: slog.LevelInfo},
	}
	if env.cfg.Calendar, err = config.LoadCalendar(""); err != nil {
		return nil, err
	}
	seeds := demo.Seeds()
	// The first four are a backlog waiting before rfadesk starts; the rest
	// arrive while it is idling.
	for _, s := range seeds[:4] {
		if _, err := env.imap.Append(context.Background(), "INBOX", s.Raw, time.Now()); err != nil {
			return nil, fmt.Errorf("demo: seeding %s: %w", s.Name, err)
		}
	}
	env.live = seeds[4:]
	ok = true
	return env, nil
}

// deliverLive appends the remaining seeds one by one, every interval.
func (e *demoEnv) deliverLive(ctx context.Context, interval time.Duration) error {
	for _, s := range e.live {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
		if _, err := e.imap.Append(ctx, "INBOX", s.Raw, time.Now()); err != nil {
			return fmt.Errorf("demo: delivering %s: %w", s.Name, err)
		}
	}
	return nil
}

// sent lists the captured outgoing mail for the demo's web page.
func (e *demoEnv) sent() []web.SentMail {
	msgs := e.smtp.Messages()
	out := make([]web.SentMail, len(msgs))
	for i, m := range msgs {
		out[i] = web.SentMail{From: m.From, To: m.To, At: m.At, Raw: m.Data}
	}
	return out
}

// Close stops the servers and removes the temporary store.
func (e *demoEnv) Close() {
	if e.smtp != nil {
		e.smtp.Close()
	}
	if e.imap != nil {
		e.imap.Close()
	}
	if e.ln != nil {
		e.ln.Close()
	}
	if e.tmp != "" {
		os.RemoveAll(e.tmp)
	}
}
