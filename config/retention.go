package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// rawRetention is the [retention] section as written.
type rawRetention struct {
	AfterClosure *string `toml:"after_closure"`
}

// Retention is the validated [retention] section: how long the message
// texts and attachments of a closed RFA are kept (rfadesk purge).
type Retention struct {
	// AfterClosure is retention.after_closure as written ("2 years" by
	// default); "" when it is "off" (nothing is ever purged).
	AfterClosure        string
	years, months, days int
}

// ClosedBefore is the closure moment before which an RFA's content is
// purged, as of now; ok is false when retention is off.
func (r Retention) ClosedBefore(now time.Time) (t time.Time, ok bool) {
	if r.AfterClosure == "" {
		return time.Time{}, false
	}
	return now.AddDate(-r.years, -r.months, -r.days), true
}

// validateRetention reads retention.after_closure: "N years", "N months",
// "N weeks" or "N days" (N >= 1; singular units too), or "off".
func validateRetention(raw rawRetention, errs []error) (Retention, []error) {
	s := "2 years"
	if raw.AfterClosure != nil {
		s = strings.TrimSpace(*raw.AfterClosure)
	}
	if strings.EqualFold(s, "off") {
		return Retention{}, errs
	}
	r := Retention{AfterClosure: s}
	num, unit, _ := strings.Cut(s, " ")
	n, err := strconv.Atoi(num)
	if err == nil && n >= 1 {
		switch strings.TrimSuffix(strings.ToLower(strings.TrimSpace(unit)), "s") {
		case "year":
			r.years = n
			return r, errs
		case "month":
			r.months = n
			return r, errs
		case "week":
			r.days = 7 * n
			return r, errs
		case "day":
			r.days = n
			return r, errs
		}
	}
	return Retention{}, append(errs, fmt.Errorf("retention.after_closure: %q is not a period: write e.g. \"2 years\", \"18 months\", \"90 days\", or \"off\" to keep everything", s))
}
