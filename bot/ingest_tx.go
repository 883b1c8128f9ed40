package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// ingest records a batch in one transaction. Each message is decided on
// its own; the transaction makes the whole batch, its outbox items and
// the cursor commit together or not at all.
func (d *Desk) ingest(ctx context.Context, mailbox string, uidValidity uint32, batch []Fetched, pre []readMail) ([]Outcome, error) {
	var outcomes []Outcome
	err := d.store.Update(ctx, func(tx Tx) error {
		outcomes = outcomes[:0]
		var maxUID uint32
		for i := range batch {
			m := &batch[i]
			maxUID = max(maxUID, m.UID)
			out, err := d.recordOne(tx, mailbox, m, pre[i])
			if err != nil {
				return fmt.Errorf("bot: recording UID %d: %w", m.UID, err)
			}
			out.UID = m.UID
			outcomes = append(outcomes, out)
		}
		cur, err := tx.Cursor(mailbox)
		if err != nil {
			return err
		}
		if cur.UIDValidity != uidValidity {
			cur = Cursor{UIDValidity: uidValidity}
		}
		if maxUID > cur.LastUID {
			cur.LastUID = maxUID
			return tx.SetCursor(mailbox, cur)
		}
		if cur.UIDValidity == uidValidity && cur.LastUID == 0 && maxUID == 0 {
			return tx.SetCursor(mailbox, cur)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return outcomes, nil
}

// ingestOneByOne is the fallback when a batch cannot be recorded: each
// message is recorded in a transaction of its own, and one that still
// fails (an id the store cannot key, say) becomes a dead letter instead
// of blocking every message behind it for ever. If even the dead letter
// cannot be written the store itself is failing: the error is returned
// and nothing more is recorded, so intake offers the rest again later.
func (d *Desk) ingestOneByOne(ctx context.Context, mailbox string, uidValidity uint32, batch []Fetched, pre []readMail, batchErr error) ([]Outcome, error) {
	d.log.Warn("a batch could not be recorded; recording its messages one by one", "mailbox", mailbox, "messages", len(batch), "err", batchErr)
	var outcomes []Outcome
	for i := range batch {
		out, err := d.ingest(ctx, mailbox, uidValidity, batch[i:i+1], pre[i:i+1])
		if err == nil {
			outcomes = append(outcomes, out...)
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		m := batch[i]
		u := &unrecordable{reason: "could not be recorded: " + truncate(err.Error(), 300)}
		if m.Mail != nil {
			m.DedupeKey = m.Mail.DedupeKey
			u.from, u.subject = m.Mail.From.String(), truncate(m.Mail.Subject, 200)
		}
		m.ParseErr = u
		if len(m.DedupeKey) > 200 || m.DedupeKey == "" {
			sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d\x00%s", mailbox, uidValidity, m.UID, m.DedupeKey))
			m.DedupeKey = "sha256:" + hex.EncodeToString(sum[:])
		}
		m.Mail = nil
		out, err = d.ingest(ctx, mailbox, uidValidity, []Fetched{m}, []readMail{{}})
		if err != nil {
			if len(outcomes) > 0 {
				// What was recorded stands; the rest has no outcome and
				// stays in the mailbox to be offered again.
				d.log.Error("the store refuses even a dead letter; recording stopped", "mailbox", mailbox, "uid", m.UID, "err", err)
				return outcomes, nil
			}
			return nil, fmt.Errorf("bot: even a dead letter cannot be recorded: %w", err)
		}
		outcomes = append(outcomes, out...)
	}
	return outcomes, nil
}

// unrecordable is the dead-letter reason of a parsed mail the store
// refused; it keeps who sent it, as the raw bytes are not at hand (the
// original stays in the mailbox's failed folder).
type unrecordable struct{ reason, from, subject string }

func (u *unrecordable) Error() string { return u.reason }

// readMail is what a new RFA reads from its mail: pure work done on the
// caller's goroutine (Ingest), so the desk goroutine only decides and
// commits.
type readMail struct {
	report    Report
	suggested Severity
}

// readMails reads the report fields and a suggested severity from every
// parsed mail of a batch, from no more of its text than an RFA keeps
// (maxText bytes).
func readMails(batch []Fetched, maxText int) []readMail {
	pre := make([]readMail, len(batch))
	for i, m := range batch {
		if m.Mail == nil {
			continue
		}
		subject, text := keptSubject(m.Mail.Subject), cutText(m.Mail.Reply, maxText)
		rep := ParseReport(subject, text)
		pre[i] = readMail{report: rep, suggested: SuggestSeverity(subject, rep, text)}
	}
	return pre
}
