// Command rfadesk runs a school-software supplier's service desk from its
// support mailbox: every email becomes an RFA (Request For Assistance),
// acknowledged by email, tracked in a bbolt store and shown to requesters
// on a status page.
//
// Usage:
//
//	rfadesk run -config FILE           the daemon
//	rfadesk check-config [-connect] -config FILE  validate a configuration file (and log in)
//	rfadesk backup -config FILE OUT    copy the store, daemon running or not
//	rfadesk restore -config FILE BACKUP  put a backup in place of the store
//	rfadesk store copy -config FILE -to etcd|bbolt [-path FILE]  move the store to the other backend
//	rfadesk demo [-listen ADDR]        the whole flow on embedded servers
//	rfadesk sla due|between|calendar   SLA arithmetic on the desk calendar
//	rfadesk version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"rfadesk/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(os.Stderr, "rfadesk:", err)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rfadesk:", err)
		os.Exit(1)
	}
}

// usageError is a mistake on the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `rfadesk runs a service desk from its support mailbox.

Usage:
  rfadesk run -config FILE           run the daemon
  rfadesk check-config [-connect] -config FILE  validate a configuration file and print every problem;
                                     -connect also logs in to IMAP, SMTP and Discord
  rfadesk backup -config FILE OUT    write a consistent copy of the store (daemon running or not)
  rfadesk restore -config FILE BACKUP  put a backup in place of the stopped daemon's store
  rfadesk store copy -config FILE -to etcd|bbolt [-path FILE]
                                     copy the stopped desk's store to the etcd cluster of [store],
                                     or from etcd to a new bbolt file, and verify the copy
  rfadesk demo [-listen ADDR]        run the whole flow on embedded servers (no setup)
  rfadesk sla due|between|calendar   due times and working time on the desk calendar ("rfadesk sla -h")
  rfadesk org-link -config FILE [-trust] NAME | -list | -revoke ID
                                     private links to a school's or trust's page of its RFAs
  rfadesk releases -config FILE      list the coming releases (daemon running or not)
  rfadesk report -config FILE -month YYYY-MM [-format csv|html|json]  a month's service report
  rfadesk export -config FILE [-format csv|json | -organisation NAME]  every RFA, or one school's archive
  rfadesk purge -config FILE [-dry-run]  delete closed RFAs' texts past [retention] after_closure
  rfadesk version                    print the version

Run "rfadesk COMMAND -h" for a command's flags.
`

// run dispatches a command line. It is main without the process exit,
// so tests can call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(ctx, rest, stderr)
	case "check-config":
		return cmdCheckConfig(ctx, rest, stdout, stderr)
	case "backup":
		return cmdBackup(ctx, rest, stdout, stderr)
	case "restore":
		return cmdRestore(rest, stdout, stderr)
	case "store":
		return cmdStore(ctx, rest, stdout, stderr)
	case "demo":
		return cmdDemo(ctx, rest, stdout, stderr)
	case "sla":
		return cmdSLA(ctx, rest, stdout, stderr)
	case "org-link":
		return cmdOrgLink(ctx, rest, stdout, stderr)
	case "releases":
		return cmdReleases(ctx, rest, stdout, stderr)
	case "report":
		return cmdReport(ctx, rest, stdout, stderr)
	case "export":
		return cmdExport(ctx, rest, stdout, stderr)
	case "purge":
		return cmdPurge(ctx, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "rfadesk", version)
		return nil
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: rfadesk %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func cmdCheckConfig(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check-config", "check-config [-connect] -config FILE", stderr)
	path := fs.String("config", "", "configuration `file` to check")
	connect := fs.Bool("connect", false, "also log in to IMAP, SMTP and Discord and say precisely what is wrong")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		fs.Usage()
		return usageError{"check-config: -config FILE is required"}
	}
	cfg, err := config.Load(*path, os.Getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errors.New("check-config: the configuration has problems (listed above)")
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	fmt.Fprintf(stdout, "%s: ok: desk %s <%s>, %d organisations, store %s, IMAP %s, SMTP %s, web %s\n",
		*path, cfg.Desk.Name, cfg.Desk.Address.Email, len(cfg.Desk.Organisations), cfg.Store, cfg.IMAP.Address, cfg.SMTP.Address, cfg.Web.Listen)
	if o := cfg.Desk.Templates.Overridden(); len(o) > 0 {
		fmt.Fprintf(stdout, "templates replaced from desk.templates_dir: %s\n", strings.Join(o, ", "))
	}
	if *connect {
		return checkConnections(ctx, cfg, stdout)
	}
	return nil
}

func cmdRun(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("run", "run -config FILE", stderr)
	path := fs.String("config", "", "configuration `file`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		fs.Usage()
		return usageError{"run: -config FILE is required"}
	}
	cfg, err := config.Load(*path, os.Getenv)
	if err != nil {
		return fmt.Errorf("%w\nrun \"rfadesk check-config -config %s\" after fixing it", err, *path)
	}
	logger := newConfigLogger(stderr, cfg.Log)
	for _, w := range cfg.Warnings {
		logger.Warn(w)
	}
	// SIGHUP reloads the configuration (reloadOnSignal).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		for {
			select {
			case <-hup:
				select {
				case reload <- struct{}{}:
				default: // a reload is pending already
				}
			case <-stopped:
				return
			}
		}
	}()
	return runDaemon(ctx, cfg, daemonOptions{Logger: logger, Reload: reload, ConfigPath: *path})
}
