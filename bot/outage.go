package bot

import (
	"context"
	"fmt"
	"html"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Service notices (outages), both ways.
//
// Staff start an outage (a title, the affected service components, the
// affected organisations: none named means every one) from chat or the
// API. Starting it mails the announcement to every affected
// organisation's contacts (Organisation.Contacts; where none are
// configured, the requesters seen from that organisation in the last
// outageAudienceWindow), posts it to the ops channel, and the web shows
// it on /status and on the status page of every affected RFA. New RFAs
// about an affected component while it lasts are linked to it
// (EventOutageLinked) and their acknowledgement says so. Updates go to
// everyone told; ending it clears every linked RFA with the resolution
// (d.clear, the one clearance path) and sends the all-clear to everyone
// told.
//
// Exactly once per person per message: each message is one outbox item
// per recipient, each with its own fixed Message-ID, enqueued in the
// transaction that changes the outage. A crash before the commit sends
// nothing; after it, the outbox sends each item once (receipts), the one
// item in flight at a kill possibly twice under the same Message-ID.
//
// The other direction: mail from an organisation's domain whose subject
// starts with one of OutageConfig.InboundSubjects opens a Critical RFA
// and pages at once, at any hour (inboundOutage).

// Bounds that keep one outage transaction's work bounded.
const (
	maxOutageAudience    = 2000 // people told per message
	maxOutageRFAs        = maxLinked
	maxOutageUpdates     = 50
	maxOutageTitle       = 200
	maxOutageText        = 4000
	outageAudiencePage   = 100
	outageAudienceWindow = 90 * 24 * time.Hour
)

// DefaultInboundOutageSubjects are OutageConfig.InboundSubjects when none
// are configured.
var DefaultInboundOutageSubjects = []string{"Outage", "Service outage", "Urgent: outage"}

// OutageConfig is the [outages] configuration.
type OutageConfig struct {
	// InboundSubjects: mail from an organisation whose subject starts
	// with one of these (any case) is an outage notice. nil means
	// DefaultInboundOutageSubjects.
	InboundSubjects []string
}

// EventOutageLinked is recorded on a new RFA linked to an outage.
// Text: "linked to outage N: title".
const EventOutageLinked EventKind = "outage-linked"

// Outage is a service notice.
type Outage struct {
	ID         uint64   `json:"id"`
	Title      string   `json:"title"`
	Components []string `json:"components"`
	// Organisations affected; empty means every organisation.
	Organisations []string       `json:"organisations,omitempty"`
	Started       time.Time      `json:"started"`
	StartedBy     string         `json:"started_by"`
	Updates       []OutageUpdate `json:"updates,omitempty"`
	Ended         time.Time      `json:"ended,omitzero"`
	EndedBy       string         `json:"ended_by,omitempty"`
	Resolution    string         `json:"resolution,omitempty"`
	// Told is everyone the announcement was queued to (lower-cased
	// addresses, once each): updates and the all-clear go to them.
	Told []Address `json:"told,omitempty"`
	// RFAs are the RFAs linked to it, in number order.
	RFAs []uint64 `json:"rfas,omitempty"`
}

// OutageUpdate is one update on an outage.
type OutageUpdate struct {
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	Text string    `json:"text"`
}

// Affects reports whether o concerns organisation org.
func (o *Outage) Affects(org string) bool {
	return len(o.Organisations) == 0 || slices.ContainsFunc(o.Organisations, func(n string) bool { return strings.EqualFold(n, org) })
}

// covers reports whether o is about one of components (any case).
func (o *Outage) covers(components []string) bool {
	for _, c := range components {
		if slices.ContainsFunc(o.Components, func(n string) bool { return strings.EqualFold(strings.TrimSpace(c), n) }) {
			return true
		}
	}
	return false
}

// OutageStart is what staff give to start an outage.
type OutageStart struct {
	Title         string
	Components    []string
	Organisations []string // empty: every organisation
}

type outageEvent struct {
	fn    func(tx Tx) error
	reply chan error
}

func (outageEvent) isEvent() {}

// runOutage runs fn in one transaction on the desk goroutine.
func (d *Desk) runOutage(ctx context.Context, fn func(tx Tx) error) error {
	reply := make(chan error, 1)
	if err := d.send(ctx, outageEvent{fn, reply}); err != nil {
		return err
	}
	err, werr := await(ctx, d, reply)
	if werr != nil {
		return werr
	}
	return err
}

// outageLine reports whether s is a non-empty line of at most n characters.
func outageLine(s string, n int) bool {
	return s != "" && len([]rune(s)) <= n && !strings.ContainsFunc(s, unicode.IsControl)
}

// StartOutage records a new outage and, in the same transaction, queues
// its announcement (one mail per person told) and its ops-channel post.
// It returns the outage's id. ErrInvalid for an empty title or
// component list, or an organisation not configured.
func (d *Desk) StartOutage(ctx context.Context, s OutageStart, by Actor) (uint64, error) {
	o := &Outage{Title: strings.TrimSpace(s.Title), StartedBy: by.String()}
	if !outageLine(o.Title, maxOutageTitle) {
		return 0, invalid("an outage needs a title: one line of at most %d characters", maxOutageTitle)
	}
	for _, c := range s.Components {
		if c = strings.TrimSpace(c); c != "" && !slices.ContainsFunc(o.Components, func(n string) bool { return strings.EqualFold(n, c) }) {
			if !outageLine(c, 64) {
				return 0, invalid("component %q: write one line of at most 64 characters", c)
			}
			o.Components = append(o.Components, c)
		}
	}
	if len(o.Components) == 0 || len(o.Components) > maxComponents {
		return 0, invalid("an outage needs the affected service components (1 to %d)", maxComponents)
	}
	for _, name := range s.Organisations {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(d.cfg.Organisations, func(org Organisation) bool { return strings.EqualFold(org.Name, name) })
		if i < 0 {
			return 0, invalid("there is no organisation %q: name one as in [[organisation]], or none for everyone", name)
		}
		if n := d.cfg.Organisations[i].Name; !slices.Contains(o.Organisations, n) {
			o.Organisations = append(o.Organisations, n)
		}
	}
	var id uint64
	err := d.runOutage(ctx, func(tx Tx) error {
		o.Started, o.Told = d.now(), nil
		told, err := d.outageAudience(tx, o)
		if err != nil {
			return err
		}
		o.Told = told
		if id, err = tx.PutOutage(o); err != nil {
			return err
		}
		v := d.outageView(o, by)
		v.ID = id
		return d.tellOutage(tx, o, "outage_notice", v)
	})
	return id, err
}

// outageView is what the messages about o show, by by (outageView).
func (d *Desk) outageView(o *Outage, by Actor) outageView {
	return outageView{
		ID: o.ID, Title: o.Title, Components: strings.Join(o.Components, ", "), Organisations: strings.Join(o.Organisations, ", "),
		By: by.String(), StatusURL: d.cfg.BaseURL + "/status", Desk: d.cfg.Name, Told: len(o.Told),
	}
}

// tellOutage queues stem's mail (outage_notice, outage_update,
// outage_resolved) to everyone told of o, one outbox item each with its
// own fixed Message-ID, and stem's post to the ops channel.
func (d *Desk) tellOutage(tx Tx, o *Outage, stem string, v outageView) error {
	subject, body := d.subject(stem, v), d.render(stem+".txt.tmpl", v)
	for _, a := range o.Told {
		if _, err := d.enqueueMail(tx, 0, &OutgoingMail{
			To: []Address{a}, Subject: subject, Text: body, Auto: true, Purpose: fmt.Sprintf("service notice %d", v.ID),
		}); err != nil {
			return err
		}
	}
	return d.enqueueChat(tx, 0, &ChatPost{Op: ChatOps, Text: d.render(stem+".chat.tmpl", v)})
}

// UpdateOutage records an update on outage id and queues it to everyone
// told and to the ops channel. ErrNotAllowed once it has ended.
func (d *Desk) UpdateOutage(ctx context.Context, id uint64, text string, by Actor) error {
	text = strings.TrimSpace(text)
	if text == "" || len(text) > maxOutageText {
		return invalid("an outage update needs its text (at most %d bytes)", maxOutageText)
	}
	return d.runOutage(ctx, func(tx Tx) error {
		o, err := d.liveOutage(tx, id)
		if err != nil {
			return err
		}
		if len(o.Updates) >= maxOutageUpdates {
			return fmt.Errorf("%w: outage %d has %d updates already: end it and start another", ErrNotAllowed, id, maxOutageUpdates)
		}
		o.Updates = append(o.Updates, OutageUpdate{At: d.now(), By: by.String(), Text: text})
		if _, err := tx.PutOutage(o); err != nil {
			return err
		}
		v := d.outageView(o, by)
		v.Text = text
		return d.tellOutage(tx, o, "outage_update", v)
	})
}

// EndOutage ends outage id: every linked RFA not yet cleared or closed
// is cleared with the resolution (d.clear), and the all-clear is queued
// to everyone told and to the ops channel, all in one transaction.
// ErrNotAllowed once it has ended.
func (d *Desk) EndOutage(ctx context.Context, id uint64, resolution string, by Actor) error {
	resolution = strings.TrimSpace(resolution)
	if resolution == "" || len(resolution) > maxOutageText {
		return invalid("ending an outage needs the resolution (at most %d bytes)", maxOutageText)
	}
	return d.runOutage(ctx, func(tx Tx) error {
		o, err := d.liveOutage(tx, id)
		if err != nil {
			return err
		}
		o.Ended, o.EndedBy, o.Resolution = d.now(), by.String(), resolution
		if _, err := tx.PutOutage(o); err != nil {
			return err
		}
		cleared := 0
		for _, num := range o.RFAs {
			r, err := tx.RFA(num)
			if err != nil {
				return fmt.Errorf("bot: outage %d: %s: %w", id, FormatRef(num), err)
			}
			if r.Status == StatusCleared || r.Status == StatusClosed || r.Status.Held() {
				continue
			}
			if err := d.clear(tx, r, StaffMessage{By: by, Text: resolution}); err != nil {
				return err
			}
			r.addEvent(d.now(), EventNote, "rfadesk", fmt.Sprintf("Cleared with outage %d, to which it is linked", id))
			if err := tx.PutRFA(r); err != nil {
				return err
			}
			cleared++
		}
		v := d.outageView(o, by)
		v.Text, v.Cleared = resolution, cleared
		return d.tellOutage(tx, o, "outage_resolved", v)
	})
}

// liveOutage loads outage id, which must not have ended.
func (d *Desk) liveOutage(tx Tx, id uint64) (*Outage, error) {
	o, err := tx.Outage(id)
	if err != nil {
		return nil, fmt.Errorf("%w: there is no outage %d", ErrInvalid, id)
	}
	if !o.Ended.IsZero() {
		return nil, fmt.Errorf("%w: outage %d has ended already", ErrNotAllowed, id)
	}
	return o, nil
}

// ActiveOutages returns the outages not ended, oldest first.
func (d *Desk) ActiveOutages(ctx context.Context) ([]*Outage, error) {
	var out []*Outage
	err := d.store.View(ctx, func(tx Tx) error {
		var err error
		out, err = tx.ActiveOutages()
		return err
	})
	return out, err
}

// outageAudience is everyone to tell of o, once each: each affected
// organisation's contacts or, for one without, the requesters of its
// RFAs created in the last outageAudienceWindow (newest first, through
// the organisation index). At most maxOutageAudience people.
func (d *Desk) outageAudience(tx Tx, o *Outage) ([]Address, error) {
	var out []Address
	seen := map[string]bool{}
	add := func(a Address) {
		e := strings.ToLower(strings.TrimSpace(a.Email))
		if e == "" || seen[e] || len(out) >= maxOutageAudience || isDeskAddress(e, d.cfg.Address.Email) {
			return
		}
		seen[e] = true
		out = append(out, Address{Name: a.Name, Email: e})
	}
	since := d.now().Add(-outageAudienceWindow)
	for _, org := range d.cfg.Organisations {
		if !o.Affects(org.Name) {
			continue
		}
		if len(org.Contacts) > 0 {
			for _, a := range org.Contacts {
				add(a)
			}
			continue
		}
		for before := uint64(0); len(out) < maxOutageAudience; {
			page, err := tx.OrgRFAs(OrgKindOrganisation, org.Name, before, outageAudiencePage)
			if err != nil {
				return nil, err
			}
			old := false
			for _, s := range page {
				if s.Created.Before(since) {
					old = true
					break
				}
				add(Address{Name: s.RequesterName, Email: s.RequesterEmail})
				before = s.Num
			}
			if old || len(page) < outageAudiencePage {
				break
			}
		}
	}
	return out, nil
}

// linkOutage links new RFA r, not yet stored, to the first live outage
// affecting its organisation and one of its components, and records it
// on r (EventOutageLinked), which its acknowledgement reads
// (outageAckNote). An outage with maxOutageRFAs linked takes no more.
func (d *Desk) linkOutage(tx Tx, r *RFA) error {
	if len(r.Report.Components) == 0 {
		return nil
	}
	live, err := tx.ActiveOutages()
	if err != nil {
		return err
	}
	for _, o := range live {
		if !o.Affects(r.Organisation) || !o.covers(r.Report.Components) || len(o.RFAs) >= maxOutageRFAs {
			continue
		}
		o.RFAs = append(o.RFAs, r.Num)
		if _, err := tx.PutOutage(o); err != nil {
			return err
		}
		r.addEvent(d.now(), EventOutageLinked, "rfadesk", fmt.Sprintf("linked to outage %d: %s", o.ID, o.Title))
		return nil
	}
	return nil
}

// outageAckNote adds to acknowledgement om of r, when r is linked to an
// outage, a paragraph saying so (outage_ack_note).
func (d *Desk) outageAckNote(r *RFA, om *OutgoingMail) {
	i := slices.IndexFunc(r.Events, func(e Event) bool { return e.Kind == EventOutageLinked })
	if i < 0 {
		return
	}
	_, title, _ := strings.Cut(r.Events[i].Text, ": ")
	note := d.render("outage_ack_note.line.tmpl", outageView{Title: title, Desk: d.cfg.Name, StatusURL: d.cfg.BaseURL + "/status"})
	om.Text = note + "\n\n" + om.Text
	if k := strings.Index(om.HTML, "<body"); k >= 0 {
		if e := strings.IndexByte(om.HTML[k:], '>'); e >= 0 {
			at := k + e + 1
			om.HTML = om.HTML[:at] + "\n<p><strong>" + html.EscapeString(note) + "</strong></p>" + om.HTML[at:]
		}
	}
}

// inboundOutage makes new RFA r, from mail m, an outage notice when m
// comes from an organisation's domain (r.Organisation is set), passed
// sender authentication (threadingAllowed), and its subject starts with
// one of the inbound subjects: r becomes Critical, and the on-duty staff
// are paged at once, at any hour: the on-duty role in the ops channel
// (with chat) and the on-duty address by email (DeskConfig.AlertTo when
// there is none). The severity is recorded as set by "rfadesk", which
// meets the triage clock: the rule triaged it.
func (d *Desk) inboundOutage(tx Tx, r *RFA, m *Mail) error {
	if r.Organisation == "" || !threadingAllowed(m) || !isOutageSubject(m.Subject, d.cfg.Outages.InboundSubjects) {
		return nil
	}
	now := d.now()
	r.Severity = SeverityCritical
	if r.Status == StatusNew {
		r.Status = StatusOpen
	}
	r.addEvent(now, EventSeverity, "rfadesk", string(SeverityCritical))
	v := d.staffNotice(r)
	v.Subject, v.Sender, v.Link = NeutralizeBidi(truncate(r.Subject, SubjectQuoteLimit)), m.From.Email, d.RecordURL(r)
	if err := d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatOps, Mention: d.jeop.policy().OnDutyRole, Text: d.staffChat(r, "outage_page", v)}); err != nil {
		return err
	}
	to := d.jeop.policy().OnDutyAddress
	if len(to) == 0 {
		to = d.cfg.AlertTo // nobody on duty by email: the staff alert addresses
	}
	if len(to) > 0 {
		if _, err := d.enqueueMail(tx, r.Num, &OutgoingMail{
			To: to, Subject: d.rfaSubject(r, "outage_page", v), Auto: true, Purpose: "outage notice to on-duty staff",
			Text: d.render("outage_page.txt.tmpl", v),
		}); err != nil {
			return err
		}
	}
	r.addEvent(now, EventNote, "rfadesk", "outage notice: on-duty staff paged")
	return nil
}

// isOutageSubject reports whether subject starts with one of prefixes
// (DefaultInboundOutageSubjects when nil), in any case.
func isOutageSubject(subject string, prefixes []string) bool {
	if prefixes == nil {
		prefixes = DefaultInboundOutageSubjects
	}
	s := strings.ToLower(strings.TrimSpace(subject))
	for _, p := range prefixes {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" && strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
