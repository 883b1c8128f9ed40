package bot

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// This file is the self-service use case: a requester logs an RFA on the
// web form (web/new.go). A submission from a domain an organisation owns
// becomes an RFA at once, exactly as an email would (channel portal). One
// from any other domain is held unverified (StatusUnverified) and only one
// mail goes out, to the address typed, asking its owner to confirm; the
// RFA joins the desk's work when they do (ConfirmSubmission).

// PortalSubmission is an RFA as a requester typed it on the web form.
// The web side bounds its sizes; Submit cuts what is still too long.
type PortalSubmission struct {
	// From is the requester's name and email address as typed.
	From Address
	// Subject is a line saying what is wrong; "" takes the first line of
	// Description (or of the error message).
	Subject string
	// Description is the requester's account of the problem.
	Description string
	// Report holds the contract's fields from the form; the description
	// is read for any left empty.
	Report Report
	// Attachments are the uploaded files, each with its Data; their
	// Size is taken from Data.
	Attachments []Attachment
}

// ConfirmWindow is how long a held submission's confirmation link works.
const ConfirmWindow = 7 * 24 * time.Hour

// Bounds on what one submission records.
const (
	maxPortalName  = 200
	maxPortalEmail = 254
)

// Submit records a web submission, in one transaction, and returns its
// RFA. When an organisation owns the domain of s.From.Email the RFA is
// logged as any email is (status new, channel portal, acknowledgement,
// chat card, clocks from now). Otherwise it is recorded in
// StatusUnverified with a ConfirmToken, and the only thing queued is one
// confirmation mail to the address (SubmissionConfirmURL); the caller must not show
// the held RFA's reference or status link to the submitter.
//
// Errors: ErrInvalid (matched with errors.Is) for a missing or malformed
// address or an empty description, nothing recorded; ErrNotAllowed when
// the address has opened the desk's sender limit of RFAs within its
// window, or, for an unknown domain, when the desk-wide limit of mail to
// senders outside the organisations is used up (staff are told, as for
// acknowledgements): no RFA is recorded then either.
func (d *Desk) Submit(ctx context.Context, s PortalSubmission) (*RFA, error) {
	if err := cleanSubmission(&s); err != nil {
		return nil, err
	}
	reply := make(chan portalReply, 1)
	if err := d.send(ctx, portalEvent{submit: &s, reply: reply}); err != nil {
		return nil, err
	}
	r, err := await(ctx, d, reply)
	if err != nil {
		return nil, err
	}
	return r.rfa, r.err
}

// ConfirmSubmission releases the held submission whose SubmissionConfirmURL carried
// token: it becomes StatusNew, its Created and so its clocks start now,
// and its acknowledgement and chat card are queued. Confirming an RFA
// already released changes nothing and returns it. A token that names no
// held submission gives an error matching ErrNotFound; one older than
// ConfirmWindow, ErrNotAllowed.
func (d *Desk) ConfirmSubmission(ctx context.Context, token string) (*RFA, error) {
	reply := make(chan portalReply, 1)
	if err := d.send(ctx, portalEvent{confirm: token, reply: reply}); err != nil {
		return nil, err
	}
	r, err := await(ctx, d, reply)
	if err != nil {
		return nil, err
	}
	return r.rfa, r.err
}

// SubmissionConfirmURL is the link mailed for a held submission:
// BaseURL/new/confirm?t=<num>.<ConfirmToken>.
func (d *Desk) SubmissionConfirmURL(r *RFA) string {
	return strings.TrimRight(d.cfg.BaseURL, "/") + "/new/confirm?t=" + confirmToken(r)
}

func confirmToken(r *RFA) string {
	return strconv.FormatUint(r.Num, 10) + "." + r.ConfirmToken
}

type portalEvent struct {
	submit  *PortalSubmission // or
	confirm string
	reply   chan portalReply
}

type portalReply struct {
	rfa *RFA
	err error
}

