package bot

import "rfadesk/bot/report"

// ParseReport reads the report fields from a message's subject and new
// text (quoted history removed, HTML turned into text); see report.Parse
// for what it recognises. It never fails: what it cannot find stays
// empty, CanReplicate ReplicateUnknown. Pure and safe for concurrent use.
func ParseReport(subject, body string) Report {
	// A plain conversion: report.Report keeps Report's field layout, so
	// this line stops compiling the day the two drift apart.
	return Report(report.Parse(subject, body))
}

// ParseReplicate maps a free-text answer to "can you replicate it?" to
// yes, no or unknown; see report.ParseReplicate.
func ParseReplicate(s string) Replicate { return report.ParseReplicate(s) }
