package bot

import (
	"context"
	"fmt"
	"time"
)

// CheckReleases is the release calendar's daily check (see release.go):
// it moves the open RFAs of every release whose ship time has passed
// unshipped to the next release of its kind, shipBatch RFAs per
// transaction, each requester told once (EventReleaseMoved and its mail
// in the RFA's transaction), and tells the ops chat and the managers of
// a cadence gap once per gap. It returns how many RFAs it moved.
func (d *Desk) CheckReleases(ctx context.Context) (int, error) {
	moved := 0
	err := d.run(ctx, func(ctx context.Context) error {
		var names []string
		if err := d.store.View(ctx, func(tx Tx) (err error) { names, err = tx.PlannedReleases(); return err }); err != nil {
			return err
		}
		for _, name := range names {
			n, err := d.rollOver(ctx, name)
			moved += n
			if err != nil {
				return err
			}
		}
		return d.store.Update(ctx, d.checkCadence)
	})
	return moved, err
}

// rollOver moves the RFAs of release name to the next one of its kind
// when its date has passed unshipped; a shipped release's left-over
// RFAs (a crash mid-ship) are cleared instead.
func (d *Desk) rollOver(ctx context.Context, name string) (int, error) {
	now := d.now()
	var rel ReleaseInfo
	var known bool
	if err := d.store.View(ctx, func(tx Tx) (err error) { rel, known, err = d.findRelease(tx, name); return err }); err != nil {
		return 0, err
	}
	switch {
	case !known:
		return 0, nil // a release of an RFA planned before the calendar: left as it is
	case !rel.Shipped.IsZero():
		return d.clearRelease(ctx, rel, Actor{Name: "rfadesk"})
	case d.releaseShips(rel.Date).After(now):
		return 0, nil
	}
	total := 0
	for {
		n := 0
		err := d.store.Update(ctx, func(tx Tx) error {
			next, err := d.resolveRelease(tx, "next-"+string(rel.Kind), now)
			if err != nil {
				return err
			}
			nums, err := tx.ReleaseRFAs(rel.Name, 0, shipBatch)
			if err != nil {
				return err
			}
			for _, num := range nums {
				r, err := tx.RFA(num)
				if err != nil {
					return fmt.Errorf("bot: release %s: %s: %w", rel.Name, FormatRef(num), err)
				}
				if err := d.planRelease(tx, r, next, "rfadesk", EventReleaseMoved,
					"release "+rel.Name+" did not ship on "+rel.Date.String()+"; moved to "+next.Name+", shipping "+next.Date.String()); err != nil {
					return err
				}
				if err := tx.PutRFA(r); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		total += n
		if err != nil || n < shipBatch {
			return total, err
		}
	}
}

// checkCadence tells the ops chat and the managers when no minor release
// has shipped for more than two weeks, or no major one since the start
// of the current school term, once per gap (ReleaseCadence).
func (d *Desk) checkCadence(tx Tx) error {
	now := d.now()
	stored, err := tx.Releases()
	if err != nil {
		return err
	}
	lastShip := map[ReleaseKind]time.Time{}
	for _, r := range stored {
		if r.Shipped.After(lastShip[r.Kind]) {
			lastShip[r.Kind] = r.Shipped
		}
	}
	rc, err := tx.ReleaseCadence()
	if err != nil {
		return err
	}
	changed := false
	// Minor: the gap starts at the last ship, or, none yet, at the anchor.
	since := lastShip[ReleaseMinor]
	if since.IsZero() {
		a := d.releasePolicy().Anchor
		since = d.releaseShips(a)
	}
	if now.Sub(since) > minorCadenceGap && !rc.MinorGapSince.Equal(since) {
		rc.MinorGapSince, changed = since, true
		if err := d.tellCadence(tx, releaseCadenceView{Minor: true, Since: d.deskTime(since)}); err != nil {
			return err
		}
	}
	// Major: the current term began after the latest school holiday that
	// has ended; a term without a major release shipped in it is a gap.
	today := d.calendar().DateOf(now)
	var termStart time.Time
	for _, h := range d.jeop.policy().SchoolHolidays("") {
		start := addDays(h.To, 1)
		if dateLess(start, today) || start == today {
			if t := d.releaseShips(addDays(start, -1)); t.After(termStart) {
				termStart = t // midnight at the start of the term's first day
			}
		}
	}
	// The term's major release is due on its first working day: a gap
	// once that day has passed with nothing shipped since the term began.
	if !termStart.IsZero() && lastShip[ReleaseMajor].Before(termStart) &&
		d.releaseShips(d.nextWorkingDay(d.calendar().DateOf(termStart))).Before(now) && !rc.MajorGapSince.Equal(termStart) {
		rc.MajorGapSince, changed = termStart, true
		if err := d.tellCadence(tx, releaseCadenceView{Since: termStart.In(d.calendar().Location()).Format("Mon 2 Jan 2006")}); err != nil {
			return err
		}
	}
	if !changed {
		return nil
	}
	return tx.PutReleaseCadence(rc)
}

// tellCadence posts the gap v describes (release_cadence) to the ops
// chat and mails it to the managers.
func (d *Desk) tellCadence(tx Tx, v releaseCadenceView) error {
	v.Desk = d.cfg.Name
	if err := d.enqueueChat(tx, 0, &ChatPost{Op: ChatOps, Text: d.render("release_cadence.chat.tmpl", v)}); err != nil {
		return err
	}
	if len(d.cfg.Managers) == 0 {
		return nil
	}
	_, err := d.enqueueMail(tx, 0, &OutgoingMail{
		To: d.cfg.Managers, Subject: d.subject("release_cadence", v),
		Text: d.render("release_cadence.txt.tmpl", v), Auto: true, Purpose: "release cadence",
	})
	return err
}

// releaseCheckEvery is how often RunReleaseChecks runs CheckReleases:
// often enough that a release date passing is acted on the same
// morning, and cheap (one index seek per planned release).
const releaseCheckEvery = time.Hour

// RunReleaseChecks runs CheckReleases at once and then every
// releaseCheckEvery until ctx is done, logging failures (the next run
// retries: every step of the check is recorded, so none is repeated).
// It returns ctx.Err().
func (d *Desk) RunReleaseChecks(ctx context.Context) error {
	t := time.NewTicker(releaseCheckEvery)
	defer t.Stop()
	for {
		if n, err := d.CheckReleases(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("release check", "err", err)
		} else if n > 0 {
			d.log.Info("release check: RFAs moved to the next release", "moved", n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
