package workcal

import (
	"fmt"
	"io"
	"slices"
)

// WriteFingerprint writes to w a text that changes whenever a working-time
// answer of c may change: zone, opening hours and days, and every closed
// day. Two calendars with equal fingerprints answer alike, so a cache of
// computed times (the desk's jeopardy schedule) is valid across restarts
// while the fingerprint stays the same.
func (c *Calendar) WriteFingerprint(w io.Writer) error {
	days := make([]dayNum, 0, len(c.closed))
	for n := range c.closed {
		days = append(days, n)
	}
	slices.Sort(days)
	if _, err := fmt.Fprintf(w, "zone %s\ndays %v\nopen %v close %v\nclosed %v\n",
		c.loc.String(), c.days, c.open, c.close, days); err != nil {
		return fmt.Errorf("workcal: fingerprint: %w", err)
	}
	return nil
}
