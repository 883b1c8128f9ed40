package workcal

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// oneOffs are the embedded holidays 2018–2030 that the rickar/cal gb rules
// do not produce. (Its rules already know the 2020 VE day move, the 2022
// jubilee and spring bank move and the 2023 coronation.)
var oneOffs = map[Date]bool{
	{2022, time.September, 19}: true, // state funeral of Queen Elizabeth II
}

func TestEmbeddedDataMatchesRules(t *testing.T) {
	hols, err := builtinHolidays()
	if err != nil {
		t.Fatal(err)
	}
	data := map[int][]Date{}
	for _, h := range hols {
		data[h.Date.Year] = append(data[h.Date.Year], h.Date)
	}
	for y := 2018; y <= 2030; y++ {
		var rules []Date
		for _, h := range ruleHolidays(y) {
			rules = append(rules, h.Date)
		}
		for _, d := range data[y] {
			if !slices.Contains(rules, d) && !oneOffs[d] {
				t.Errorf("%d: data has %v, rules do not (and it is not a documented one-off)", y, d)
			}
		}
		for _, d := range rules {
			if !slices.Contains(data[y], d) {
				t.Errorf("%d: rules predict %v, data does not have it", y, d)
			}
		}
	}
	for d := range oneOffs {
		if !slices.Contains(data[d.Year], d) {
			t.Errorf("one-off %v missing from the data", d)
		}
	}
}

func TestEmbeddedDataShape(t *testing.T) {
	hols, err := builtinHolidays()
	if err != nil {
		t.Fatal(err)
	}
	perYear := map[int]int{}
	for _, h := range hols {
		perYear[h.Date.Year]++
		n := h.Date.dayNum()
		if wd := n.weekday(); wd == time.Saturday || wd == time.Sunday {
			t.Errorf("%v %q falls on a %v: substitute day missing", h.Date, h.Name, wd)
		}
		if got := time.Date(h.Date.Year, h.Date.Month, h.Date.Day, 12, 0, 0, 0, time.UTC).Weekday(); got != n.weekday() {
			t.Errorf("dayNum weekday of %v = %v, time says %v", h.Date, n.weekday(), got)
		}
	}
	for y := 2018; y <= 2030; y++ {
		if perYear[y] < 8 {
			t.Errorf("%d has %d holidays, want at least 8", y, perYear[y])
		}
	}
	if len(perYear) != 13 {
		t.Errorf("data covers %d years, want 2018..2030", len(perYear))
	}
}

func TestIsHoliday(t *testing.T) {
	c := Default()
	tests := []struct {
		date string
		name string // "" means not a holiday
	}{
		{"2020-05-04", ""},
		{"2020-05-08", "Early May bank holiday (VE day)"},
		{"2021-12-27", "Christmas Day"},
		{"2021-12-28", "Boxing Day"},
		{"2022-01-03", "New Year’s Day"},
		{"2022-05-30", ""}, // spring bank moved to 2 June
		{"2022-06-02", "Spring bank holiday"},
		{"2022-06-03", "Platinum Jubilee bank holiday"},
		{"2022-09-19", "Bank Holiday for the State Funeral of Queen Elizabeth II"},
		{"2023-05-08", "Bank holiday for the coronation of King Charles III"},
		{"2027-12-27", "Christmas Day"},
		{"2027-12-28", "Boxing Day"},
		{"2026-03-14", ""}, // a Saturday is not a holiday
		{"2031-12-25", "Christmas Day"},
		{"2031-12-26", "Boxing Day"},
		{"2017-12-25", "Christmas Day"},
	}
	for _, tc := range tests {
		d, err := ParseDate(tc.date)
		if err != nil {
			t.Fatal(err)
		}
		name, ok := c.IsHoliday(d)
		if ok != (tc.name != "") || name != tc.name {
			t.Errorf("IsHoliday(%s) = %q, %v; want %q", tc.date, name, ok, tc.name)
		}
	}
	if _, ok := c.IsHoliday(Date{}); ok {
		t.Error("zero Date reported as a holiday")
	}
}

