package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"rfadesk/chat"
	"rfadesk/config"
	"rfadesk/mailbox"
)

// connectCheckTimeout bounds "rfadesk check-config -connect" as a whole.
const connectCheckTimeout = time.Minute

// checkConnections logs in to the IMAP and SMTP servers and Discord of
// cfg (and the etcd cluster of an etcd store), all at once, changing and sending nothing, and prints one
// line per service: "imap: ok ..." or, per problem, the problem's line
// ("imap.password: ... ; check ..."), plus notes. It returns an error
// when any problem was found.
func checkConnections(ctx context.Context, cfg *config.Config, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, connectCheckTimeout)
	defer cancel()
	type report struct {
		lines    []string
		problems int
	}
	var imapR, smtpR, discordR, etcdR report
	var wg sync.WaitGroup
	wg.Go(func() {
		if cfg.Store.Backend != config.BackendEtcd {
			return
		}
		cli, err := newEtcdClient(ctx, cfg.Store.Etcd) // store_backend.go
		if err != nil {
			etcdR = report{[]string{err.Error()}, 1}
			return
		}
		defer cli.Close()
		etcdR.lines = []string{fmt.Sprintf("etcd: ok: %s answers (prefix %s)", strings.Join(cfg.Store.Etcd.Endpoints, ", "), cfg.Store.Etcd.Prefix)}
	})
	wg.Go(func() {
		notes, err := mailbox.ProbeIMAP(ctx, cfg.IMAP)
		if err != nil {
			imapR = report{[]string{err.Error()}, 1}
			return
		}
		imapR.lines = append(imapR.lines, fmt.Sprintf("imap: ok: logged in to %s as %s; mailbox %q is there", cfg.IMAP.Address, cfg.IMAP.Username, mailboxName(cfg.IMAP.Mailbox)))
		for _, n := range notes {
			imapR.lines = append(imapR.lines, "note: "+n)
		}
	})
	wg.Go(func() {
		if err := mailbox.ProbeSMTP(ctx, cfg.SMTP, cfg.Desk.Address.Email); err != nil {
			smtpR = report{[]string{err.Error()}, 1}
			return
		}
		login := "without login"
		if cfg.SMTP.Username != "" {
			login = "logged in as " + cfg.SMTP.Username
		}
		smtpR.lines = []string{fmt.Sprintf("smtp: ok: %s %s; it takes %s as the sender", cfg.SMTP.Address, login, cfg.Desk.Address.Email)}
	})
	wg.Go(func() {
		if !cfg.Discord.Enabled {
			discordR.lines = []string{"discord: not configured (email-only)"}
			return
		}
		errs := chat.Probe(ctx, cfg.Discord.Config)
		for _, err := range errs {
			discordR.lines = append(discordR.lines, err.Error())
		}
		discordR.problems = len(errs)
		if len(errs) == 0 {
			discordR.lines = []string{fmt.Sprintf("discord: ok: the bot is in server %s and may post, thread and react in channel %s", cfg.Discord.GuildID, cfg.Discord.ChannelID)}
		}
	})
	wg.Wait()
	problems := 0
	for _, r := range []report{etcdR, imapR, smtpR, discordR} {
		for _, l := range r.lines {
			fmt.Fprintln(stdout, l)
		}
		problems += r.problems
	}
	if problems > 0 {
		return fmt.Errorf("check-config: %d connection problem(s) (listed above)", problems)
	}
	if err := ctx.Err(); err != nil {
		return errors.New("check-config: the connection checks ran out of time")
	}
	return nil
}

// mailboxName is imap.mailbox with its default.
func mailboxName(name string) string {
	if name == "" {
		return "INBOX"
	}
	return name
}
