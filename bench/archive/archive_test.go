package main

import (
	"context"
	"path/filepath"
	"testing"
)

// TestMeasureSmallArchive runs every measurement over a small archive
// and checks what they read, not how fast: the figures cover every RFA
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
	f, err := measure(ctx, path)
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