func TestUncovered(t *testing.T) {
	c := Default()
	if got := c.Uncovered(2018, 2024, 2030); got != nil {
		t.Errorf("Uncovered(2018, 2024, 2030) = %v, want nil", got)
	}
	if got, want := c.Uncovered(2017, 2018, 2031, 2031, 2017), []int{2017, 2031}; !slices.Equal(got, want) {
		t.Errorf("Uncovered = %v, want %v", got, want)
	}
}

func TestReplacedHolidaysAndClosures(t *testing.T) {
	eve := Date{2026, time.December, 24}
	c, err := New(&Options{
		Holidays:      []Holiday{{Date: Date{2026, time.December, 28}, Name: "Boxing Day"}},
		ExtraClosures: []Date{eve, {2031, time.January, 2}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Uncovered(2025, 2026, 2031), []int{2025, 2031}; !slices.Equal(got, want) {
		t.Errorf("Uncovered = %v, want %v (closures do not cover a year)", got, want)
	}
	if name, ok := c.IsHoliday(eve); !ok || name != closureName {
		t.Errorf("IsHoliday(closure) = %q, %v", name, ok)
	}
	// The replaced list has no Christmas Day, and no rule fallback fills it in.
	if _, ok := c.IsHoliday(Date{2026, time.December, 25}); ok {
		t.Error("replaced list still has the built-in Christmas Day")
	}
	if _, ok := c.IsHoliday(Date{2031, time.December, 25}); ok {
		t.Error("replaced list got a rule-predicted 2031 Christmas Day")
	}
	if !c.IsOpen(at(t, "2026-12-25 10:00")) || c.IsOpen(at(t, "2026-12-24 10:00")) || c.IsOpen(at(t, "2026-12-28 10:00")) {
		t.Error("open/closed days do not follow the replaced list and closures")
	}
	// Closures add to the built-in list too.
	d, err := New(&Options{ExtraClosures: []Date{eve, {2026, time.December, 25}}})
	if err != nil {
		t.Fatal(err)
	}
	if name, _ := d.IsHoliday(Date{2026, time.December, 25}); name != "Christmas Day" {
		t.Errorf("a closure on a bank holiday renamed it to %q", name)
	}
	if d.IsOpen(at(t, "2026-12-24 10:00")) || !Default().IsOpen(at(t, "2026-12-24 10:00")) {
		t.Error("extra closure not applied on top of the built-in list")
	}
}

func TestLoadHolidaysDivision(t *testing.T) {
	f, err := os.Open("testdata/bank-holidays-sample.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := LoadHolidays(f, "scotland")
	if err != nil {
		t.Fatal(err)
	}
	want := []Holiday{
		{Date{2026, 1, 1}, "New Year’s Day"},
		{Date{2026, 1, 2}, "2nd January"},
		{Date{2026, 11, 30}, "St Andrew’s Day"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("LoadHolidays(scotland) = %v, want %v", got, want)
	}
}

func TestLoadHolidaysRejectsBadFiles(t *testing.T) {
	const ew = "england-and-wales"
	// file wraps events in a valid top level and division.
	file := func(events string) string {
		return `{"england-and-wales": {"division": "england-and-wales", "events": [` + events + `]}}`
	}
	const ok = `{"title": "Christmas Day", "date": "2026-12-25", "notes": "", "bunting": true}`
	tests := []struct {
		name, in, want string
	}{
		{"empty input", "", "empty input"},
		{"whitespace", "  \n", "empty input"},
		{"syntax error", `{"england-and-wales": {`, "invalid JSON"},
		{"top level is an array", `[]`, "not a JSON object of divisions: wrong type: got JSON array, want object"},
		{"top level is null", `null`, `missing division "england-and-wales" (file has no divisions)`},
		{"missing division", `{"scotland": {"division": "scotland", "events": [` + ok + `]}}`, `missing division "england-and-wales" (file has "scotland")`},
		{"division is an array", `{"england-and-wales": []}`, "wrong type: got JSON array, want object"},
		{"missing division field", `{"england-and-wales": {"events": [` + ok + `]}}`, `missing "division" field`},
		{"division field mismatch", `{"england-and-wales": {"division": "scotland", "events": [` + ok + `]}}`, `"division" field says "scotland"`},
		{"division field wrong type", `{"england-and-wales": {"division": 1, "events": [` + ok + `]}}`, `wrong type for "division": got JSON number, want string`},
		{"no events", file(""), "no events"},
		{"events missing", `{"england-and-wales": {"division": "england-and-wales"}}`, "no events"},
		{"events is an object", `{"england-and-wales": {"division": "england-and-wales", "events": {}}}`, `wrong type for "events": got JSON object, want array`},
		{"date is a number", file(ok + `, {"title": "x", "date": 20230508}`), `event 1: wrong type for "date": got JSON number, want string`},
		{"title is a number", file(`{"title": 7, "date": "2023-05-08"}`), `event 0: wrong type for "title": got JSON number, want string`},
		{"bunting is a string", file(`{"title": "x", "date": "2023-05-08", "bunting": "yes"}`), `wrong type for "bunting": got JSON string, want boolean`},
		{"notes is a bool", file(`{"title": "x", "date": "2023-05-08", "notes": false}`), `wrong type for "notes": got JSON bool, want string`},
		{"event is a string", file(`"2023-05-08"`), "event 0: wrong type: got JSON string, want object"},
		{"event is null", file(`null`), "event 0: missing date"},
		{"missing date", file(`{"title": "x"}`), "event 0: missing date"},
		{"missing title", file(`{"date": "2023-05-08"}`), "event 0 (2023-05-08): missing title"},
		{"blank title", file(`{"title": " ", "date": "2023-05-08"}`), "missing title"},
		{"unpadded date", file(`{"title": "x", "date": "2023-5-8"}`), `bad date format "2023-5-8": want YYYY-MM-DD`},
		{"UK date order", file(`{"title": "x", "date": "08/05/2023"}`), `bad date format "08/05/2023"`},
		{"impossible date", file(`{"title": "x", "date": "2023-02-30"}`), `bad date format "2023-02-30"`},
		{"date with time", file(`{"title": "x", "date": "2023-05-08T00:00:00Z"}`), "bad date format"},
		{"duplicate date", file(ok + `, {"title": "Coronation", "date": "2023-05-08"}, {"title": "Again", "date": "2023-05-08"}`),
			`event 2: duplicate date 2023-05-08 ("Coronation" and "Again")`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadHolidays(strings.NewReader(tc.in), ew)
			if err == nil {
				t.Fatalf("LoadHolidays = %v, nil; want error containing %q", got, tc.want)
			}
			if got != nil {
				t.Errorf("LoadHolidays returned %d holidays with the error", len(got))
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "workcal: holidays: ") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q\nwant prefix %q and substring %q", msg, "workcal: holidays: ", tc.want)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, fmt.Errorf("disk on fire") }

func TestLoadHolidaysReadError(t *testing.T) {
	_, err := LoadHolidays(failingReader{}, "england-and-wales")
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseDate(t *testing.T) {
	d, err := ParseDate("2023-05-08")
	if err != nil || d != (Date{2023, time.May, 8}) || d.String() != "2023-05-08" {
		t.Fatalf("ParseDate = %v, %v", d, err)
	}
	for _, bad := range []string{"", "2023-5-08", "2023-05-8", "2023/05/08", "2023-02-29", " 2023-05-08", "20230508"} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) succeeded", bad)
		}
	}
	var u Date
	if err := u.UnmarshalText([]byte("2024-02-29")); err != nil || u != (Date{2024, 2, 29}) {
		t.Errorf("UnmarshalText = %v, %v", u, err)
	}
	if err := u.UnmarshalText([]byte("nope")); err == nil {
		t.Error("UnmarshalText(nope) succeeded")
	}
}
