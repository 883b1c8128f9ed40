package web

import (
	"net/http"
	"strconv"
)

// CalendarJSON is one year of the desk's working calendar, as
// GET /api/calendar?year=YYYY returns it.
type CalendarJSON struct {
	Year     int      `json:"year"`
	Timezone string   `json:"timezone"`
	Days     []string `json:"days"`  // open weekdays, Monday first ("Mon", ...)
	Open     string   `json:"open"`  // "08:00"
	Close    string   `json:"close"` // "17:00"
	// HolidaySource says where the holidays come from; Covered is false
	// when that source has no data for Year (its holidays are predicted
	// by rule, or only closures are known).
	HolidaySource  string              `json:"holiday_source"`
	Covered        bool                `json:"covered"`
	Closed         []ClosedDayJSON     `json:"closed"`
	SchoolHolidays []SchoolHolidayJSON `json:"school_holidays"`
}

// ClosedDayJSON is a day the desk is closed: a bank holiday or closure.
type ClosedDayJSON struct {
	Date string `json:"date"` // YYYY-MM-DD
	Name string `json:"name"`
}

// SchoolHolidayJSON is a school holiday: the desk's clocks keep running,
// clearance confirmation waits for it to end.
type SchoolHolidayJSON struct {
	From         string `json:"from"`
	To           string `json:"to"`
	Name         string `json:"name"`
	Organisation string `json:"organisation"` // "" for the default of every school
}

// apiCalendar answers GET /api/calendar?year=YYYY (default: this year),
// or 404 when the current Settings have no Calendar.
func (h *handler) apiCalendar(w http.ResponseWriter, r *http.Request) {
	s := h.settings()
	if s.Calendar == nil {
		h.apiNotFound(w, r)
		return
	}
	year := h.now().In(s.Location).Year()
	if y := r.URL.Query().Get("year"); y != "" {
		n, err := strconv.Atoi(y)
		if err != nil || n < 1000 || n > 9999 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "year must be a four-digit year"})
			return
		}
		year = n
	}
	writeJSON(w, http.StatusOK, s.Calendar(year))
}
