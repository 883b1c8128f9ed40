package store

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/store/kv"
)

// checkGolden compares got with testdata/name, or rewrites the file when
// the test runs with -update. A difference means the file format
// changed: a renamed or retyped field changes what stores hold.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("stored %s changed (a renamed field changes the file format; migrate, then -update):\n got %s\nwant %s", name, got, want)
	}
}

// goldenRFA is an RFA with every field set, so that the golden file pins
// the stored name and form of each.
func goldenRFA() *bot.RFA {
	at := func(min int) time.Time { return time.Date(2026, 11, 23, 9, min, 0, 0, time.UTC) }
	return &bot.RFA{
		Num: 7, Status: bot.StatusOpen, Channel: bot.ChannelEmail, Subject: "SIMS will not open", Created: at(0),
		Requester:    bot.Address{Name: "Sam Okafor", Email: "s.okafor@oakprimary.sch.uk"},
		Participants: []string{"head@oakprimary.sch.uk"},
		Organisation: "Oak Primary", Trust: "Acorn Trust",
		Report: bot.Report{Site: "Main office", Components: []string{"SIMS", "Login"}, Level: "2",
			ActionTaken: "Level 1: restarted the PC", ErrorMessage: "Error 1234", CanReplicate: bot.ReplicateYes},
		Token: "token-of-rfa-7-GGGGGGGGGGGGGGGG", ConfirmToken: "confirm-token-of-rfa-7-HHHHHHHH", Flag: "named another school's RFA",
		Severity: bot.SeveritySerious, SuggestedSeverity: bot.SeverityCritical, Assignee: "Priya Shah",
		Release: &bot.Release{Name: "2026.12", Ships: at(30)},
		Parent:  3,
		Chat:    bot.ChatRef{PostID: "111", ThreadID: "222", LastSeen: "333"},
		Messages: []bot.Message{{
			At: at(0), Direction: bot.Inbound, From: bot.Address{Name: "Sam Okafor", Email: "s.okafor@oakprimary.sch.uk"},
			Subject: "SIMS will not open", Text: "It shows Error 1234.", TextLen: 20, FullSize: 300000,
			MessageID: "m1@oakprimary.sch.uk", Auto: bot.AutoReplied,
			Attachments: []bot.Attachment{{Name: "screen.png", ContentType: "image/png", Size: 42, Inline: true, Blob: "sha256:00", Stored: true}},
		}},
		Events:         []bot.Event{{At: at(1), Kind: bot.EventEscalated, Text: "escalated by the requester", Actor: "s.okafor@oakprimary.sch.uk", Quote: "It is urgent"}},
		NextEscalation: at(45),
	}
}

// TestGoldenRFAHasEveryField keeps goldenRFA complete: a field added to
// an RFA (or a message, event or attachment) must be set there, and so
// pinned by TestRFARecordGolden.
func TestGoldenRFAHasEveryField(t *testing.T) {
	r := goldenRFA()
	check := func(v reflect.Value, path string) {
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if f.IsExported() && v.Field(i).IsZero() && f.Name != "Data" { // Data never reaches a stored RFA
				t.Errorf("goldenRFA leaves %s.%s zero: set it", path, f.Name)
			}
		}
	}
	check(reflect.ValueOf(*r), "RFA")
	check(reflect.ValueOf(r.Messages[0]), "Message")
	check(reflect.ValueOf(r.Messages[0].Attachments[0]), "Attachment")
	check(reflect.ValueOf(r.Events[0]), "Event")
	check(reflect.ValueOf(r.Report), "Report")
}

// TestRFARecordGolden pins what the store writes for an RFA: the record
// (without its message texts), its summary and a message text.
func TestRFARecordGolden(t *testing.T) {
	db := newTestDB(t)
	update(t, db, func(tx bot.Tx) error { return tx.PutRFA(goldenRFA()) })
	var got bytes.Buffer
	err := db.KV().View(t.Context(), func(ktx kv.Tx) error {
		for _, v := range [][]byte{
			ktx.Bucket(bucketRFAs).Get(encodeU64(7)),
			ktx.Bucket(bucketSummaries).Get(encodeU64(7)),
		} {
			if err := json.Indent(&got, v, "", "  "); err != nil {
				return err
			}
			got.WriteByte('\n')
		}
		k, err := bodyKey(7, 0)
		if err != nil {
			return err
		}
		got.Write(ktx.Bucket(bucketBodies).Get(k))
		got.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "rfa_record.golden.json", got.Bytes())
}
