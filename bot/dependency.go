package bot

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// DependencyDiscord is the dependency whose notices go by email only:
// while Discord is down a post to the ops channel would not be seen.
const DependencyDiscord = "discord"

// DependencyState is a raised dependency notice (RateState.Dependency):
// staff were told that the dependency is down and not yet that it
// recovered.
type DependencyState struct {
	// Since is when the dependency was first seen down.
	Since time.Time `json:"since"`
	// Raised is when the notice was raised.
	Raised time.Time `json:"raised"`
	// Reason is the reason given when it was raised.
	Reason string `json:"reason,omitempty"`
}

// RateKeyDependency is the key of the notice about dependency name
// ("imap", "smtp", "discord").
func RateKeyDependency(name string) string { return "dependency:" + name }

// maxDependencyReason bounds the reason quoted in a notice.
const maxDependencyReason = 300

// DependencyDown raises the notice that dependency name has been down
// since since, for reason, and reports whether it did: a notice already
// raised (also before a restart) is not raised again. The notice about
// DependencyDiscord goes by email to DeskConfig.AlertTo only; any other
// goes to the ops channel, or by email when there is no chat. The notice
// and the record that it was raised are written in one transaction.
func (d *Desk) DependencyDown(ctx context.Context, name string, since time.Time, reason string) (bool, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return false, fmt.Errorf("%w: dependency name is empty", ErrInvalid)
	}
	reason = dependencyReason(reason)
	return updateDependency(ctx, d, func(tx Tx) (bool, error) {
		key := RateKeyDependency(name)
		st, err := tx.RateState(key)
		if err != nil {
			return false, err
		}
		if st.Dependency != nil {
			return false, nil
		}
		now := d.now()
		v := dependencyView{
			Name: name, Since: since.UTC().Format("2006-01-02 15:04 MST"), For: spell(now.Sub(since).Round(time.Second)),
			Reason: reason, Discord: name == DependencyDiscord,
		}
		if err := d.tellDependency(tx, "dependency_down", v); err != nil {
			return false, err
		}
		st.Dependency = &DependencyState{Since: since, Raised: now, Reason: reason}
		return true, tx.PutRateState(key, st)
	})
}

// DependencyUp clears the notice about dependency name, telling staff it
// recovered after being down for downFor, or since the notice's Since
// when that is longer (a watcher restarted during the outage measures
// less), by the same route as the notice, and reports whether a notice
// was raised. Without a raised notice it does nothing, so calling it for a
// dependency first seen up after a restart is harmless.
func (d *Desk) DependencyUp(ctx context.Context, name string, downFor time.Duration) (bool, error) {
	name = strings.TrimSpace(name)
	return updateDependency(ctx, d, func(tx Tx) (bool, error) {
		key := RateKeyDependency(name)
		st, err := tx.RateState(key)
		if err != nil {
			return false, err
		}
		if st.Dependency == nil {
			return false, nil
		}
		downFor = max(downFor, d.now().Sub(st.Dependency.Since))
		v := dependencyView{
			Name: name, Since: st.Dependency.Since.UTC().Format("2006-01-02 15:04 MST"), For: spell(downFor.Round(time.Second)),
			Reason: st.Dependency.Reason, Discord: name == DependencyDiscord,
		}
		if err := d.tellDependency(tx, "dependency_up", v); err != nil {
			return false, err
		}
		st.Dependency = nil
		return true, tx.PutRateState(key, st)
	})
}

// tellDependency enqueues the dependency notice v describes, worded by
// stem (dependency_down, dependency_up): by email only for
// DependencyDiscord, otherwise an ops post (subject and text), or email
// without chat.
func (d *Desk) tellDependency(tx Tx, stem string, v dependencyView) error {
	now, name := d.now(), v.Name
	subject, text := d.subject(stem, v), d.render(stem+".txt.tmpl", v)
	if name != DependencyDiscord && d.cfg.Chat {
		_, err := tx.Enqueue(&OutboxItem{Kind: OutboxChat, Created: now, NextAttempt: now,
			Chat: &ChatPost{Op: ChatOps, Text: subject + "\n" + text}})
		return err
	}
	if len(d.cfg.AlertTo) == 0 {
		d.log.Warn("dependency notice not sent: no alert address", "dependency", name, "subject", subject)
		return nil
	}
	mid, err := d.newMessageID(0)
	if err != nil {
		return err
	}
	_, err = tx.Enqueue(&OutboxItem{Kind: OutboxMail, Created: now, NextAttempt: now, Mail: &OutgoingMail{
		To: d.cfg.AlertTo, Subject: subject, Text: text, MessageID: mid, Auto: true, Purpose: PurposeDependencyNotice,
	}})
	return err
}

// PurposeDependencyNotice is the Purpose of a dependency notice mail.
const PurposeDependencyNotice = "dependency notice"

// updateDependency runs fn in one transaction on the desk goroutine.
func updateDependency(ctx context.Context, d *Desk, fn func(tx Tx) (bool, error)) (bool, error) {
	reply := make(chan capacityReply, 1)
	ev := capacityEvent{reply: reply, fn: func(tx Tx) (any, error) { return fn(tx) }}
	if err := d.send(ctx, ev); err != nil {
		return false, err
	}
	r, err := await(ctx, d, reply)
	if err != nil {
		return false, err
	}
	if r.err != nil {
		return false, r.err
	}
	return r.v.(bool), nil
}

// dependencyReason returns s on one line, without control characters or
// backquotes, cut to at most maxDependencyReason runes.
func dependencyReason(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.Join(strings.Fields(s), " ") {
		if n == maxDependencyReason {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) || r == '`' {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}
