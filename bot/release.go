package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"rfadesk/bot/workcal"
)

// The release calendar. Minor releases ship every ReleasePolicy.MinorEvery
// days from its Anchor; a major release ships on the first working day of
// each school term (the day after each of the default school holidays,
// SLAPolicy.Holidays[""]). Both are computed, named by their nominal
// date ("minor-2026-12-18", "major-2027-01-04"); a nominal date on which
// the desk is closed ships on the next working day. Staff add named
// releases, or move one (computed or named) to another date: such a
// release is stored (Tx.PutRelease) and the stored record wins over the
// computed one of the same name.
//
// An RFA is planned for a release with the release staff action
// ("next-minor", "next-major" or a name): RFA.Release takes the
// release's name and its ship time, the end of its date, so a Minor
// RFA's workaround clock is due then (clocks.go). The store indexes RFAs
// that are not cleared or closed by their release's name
// (Tx.ReleaseRFAs), so shipping and the daily check read the RFAs of one
// release, not the store.
//
// Shipping a release (Desk.ShipRelease) records it as shipped with its
// notes, then clears its RFAs through the one clearance path (d.clear)
// in transactions of at most shipBatch RFAs, their mails in the outbox of
// the same transaction: a crash between batches leaves the release
// shipped and the rest of its RFAs indexed, and shipping it again (or
// the daily check, CheckReleases) clears the rest, each RFA once.
//
// CheckReleases, run daily by the daemon, moves the open RFAs of a
// release whose date has passed unshipped to the next release of its
// kind, telling each requester once (EventReleaseMoved with its mail), and
// checks the contract's cadence: no minor release shipped for more than
// two weeks, or no major one in a school term, tells the ops chat and the
// managers once per gap (the ReleaseCadence record).

// ReleaseKind says which cadence a release belongs to.
type ReleaseKind string

const (
	ReleaseMinor ReleaseKind = "minor"
	ReleaseMajor ReleaseKind = "major"
)

// ReleasePolicy is the [releases] configuration.
type ReleasePolicy struct {
	// MinorEvery is the days between minor releases (default 14).
	MinorEvery int
	// Anchor is the date of one minor release; the others are MinorEvery
	// days apart from it. The zero Date is 2026-01-02 (a Friday).
	Anchor workcal.Date
}

// DefaultReleaseAnchor is the anchor of the zero ReleasePolicy.
var DefaultReleaseAnchor = workcal.Date{Year: 2026, Month: time.January, Day: 2}

// ReleaseInfo is one release: computed from the policy, or stored.
type ReleaseInfo struct {
	Name string      `json:"name"`
	Kind ReleaseKind `json:"kind"`
	// Date is the day it ships: a working day, unless staff chose one.
	Date workcal.Date `json:"date"`
	// Stored is true when staff added or moved it.
	Stored bool `json:"stored,omitempty"`
	// Shipped is when it shipped; zero while it has not.
	Shipped time.Time `json:"shipped,omitzero"`
	// Notes are the release notes it shipped with: every RFA it cleared
	// has them as its resolution.
	Notes string `json:"notes,omitempty"`
	// ShippedBy is who shipped it.
	ShippedBy string `json:"shipped_by,omitempty"`
}

// ReleaseCadence records the cadence alerts sent, so each gap is told
// once: the ship time (or, none yet, the anchor) the last alert of each
// kind was about.
type ReleaseCadence struct {
	MinorGapSince time.Time `json:"minor_gap_since,omitzero"`
	MajorGapSince time.Time `json:"major_gap_since,omitzero"`
}

// Release specs the release action accepts besides a name.
const (
	ReleaseNextMinor = "next-minor"
	ReleaseNextMajor = "next-major"
)

// EventReleaseMoved records an RFA moved from a release whose date passed
// unshipped to the next one; its mail told the requester.
const EventReleaseMoved EventKind = "release-moved"

// ErrReleaseUnknown is matched by the errors for a release name that is
// neither computed nor stored; it also matches ErrInvalid.
var ErrReleaseUnknown = invalid("unknown release")

const (
	shipBatch       = 50  // RFAs cleared per ship transaction
	releaseHorizon  = 400 // days of computed releases looked at ahead
	maxReleaseName  = 64  // bytes
	minorCadenceGap = 14 * 24 * time.Hour
)

func (d *Desk) releasePolicy() ReleasePolicy {
	p := d.cfg.Releases
	if p.MinorEvery <= 0 {
		p.MinorEvery = 14
	}
	if p.Anchor == (workcal.Date{}) {
		p.Anchor = DefaultReleaseAnchor
	}
	return p
}

