package main

import (
	"context"
	"io"
	"net/http"
	"net/url"

	"rfadesk/bot"
)

// cmdExport writes every RFA's summary as CSV or JSON to stdout, or with
// -organisation one organisation's whole data as a tar archive; from the
// running daemon's GET /api/export when one answers, otherwise from the
// store file. Either way the RFAs are streamed a page at a time.
func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", "export -config FILE [-format csv|json | -organisation NAME] > OUT", stderr)
	path := fs.String("config", "", "configuration `file` of the desk")
	format := fs.String("format", bot.ExportCSV, "csv or json: every RFA, one row or object each")
	org := fs.String("organisation", "", "write this organisation's RFAs, texts and attachments as a tar archive instead")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" || fs.NArg() != 0 {
		fs.Usage()
		return usageError{"export: want -config FILE"}
	}
	if *format != bot.ExportCSV && *format != bot.ExportJSON {
		return usageError{"export: -format " + *format + ": use csv or json"}
	}
	cfg, err := loadForCommand("export", *path)
	if err != nil {
		return err
	}
	q := url.Values{"format": {*format}}
	if *org != "" {
		q = url.Values{"organisation": {*org}}
	}
	return viaDaemonOrStore(ctx, cfg, "export", http.MethodGet, "/api/export?"+q.Encode(), stdout,
		func(d *bot.Desk) error {
			if *org != "" {
				return d.ExportOrganisation(ctx, stdout, *org)
			}
			return d.Export(ctx, stdout, *format)
		})
}
