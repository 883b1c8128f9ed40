package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// printTable prints the figures of the empty store and the archive side
// by side, as a Markdown table, with the target for each.
func printTable(w io.Writer, machine string, prep preparation, c *compared, empty, archive *figures) {
	fmt.Fprintf(w, "Machine: %s\n", machine)
	closed, _ := json.Marshal(archiveRFA(1, 0))
	fmt.Fprintf(w, "Archive: %d RFAs (%d open after the intake below; a closed one is %s as JSON), %s file (%s per RFA)",
		archive.RFAs, archive.QueueRead, kb(int64(len(closed))), mb(archive.FileBytes), kb(archive.FileBytes/int64(max(1, archive.RFAs))))
	if prep.Built {
		fmt.Fprintf(w, "; built in %s (NoSync), first start-up armed %d open RFAs in %s",
			dur(prep.Build), prep.Armed, dur(prep.Rebuild))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	rows := [][]string{
		{"Figure", "Target", "Empty store", fmt.Sprintf("%d RFAs", archive.RFAs)},
		{"Start-up to escalations armed, warm cache (median of 5)", "< 1 s", dur(empty.Warm), dur(archive.Warm)},
		{"Start-up to escalations armed, cold cache", "< 1 s", cold(empty), cold(archive)},
		{"Resident memory at rest (heap part)", "< 150 MB", mem(empty.Rest), mem(archive.Rest)},
		{"Peak resident memory serving the requests below", "< 300 MB", mem(empty.ServePeak), mem(archive.ServePeak)},
		{"Status page, p50 / p99", "p99 < 10 ms", lat(empty.Status), lat(archive.Status)},
		{"One RFA's JSON, p50 / p99", "p99 < 10 ms", lat(empty.One), lat(archive.One)},
		{"`GET /api/rfas` page of 100, p50 / p99", "< 50 ms", lat(empty.Page), lat(archive.Page)},
		{"the same, `status=open&organisation=…`", "< 50 ms", lat(empty.PageFiltered), lat(archive.PageFiltered)},
		{"`/desk queue` data: every open RFA and its clocks", "in Discord's window", queue(empty), queue(archive)},
		{"Intake of one mail (fsync), p50 / p99, stores in turn", "within 10% of empty", lat(c.Intake[0]), lat(c.Intake[1])},
		{"Outbox pass: read of due mail, p50 / p99, stores in turn", "within 10% of empty", lat(c.Outbox[0]), lat(c.Outbox[1])},
		{"Full export, `GET /api/rfas` paged to the end", "constant memory", export(empty), export(archive)},
		{"Peak resident memory, export half done / done", "flat", exportMem(empty), exportMem(archive)},
	}
	for i, r := range rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
		if i == 0 {
			fmt.Fprintln(w, "|---|---|---|---|")
		}
	}
}

func dur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func lat(l latency) string { return dur(l.P50) + " / " + dur(l.P99) }

func mb(b int64) string { return fmt.Sprintf("%d MB", (b+1<<19)>>20) }

func kb(b int64) string { return fmt.Sprintf("%.1f KB", float64(b)/1024) }

func mem(m memory) string { return fmt.Sprintf("%s (%s)", mb(m.RSS), mb(m.Anon)) }

func cold(f *figures) string {
	return fmt.Sprintf("%s (%.0f%% of the file cached before)", dur(f.Cold), 100*f.ColdCached)
}

func queue(f *figures) string { return fmt.Sprintf("%s (%d RFAs)", dur(f.Queue), f.QueueRead) }

func export(f *figures) string { return fmt.Sprintf("%s (%d RFAs)", dur(f.Export), f.ExportRFAs) }

func exportMem(f *figures) string { return mem(f.ExportPeakHalf) + " / " + mem(f.ExportPeak) }