func dayTime(day workcal.Date) time.Time {
	return time.Date(day.Year, day.Month, day.Day, 12, 0, 0, 0, time.UTC)
}

func addDays(day workcal.Date, n int) workcal.Date {
	return workcal.DateOf(dayTime(day).AddDate(0, 0, n))
}

// nextWorkingDay is day, or the first day after it the desk is open.
func (d *Desk) nextWorkingDay(day workcal.Date) workcal.Date {
	cal := d.calendar()
	t := cal.NextOpen(time.Date(day.Year, day.Month, day.Day, 0, 0, 0, 0, cal.Location()))
	if t.IsZero() {
		return day
	}
	return cal.DateOf(t)
}

// releaseShips is when a release dated day counts as shipped for the
// clocks: the end of that day in the desk's zone.
func (d *Desk) releaseShips(day workcal.Date) time.Time {
	return time.Date(day.Year, day.Month, day.Day+1, 0, 0, 0, 0, d.calendar().Location())
}

// computedReleases returns the policy's releases whose nominal date is
// in [from, to], ordered by date.
func (d *Desk) computedReleases(from, to workcal.Date) []ReleaseInfo {
	p := d.releasePolicy()
	var out []ReleaseInfo
	gap := int(dayTime(from).Sub(dayTime(p.Anchor)).Hours() / 24)
	k := gap / p.MinorEvery
	if gap < 0 {
		k = gap/p.MinorEvery - 1
	}
	for nominal := addDays(p.Anchor, k*p.MinorEvery); !dateLess(to, nominal); nominal = addDays(nominal, p.MinorEvery) {
		if !dateLess(nominal, from) {
			out = append(out, ReleaseInfo{Name: "minor-" + nominal.String(), Kind: ReleaseMinor, Date: d.nextWorkingDay(nominal)})
		}
	}
	for _, h := range d.jeop.policy().SchoolHolidays("") {
		nominal := addDays(h.To, 1)
		if !dateLess(nominal, from) && !dateLess(to, nominal) {
			out = append(out, ReleaseInfo{Name: "major-" + nominal.String(), Kind: ReleaseMajor, Date: d.nextWorkingDay(nominal)})
		}
	}
	return out
}

