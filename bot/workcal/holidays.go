package workcal

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/rickar/cal/v2/gb"
)

// Holiday is one day the desk is closed, as published (a bank holiday) or
// configured.
type Holiday struct {
	Date Date
	Name string
}

// DivisionEnglandAndWales is the gov.uk bank-holidays.json division the
// built-in calendar uses.
const DivisionEnglandAndWales = "england-and-wales"

// builtinJSON is the England & Wales bank holiday list for 2018–2030 in
// gov.uk's bank-holidays.json shape, including substitute days and the
// one-off days no rule predicts. Years outside it fall back to rules (see
// ruleHolidays) and are reported by [Calendar.Uncovered].
//
//go:embed holidays/england-and-wales.json
var builtinJSON []byte

// builtinHolidays parses the embedded list. It fails only if the embedded
// file is corrupt, which the package tests rule out.
func builtinHolidays() ([]Holiday, error) {
	return LoadHolidays(bytes.NewReader(builtinJSON), DivisionEnglandAndWales)
}

// govFile is the top level of gov.uk's bank-holidays.json: one entry per
// division ("england-and-wales", "scotland", "northern-ireland").
type govDivision struct {
	Division *string           `json:"division"`
	Events   []json.RawMessage `json:"events"`
}

type govEvent struct {
	Title   *string `json:"title"`
	Date    *string `json:"date"`
	Notes   *string `json:"notes"`
	Bunting *bool   `json:"bunting"`
}

// LoadHolidays reads a holiday list in gov.uk's bank-holidays.json shape
// (https://www.gov.uk/bank-holidays.json) and returns the events of the
// named division, in file order.
//
// The file is checked, not trusted: a missing or mismatched division, an
// empty event list, a field of the wrong JSON type, a missing title or
// date, a date not written YYYY-MM-DD, or the same date twice is an error
// whose message names the problem (and the event's index and date). It
// never returns an empty list without an error. Unknown fields are
// ignored, as gov.uk may add some.
func LoadHolidays(r io.Reader, division string) ([]Holiday, error) {
	const prefix = "workcal: holidays"
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: read: %w", prefix, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s: empty input", prefix)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("%s: not a JSON object of divisions: %s", prefix, jsonProblem(err))
	}
	raw, ok := top[division]
	if !ok {
		return nil, fmt.Errorf("%s: missing division %q (file has %s)", prefix, division, keys(top))
	}
	var div govDivision
	if err := json.Unmarshal(raw, &div); err != nil {
		return nil, fmt.Errorf("%s: division %q: %s", prefix, division, jsonProblem(err))
	}
	switch {
	case div.Division == nil:
		return nil, fmt.Errorf("%s: division %q: missing \"division\" field", prefix, division)
	case *div.Division != division:
		return nil, fmt.Errorf("%s: division %q: \"division\" field says %q", prefix, division, *div.Division)
	case len(div.Events) == 0:
		return nil, fmt.Errorf("%s: division %q: no events", prefix, division)
	}
	out := make([]Holiday, 0, len(div.Events))
	seen := make(map[Date]string, len(div.Events))
	for i, rawEv := range div.Events {
		where := fmt.Sprintf("%s: division %q: event %d", prefix, division, i)
		var ev govEvent
		if err := json.Unmarshal(rawEv, &ev); err != nil {
			return nil, fmt.Errorf("%s: %s", where, jsonProblem(err))
		}
		if ev.Date == nil {
			return nil, fmt.Errorf("%s: missing date", where)
		}
		d, err := ParseDate(*ev.Date)
		if err != nil {
			return nil, fmt.Errorf("%s: bad date format %q: want YYYY-MM-DD", where, *ev.Date)
		}
		if ev.Title == nil || strings.TrimSpace(*ev.Title) == "" {
			return nil, fmt.Errorf("%s (%s): missing title", where, d)
		}
		if prev, dup := seen[d]; dup {
			return nil, fmt.Errorf("%s: duplicate date %s (%q and %q)", where, d, prev, *ev.Title)
		}
		seen[d] = *ev.Title
		out = append(out, Holiday{Date: d, Name: *ev.Title})
	}
	return out, nil
}

// jsonProblem turns an encoding/json error into a short description that
// names the offending field and the types involved.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Sprintf("wrong type: got JSON %s, want %s", te.Value, jsonKind(te.Type.Kind().String()))
		}
		return fmt.Sprintf("wrong type for %q: got JSON %s, want %s", te.Field, te.Value, jsonKind(te.Type.Kind().String()))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)
	}
	return err.Error()
}

// jsonKind names a Go kind the way a JSON author would.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	case "map", "struct":
		return "object"
	case "ptr":
		return "value"
	}
	return kind
}

func keys(m map[string]json.RawMessage) string {
	if len(m) == 0 {
		return "no divisions"
	}
	ks := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		ks = append(ks, strconv.Quote(k))
	}
	return strings.Join(ks, ", ")
}

// Years the rule fallback is computed for, outside the years the data
// covers. Outside this range no holidays are known at all.
const (
	ruleFirstYear = 2000
	ruleLastYear  = 2099
)

// ruleHolidays returns England & Wales bank holidays for year as predicted
// by the rules in github.com/rickar/cal/v2/gb (observed dates, so
// substitute days are included). Rules cannot know one-off days (the 2022
// state funeral is missing, for example), which is why the calendar reports
// such years as uncovered.
func ruleHolidays(year int) []Holiday {
	var out []Holiday
	for _, h := range gb.Holidays {
		_, observed := h.Calc(year)
		if observed.IsZero() {
			continue
		}
		// Calc returns midnight in cal.DefaultLoc; only the civil date is
		// used, read in that same location, so the host zone does not matter.
		out = append(out, Holiday{Date: DateOf(observed), Name: h.Name})
	}
	return out
}
