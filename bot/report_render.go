package bot

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
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
	writeServiceCSV(cw, rep)
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
	"times":   func(f ReportFigures, c string) ReportTimes { return f.Times[ClockName(c)] },
	"when":    func(t time.Time) string { return t.Format("2006-01-02 15:04 MST") },
	"pct":     func(p float64) string { return strconv.FormatFloat(p, 'f', 1, 64) + "%" },
	"ratio":   availabilityPercent,
	"minutes": reportMinutes,
	"amount":  formatAmount,
	"avchart": availabilityChart,
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
<h2>Releases</h2>
{{with .Releases}}<p>{{.Minor}} minor and {{.Major}} major shipped; the longest time without a minor release was {{.LongestMinorGapDays}} days{{if .MinorGapOverTwoWeeks}}, <strong>over the two weeks of the cadence</strong>{{else}}, within the two weeks of the cadence{{end}}. Last major release: {{if .LastMajor.IsZero}}none yet{{else}}{{when .LastMajor}}{{end}}{{if not .TermStart.IsZero}}; the school term began {{when .TermStart}}{{if .MajorMissed}}, <strong>no major release shipped in it</strong>{{end}}{{end}}.</p>
{{if .Shipped}}<table><tr><th>Release</th><th>Kind</th><th>Shipped</th></tr>
{{range .Shipped}}<tr><td>{{.Name}}</td><td>{{.Kind}}</td><td>{{when .Shipped}}</td></tr>
{{end}}</table>{{end}}{{end}}
<h2>Capacity</h2>
{{with .Capacity}}<p>Threshold {{pct .Threshold}}. Crossings in the month: {{len .Crossings}}; surges: {{len .Surges}}.</p>
{{if .Crossings}}<table><tr><th>Crossing</th><th>At</th><th>Use</th></tr>
{{range .Crossings}}<tr><td>{{.Service}}</td><td>{{when .At}}</td><td>{{pct .Percent}}</td></tr>
{{end}}</table>{{end}}
{{if .Surges}}<table><tr><th>Surge</th><th>From</th><th>Until</th><th>Declared by</th><th>Reason</th></tr>
{{range .Surges}}<tr><td>{{.Service}}</td><td>{{when .From}}</td><td>{{when .Until}}</td><td>{{.By}}</td><td>{{.Reason}}</td></tr>
{{end}}</table>{{end}}
<h3>Current gauges</h3>
{{if .Gauges}}<table><tr><th>Service</th><th>Used</th><th>Limit</th><th>Use</th><th>Observed</th></tr>
{{range .Gauges}}<tr><td>{{.Service}}</td><td>{{amount .Used}}</td><td>{{amount .Limit}}</td><td>{{pct .Percent}}</td><td>{{when .At}}</td></tr>
{{end}}</table>{{else}}<p>No gauge observed yet.</p>{{end}}{{end}}
<h2>Availability</h2>
{{with .Availability}}{{with avchart .}}<svg xmlns="http://www.w3.org/2000/svg" width="560" height="{{.Height}}" role="img" aria-label="Downtime against the allowance">{{range .Bars}}<text x="0" y="{{.T}}" font-size="12">{{.Label}}</text><rect x="200" y="{{.Y}}" width="{{.W}}" height="18" fill="{{.Fill}}"/><text x="{{.W}}" dx="206" y="{{.T}}" font-size="12">{{.Text}}</text>{{end}}<line x1="350" x2="350" y1="0" y2="{{.Height}}" stroke="#000" stroke-dasharray="4 2"/></svg>{{end}}
<table><tr><th>Component</th><th>Availability</th><th>Target</th><th>Downtime (min)</th><th>Allowance left (min)</th></tr>
{{range .Components}}{{template "availability" .}}{{end}}{{template "availability" .Rfadesk}}</table>{{end}}
{{define "availability"}}<tr><td>{{.Component}}</td><td>{{ratio .Ratio}}</td><td>{{ratio .Target}}</td><td>{{minutes .Down}}</td><td>{{minutes .AllowanceLeft}}</td></tr>
{{end}}</body></html>
`))

// writeServiceCSV writes the service sections as rows after the groups,
// the second column naming the row's kind:
//
//	release,NAME,KIND,SHIPPED
//	releases,,MINOR,MAJOR,LONGEST_MINOR_GAP_DAYS,OVER_TWO_WEEKS,TERM_START,MAJOR_MISSED
//	crossing,SERVICE,AT,PERCENT
//	surge,SERVICE,FROM,UNTIL,BY,REASON
//	gauge,SERVICE,USED,LIMIT,PERCENT,AT
//	availability,COMPONENT,RATIO,TARGET,DOWN_MIN,ALLOWANCE_LEFT_MIN
func writeServiceCSV(cw *csv.Writer, rep *MonthlyReport) {
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	tsOrEmpty := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return ts(t)
	}
	f1 := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	rs := rep.Releases
	for _, r := range rs.Shipped {
		cw.Write([]string{rep.Month, "release", csvSafe(r.Name), string(r.Kind), ts(r.Shipped)})
	}
	cw.Write([]string{rep.Month, "releases", "", itoa(rs.Minor), itoa(rs.Major), f1(rs.LongestMinorGapDays), strconv.FormatBool(rs.MinorGapOverTwoWeeks),
		tsOrEmpty(rs.TermStart), strconv.FormatBool(rs.MajorMissed)})
	for _, c := range rep.Capacity.Crossings {
		cw.Write([]string{rep.Month, "crossing", c.Service, ts(c.At), f1(c.Percent)})
	}
	for _, s := range rep.Capacity.Surges {
		cw.Write([]string{rep.Month, "surge", s.Service, ts(s.From), ts(s.Until), csvSafe(s.By), csvSafe(s.Reason)})
	}
	for _, g := range rep.Capacity.Gauges {
		cw.Write([]string{rep.Month, "gauge", g.Service, formatAmount(g.Used), formatAmount(g.Limit), f1(g.Percent), ts(g.At)})
	}
	av := rep.Availability
	for _, a := range append(slices.Clone(av.Components), av.Rfadesk) {
		cw.Write([]string{rep.Month, "availability", csvSafe(a.Component), strconv.FormatFloat(a.Ratio, 'f', 6, 64),
			strconv.FormatFloat(a.Target, 'f', 3, 64), reportMinutes(a.Down), reportMinutes(a.AllowanceLeft)})
	}
}

// availabilityPercent is a ratio as a percentage to three decimals.
func availabilityPercent(r float64) string { return strconv.FormatFloat(100*r, 'f', 3, 64) + "%" }

// reportMinutes is d in minutes to one decimal.
func reportMinutes(d time.Duration) string { return strconv.FormatFloat(d.Minutes(), 'f', 1, 64) }

// avBar is one bar of the availability chart.
type avBar struct {
	Label, Text, Fill string
	Y, W, T           int
}

// avChart draws each component's downtime against its month's
// allowance: the dashed line at x=350 is the whole allowance (150 px),
// bars stop at twice it.
type avChart struct {
	Height int
	Bars   []avBar
}

func availabilityChart(a AvailabilitySection) avChart {
	all := append(slices.Clone(a.Components), a.Rfadesk)
	c := avChart{Height: 22*len(all) + 4}
	for i, x := range all {
		allowance := x.Down + x.AllowanceLeft
		w := 0
		if allowance > 0 {
			w = int(min(300, 150*float64(x.Down)/float64(allowance)))
		}
		fill := "#393"
		if x.AllowanceLeft < 0 {
			fill = "#c33"
		}
		y := 2 + 22*i
		c.Bars = append(c.Bars, avBar{Label: x.Component, Text: reportMinutes(x.Down) + " min down", Fill: fill, Y: y, W: w, T: y + 14})
	}
	return c
}
