package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"rfadesk/bot"
	"rfadesk/web"
)

// cmdPurge deletes the message texts and attachments of the RFAs closed
// longer ago than retention.after_closure (their records, histories and
// SLA figures stay), or with -dry-run lists them; through the running
// daemon's POST /api/purge when one answers, otherwise on the store file.
func cmdPurge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("purge", "purge -config FILE [-dry-run]", stderr)
	path := fs.String("config", "", "configuration `file` of the desk")
	dry := fs.Bool("dry-run", false, "list what would be purged, delete nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" || fs.NArg() != 0 {
		fs.Usage()
		return usageError{"purge: want -config FILE"}
	}
	cfg, err := loadForCommand("purge", *path)
	if err != nil {
		return err
	}
	var answer bytes.Buffer
	err = viaDaemonOrStore(ctx, cfg, "purge", http.MethodPost, "/api/purge?dry_run="+strconv.FormatBool(*dry), &answer,
		func(d *bot.Desk) error {
			items, err := deskReports{d, cfg.Retention}.Purge(ctx, *dry)
			if err != nil {
				return err
			}
			return json.NewEncoder(&answer).Encode(web.PurgeJSON{DryRun: *dry, RFAs: items})
		})
	if err != nil {
		return fmt.Errorf("purge: %w", err)
	}
	var p web.PurgeJSON
	if err := json.Unmarshal(answer.Bytes(), &p); err != nil {
		return fmt.Errorf("purge: the answer: %w", err)
	}
	verb := "purged"
	if *dry {
		verb = "would purge"
	}
	for _, it := range p.RFAs {
		fmt.Fprintf(stdout, "%s %s: closed %s, %d messages\n", verb, it.Ref, it.ClosedAt.Format(time.DateOnly), it.Messages)
	}
	fmt.Fprintf(stdout, "purge: %s %d RFAs closed more than %s ago\n", verb, len(p.RFAs), cfg.Retention.AfterClosure)
	return nil
}
