package bot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
)

// jeopardyAlgorithm names how NextPoint computes a point from a policy;
// change it when that computation changes, so stored schedules are
// rebuilt.
const jeopardyAlgorithm = "jeopardy-v3"

// Fingerprint identifies everything NextPoint depends on besides the RFA:
// the calendar (zone, hours, closed days), the targets (triage,
// escalation and the fields reminder included), the confirmation window
// and reopen grace with the school holidays they skip, the escalation
// points of every clock and the computation itself. The jeopardy schedule stored with
// one fingerprint is valid for any policy with the same one; a change
// makes the desk rebuild it once, at start-up or after the reload
// (Desk.Reload) that changed it. It is a hex SHA-256.
func (p *SLAPolicy) Fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", jeopardyAlgorithm)
	if err := p.Calendar.WriteFingerprint(h); err != nil {
		panic(err) // a hash.Hash never fails to write
	}
	fmt.Fprintf(h, "response %+v\ntriage %+v\nfirst_update %+v\nescalation %+v\nfields_reminder %+v\n",
		p.Response, p.Triage, p.FirstUpdate, p.Escalation, p.FieldsReminder)
	fmt.Fprintf(h, "confirm_window %+v\nreopen_grace %+v\n", p.ConfirmWindow, p.ReopenGrace)
	orgs := slices.Sorted(maps.Keys(p.Holidays))
	for _, org := range orgs {
		for _, r := range p.Holidays[org] {
			fmt.Fprintf(h, "school_holiday %q %s %s\n", org, r.From, r.To)
		}
	}
	for _, s := range Severities {
		t, ok := p.Workaround[s]
		fmt.Fprintf(h, "workaround %s %v %+v\n", s, ok, t)
	}
	for _, pt := range p.Points {
		fmt.Fprintf(h, "point %v %s\n", pt.Fraction, pt.Step)
	}
	for _, pt := range p.FirstContactPoints {
		fmt.Fprintf(h, "first_contact_point %v %s\n", pt.Fraction, pt.Step)
	}
	return hex.EncodeToString(h.Sum(nil))
}