func (portalEvent) isEvent() {}

func (d *Desk) runPortal(ctx context.Context, ev portalEvent) portalReply {
	var r *RFA
	var err error
	if ev.submit != nil {
		r, err = d.submit(ctx, ev.submit)
	} else {
		r, err = d.confirmSubmission(ctx, ev.confirm)
	}
	return portalReply{r, err}
}

// cleanSubmission checks s and makes its text safe to record: one-line
// name, subject and address, cut to their bounds.
func cleanSubmission(s *PortalSubmission) error {
	s.From.Email = strings.ToLower(strings.TrimSpace(s.From.Email))
	if !plausibleAddress(s.From.Email) {
		return invalid("enter your email address (name@school.example)")
	}
	s.From.Name = truncate(oneLine(s.From.Name), maxPortalName)
	s.Description = strings.TrimSpace(strings.ReplaceAll(s.Description, "\r\n", "\n"))
	s.Report.ErrorMessage = strings.TrimSpace(s.Report.ErrorMessage)
	if s.Description == "" && s.Report.ErrorMessage == "" {
		return invalid("describe the problem (or give the exact error message)")
	}
	s.Subject = oneLine(s.Subject)
	if s.Subject == "" {
		first := s.Description
		if first == "" {
			first = s.Report.ErrorMessage
		}
		first, _, _ = strings.Cut(first, "\n")
		s.Subject = oneLine(first)
	}
	s.Subject = truncate(s.Subject, SubjectQuoteLimit)
	for i := range s.Attachments {
		a := &s.Attachments[i]
		a.Name = cleanFileName(a.Name, i)
		a.Size, a.Stored, a.Inline = int64(len(a.Data)), a.Data != nil, false
		if a.ContentType == "" {
			a.ContentType = "application/octet-stream"
		}
	}
	return nil
}

