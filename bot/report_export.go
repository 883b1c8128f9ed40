package bot

import (
	"archive/tar"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Export formats of Desk.Export.
const (
	ExportCSV  = "csv"
	ExportJSON = "json"
)

// exportHeader heads the CSV export: one row per RFA, from its summary.
var exportHeader = []string{"ref", "status", "channel", "severity", "subject", "organisation", "trust",
	"requester_email", "requester_name", "assignee", "created", "updated", "messages"}

// Export writes every RFA's summary to w, in number order, as CSV (a
// header and one row per RFA) or JSON (an array of RFASummary without
// the status-page token). It reads a page of summaries per short
// transaction and writes it out before reading the next, so its memory
// is one page whatever the store holds. An unknown format is an error
// wrapping ErrBadQuery, and nothing is written.
func (d *Desk) Export(ctx context.Context, w io.Writer, format string) error {
	if format != ExportCSV && format != ExportJSON {
		return fmt.Errorf("bot: export format %q: %w (csv or json)", format, ErrBadQuery)
	}
	cw, enc := csv.NewWriter(w), json.NewEncoder(w)
	if format == ExportCSV {
		cw.Write(exportHeader)
	} else if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	first := true
	for q := (RFAQuery{Limit: MaxRFAPage}); ; {
		page, err := d.RFAPage(ctx, q)
		if err != nil {
			return err
		}
		for _, s := range page.RFAs {
			s.Token = ""
			if format == ExportCSV {
				cw.Write([]string{FormatRef(s.Num), string(s.Status), string(s.Channel), string(s.Severity),
					csvSafe(s.Subject), csvSafe(s.Organisation), csvSafe(s.Trust), csvSafe(s.RequesterEmail),
					csvSafe(s.RequesterName), csvSafe(s.Assignee), s.Created.UTC().Format(time.RFC3339),
					s.Updated.UTC().Format(time.RFC3339), strconv.Itoa(s.Messages)})
				continue
			}
			if !first {
				if _, err := io.WriteString(w, ","); err != nil {
					return err
				}
			}
			first = false
			if err := enc.Encode(&s); err != nil {
				return err
			}
		}
		if format == ExportCSV {
			if cw.Flush(); cw.Error() != nil {
				return cw.Error()
			}
		}
		if page.Next == 0 {
			break
		}
		q.After = page.Next
	}
	if format == ExportJSON {
		_, err := io.WriteString(w, "]\n")
		return err
	}
	return nil
}

// orgExportPage is how many RFAs ExportOrganisation reads at a time.
const orgExportPage = 100

// ExportOrganisation writes everything the desk holds of organisation
// name's RFAs (names in any case) as one tar archive: per RFA,
// RFA-N/rfa.json (the whole RFA with its message texts) and
// RFA-N/attachments/M-P-NAME for each stored attachment. It reads the
// organisation index a page at a time and one RFA at a time, so memory
// is one RFA. An organisation with no RFAs gives an empty archive.
func (d *Desk) ExportOrganisation(ctx context.Context, w io.Writer, name string) error {
	tw := tar.NewWriter(w)
	put := func(path string, data []byte, at time.Time) error {
		if err := tw.WriteHeader(&tar.Header{Name: path, Mode: 0o600, Size: int64(len(data)), ModTime: at, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	var before uint64
	for {
		var sums []*RFASummary
		err := d.store.View(ctx, func(tx Tx) error {
			var err error
			sums, err = tx.OrgRFAs(OrgKindOrganisation, name, before, orgExportPage)
			return err
		})
		if err != nil {
			return err
		}
		for _, s := range sums {
			var r *RFA
			var atts [][]byte
			err := d.store.View(ctx, func(tx Tx) error {
				var err error
				if r, err = tx.RFAWithTexts(s.Num); err != nil {
					return err
				}
				atts = atts[:0]
				for i, m := range r.Messages {
					for j := range m.Attachments {
						data, err := tx.GetAttachment(s.Num, i, j)
						if err != nil {
							data = nil // recorded but not stored (over the cap) or purged
						}
						atts = append(atts, data)
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			js, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				return err
			}
			dir := r.Ref() + "/"
			if err := put(dir+"rfa.json", js, r.Created); err != nil {
				return err
			}
			k := 0
			for i, m := range r.Messages {
				for j, a := range m.Attachments {
					if data := atts[k]; data != nil {
						if err := put(fmt.Sprintf("%sattachments/%d-%d-%s", dir, i, j, safeArchiveName(a.Name)), data, m.At); err != nil {
							return err
						}
					}
					k++
				}
			}
		}
		if len(sums) < orgExportPage {
			return tw.Close()
		}
		before = sums[len(sums)-1].Num
	}
}

// safeArchiveName keeps a sender's file name from escaping its folder.
func safeArchiveName(s string) string {
	b := []rune(s)
	for i, c := range b {
		if c == '/' || c == '\\' || c < ' ' {
			b[i] = '_'
		}
	}
	if len(b) == 0 || string(b) == "." || string(b) == ".." {
		return "attachment"
	}
	return string(b)
}
