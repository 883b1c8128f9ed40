package web

import (
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
)

// Settings are what the pages say about the desk and how they work out
// its clocks and opening times: the part of the configuration a reload
// (SIGHUP) may change while the handler runs. Options.Settings supplies
// them; every field is optional.
type Settings struct {
	// DeskName is shown in every page's header ("Service Desk" if empty).
	DeskName string
	// Hours says when the desk is open, for people ("Monday to Friday,
	// 08:00–17:00 UK time, closed on bank holidays"); "" means that text.
	Hours string
	// Contact is the desk's phone, knowledge base and postal address,
	// shown (where set) on the landing page, the status page and
	// GET /status.
	Contact bot.Contact
	// Opening is the desk's working calendar, for GET /status (open now,
	// next opening); nil means workcal.Default().
	Opening *workcal.Calendar
	// Location is the zone times are shown in; nil means Europe/London
	// (UTC, with a warning logged once, if the zone database is missing).
	Location *time.Location
	// Clocks returns an RFA's SLA clocks as they stand now (typically
	// the desk's SLAPolicy.Clocks at time.Now). It is called once per
	// RFA shown, from request goroutines, so it must be safe for
	// concurrent use and must not modify r. Nil shows no clocks (the
	// JSON "clocks" object is then empty).
	Clocks func(r *bot.RFA) []bot.ClockState
	// ConfirmBy is when a cleared RFA closes itself if the requester says
	// nothing (bot.SLAPolicy.ConfirmBy); ReopenBy is until when a closed
	// RFA may still be said to be broken (bot.SLAPolicy.ReopenBy). nil:
	// the page and JSON do not show them, and "still broken" is offered
	// while cleared only. Both must be safe for concurrent use.
	ConfirmBy, ReopenBy func(r *bot.RFA) (time.Time, bool)
	// Calendar returns one year of the desk's calendar for
	// GET /api/calendar (admin); nil answers that route 404, as an
	// unknown API path.
	Calendar func(year int) CalendarJSON
	// ResponseTarget is the promised first response, for the web form
	// ("72 hours" if empty).
	ResponseTarget string
}

// Default texts of Settings' empty fields.
const (
	defaultDeskName       = "Service Desk"
	defaultHours          = "Monday to Friday, 08:00–17:00 UK time, closed on bank holidays"
	defaultResponseTarget = "72 hours"
)

// settings returns the current Settings (Options.Settings, called once)
// with the defaults filled in. A handler reads them once and works with
// that copy; only the templates' time formatting reads the zone again.
func (h *handler) settings() Settings {
	var s Settings
	if h.current != nil {
		s = h.current()
	}
	if s.DeskName == "" {
		s.DeskName = defaultDeskName
	}
	if s.Hours == "" {
		s.Hours = defaultHours
	}
	if s.Opening == nil {
		s.Opening = h.defaultOpening
	}
	if s.Location == nil {
		s.Location = h.defaultLoc
	}
	if s.ResponseTarget == "" {
		s.ResponseTarget = defaultResponseTarget
	}
	return s
}

// location is the zone of the current settings, for the templates'
// time formatting.
func (h *handler) location() *time.Location { return h.settings().Location }
