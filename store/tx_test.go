package store

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"testing"
	"time"

	"rfadesk/bot"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// at is a UTC time without monotonic reading, so it survives JSON intact
// for reflect.DeepEqual.
func at(minute int) time.Time { return time.Date(2026, 11, 26, 9, minute, 0, 0, time.UTC) }

func sampleRFA(num uint64) *bot.RFA {
	return &bot.RFA{
		Num: num, Status: bot.StatusNew, Channel: bot.ChannelEmail,
		Subject: "Printer offline", Created: at(1),
		Requester:    bot.Address{Name: "Ann Head", Email: "ann@school.example"},
		Participants: []string{"bob@school.example"},
		Organisation: "Hill School", Trust: "North Trust",
		Report: bot.Report{Site: "Main", Components: []string{"printing"}, CanReplicate: bot.ReplicateYes},
		Token:  "c2VjcmV0LXRva2VuLWJ5dGVz",
		Messages: []bot.Message{{
			At: at(1), Direction: bot.Inbound, From: bot.Address{Email: "ann@school.example"},
			Subject: "Printer offline", Text: "It stopped.", MessageID: "m1@school.example",
			Attachments: []bot.Attachment{{Name: "a.png", ContentType: "image/png", Size: 3, Stored: true}},
		}},
		Events: []bot.Event{{At: at(1), Kind: bot.EventCreated, Text: "logged", Actor: "rfadesk"}},
	}
}

func TestRFARoundTrip(t *testing.T) {
	db := newTestDB(t)
	want := sampleRFA(0)
	update(t, db, func(tx bot.Tx) error {
		n, err := tx.NextRFANumber()
		if err != nil {
			return err
		}
		want.Num = n
		if err := tx.PutRFA(want); err != nil {
			return err
		}
		// Visible inside the same transaction.
		got, err := tx.RFAWithTexts(n)
		if err != nil || !reflect.DeepEqual(got, withTextLens(want)) {
			t.Errorf("RFA in same tx = %+v, %v", got, err)
		}
		return nil
	})
	view(t, db, func(tx bot.Tx) error {
		got, err := tx.RFAWithTexts(want.Num)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, withTextLens(want)) {
			t.Errorf("RFA round trip:\n got %+v\nwant %+v", got, want)
		}
		// Without texts: the same but for each Text, whose length is kept.
		bare, err := tx.RFA(want.Num)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(bare, withoutTexts(want)) {
			t.Errorf("RFA without texts:\n got %+v\nwant %+v", bare, withoutTexts(want))
		}
		if m := bare.Messages[0]; !m.TextOmitted() || m.TextLen != len("It stopped.") {
			t.Errorf("message loaded without text: TextOmitted %v, TextLen %d", m.TextOmitted(), m.TextLen)
		}
		// Callers get fresh values: mutating one changes nothing stored.
		got.Subject = "changed"
		got.Participants[0] = "mallory@evil.example"
		again, _ := tx.RFA(want.Num)
		if again.Subject != want.Subject || again.Participants[0] != "bob@school.example" {
			t.Errorf("mutation of a returned RFA leaked: %+v", again)
		}
		if _, err := tx.RFA(99); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("RFA(99): %v, want ErrNotFound", err)
		}
		return nil
	})
	// Replace.
	update(t, db, func(tx bot.Tx) error {
		r, err := tx.RFA(want.Num)
		if err != nil {
			return err
		}
		r.Status = bot.StatusClosed
		return tx.PutRFA(r)
	})
	view(t, db, func(tx bot.Tx) error {
		r, err := tx.RFA(want.Num)
		if err != nil || r.Status != bot.StatusClosed {
			t.Errorf("replaced RFA = %+v, %v", r, err)
		}
		return nil
	})
}

func TestRFASummariesInNumberOrder(t *testing.T) {
	db := newTestDB(t)
	// 256 and 257 would sort before 2 as little-endian or decimal text.
	nums := []uint64{257, 2, 256, 1, 3}
	update(t, db, func(tx bot.Tx) error {
		for _, n := range nums {
			if err := tx.PutRFA(sampleRFA(n)); err != nil {
				return err
			}
		}
		return nil
	})
	var got []uint64
	stop := errors.New("stop")
	view(t, db, func(tx bot.Tx) error {
		if _, err := tx.RFASummaries(0, func(s *bot.RFASummary) (bool, error) { got = append(got, s.Num); return true, nil }); err != nil {
			return err
		}
		n := 0
		_, err := tx.RFASummaries(0, func(*bot.RFASummary) (bool, error) {
			if n++; n == 2 {
				return false, stop
			}
			return true, nil
		})
		if !errors.Is(err, stop) || n != 2 {
			t.Errorf("RFASummaries stop: err %v after %d calls", err, n)
		}
		return nil
	})
	if want := []uint64{1, 2, 3, 256, 257}; !reflect.DeepEqual(got, want) {
		t.Errorf("RFASummaries order = %v, want %v", got, want)
	}
}

