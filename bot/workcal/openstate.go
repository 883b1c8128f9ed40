package workcal

import "time"

// OpenState says whether the desk is open at one instant and when that
// next changes, for people ("open until 17:00", "next open Monday 08:00").
type OpenState struct {
	// Open is IsOpen at the instant.
	Open bool
	// Closes is when the current opening span ends; zero when closed.
	Closes time.Time
	// NextOpen is the next opening after the instant: when open, the
	// first opening after Closes; when closed, NextOpen of the instant.
	// Zero if the desk does not open within the scan bound.
	NextOpen time.Time
}

// StateAt returns the desk's OpenState at t, times in the desk's
// location. It is pure: the answer depends on t and the calendar only.
func (c *Calendar) StateAt(t time.Time) OpenState {
	if !c.IsOpen(t) {
		return OpenState{NextOpen: c.NextOpen(t)}
	}
	_, cl := c.spanOf(c.dayOf(t))
	return OpenState{Open: true, Closes: cl, NextOpen: c.NextOpen(cl)}
}
