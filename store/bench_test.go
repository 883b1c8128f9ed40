package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"rfadesk/bot"
)

// intake is one email's intake transaction: allocate a number, store the
// RFA, record the dedupe key and thread, queue the acknowledgement and
// advance the mailbox cursor.
func intake(ctx context.Context, db *DB, uid uint32) error {
	return db.Update(ctx, func(tx bot.Tx) error {
		n, err := tx.NextRFANumber()
		if err != nil {
			return err
		}
		r := sampleRFA(n)
		r.Messages[0].Text = strings.Repeat("The printer in room 4 shows error E-17. ", 40) // ~1.6 KB
		mid := fmt.Sprintf("m%d@school.example", uid)
		r.Messages[0].MessageID = mid
		if err := tx.PutRFA(r); err != nil {
			return err
		}
		if err := tx.PutDedupe("mid:"+mid, n); err != nil {
			return err
		}
		if err := tx.PutThread(mid, n); err != nil {
			return err
		}
		if _, err := tx.Enqueue(&bot.OutboxItem{Kind: bot.OutboxMail, RFA: n, Mail: &bot.OutgoingMail{
			To: []bot.Address{r.Requester}, Subject: "[" + r.Ref() + "] logged", Text: "Thank you.",
			MessageID: fmt.Sprintf("%s-ack@desk.example", r.Ref()), InReplyTo: mid, Auto: true, Purpose: "acknowledgement",
		}}); err != nil {
			return err
		}
		return tx.SetCursor("INBOX", bot.Cursor{UIDValidity: 1, LastUID: uid})
	})
}

func benchmarkUpdateCommit(b *testing.B, noSync bool) {
	db, err := Open(filepath.Join(b.TempDir(), "rfadesk.db"), &Options{NoSync: noSync})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var uid uint32
	for b.Loop() {
		uid++
		if err := intake(ctx, db, uid); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}

// BenchmarkUpdateCommit measures fsynced commits of one email's intake:
// the durable rate the daemon can log RFAs at, one transaction each.
func BenchmarkUpdateCommit(b *testing.B) { benchmarkUpdateCommit(b, false) }

// BenchmarkUpdateCommitNoSync is the same without fsync (tests only): the
// CPU cost of the transaction itself.
func BenchmarkUpdateCommitNoSync(b *testing.B) { benchmarkUpdateCommit(b, true) }