func TestDedupeAndThreads(t *testing.T) {
	db := newTestDB(t)
	update(t, db, func(tx bot.Tx) error {
		return errors.Join(
			tx.PutDedupe("mid:a@x", 5),
			tx.PutDedupe("sha256:00ff", 0), // seen, no RFA
			tx.PutThread("a@x", 5),
		)
	})
	view(t, db, func(tx bot.Tx) error {
		cases := []struct {
			key  string
			num  uint64
			seen bool
		}{
			{key: "mid:a@x", num: 5, seen: true},
			{key: "sha256:00ff", num: 0, seen: true},
			{key: "mid:b@x", num: 0, seen: false},
		}
		for _, c := range cases {
			n, seen, err := tx.Dedupe(c.key)
			if err != nil || n != c.num || seen != c.seen {
				t.Errorf("Dedupe(%q) = %d, %v, %v; want %d, %v", c.key, n, seen, err, c.num, c.seen)
			}
		}
		if n, ok, err := tx.ThreadByMessageID("a@x"); n != 5 || !ok || err != nil {
			t.Errorf("ThreadByMessageID(a@x) = %d, %v, %v", n, ok, err)
		}
		if n, ok, err := tx.ThreadByMessageID("b@x"); n != 0 || ok || err != nil {
			t.Errorf("ThreadByMessageID(b@x) = %d, %v, %v", n, ok, err)
		}
		return nil
	})
	update(t, db, func(tx bot.Tx) error {
		if err := tx.PutDedupe("", 1); err == nil {
			t.Error("PutDedupe with an empty key succeeded")
		}
		if err := tx.PutThread("", 1); err == nil {
			t.Error("PutThread with an empty id succeeded")
		}
		return nil
	})
}

func TestOutboxOrderUpdateDelete(t *testing.T) {
	db := newTestDB(t)
	items := []*bot.OutboxItem{
		{Kind: bot.OutboxMail, RFA: 1, Created: at(1), NextAttempt: at(1), Mail: &bot.OutgoingMail{
			To: []bot.Address{{Email: "ann@school.example"}}, Subject: "[RFA-1] logged", Text: "Thanks",
			MessageID: "rfa-1-ack@desk.example", References: []string{"m1@school.example"}, Auto: true, Purpose: "acknowledgement",
		}},
		{Kind: bot.OutboxChat, RFA: 1, Created: at(2), Chat: &bot.ChatPost{Op: "rfa", Text: "New RFA-1"}},
		{Kind: bot.OutboxChat, Created: at(3), Chat: &bot.ChatPost{Op: "ops", Text: "dead letter"}},
	}
	update(t, db, func(tx bot.Tx) error {
		for i, it := range items {
			id, err := tx.Enqueue(it)
			if err != nil {
				return err
			}
			if id != uint64(i+1) || it.ID != id {
				t.Errorf("Enqueue #%d: id %d, item.ID %d", i, id, it.ID)
			}
		}
		return nil
	})
	view(t, db, func(tx bot.Tx) error {
		got, err := tx.Outbox()
		if err != nil {
			return err
		}
		want := []bot.OutboxItem{*items[0], *items[1], *items[2]}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Outbox:\n got %+v\nwant %+v", got, want)
		}
		return nil
	})
	update(t, db, func(tx bot.Tx) error {
		it := *items[0]
		it.Attempts, it.NextAttempt, it.LastError = 1, at(10), "451 try later"
		if err := tx.UpdateOutbox(&it); err != nil {
			return err
		}
		if err := tx.DeleteOutbox(2); err != nil {
			return err
		}
		if err := tx.DeleteOutbox(2); err != nil {
			t.Errorf("second DeleteOutbox(2): %v", err)
		}
		gone := bot.OutboxItem{ID: 2, Attempts: 3}
		if err := tx.UpdateOutbox(&gone); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("UpdateOutbox of a deleted item: %v, want ErrNotFound", err)
		}
		// Ids keep increasing after a delete.
		id, err := tx.Enqueue(&bot.OutboxItem{Kind: bot.OutboxChat, Chat: &bot.ChatPost{Op: "ops"}})
		if id != 4 {
			t.Errorf("id after delete = %d, want 4", id)
		}
		return err
	})
	view(t, db, func(tx bot.Tx) error {
		got, err := tx.Outbox()
		if err != nil {
			return err
		}
		var ids []uint64
		for _, it := range got {
			ids = append(ids, it.ID)
		}
		if !reflect.DeepEqual(ids, []uint64{1, 3, 4}) {
			t.Errorf("outbox ids = %v, want [1 3 4]", ids)
		}
		if got[0].Attempts != 1 || !got[0].NextAttempt.Equal(at(10)) || got[0].LastError != "451 try later" {
			t.Errorf("updated item = %+v", got[0])
		}
		return nil
	})
	st, err := db.Stats(t.Context())
	if err != nil || st.Outbox != 3 {
		t.Errorf("Stats.Outbox = %d, %v; want 3", st.Outbox, err)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	db := newTestDB(t)
	update(t, db, func(tx bot.Tx) error {
		if c, err := tx.Cursor("INBOX"); err != nil || c != (bot.Cursor{}) {
			t.Errorf("Cursor of a new mailbox = %+v, %v", c, err)
		}
		return errors.Join(
			tx.SetCursor("INBOX", bot.Cursor{UIDValidity: 1, LastUID: 10}),
			tx.SetCursor("Support", bot.Cursor{UIDValidity: 2, LastUID: 3}),
			tx.SetCursor("INBOX", bot.Cursor{UIDValidity: 1, LastUID: 12}),
		)
	})
	view(t, db, func(tx bot.Tx) error {
		for mbox, want := range map[string]bot.Cursor{
			"INBOX":   {UIDValidity: 1, LastUID: 12},
			"Support": {UIDValidity: 2, LastUID: 3},
		} {
			if c, err := tx.Cursor(mbox); err != nil || c != want {
				t.Errorf("Cursor(%s) = %+v, %v; want %+v", mbox, c, err, want)
			}
		}
		return nil
	})
}

