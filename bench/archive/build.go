package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
	"rfadesk/store"
)

// openEvery makes every 20th RFA open (5%); the rest are closed.
const openEvery = 20

// buildBatch is how many RFAs one NoSync build transaction writes.
const buildBatch = 10_000

// benchNow is the desk's clock: every open RFA was reported in the hour
// before it and none has an escalation point due yet.
var benchNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// benchPolicy is the SLA policy the desk runs with.
func benchPolicy() *bot.SLAPolicy { return bot.DefaultSLAPolicy(workcal.Default()) }

// statusToken is RFA num's status-page token: derived from its number so
// that the measuring process can open status pages without reading the
// store first (unguessable tokens matter for the daemon, not here).
func statusToken(num uint64) string {
	sum := sha256.Sum256([]byte("rfadesk-bench/" + strconv.FormatUint(num, 10)))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// organisations are the schools the archive's RFAs come from.
var organisations = []struct{ name, domain string }{
	{"Oak Primary School", "oakprimary.sch.uk"},
	{"Ash Academy", "ashacademy.org.uk"},
	{"Elm High School", "elmhigh.sch.uk"},
	{"Birch Infant School", "birchinfants.sch.uk"},
}

var severities = []bot.Severity{bot.SeverityCritical, bot.SeveritySerious, bot.SeverityModerate, bot.SeverityMinor}

// Message texts, sized like real ones: the school's report with the
// contract's fields, the acknowledgement, a staff reply, the school's
// answer and the clearance.
var (
	reportText = "Site location: Main building, office 2\n" +
		"Service component(s) affected: Attendance, Registers\n" +
		"Level 1 action taken: restarted the browser, cleared the cache, tried a second PC\n" +
		"Error message: Register could not be saved (E2031)\n" +
		"Can you replicate the error: yes\n\n" +
		strings.Repeat("When the teacher saves the morning register the page spins and then shows the error above. ", 6)
	ackText     = strings.Repeat("Thank you for your request. It has been logged and a member of the support team will respond within the agreed time. ", 4)
	staffText   = strings.Repeat("We have found the cause: a stale session on the registers server. ", 5)
	answerText  = strings.Repeat("Thanks, that has worked for us this morning. ", 4)
	clearedText = strings.Repeat("We believe this is fixed; please reply if it comes back. ", 3)
)

// archiveRFA is RFA num, the i-th written (from 0), shaped like a real
// one; open ones were reported within the hour before benchNow, closed
// ones over the years before (~500 a day). NextEscalation is left zero:
// the desk computes it when it arms its schedule (armArchive).
func archiveRFA(num uint64, i int) *bot.RFA {
	open := num%openEvery == 0
	created := benchNow.AddDate(0, 0, -1-i/500)
	if open {
		created = benchNow.Add(-time.Duration(i%3600) * time.Second)
	}
	org := organisations[(i/7)%len(organisations)] // open ones of every school too
	sev := severities[i%len(severities)]
	school := bot.Address{Name: "School Office", Email: "office@" + org.domain}
	desk := bot.Address{Name: "Service Desk", Email: "support@example.org"}
	staff := "Priya Shah (discord:1001)"
	ref := bot.FormatRef(num)
	at := func(d time.Duration) time.Time { return created.Add(d) }
	r := &bot.RFA{
		Num: num, Status: bot.StatusOpen, Channel: bot.ChannelEmail, Subject: "Registers will not save",
		Created: created, Requester: school, Organisation: org.name, Token: statusToken(num),
		Report: bot.Report{
			Site: "Main building, office 2", Components: []string{"Attendance", "Registers"},
			ActionTaken:  "Level 1: restarted the browser, cleared the cache, tried a second PC",
			ErrorMessage: "Register could not be saved (E2031)", CanReplicate: bot.ReplicateYes,
		},
		Severity: sev, SuggestedSeverity: sev, Assignee: staff,
		Messages: []bot.Message{
			{At: at(0), Direction: bot.Inbound, From: school, Subject: "Registers will not save", Text: reportText,
				MessageID: fmt.Sprintf("%d.school@%s", num, org.domain)},
			{At: at(time.Minute), Direction: bot.Outbound, From: desk, Subject: "[" + ref + "] Received: Registers will not save",
				Text: ackText, MessageID: ref + "-ack@example.org"},
		},
		Events: []bot.Event{
			{At: at(0), Kind: bot.EventCreated, Text: "RFA logged from email"},
			{At: at(0), Kind: bot.EventFieldsFilled, Text: "site, components, action_taken, error_message, can_replicate"},
			{At: at(0), Kind: bot.EventAckQueued, Text: "acknowledgement queued"},
			{At: at(time.Minute), Kind: bot.EventMailSent, Text: "acknowledgement accepted by the mail server"},
			{At: at(5 * time.Minute), Kind: bot.EventSeverity, Actor: staff, Text: string(sev)},
			{At: at(5 * time.Minute), Kind: bot.EventAssigned, Actor: staff, Text: staff},
			{At: at(10 * time.Minute), Kind: bot.EventStatusUpdate, Actor: staff, Text: "We are looking at it."},
		},
	}
	if open {
		return r
	}
	r.Status = bot.StatusClosed
	r.Messages = append(r.Messages,
		bot.Message{At: at(40 * time.Minute), Direction: bot.Outbound, From: desk, Subject: "Re: [" + ref + "] Registers will not save",
			Text: staffText, MessageID: ref + "-r1@example.org"},
		bot.Message{At: at(2 * time.Hour), Direction: bot.Inbound, From: school, Subject: "Re: [" + ref + "] Registers will not save",
			Text: answerText, MessageID: fmt.Sprintf("%d.answer@%s", num, org.domain)},
		bot.Message{At: at(3 * time.Hour), Direction: bot.Outbound, From: desk, Subject: "[" + ref + "] Cleared",
			Text: clearedText, MessageID: ref + "-clear@example.org"})
	r.Events = append(r.Events,
		bot.Event{At: at(40 * time.Minute), Kind: bot.EventStaffReply, Actor: staff, Text: "reply sent"},
		bot.Event{At: at(41 * time.Minute), Kind: bot.EventMailSent, Text: "reply accepted by the mail server"},
		bot.Event{At: at(2 * time.Hour), Kind: bot.EventMessage, Text: "reply from the requester"},
		bot.Event{At: at(3 * time.Hour), Kind: bot.EventCleared, Actor: staff, Text: "Fixed."},
		bot.Event{At: at(3 * time.Hour), Kind: bot.EventMailSent, Text: "clearance accepted by the mail server"})
	return r
}

// buildArchive writes n RFAs (archiveRFA) to the store at path in
// NoSync transactions of buildBatch RFAs, with their message-ID threads and
// dedupe keys recorded as intake records them. It reports progress to logf.
func buildArchive(ctx context.Context, path string, n int, logf func(string, ...any)) error {
	db, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	for done := 0; done < n; done += buildBatch {
		err := db.Update(ctx, func(tx bot.Tx) error {
			for i := done; i < min(done+buildBatch, n); i++ {
				num, err := tx.NextRFANumber()
				if err != nil {
					return err
				}
				r := archiveRFA(num, i)
				if err := tx.PutRFA(r); err != nil {
					return err
				}
				for _, m := range r.Messages {
					if err := tx.PutThread(m.MessageID, num); err != nil {
						return err
					}
					if m.Direction == bot.Inbound {
						if err := tx.PutDedupe("mid:"+m.MessageID, num); err != nil {
							return err
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("building RFAs %d to %d: %w", done+1, min(done+buildBatch, n), err)
		}
		if (done/buildBatch)%10 == 9 {
			logf("built %d RFAs in %v", done+buildBatch, time.Since(start).Round(time.Second))
		}
	}
	return nil
}
