package store

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
)

// writeV1 regenerates testdata/v1.db, the store written by schema
// version 1 that the migration tests open. It was produced by
//
//	go test ./store -run TestWriteV1Fixture -write-v1-fixture
//
// at the commit that added it, before version 2 existed; run against a
// later layout it would write that layout instead, so do not rerun it:
// the committed file is the fixture.
var writeV1 = flag.Bool("write-v1-fixture", false, "write testdata/v1.db with this binary's layout")

// v1Fixture describes what testdata/v1.db holds, for the tests that read it.
func v1Fixture() []*bot.RFA {
	t0 := time.Date(2026, 9, 14, 8, 30, 0, 0, time.UTC)
	ann := bot.Address{Name: "Ann Head", Email: "ann@hill.example"}
	desk := bot.Address{Name: "Sam Staff", Email: "desk@rfadesk.example"}
	raj := bot.Address{Name: "Raj Office", Email: "office@vale.example"}
	return []*bot.RFA{
		{
			Num: 1, Status: bot.StatusOpen, Channel: bot.ChannelEmail, Subject: "Printer offline in room 4",
			Created: t0, Requester: ann, Participants: []string{"bob@hill.example"},
			Organisation: "Hill School", Trust: "North Trust",
			Report: bot.Report{Site: "Main", Components: []string{"printing"}, Level: "2", ActionTaken: "restarted it",
				ErrorMessage: "E-17", CanReplicate: bot.ReplicateYes},
			Token: "aGlsbC1zY2hvb2wtdG9rZW4tMDAx", Severity: bot.SeverityModerate, SuggestedSeverity: bot.SeverityModerate,
			Assignee: "Sam Staff", Chat: bot.ChatRef{PostID: "1300000000000000001", ThreadID: "1300000000000000002", LastSeen: "1300000000000000009"},
			Messages: []bot.Message{
				{At: t0, Direction: bot.Inbound, From: ann, Subject: "Printer offline in room 4",
					Text: "The printer in room 4 shows error E-17.\nWe restarted it twice.", MessageID: "m1@hill.example",
					Attachments: []bot.Attachment{{Name: "error.png", ContentType: "image/png", Size: 8, Stored: true},
						{Name: "log.txt", ContentType: "text/plain", Size: 12, Stored: true}}},
				{At: t0.Add(time.Hour), Direction: bot.Outbound, From: desk, Subject: "Re: [RFA-1] Printer offline in room 4",
					Text: "Thank you, we are looking at it.", MessageID: "RFA-1-ack@rfadesk.example", Auto: bot.AutoReplied},
				{At: t0.Add(2 * time.Hour), Direction: bot.Inbound, From: ann, Subject: "Re: [RFA-1] Printer offline in room 4",
					Text: "", MessageID: "m2@hill.example"}, // an empty reply: only an attachment
			},
			Events: []bot.Event{
				{At: t0, Kind: bot.EventCreated, Text: "logged from email", Actor: "ann@hill.example"},
				{At: t0.Add(time.Hour), Kind: bot.EventSeverity, Text: "moderate", Actor: "staff:Sam Staff"},
				{At: t0.Add(time.Hour), Kind: bot.EventAssigned, Text: "Sam Staff", Actor: "staff:Sam Staff"},
			},
		},
		{
			Num: 2, Status: bot.StatusNew, Channel: bot.ChannelPhone, Subject: "Café booking screen blank — ünïcödé",
			Created: t0.Add(24 * time.Hour), Requester: raj, Organisation: "Vale Academy", Trust: "",
			Token: "dmFsZS1hY2FkZW15LXRva2VuLTAy", Flag: "named another school's RFA",
			Messages: []bot.Message{{At: t0.Add(24 * time.Hour), Direction: bot.Inbound, From: raj,
				Subject: "Café booking screen blank — ünïcödé", Text: "Called in: screen is blank ☕ <b>not html</b>"}},
			Events: []bot.Event{{At: t0.Add(24 * time.Hour), Kind: bot.EventCreated, Text: "logged from a call", Actor: "staff:Sam Staff"}},
		},
		{
			Num: 4, Status: bot.StatusClosed, Channel: bot.ChannelEmail, Subject: "Timetable export fails",
			Created: t0.Add(48 * time.Hour), Requester: ann, Organisation: "Hill School", Trust: "North Trust",
			Token: "aGlsbC1zY2hvb2wtdG9rZW4tMDA0", Severity: bot.SeverityMinor,
			Release: &bot.Release{Name: "2026.10", Ships: t0.Add(30 * 24 * time.Hour)},
			Messages: []bot.Message{
				{At: t0.Add(48 * time.Hour), Direction: bot.Inbound, From: ann, Subject: "Timetable export fails",
					Text: strings.Repeat("The export stops at 90%. ", 400), MessageID: "m3@hill.example"},
				{At: t0.Add(50 * time.Hour), Direction: bot.Outbound, From: desk, Subject: "Re: [RFA-4] Timetable export fails",
					Text: "Fixed in 2026.10.", MessageID: "RFA-4-1@rfadesk.example",
					Attachments: []bot.Attachment{{Name: "notes.pdf", ContentType: "application/pdf", Size: 4, Stored: true}}},
			},
			Events: []bot.Event{
				{At: t0.Add(48 * time.Hour), Kind: bot.EventCreated, Text: "logged from email", Actor: "ann@hill.example"},
				{At: t0.Add(60 * time.Hour), Kind: bot.EventCleared, Text: "cleared", Actor: "staff:Sam Staff"},
			},
		},
	}
}

