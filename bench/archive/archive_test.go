package main

import (
	"context"
	"path/filepath"
	"testing"
)

// TestMeasureSmallArchive runs every measurement over a small archive
// and an empty store and checks what they read, not how fast: intake
// creates its RFAs in both stores, the figures cover every RFA
// (the export pages to the end), the queue reads the open ones only, and
// the first start-up armed the schedule so that later ones rebuild
// nothing (measure fails otherwise).
func TestMeasureSmallArchive(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "archive.db")
	const n = 200
	prep, err := prepare(ctx, path, n, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if prep.Armed != n/openEvery {
		t.Errorf("first start-up armed %d RFAs, want the %d open ones", prep.Armed, n/openEvery)
	}
	emptyPath := filepath.Join(t.TempDir(), "empty.db")
	if _, err := prepare(ctx, emptyPath, 0, t.Logf); err != nil {
		t.Fatal(err)
	}
	c, err := compare(ctx, [2]string{emptyPath, path})
	if err != nil {
		t.Fatal(err)
	}
	if c.Last != [2]uint64{intakeMails, n + intakeMails} || c.Intake[1].P99 == 0 || c.Outbox[0].P99 == 0 {
		t.Errorf("compare = %+v, want %d and %d RFAs and every figure", c, intakeMails, n+intakeMails)
	}
	f, err := measure(ctx, path, c.Last[1])
	if err != nil {
		t.Fatal(err)
	}
	if want := n + intakeMails; f.RFAs != want || f.ExportRFAs != want {
		t.Errorf("store holds %d RFAs and the export listed %d, want %d", f.RFAs, f.ExportRFAs, want)
	}
	if want := n/openEvery + intakeMails; f.QueueRead != want {
		t.Errorf("queue read %d RFAs, want the %d open ones", f.QueueRead, want)
	}
	if f.Status.P99 == 0 || f.Page.P99 == 0 || f.Rest.RSS == 0 || f.ExportPeak.RSS < f.ExportPeakHalf.RSS {
		t.Errorf("figures missing: %+v", f)
	}
}
