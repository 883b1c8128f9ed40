package store

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"rfadesk/bot"
	"rfadesk/store/kv"
)

func TestTextsLiveOutsideTheRecord(t *testing.T) {
	db := newTestDB(t)
	r := sampleRFA(1)
	big := strings.Repeat("a long message ", 1000)
	r.Messages = append(r.Messages, bot.Message{At: at(2), Direction: bot.Outbound, Text: big},
		bot.Message{At: at(3), Direction: bot.Inbound, Text: ""})
	update(t, db, func(tx bot.Tx) error { return tx.PutRFA(r) })

	err := db.KV().View(t.Context(), func(ktx kv.Tx) error {
		rec := ktx.Bucket(bucketRFAs).Get(encodeU64(1))
		if bytes.Contains(rec, []byte("It stopped.")) || bytes.Contains(rec, []byte("a long message")) {
			t.Errorf("the RFA record holds a message text: %s", rec)
		}
		if n := ktx.Bucket(bucketBodies).KeyN(); n != 2 {
			t.Errorf("%d texts stored, want 2 (an empty text is not stored)", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	view(t, db, func(tx bot.Tx) error {
		bare, err := tx.RFA(1)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []struct {
			omitted bool
			n       int
		}{{true, len("It stopped.")}, {true, len(big)}, {false, 0}} {
			if m := bare.Messages[i]; m.Text != "" || m.TextOmitted() != want.omitted || m.TextLen != want.n {
				t.Errorf("message %d: Text %q, TextOmitted %v, TextLen %d; want omitted %v, %d",
					i, m.Text, m.TextOmitted(), m.TextLen, want.omitted, want.n)
			}
		}
		for i, want := range []string{"It stopped.", big, "", ""} {
			if got, err := tx.MessageText(1, i); err != nil || got != want {
				t.Errorf("MessageText(1, %d) = %.20q, %v; want %.20q", i, got, err, want)
			}
		}
		return nil
	})
}

func TestPutRFAWithoutTextsKeepsThem(t *testing.T) {
	db := newTestDB(t)
	want := sampleRFA(1)
	update(t, db, func(tx bot.Tx) error { return tx.PutRFA(want) })
	// An action loads the RFA without texts, appends a message, stores it.
	update(t, db, func(tx bot.Tx) error {
		r, err := tx.RFA(1)
		if err != nil {
			return err
		}
		r.Status = bot.StatusOpen
		r.Messages = append(r.Messages, bot.Message{At: at(5), Direction: bot.Outbound, Text: "On it."})
		return tx.PutRFA(r)
	})
	want.Status = bot.StatusOpen
	want.Messages = append(want.Messages, bot.Message{At: at(5), Direction: bot.Outbound, Text: "On it."})
	view(t, db, func(tx bot.Tx) error {
		got, err := tx.RFAWithTexts(1)
		if err != nil || !reflect.DeepEqual(got, withTextLens(want)) {
			t.Errorf("after a write without texts:\n got %+v, %v\nwant %+v", got, err, want)
		}
		return nil
	})
	// Storing it again with its texts loaded is fine: they are the same.
	update(t, db, func(tx bot.Tx) error {
		r, err := tx.RFAWithTexts(1)
		if err != nil {
			return err
		}
		return tx.PutRFA(r)
	})
}

func TestPutRFARefusesAChangedText(t *testing.T) {
	db := newTestDB(t)
	update(t, db, func(tx bot.Tx) error { return tx.PutRFA(sampleRFA(1)) })
	r := sampleRFA(1)
	r.Messages[0].Text = "Rewritten history."
	err := db.Update(t.Context(), func(tx bot.Tx) error { return tx.PutRFA(r) })
	if err == nil || !strings.Contains(err.Error(), "never change") {
		t.Fatalf("PutRFA with a changed text: %v", err)
	}
	view(t, db, func(tx bot.Tx) error {
		if got, _ := tx.MessageText(1, 0); got != "It stopped." {
			t.Errorf("text now %q", got)
		}
		return nil
	})
}

func TestSummaryFollowsTheRFA(t *testing.T) {
	db := newTestDB(t)
	r := sampleRFA(1)
	r.Subject = strings.Repeat("é", 150) // 300 bytes: cut on a character boundary
	update(t, db, func(tx bot.Tx) error { return tx.PutRFA(r) })
	update(t, db, func(tx bot.Tx) error {
		r, err := tx.RFA(1)
		if err != nil {
			return err
		}
		r.Severity, r.Assignee = bot.SeveritySerious, "Sam"
		r.Events = append(r.Events, bot.Event{At: at(30), Kind: bot.EventAssigned, Text: "Sam"})
		return tx.PutRFA(r)
	})
	view(t, db, func(tx bot.Tx) error {
		s, err := tx.RFASummary(1)
		if err != nil {
			t.Fatal(err)
		}
		if s.Token != r.Token || s.Severity != bot.SeveritySerious || s.Assignee != "Sam" || !s.Updated.Equal(at(30)) ||
			s.Messages != 1 || s.RequesterEmail != "ann@school.example" {
			t.Errorf("summary = %+v", s)
		}
		if s.Subject != strings.Repeat("é", 100) {
			t.Errorf("subject cut to %d bytes: %q", len(s.Subject), s.Subject)
		}
		if _, err := tx.RFASummary(2); err == nil {
			t.Error("RFASummary(2) found a summary of nothing")
		}
		return nil
	})
}

func TestRFASummariesPages(t *testing.T) {
	db := newTestDB(t)
	nums := []uint64{257, 2, 256, 1, 3}
	update(t, db, func(tx bot.Tx) error {
		for _, n := range nums {
			if err := tx.PutRFA(sampleRFA(n)); err != nil {
				return err
			}
		}
		return nil
	})
	walk := func(after uint64, stopAfter int) ([]uint64, bool) {
		var got []uint64
		var rest bool
		update(t, db, func(tx bot.Tx) error {
			var err error
			rest, err = tx.RFASummaries(after, func(s *bot.RFASummary) (bool, error) {
				got = append(got, s.Num)
				// Writing RFAs under the cursor is refused.
				if err := tx.PutRFA(sampleRFA(9)); err != errRFAsBusy {
					t.Errorf("PutRFA inside RFASummaries: %v, want errRFAsBusy", err)
				}
				return len(got) < stopAfter, nil
			})
			return err
		})
		return got, rest
	}
	if got, rest := walk(0, 100); !reflect.DeepEqual(got, []uint64{1, 2, 3, 256, 257}) || rest {
		t.Errorf("whole walk = %v, rest %v", got, rest)
	}
	if got, rest := walk(2, 2); !reflect.DeepEqual(got, []uint64{3, 256}) || !rest {
		t.Errorf("walk after 2, stop at 2 = %v, rest %v", got, rest)
	}
	if got, rest := walk(256, 1); !reflect.DeepEqual(got, []uint64{257}) || rest {
		t.Errorf("walk after 256 = %v, rest %v", got, rest)
	}
}
