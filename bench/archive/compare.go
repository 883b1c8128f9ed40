package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"rfadesk/bot"
	"rfadesk/store"
)

// Sample sizes of compare.
const (
	intakeMails = 300
	outboxReads = 1000
)

// compared are the figures that must not change with the archive, for
// the empty store [0] and the archive [1], and the number of each
// store's last RFA afterwards.
type compared struct {
	Intake [2]latency // one fresh mail through Desk.Ingest, fsynced
	Outbox [2]latency // one outbox pass's read of due mail
	Last   [2]uint64
}

// compare measures intake and the outbox read on both stores in one
// process, alternating between them (which goes first alternates too),
// so that a shared machine's noise, the disk's fsync rate above all,
// falls on both alike. Intake adds intakeMails RFAs to each store, and
// their acknowledgements stay in its outbox.
func compare(ctx context.Context, paths [2]string) (*compared, error) {
	var desks [2]*runningDesk
	for i, p := range paths {
		rd, _, err := startDesk(ctx, p)
		if err != nil {
			return nil, err
		}
		defer rd.close()
		desks[i] = rd
	}
	c := &compared{}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	var intake, outbox [2][]time.Duration
	for i := range intakeMails {
		for k := range 2 {
			s := (i + k) % 2
			d, num, err := ingestOne(ctx, desks[s].desk, run, i)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", paths[s], err)
			}
			intake[s] = append(intake[s], d)
			c.Last[s] = num
		}
	}
	for i := range outboxReads {
		for k := range 2 {
			s := (i + k) % 2
			d, err := readDueMail(ctx, desks[s].db)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", paths[s], err)
			}
			outbox[s] = append(outbox[s], d)
		}
	}
	for s := range 2 {
		c.Intake[s], c.Outbox[s] = percentiles(intake[s]), percentiles(outbox[s])
	}
	return c, nil
}

// ingestOne ingests the i-th fresh mail of this run and times it; it
// returns the RFA the mail created.
func ingestOne(ctx context.Context, d *bot.Desk, run string, i int) (time.Duration, uint64, error) {
	org := organisations[i%len(organisations)]
	id := fmt.Sprintf("%s.%d@%s", run, i, org.domain)
	m := &bot.Mail{
		MessageID: id, From: bot.Address{Name: "Bench Sender", Email: fmt.Sprintf("s%s-%d@%s", run, i, org.domain)},
		To:      []bot.Address{{Email: "support@example.org"}},
		Subject: "Registers will not save", Text: reportText, Reply: reportText, DedupeKey: "mid:" + id,
		Received: benchNow,
	}
	t0 := time.Now()
	out, err := d.Ingest(ctx, "INBOX", 1, []bot.Fetched{{UID: uint32(i + 1), Mail: m}})
	took := time.Since(t0)
	if err != nil {
		return 0, 0, err
	}
	if len(out) != 1 || out[0].Result != bot.ResultCreated {
		return 0, 0, fmt.Errorf("intake of mail %d: %+v, want one RFA created", i, out)
	}
	return took, out[0].RFA, nil
}

// readDueMail times the deliverer's read of due mail: up to 64 items
// (its batch) from the outbox, which must hold some.
func readDueMail(ctx context.Context, db *store.DB) (time.Duration, error) {
	var n int
	t0 := time.Now()
	err := db.View(ctx, func(tx bot.Tx) error {
		items, err := tx.DueOutbox(bot.OutboxMail, benchNow.Add(time.Hour), 64)
		n = len(items)
		return err
	})
	took := time.Since(t0)
	if err == nil && n == 0 {
		err = fmt.Errorf("no due mail in the outbox")
	}
	return took, err
}