// plausibleAddress reports whether e looks like one mailbox: one @, a
// local part, a dotted domain, no spaces, controls or header syntax.
func plausibleAddress(e string) bool {
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || len(e) > maxPortalEmail || !strings.Contains(domain, ".") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return false
	}
	return !strings.ContainsFunc(e, func(c rune) bool {
		return unicode.IsSpace(c) || unicode.IsControl(c) || strings.ContainsRune(`<>()[],;:"\`, c)
	}) && !strings.Contains(domain, "@")
}

// submit records one cleaned submission.
func (d *Desk) submit(ctx context.Context, s *PortalSubmission) (*RFA, error) {
	var r *RFA
	var refused error
	err := d.store.Update(ctx, func(tx Tx) error {
		r, refused = nil, nil
		now := d.now()
		m := &Mail{From: s.From, Subject: s.Subject, Reply: s.Description, Received: now, Attachments: s.Attachments}
		if over, err := d.overSenderLimit(tx, m); err != nil || over {
			if over {
				lim := d.cfg.Limits.senderRFAs()
				refused = fmt.Errorf("%s opened %d RFAs within %s: %w", s.From.Email, lim.Max, spell(lim.Window), ErrNotAllowed)
			}
			return err
		}
		known := d.dir.Lookup(s.From.Domain()) != nil
		if !known {
			ok, err := d.takeUnknownAck(tx)
			if err != nil {
				return err
			}
			if !ok {
				// Committed without an RFA: the limit's state (and the
				// staff alert it may have queued) must stick.
				refused = fmt.Errorf("too much mail to senders outside the organisations just now: %w", ErrNotAllowed)
				return nil
			}
		}
		text := cutText(s.Description, d.cfg.Limits.maxMessageText())
		rep := s.Report
		rep.Merge(ParseReport(s.Subject, text))
		var err error
		r, err = d.newRFA(tx, ChannelPortal, m, readMail{report: rep, suggested: SuggestSeverity(s.Subject, rep, text)})
		if err != nil {
			return err
		}
		if err := d.addMessage(tx, r, m); err != nil {
			return err
		}
		if err := d.countSenderRFA(tx, m, r.Num); err != nil {
			return err
		}
		if known {
			r.addEvent(now, EventCreated, m.From.Email, "RFA logged from the web form")
			if err := d.announceRFA(tx, r, m); err != nil {
				return err
			}
			return tx.PutRFA(r)
		}
		if r.ConfirmToken, err = newToken(d.rand); err != nil {
			return err
		}
		r.Status = StatusUnverified
		if _, err := d.enqueueMail(tx, 0, d.composeConfirm(r)); err != nil {
			return err
		}
		r.addEvent(now, EventHeld, m.From.Email, "submitted on the web form from a domain no organisation owns: held unverified until the requester confirms the address; confirmation link mailed to "+m.From.Email)
		return tx.PutRFA(r)
	})
	if err != nil {
		return nil, err
	}
	if refused != nil {
		return nil, refused
	}
	return r, nil
}

// overSenderLimit reports whether m's sender has opened the sender limit
// of RFAs within its window (IntakeLimits.SenderRFAs; plus-tags and case
// variants count as one), counting email and web RFAs alike.
func (d *Desk) overSenderLimit(tx Tx, m *Mail) (bool, error) {
	sender := canonicalMailbox(m.From.Email)
	if sender == "" {
		return false, nil
	}
	lim := d.cfg.Limits.senderRFAs()
	st, err := tx.RateState(RateKeySender(sender))
	if err != nil {
		return false, err
	}
	return st.count(lim.Window, m.Received) >= lim.Max, nil
}

// composeConfirm writes the one mail a held submission sends: it quotes
// nothing the submitter typed (the address may be a stranger's), only the
// desk's name and the confirmation link. It carries no RFA reference, so
// a reply to it is new mail, not part of the held RFA.
func (d *Desk) composeConfirm(r *RFA) *OutgoingMail {
	desk := d.cfg.Name
	if desk == "" {
		desk = "the service desk"
	}
	v := submissionView{Desk: desk, ConfirmURL: d.SubmissionConfirmURL(r)}
	return &OutgoingMail{
		To: []Address{{Email: r.Requester.Email}}, Subject: d.subject("submission_confirm", v),
		Text: d.render("submission_confirm.txt.tmpl", v), Auto: true, Purpose: "confirmation request",
	}
}

// confirmSubmission releases the held RFA token names.
func (d *Desk) confirmSubmission(ctx context.Context, token string) (*RFA, error) {
	numText, secret, ok := strings.Cut(token, ".")
	num, err := strconv.ParseUint(numText, 10, 64)
	if !ok || err != nil || num == 0 || secret == "" {
		return nil, fmt.Errorf("bot: no such confirmation link: %w", ErrNotFound)
	}
	var r *RFA
	err = d.store.Update(ctx, func(tx Tx) error {
		var err error
		if r, err = tx.RFA(num); err != nil {
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("bot: no such confirmation link: %w", ErrNotFound)
			}
			return err
		}
		if !sameSecret(secret, r.ConfirmToken) {
			return fmt.Errorf("bot: no such confirmation link: %w", ErrNotFound)
		}
		if !r.Status.Held() {
			return nil // confirmed before
		}
		now := d.now()
		if now.Sub(r.Created) > ConfirmWindow {
			return fmt.Errorf("bot: the confirmation link has expired (it works for seven days): %w", ErrNotAllowed)
		}
		r.Status, r.Created = StatusNew, now
		r.addEvent(now, EventCreated, r.Requester.Email, "RFA logged from the web form: the requester confirmed the address")
		m := &Mail{From: r.Requester, Subject: r.Subject, Received: now}
		if err := d.announceRFA(tx, r, m); err != nil {
			return err
		}
		return tx.PutRFA(r)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// sameSecret compares a presented secret with the stored one in time
// that depends on neither; an empty stored secret never matches.
func sameSecret(got, want string) bool {
	if want == "" {
		return false
	}
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