// releasesFrom merges the computed releases from day on (releaseHorizon
// days of them) with the stored ones, a stored record replacing the
// computed one of its name, ordered by date then name.
func (d *Desk) releasesFrom(tx Tx, day workcal.Date) ([]ReleaseInfo, error) {
	stored, err := tx.Releases()
	if err != nil {
		return nil, err
	}
	byName := make(map[string]bool, len(stored))
	var out []ReleaseInfo
	for _, s := range stored {
		byName[strings.ToLower(s.Name)] = true
		if !dateLess(s.Date, day) {
			out = append(out, s)
		}
	}
	for _, c := range d.computedReleases(addDays(day, -7), addDays(day, releaseHorizon)) {
		if !byName[strings.ToLower(c.Name)] && !dateLess(c.Date, day) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b ReleaseInfo) int {
		if a.Date != b.Date {
			if dateLess(a.Date, b.Date) {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// Releases returns the coming releases: those dated today or later that
// have not shipped, over the next releaseHorizon days, ordered by date.
func (d *Desk) Releases(ctx context.Context) ([]ReleaseInfo, error) {
	var out []ReleaseInfo
	err := d.store.View(ctx, func(tx Tx) error {
		all, err := d.releasesFrom(tx, d.calendar().DateOf(d.now()))
		for _, r := range all {
			if r.Shipped.IsZero() {
				out = append(out, r)
			}
		}
		return err
	})
	return out, err
}

// findRelease returns the release named name (any case): stored, or
// computed from its nominal date.
func (d *Desk) findRelease(tx Tx, name string) (ReleaseInfo, bool, error) {
	name = strings.TrimSpace(name)
	rec, err := tx.Release(name)
	if err == nil {
		return *rec, true, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return ReleaseInfo{}, false, err
	}
	kind, date, ok := strings.Cut(strings.ToLower(name), "-")
	if !ok || (kind != string(ReleaseMinor) && kind != string(ReleaseMajor)) {
		return ReleaseInfo{}, false, nil
	}
	day, err := workcal.ParseDate(date)
	if err != nil {
		return ReleaseInfo{}, false, nil
	}
	for _, c := range d.computedReleases(day, day) {
		if strings.EqualFold(c.Name, name) {
			return c, true, nil
		}
	}
	return ReleaseInfo{}, false, nil
}

// resolveRelease turns a release spec (next-minor, next-major or a name)
// into an unshipped release whose ship time is after now.
func (d *Desk) resolveRelease(tx Tx, spec string, now time.Time) (ReleaseInfo, error) {
	spec = strings.TrimSpace(spec)
	var kind ReleaseKind
	switch strings.ToLower(spec) {
	case ReleaseNextMinor:
		kind = ReleaseMinor
	case ReleaseNextMajor:
		kind = ReleaseMajor
	}
	if kind != "" {
		all, err := d.releasesFrom(tx, d.calendar().DateOf(now))
		if err != nil {
			return ReleaseInfo{}, err
		}
		for _, r := range all {
			if r.Kind == kind && r.Shipped.IsZero() && d.releaseShips(r.Date).After(now) {
				return r, nil
			}
		}
		return ReleaseInfo{}, invalid("no %s release is planned in the next %d days", kind, releaseHorizon)
	}
	r, ok, err := d.findRelease(tx, spec)
	switch {
	case err != nil:
		return ReleaseInfo{}, err
	case !ok:
		return ReleaseInfo{}, fmt.Errorf("%w: %q: use next-minor, next-major or the name of a release (rfadesk releases lists them)", ErrReleaseUnknown, spec)
	case !r.Shipped.IsZero():
		return ReleaseInfo{}, invalid("release %s has already shipped", r.Name)
	}
	return r, nil
}

// planRelease sets r's release to rel within tx and tells the requester
// which release the fix ships in, and when.
func (d *Desk) planRelease(tx Tx, r *RFA, rel ReleaseInfo, by string, event EventKind, text string) error {
	r.Release = &Release{Name: rel.Name, Ships: d.releaseShips(rel.Date)}
	r.addEvent(d.now(), event, by, text)
	if r.Requester.Email != "" {
		inReplyTo, refs := conversationHeaders(r)
		v := releaseView{
			Ref: r.Ref(), Subject: NeutralizeBidi(r.Subject), Link: d.StatusURL(r), Desk: d.cfg.Name,
			Release: rel.Name, Ships: dayTime(rel.Date).Format("Monday 2 January 2006"), Moved: event == EventReleaseMoved,
		}
		if _, err := d.enqueueMail(tx, r.Num, &OutgoingMail{
			To: []Address{r.Requester}, Subject: d.rfaSubject(r, "release_notice", v),
			Text:      d.render("release_notice.txt.tmpl", v),
			InReplyTo: inReplyTo, References: refs, Auto: true, Purpose: "release notice",
		}); err != nil {
			return err
		}
	}
	return d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatCard})
}

// AddRelease adds release name on day, or moves the release of that
// name (computed or stored) to day; kind is used for a new name
// (default minor). A shipped release cannot move. The RFAs planned for
// a moved release take its new ship time (a Minor RFA's workaround
// clock follows) and their requesters are mailed the new date, shipBatch
// RFAs per transaction after the one that moves it.
func (d *Desk) AddRelease(ctx context.Context, name string, day workcal.Date, kind ReleaseKind) (ReleaseInfo, error) {
	name = strings.TrimSpace(name)
	switch lower := strings.ToLower(name); {
	case name == "" || len(name) > maxReleaseName:
		return ReleaseInfo{}, invalid("a release needs a name of 1 to %d bytes", maxReleaseName)
	case lower == ReleaseNextMinor || lower == ReleaseNextMajor:
		return ReleaseInfo{}, invalid("%q is reserved: choose another name", name)
	case strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == '/' }):
		return ReleaseInfo{}, invalid("a release name has no control characters or slashes")
	}
	if kind == "" {
		kind = ReleaseMinor
	}
	if kind != ReleaseMinor && kind != ReleaseMajor {
		return ReleaseInfo{}, invalid("%q is not a release kind: use minor or major", kind)
	}
	var out ReleaseInfo
	err := d.run(ctx, func(ctx context.Context) error {
		err := d.store.Update(ctx, func(tx Tx) error {
			rel, ok, err := d.findRelease(tx, name)
			if err != nil {
				return err
			}
			if !ok {
				rel = ReleaseInfo{Name: name, Kind: kind}
			}
			if !rel.Shipped.IsZero() {
				return invalid("release %s has already shipped", rel.Name)
			}
			rel.Date, rel.Stored = day, true
			out = rel
			return tx.PutRelease(rel)
		})
		if err != nil {
			return err
		}
		return d.replanRelease(ctx, out)
	})
	return out, err
}

