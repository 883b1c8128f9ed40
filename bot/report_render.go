package bot

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
)

// Report formats understood by WriteReport.
const (
	ReportCSV  = "csv"
	ReportHTML = "html"
	ReportJSON = "json"
)

// WriteReport writes rep to w as format ReportCSV, ReportHTML or
// ReportJSON; an unknown format is an error wrapping ErrBadQuery and
// writes nothing.
func WriteReport(w io.Writer, rep *MonthlyReport, format string) error {
	switch format {
	case ReportJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case ReportCSV:
		return writeReportCSV(w, rep)
	case ReportHTML:
		return reportHTML.Execute(w, rep)
	}
	return fmt.Errorf("bot: report format %q: %w (csv, html or json)", format, ErrBadQuery)
}

// reportCSVHeader heads the CSV: one row per group.
var reportCSVHeader = []string{
	"month", "group", "name", "logged",
	"responded_in_target", "responded_of", "first_update_in_target", "first_update_of",
	"triaged_in_target", "triaged_of", "worked_around_in_target", "worked_around_of",
	"breaches", "breached_refs",
	"response_median_h", "response_p90_h", "triage_median_h", "triage_p90_h",
	"first_update_median_h", "first_update_p90_h", "workaround_median_h", "workaround_p90_h",
	"escalations", "reopened", "cleared", "first_contact_resolved",
}

func writeReportCSV(w io.Writer, rep *MonthlyReport) error {
	cw := csv.NewWriter(w)
	cw.Write(reportCSVHeader)
	row := func(group, name string, f *ReportFigures) {
		refs := make([]string, len(f.Breaches))
		for i, b := range f.Breaches {
			refs[i] = b.Ref
		}
		rec := []string{rep.Month, group, csvSafe(name), itoa(f.Logged),
			itoa(f.Responded.N), itoa(f.Responded.Of), itoa(f.FirstUpdate.N), itoa(f.FirstUpdate.Of),
			itoa(f.Triaged.N), itoa(f.Triaged.Of), itoa(f.WorkedAround.N), itoa(f.WorkedAround.Of),
			itoa(len(f.Breaches)), strings.Join(refs, " "),
		}
		for _, c := range reportClocks {
			t := f.Times[c]
			rec = append(rec, reportHours(t.Median), reportHours(t.P90))
		}
		rec = append(rec, itoa(f.Escalations), itoa(f.Reopened.N), itoa(f.Reopened.Of), itoa(f.FirstContact.N))
		cw.Write(rec)
	}
	row("all", "", &rep.All)
	for _, gs := range []struct {
		name string
		list []ReportGroup
	}{{"severity", rep.BySeverity}, {"organisation", rep.ByOrganisation}, {"trust", rep.ByTrust}} {
		for i := range gs.list {
			row(gs.name, gs.list[i].Name, &gs.list[i].Figures)
		}
	}
	for _, s := range [][2]string{{"releases", rep.Releases}, {"capacity", rep.Capacity}, {"availability", rep.Availability}} {
		cw.Write([]string{rep.Month, s[0], s[1]})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a name a spreadsheet would run as a formula as text.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func reportHours(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }
func barWidth(n, max int) int      { return n * 300 / max }

// svgBar is one bar of an inline chart.
type svgBar struct {
	Label      string
	N, Y, W, T int // value, top, width, text y
}

// svgChart is a horizontal bar chart of logged RFAs per group, drawn as
// inline SVG by the program (no script, no external image).
type svgChart struct {
	Height int
	Bars   []svgBar
}

func chartOf(gs []ReportGroup) svgChart {
	maxN := 1
	for _, g := range gs {
		maxN = max(maxN, g.Figures.Logged)
	}
	c := svgChart{Height: 22*len(gs) + 4}
	for i, g := range gs {
		y := 2 + 22*i
		c.Bars = append(c.Bars, svgBar{Label: g.Name, N: g.Figures.Logged, Y: y, W: barWidth(g.Figures.Logged, maxN), T: y + 14})
	}
	return c
}

var reportHTML = template.Must(template.New("report").Funcs(template.FuncMap{
	"chart":   chartOf,
	"overall": func(r *MonthlyReport) []ReportGroup { return []ReportGroup{{"All RFAs", r.All}} },
	"refs": func(bs []ReportBreach) string {
		s := make([]string, len(bs))
		for i, b := range bs {
			var cs []string
			for _, c := range b.Clocks {
				cs = append(cs, ClockLabel(c))
			}
			s[i] = b.Ref + " (" + strings.Join(cs, ", ") + ")"
		}
		return strings.Join(s, "; ")
	},
	"times": func(f ReportFigures, c string) ReportTimes { return f.Times[ClockName(c)] },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Service report {{.Month}}</title>
<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px;text-align:right}td:first-child,th:first-child{text-align:left}</style>
</head><body>
<h1>Service report {{.Month}}</h1>
<p>Clocks measured at {{.AsOf.Format "2006-01-02 15:04 MST"}}.</p>
{{define "chart"}}{{with chart .}}<svg xmlns="http://www.w3.org/2000/svg" width="560" height="{{.Height}}" role="img" aria-label="RFAs logged">{{range .Bars}}<text x="0" y="{{.T}}" font-size="12">{{.Label}}</text><rect x="200" y="{{.Y}}" width="{{.W}}" height="18" fill="#36c"/><text x="{{.W}}" dx="206" y="{{.T}}" font-size="12">{{.N}}</text>{{end}}</svg>{{end}}{{end}}
{{define "table"}}<table><tr><th>Name</th><th>Logged</th><th>Responded in target</th><th>First update in target</th><th>Triaged in target</th><th>Worked around in target</th><th>Median / p90 first update (h)</th><th>Median / p90 workaround (h)</th><th>Escalations</th><th>Reopen rate</th><th>First-contact resolution</th><th>Breaches</th></tr>
{{range .}}<tr><td>{{.Name}}</td>{{with .Figures}}<td>{{.Logged}}</td><td>{{.Responded.N}}/{{.Responded.Of}} ({{.Responded.Percent}})</td><td>{{.FirstUpdate.N}}/{{.FirstUpdate.Of}} ({{.FirstUpdate.Percent}})</td><td>{{.Triaged.N}}/{{.Triaged.Of}} ({{.Triaged.Percent}})</td><td>{{.WorkedAround.N}}/{{.WorkedAround.Of}} ({{.WorkedAround.Percent}})</td><td>{{with times . "first_update"}}{{.Median}} / {{.P90}}{{end}}</td><td>{{with times . "workaround"}}{{.Median}} / {{.P90}}{{end}}</td><td>{{.Escalations}}</td><td>{{.Reopened.Percent}}</td><td>{{.FirstContact.Percent}}</td><td>{{refs .Breaches}}</td>{{end}}</tr>
{{end}}</table>{{end}}
<h2>All RFAs</h2>
{{template "table" (overall .)}}
<h2>By severity</h2>
{{template "chart" .BySeverity}}
{{template "table" .BySeverity}}
<h2>By organisation</h2>
{{template "chart" .ByOrganisation}}
{{template "table" .ByOrganisation}}
<h2>By trust</h2>
{{template "chart" .ByTrust}}
{{template "table" .ByTrust}}
<h2>Releases</h2><p>{{.Releases}}</p>
<h2>Capacity</h2><p>{{.Capacity}}</p>
<h2>Availability</h2><p>{{.Availability}}</p>
</body></html>
`))
