package mailbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"rfadesk/bot"
)

// moveMode is how handled messages leave the mailbox.
type moveMode int

const (
	moveAuto        moveMode = iota // decide from capabilities
	moveMove                        // UID MOVE (RFC 6851)
	moveCopyExpunge                 // UID COPY + STORE \Deleted + UID EXPUNGE (UIDPLUS)
	moveCopyFlag                    // UID COPY + STORE $RfadeskProcessed; the message stays
)

func (m moveMode) String() string {
	switch m {
	case moveMove:
		return "move"
	case moveCopyExpunge:
		return "copy+expunge"
	case moveCopyFlag:
		return "copy+flag"
	}
	return "auto"
}

// flagProcessed marks messages handled on servers that can neither MOVE
// nor UID EXPUNGE; the startup sweep skips them.
const flagProcessed imap.Flag = "$RfadeskProcessed"

// ingestError wraps errors from the Ingester, so that the health reason does
// not blame the IMAP server for them.
type ingestError struct{ err error }

func (e ingestError) Error() string { return "mailbox: recording mail: " + e.err.Error() }
func (e ingestError) Unwrap() error { return e.err }

// imapConn is one logged-in IMAP connection and what the loop knows about it.
type imapConn struct {
	i    *Intake
	c    *imapclient.Client
	mode moveMode
	idle bool
}

// session connects, then catches up and waits for news until an error or
// ctx ends. progressed reports whether at least one catch-up completed.
func (i *Intake) session(ctx context.Context) (progressed bool, err error) {
	handler := &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				i.Kick() // runs on the client's reader: never block here
			}
		},
	}
	c, err := i.dial(ctx, handler)
	if err != nil {
		return false, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()

	s := &imapConn{i: i, c: c, mode: i.moveMode}
	var caps imap.CapSet
	err = s.guard("capability", func(func()) error {
		var err error
		caps, err = c.Capability().Wait()
		return err
	})
	if err != nil {
		return false, err
	}
	switch {
	case s.mode != moveAuto:
	case caps.Has(imap.CapMove):
		s.mode = moveMove
	case caps.Has(imap.CapUIDPlus):
		s.mode = moveCopyExpunge
	default:
		s.mode = moveCopyFlag
	}
	s.idle = caps.Has(imap.CapIdle) && !i.noIdle
	for _, folder := range []string{i.cfg.Processed, i.cfg.Failed} {
		if err := s.ensureFolder(folder); err != nil {
			return false, err
		}
	}
	i.log.Debug("imap intake: connected", "move", s.mode, "idle", s.idle)

	for sweep := true; ; sweep = false {
		if err := s.catchUp(ctx, sweep); err != nil {
			return progressed, err
		}
		progressed = true
		if err := s.wait(ctx); err != nil {
			return progressed, err
		}
	}
}

// guard runs f and closes the connection if no answer comes within the
// command timeout: the library sets no read deadline while a command
// waits, so a silently dead connection would otherwise hang forever.
// touch, passed to f, restarts the clock (for long FETCH responses).
func (s *imapConn) guard(what string, f func(touch func()) error) error {
	var fired atomic.Bool
	d := s.i.cmdTimeout
	t := time.AfterFunc(d, func() {
		fired.Store(true)
		s.c.Close()
	})
	err := f(func() { t.Reset(d) })
	t.Stop()
	if fired.Load() {
		return &imapCommandError{what: what, err: fmt.Errorf("no answer within %v", d), timeout: true}
	}
	if err != nil {
		return &imapCommandError{what: what, err: err}
	}
	return nil
}

// imapCommandError is a failed or unanswered command on a logged-in
// connection.
type imapCommandError struct {
	what    string // e.g. "select INBOX"
	err     error
	timeout bool // the watchdog closed the connection
}

func (e *imapCommandError) Error() string { return fmt.Sprintf("mailbox: imap %s: %v", e.what, e.err) }
func (e *imapCommandError) Unwrap() error { return e.err }

// ensureFolder creates folder unless it already exists.
func (s *imapConn) ensureFolder(folder string) error {
	return s.guard("create "+folder, func(func()) error {
		list, err := s.c.List("", folder, nil).Collect()
		if err != nil {
			return err
		}
		for _, l := range list {
			if l.Mailbox == folder {
				return nil
			}
		}
		err = s.c.Create(folder, nil).Wait()
		var ie *imap.Error
		if errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists {
			return nil
		}
		return err
	})
}