// v1Attachments are the attachment bytes in the fixture, by key.
func v1Attachments() map[[3]int][]byte {
	return map[[3]int][]byte{
		{1, 0, 0}: []byte("\x89PNG\r\n\x1a\n"),
		{1, 0, 1}: []byte("line 1\nline 2"),
		{4, 1, 0}: []byte("%PDF"),
	}
}

func TestWriteV1Fixture(t *testing.T) {
	if !*writeV1 {
		t.Skip("run with -write-v1-fixture to regenerate testdata/v1.db")
	}
	path := filepath.Join("testdata", "v1.db")
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 9, 14, 8, 30, 0, 0, time.UTC)
	err = db.Update(context.Background(), func(tx bot.Tx) error {
		for _, r := range v1Fixture() {
			if err := tx.PutRFA(r); err != nil {
				return err
			}
			for _, m := range r.Messages {
				if m.MessageID != "" {
					if err := tx.PutThread(bot.NormalizeMessageID(m.MessageID), r.Num); err != nil {
						return err
					}
					if m.Direction == bot.Inbound {
						if err := tx.PutDedupe("mid:"+m.MessageID, r.Num); err != nil {
							return err
						}
					}
				}
			}
			if r.Chat.ThreadID != "" {
				if err := tx.PutChatThread(r.Chat.ThreadID, r.Num); err != nil {
					return err
				}
			}
		}
		for k, data := range v1Attachments() {
			if err := tx.PutAttachment(uint64(k[0]), k[1], k[2], data); err != nil {
				return err
			}
		}
		if err := tx.PutDedupe("sha256:00ff00ff", 0); err != nil {
			return err
		}
		items := []bot.OutboxItem{
			{Kind: bot.OutboxMail, RFA: 1, Created: t0.Add(3 * time.Hour), Attempts: 2, NextAttempt: t0.Add(4 * time.Hour),
				LastError: "451 try later", Mail: &bot.OutgoingMail{To: []bot.Address{{Name: "Ann Head", Email: "ann@hill.example"}},
					Subject: "Re: [RFA-1] Printer offline in room 4", Text: "Please try the new driver.",
					MessageID: "RFA-1-2@rfadesk.example", InReplyTo: "m2@hill.example", References: []string{"m1@hill.example", "m2@hill.example"},
					Attachments: []bot.Attachment{{Name: "driver.zip", ContentType: "application/zip", Size: 3, Data: []byte("PK\x03")}},
					Purpose:     "staff reply"}},
			{Kind: bot.OutboxChat, RFA: 2, Created: t0.Add(24 * time.Hour), NextAttempt: t0.Add(24 * time.Hour),
				Chat: &bot.ChatPost{Op: bot.ChatNewRFA}},
			{Kind: bot.OutboxMail, Created: t0.Add(25 * time.Hour), NextAttempt: t0.Add(25 * time.Hour),
				Mail: &bot.OutgoingMail{To: []bot.Address{{Email: "alerts@rfadesk.example"}}, Subject: "Dead letter 1",
					Text: "A message could not be read.", MessageID: "alert-1@rfadesk.example", Auto: true, Purpose: "alert"}},
		}
		for i := range items {
			if _, err := tx.Enqueue(&items[i]); err != nil {
				return err
			}
		}
		if err := tx.PutDeadLetter(&bot.DeadLetter{At: t0.Add(25 * time.Hour), Mailbox: "INBOX", UID: 7, Key: "sha256:00ff00ff",
			Reason: "no From address", Subject: "???", Raw: []byte("Subject: ???\r\n\r\nbody\r\n")}); err != nil {
			return err
		}
		if err := tx.SetCursor("INBOX", bot.Cursor{UIDValidity: 1700000000, LastUID: 9}); err != nil {
			return err
		}
		return tx.PutAutoReplies("ann@hill.example", []time.Time{t0.Add(time.Hour)})
	})
	if err != nil {
		t.Fatal(err)
	}
}