func TestDeadLetters(t *testing.T) {
	db := newTestDB(t)
	raw := []byte("From: x\r\n\r\n\xff\xfe not utf-8")
	dl := &bot.DeadLetter{At: at(5), Mailbox: "INBOX", UID: 77, Key: "sha256:ab", Reason: "no From", Raw: raw}
	update(t, db, func(tx bot.Tx) error {
		if err := tx.PutDeadLetter(dl); err != nil {
			return err
		}
		return tx.PutDeadLetter(&bot.DeadLetter{At: at(6), Reason: "second"})
	})
	if dl.ID != 1 {
		t.Errorf("PutDeadLetter set ID %d, want 1", dl.ID)
	}
	view(t, db, func(tx bot.Tx) error {
		got, err := tx.DeadLetters()
		if err != nil {
			return err
		}
		if len(got) != 2 || !reflect.DeepEqual(got[0], *dl) || got[1].ID != 2 || got[1].Reason != "second" {
			t.Errorf("DeadLetters = %+v", got)
		}
		one, err := tx.DeadLetter(1)
		if err != nil || !reflect.DeepEqual(*one, *dl) {
			t.Errorf("DeadLetter(1) = %+v, %v", one, err)
		}
		if _, err := tx.DeadLetter(3); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("DeadLetter(3): %v, want ErrNotFound", err)
		}
		return nil
	})
	st, err := db.Stats(t.Context())
	if err != nil || st.DeadLetters != 2 {
		t.Errorf("Stats.DeadLetters = %d, %v; want 2", st.DeadLetters, err)
	}
}

func TestAutoReplies(t *testing.T) {
	db := newTestDB(t)
	times := []time.Time{at(1), at(2)}
	update(t, db, func(tx bot.Tx) error {
		if ts, err := tx.AutoReplies("ann@school.example"); err != nil || ts != nil {
			t.Errorf("AutoReplies of unknown sender = %v, %v", ts, err)
		}
		return tx.PutAutoReplies("Ann@School.Example", times)
	})
	view(t, db, func(tx bot.Tx) error {
		for _, sender := range []string{"ann@school.example", "ANN@school.example"} {
			ts, err := tx.AutoReplies(sender)
			if err != nil || !reflect.DeepEqual(ts, times) {
				t.Errorf("AutoReplies(%s) = %v, %v; want %v", sender, ts, err, times)
			}
		}
		return nil
	})
	update(t, db, func(tx bot.Tx) error { return tx.PutAutoReplies("ann@school.example", nil) })
	view(t, db, func(tx bot.Tx) error {
		if ts, err := tx.AutoReplies("ann@school.example"); err != nil || len(ts) != 0 {
			t.Errorf("AutoReplies after clearing = %v, %v", ts, err)
		}
		return nil
	})
}