// wait blocks until there may be news: an EXISTS while idling, a Kick, the
// poll or IDLE-restart timer. The catch-up that follows starts with a
// SELECT under the watchdog, so a dead connection is found at every wake,
// at the latest after min(PollInterval, IdleRestart).
func (s *imapConn) wait(ctx context.Context) error {
	cfg := s.i.cfg
	if !s.idle {
		t := time.NewTimer(cfg.PollInterval)
		defer t.Stop()
		select {
		case <-s.i.wake:
		case <-t.C:
		case <-s.c.Closed():
			return errors.New("mailbox: imap connection closed by the server")
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	}
	var idle *imapclient.IdleCommand
	err := s.guard("IDLE", func(func()) error {
		var err error
		idle, err = s.c.Idle()
		return err
	})
	if err != nil {
		return err
	}
	t := time.NewTimer(min(cfg.PollInterval, cfg.IdleRestart))
	defer t.Stop()
	select {
	case <-s.i.wake:
	case <-t.C:
	case <-s.c.Closed():
		return errors.New("mailbox: imap connection closed by the server")
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.guard("DONE", func(func()) error {
		if err := idle.Close(); err != nil {
			return err
		}
		return idle.Wait()
	})
}

// catchUp selects the mailbox and hands every message above the cursor
// to the desk in batches, moving each batch once Ingest has committed it.
// With sweep set (first catch-up of a connection) it also offers messages
// at or below the cursor that are still in the mailbox.
func (s *imapConn) catchUp(ctx context.Context, sweep bool) error {
	i := s.i
	var sel *imap.SelectData
	err := s.guard("select "+i.cfg.Mailbox, func(func()) error {
		var err error
		sel, err = s.c.Select(i.cfg.Mailbox, nil).Wait()
		return err
	})
	if err != nil {
		return err
	}
	i.health(true, "")
	// Anything announced so far is visible to the search below.
	select {
	case <-i.wake:
	default:
	}
	cur, err := i.in.Cursor(ctx, i.cfg.Mailbox)
	if err != nil {
		return ingestError{err}
	}
	if cur.UIDValidity != sel.UIDValidity {
		if cur.UIDValidity != 0 {
			i.log.Warn("imap intake: UIDVALIDITY changed, rereading the whole mailbox (duplicates are recognised by the desk)",
				"old", cur.UIDValidity, "new", sel.UIDValidity)
		}
		cur = bot.Cursor{UIDValidity: sel.UIDValidity}
	}
	uids, err := s.search(cur.LastUID, sweep)
	if err != nil {
		return err
	}
	for len(uids) > 0 {
		chunk, err := s.nextChunk(uids)
		if err != nil {
			return err
		}
		uids = uids[len(chunk):]
		batch, err := s.fetch(chunk)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			continue // expunged by someone else meanwhile
		}
		outcomes, err := i.in.Ingest(ctx, i.cfg.Mailbox, sel.UIDValidity, batch)
		if err != nil {
			return ingestError{err}
		}
		if i.opts.Observe != nil {
			i.opts.Observe(len(batch), outcomes)
		}
		if ctx.Err() != nil {
			// Committed but shutting down: the next start's sweep moves them.
			return ctx.Err()
		}
		if err := s.dispose(batch, outcomes); err != nil {
			return err
		}
	}
	return nil
}

// search returns, in ascending order, the UIDs above last and, with sweep,
// those at or below it that are still waiting in the mailbox (all of them,
// or in flag mode those without flagProcessed).
func (s *imapConn) search(last uint32, sweep bool) ([]imap.UID, error) {
	var above imap.UIDSet
	above.AddRange(imap.UID(last+1), 0) // last+1:*
	uids, err := s.searchUIDs(&imap.SearchCriteria{UID: []imap.UIDSet{above}})
	if err != nil {
		return nil, err
	}
	// "n:*" also matches the highest UID when that is below n.
	uids = slices.DeleteFunc(uids, func(u imap.UID) bool { return uint32(u) <= last })
	if sweep {
		waiting := &imap.SearchCriteria{} // ALL
		if s.mode == moveCopyFlag {
			waiting.NotFlag = []imap.Flag{flagProcessed}
		}
		more, err := s.searchUIDs(waiting)
		if err != nil {
			return nil, err
		}
		uids = append(uids, more...)
	}
	slices.Sort(uids)
	return slices.Compact(uids), nil
}

func (s *imapConn) searchUIDs(criteria *imap.SearchCriteria) ([]imap.UID, error) {
	var data *imap.SearchData
	err := s.guard("search", func(func()) error {
		var err error
		data, err = s.c.UIDSearch(criteria, nil).Wait()
		return err
	})
	if err != nil {
		return nil, err
	}
	return data.AllUIDs(), nil
}

// nextChunk returns the next batch to fetch from the front of uids: at
// most BatchSize messages whose sizes add up to at most BatchBytes (and
// always at least one message), so that memory stays bounded whatever
// the mailbox holds. Sizes come from a cheap RFC822.SIZE fetch.
func (s *imapConn) nextChunk(uids []imap.UID) ([]imap.UID, error) {
	chunk := uids[:min(len(uids), s.i.opts.BatchSize)]
	sizes := make(map[imap.UID]int64, len(chunk))
	err := s.guard("fetch sizes", func(touch func()) error {
		msgs, err := s.c.Fetch(imap.UIDSetNum(chunk...), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
		for _, m := range msgs {
			sizes[m.UID] = m.RFC822Size
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return chunk[:fitBytes(chunk, sizes, s.i.opts.BatchBytes)], nil
}

// fitBytes is how many of uids, from the front, fit in limit bytes; at
// least one. Unknown sizes count as zero (the message was expunged).
func fitBytes(uids []imap.UID, sizes map[imap.UID]int64, limit int64) int {
	var total int64
	for n, u := range uids {
		total += sizes[u]
		if total > limit && n > 0 {
			return n
		}
	}
	return len(uids)
}

// fetch downloads the messages with the given UIDs (never setting \Seen)
// and parses them, in ascending UID order.
func (s *imapConn) fetch(uids []imap.UID) ([]bot.Fetched, error) {
	want := imap.UIDSetNum(uids...)
	body := &imap.FetchItemBodySection{Peek: true}
	var out []bot.Fetched
	err := s.guard("fetch", func(touch func()) error {
		cmd := s.c.Fetch(want, &imap.FetchOptions{
			UID: true, InternalDate: true, RFC822Size: true,
			BodySection: []*imap.FetchItemBodySection{body},
		})
		broken := false // the connection broke mid-message: see collectMessage
		defer func() {
			if !broken {
				cmd.Close()
			}
		}()
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			buf, err := collectMessage(msg)
			if err != nil {
				broken = true
				return err
			}
			touch()
			if buf.UID == 0 || !want.Contains(buf.UID) {
				continue // an unrequested FETCH (a flag change): not ours
			}
			raw := buf.FindBodySection(body)
			if raw == nil {
				// Not sent (expunged meanwhile?). Left out of the batch, it
				// is offered again by the next connection's sweep if it is
				// still there.
				s.i.log.Warn("imap intake: server sent no body, skipping", "uid", buf.UID)
				continue
			}
			out = append(out, s.i.deliver(buf.UID, buf.InternalDate, raw))
		}
		return cmd.Close()
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b bot.Fetched) int { return int(int64(a.UID) - int64(b.UID)) })
	out = slices.CompactFunc(out, func(a, b bot.Fetched) bool { return a.UID == b.UID })
	return out, nil
}

// deliver parses one raw message into what Ingest takes.
func (i *Intake) deliver(uid imap.UID, received time.Time, raw []byte) bot.Fetched {
	d := bot.Fetched{UID: uint32(uid)}
	mail, err := i.parse(raw)
	if err == nil && mail == nil {
		err = errors.New("parser returned no mail")
	}
	if err != nil {
		d.ParseErr, d.Raw, d.DedupeKey = err, raw, i.opts.DedupeKey(raw)
		i.log.Warn("imap intake: unparsable message", "uid", uid, "err", err)
		return d
	}
	mail.Received = received
	if mail.Size == 0 {
		mail.Size = len(raw)
	}
	if mail.DedupeKey == "" {
		mail.DedupeKey = i.opts.DedupeKey(raw)
	}
	d.Mail, d.DedupeKey = mail, mail.DedupeKey
	return d
}

func (i *Intake) parse(raw []byte) (m *bot.Mail, err error) {
	defer func() {
		if v := recover(); v != nil {
			m, err = nil, fmt.Errorf("parser panicked: %v", v)
		}
	}()
	return i.opts.Parse(raw)
}

// dispose moves each message of a committed batch to the folder its
// outcome names. A message without an outcome stays where it is (it is
// offered again by the next connection's sweep).
func (s *imapConn) dispose(batch []bot.Fetched, outcomes []bot.Outcome) error {
	byUID := make(map[uint32]bot.Outcome, len(outcomes))
	for _, o := range outcomes {
		byUID[o.UID] = o
	}
	var processed, failed []imap.UID
	for _, d := range batch {
		o, ok := byUID[d.UID]
		if !ok {
			s.i.log.Error("imap intake: desk returned no outcome, leaving the message in place", "uid", d.UID)
			continue
		}
		s.i.log.Info("imap intake: mail recorded", "uid", d.UID, "result", o.Result, bot.RFAAttr(o.RFA), "key", d.DedupeKey)
		if o.Disposition == bot.ToFailed {
			failed = append(failed, imap.UID(d.UID))
		} else {
			processed = append(processed, imap.UID(d.UID))
		}
	}
	if err := s.move(processed, s.i.cfg.Processed); err != nil {
		return err
	}
	return s.move(failed, s.i.cfg.Failed)
}

// move takes messages out of the selected mailbox into folder.
func (s *imapConn) move(uids []imap.UID, folder string) error {
	if len(uids) == 0 {
		return nil
	}
	set := imap.UIDSetNum(uids...)
	return s.guard("move to "+folder, func(func()) error {
		if s.mode == moveMove {
			_, err := s.c.Move(set, folder).Wait()
			return err
		}
		if _, err := s.c.Copy(set, folder).Wait(); err != nil {
			return err
		}
		flag := imap.FlagDeleted
		if s.mode == moveCopyFlag {
			flag = flagProcessed
		}
		err := s.c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{flag}}, nil).Close()
		if err != nil || s.mode == moveCopyFlag {
			return err
		}
		return s.c.UIDExpunge(set).Close()
	})
}