// replanRelease gives the RFAs planned for rel whose ship time differs
// from rel's its ship time, in batches.
func (d *Desk) replanRelease(ctx context.Context, rel ReleaseInfo) error {
	ships := d.releaseShips(rel.Date)
	for after := uint64(0); ; {
		n := 0
		err := d.store.Update(ctx, func(tx Tx) error {
			nums, err := tx.ReleaseRFAs(rel.Name, after, shipBatch)
			if err != nil {
				return err
			}
			for _, num := range nums {
				after, n = num, n+1
				r, err := tx.RFA(num)
				if err != nil {
					return fmt.Errorf("bot: release %s: %s: %w", rel.Name, FormatRef(num), err)
				}
				if r.Release == nil || r.Release.Ships.Equal(ships) {
					continue
				}
				if err := d.planRelease(tx, r, rel, "rfadesk", EventRelease,
					"release "+rel.Name+" moved; now shipping "+rel.Date.String()); err != nil {
					return err
				}
				if err := tx.PutRFA(r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || n < shipBatch {
			return err
		}
	}
}

// ShipRelease records release name as shipped with notes and clears
// every RFA planned for it that is not cleared or closed, each with the
// notes as its resolution (the clearance mail and confirmation of
// d.clear), shipBatch RFAs per transaction. Shipping a shipped release
// again clears what a crash left; its notes stay the first ones. It
// returns how many RFAs it cleared.
func (d *Desk) ShipRelease(ctx context.Context, name, notes string, by Actor) (int, error) {
	notes = strings.TrimSpace(notes)
	switch {
	case notes == "":
		return 0, invalid("shipping a release needs its notes: they are the resolution of its RFAs")
	case len(notes) > maxStaffText:
		return 0, invalid("the notes are longer than %d bytes", maxStaffText)
	}
	cleared := 0
	err := d.run(ctx, func(ctx context.Context) error {
		var rel ReleaseInfo
		err := d.store.Update(ctx, func(tx Tx) error {
			r, ok, err := d.findRelease(tx, name)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%w: %q", ErrReleaseUnknown, name)
			}
			if r.Shipped.IsZero() {
				r.Shipped, r.Notes, r.ShippedBy, r.Stored = d.now(), notes, by.String(), true
				if err := tx.PutRelease(r); err != nil {
					return err
				}
			}
			rel = r
			return nil
		})
		if err != nil {
			return err
		}
		n, err := d.clearRelease(ctx, rel, by)
		cleared = n
		return err
	})
	return cleared, err
}

// clearRelease clears the indexed RFAs of shipped rel in batches.
func (d *Desk) clearRelease(ctx context.Context, rel ReleaseInfo, by Actor) (int, error) {
	m := StaffMessage{By: by, Text: rel.Notes}
	total := 0
	for {
		n := 0
		err := d.store.Update(ctx, func(tx Tx) error {
			nums, err := tx.ReleaseRFAs(rel.Name, 0, shipBatch)
			if err != nil {
				return err
			}
			for _, num := range nums {
				r, err := tx.RFA(num)
				if err != nil {
					return fmt.Errorf("bot: release %s: %s: %w", rel.Name, FormatRef(num), err)
				}
				// An entry out of step (a cleared RFA) is dropped by the
				// rewrite below.
				if r.Status != StatusCleared && r.Status != StatusClosed && !r.Status.Held() {
					if err := d.clear(tx, r, m); err != nil {
						return err
					}
					r.addEvent(d.now(), EventNote, "rfadesk", "Cleared by shipping release "+rel.Name)
				}
				if err := tx.PutRFA(r); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < shipBatch {
			return total, nil
		}
	}
}

// runEvent runs fn on the desk goroutine.
type runEvent struct {
	fn    func(ctx context.Context) error
	reply chan error
}

func (runEvent) isEvent() {}

// run runs fn on the Run goroutine and returns its error.
func (d *Desk) run(ctx context.Context, fn func(ctx context.Context) error) error {
	reply := make(chan error, 1)
	if err := d.send(ctx, runEvent{fn, reply}); err != nil {
		return err
	}
	err, werr := await(ctx, d, reply)
	if werr != nil {
		return werr
	}
	return err
}

// PlanRelease plans RFA num's fix for the release spec names
// (next-minor, next-major or a name; resolveRelease): RFA.Release takes
// its name and ship time, so a Minor RFA's workaround clock is due when
// it ships, and the requester is mailed the release and its date. An
// unknown or shipped release matches ErrInvalid.
func (d *Desk) PlanRelease(ctx context.Context, num uint64, spec string, by Actor) error {
	return d.act(ctx, num, func(tx Tx, r *RFA) error {
		rel, err := d.resolveRelease(tx, spec, d.now())
		if err != nil {
			return err
		}
		return d.planRelease(tx, r, rel, by.String(), EventRelease,
			"planned for release "+rel.Name+", shipping "+rel.Date.String())
	})
}