func TestAttachments(t *testing.T) {
	db := newTestDB(t)
	buf := []byte("PNG-data")
	update(t, db, func(tx bot.Tx) error {
		if err := tx.PutAttachment(1, 0, 0, buf); err != nil {
			return err
		}
		copy(buf, "XXXX") // the caller reuses its buffer before commit
		return errors.Join(
			tx.PutAttachment(1, 0, 1, []byte("second part")),
			tx.PutAttachment(1, 2, 0, []byte{}),
			tx.PutAttachment(256, 0, 0, []byte("other RFA")),
		)
	})
	var kept []byte
	view(t, db, func(tx bot.Tx) error {
		for _, c := range []struct {
			num       uint64
			msg, part int
			want      string
		}{{1, 0, 0, "PNG-data"}, {1, 0, 1, "second part"}, {1, 2, 0, ""}, {256, 0, 0, "other RFA"}} {
			got, err := tx.GetAttachment(c.num, c.msg, c.part)
			if err != nil || string(got) != c.want {
				t.Errorf("GetAttachment(%d,%d,%d) = %q, %v; want %q", c.num, c.msg, c.part, got, err, c.want)
			}
		}
		if _, err := tx.GetAttachment(1, 1, 0); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("missing attachment: %v, want ErrNotFound", err)
		}
		if _, err := tx.GetAttachment(1, -1, 0); err == nil {
			t.Error("negative message index accepted")
		}
		var err error
		kept, err = tx.GetAttachment(1, 0, 0)
		if err != nil {
			return err
		}
		// Callers may mutate what they get (without the copy this write
		// would hit bbolt's read-only mmap and crash).
		kept[0] = 'X'
		if again, _ := tx.GetAttachment(1, 0, 0); string(again) != "PNG-data" {
			t.Errorf("mutating a returned attachment changed the stored one: %q", again)
		}
		kept[0] = 'P'
		return nil
	})
	// The same inside the writing transaction, before commit.
	update(t, db, func(tx bot.Tx) error {
		if err := tx.PutAttachment(3, 0, 0, []byte("fresh")); err != nil {
			return err
		}
		got, err := tx.GetAttachment(3, 0, 0)
		if err != nil {
			return err
		}
		got[0] = 'X'
		if again, _ := tx.GetAttachment(3, 0, 0); string(again) != "fresh" {
			t.Errorf("mutating an uncommitted attachment changed it: %q", again)
		}
		return nil
	})
	// The returned slice stays valid after the transaction ends, while
	// later writes reuse the freed pages and grow (remap) the file.
	for i := range 20 {
		update(t, db, func(tx bot.Tx) error {
			return errors.Join(
				tx.PutAttachment(1, 0, 0, bytes.Repeat([]byte{'a' + byte(i)}, 8)),
				tx.PutAttachment(2, i, 0, bytes.Repeat([]byte("z"), 64<<10)),
			)
		})
	}
	if string(kept) != "PNG-data" {
		t.Errorf("attachment kept after its view = %q", kept)
	}
}

func TestAttachmentKeyLayout(t *testing.T) {
	k, err := attachmentKey(0x0102030405060708, 0x0a0b0c0d, 0x11121314)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{1, 2, 3, 4, 5, 6, 7, 8, 0x0a, 0x0b, 0x0c, 0x0d, 0x11, 0x12, 0x13, 0x14}
	if !bytes.Equal(k, want) {
		t.Errorf("attachmentKey = % x, want % x", k, want)
	}
}

// withTextLens is r as RFAWithTexts returns it: each TextLen set.
func withTextLens(r *bot.RFA) *bot.RFA {
	c := *r
	c.Messages = append([]bot.Message(nil), r.Messages...)
	for i := range c.Messages {
		c.Messages[i].TextLen = len(c.Messages[i].Text)
	}
	return &c
}

// withoutTexts is r as RFA returns it: texts left out, lengths kept.
func withoutTexts(r *bot.RFA) *bot.RFA {
	c := withTextLens(r)
	for i := range c.Messages {
		c.Messages[i].Text = ""
	}
	return c
}
