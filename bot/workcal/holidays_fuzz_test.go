package workcal

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzLoadHolidays feeds arbitrary bytes to the holiday data loader. Its
// contract: either a non-empty list of valid, distinct, titled dates in
// file order, or an error naming itself ("workcal: holidays") and no list.
func FuzzLoadHolidays(f *testing.F) {
	f.Add([]byte(`{"england-and-wales":{"division":"england-and-wales","events":[{"title":"Boxing Day","date":"2026-12-28","notes":"Substitute day","bunting":true}]}}`), DivisionEnglandAndWales)
	f.Add([]byte(`{"scotland":{"division":"scotland","events":[{"title":"St Andrew's Day","date":"2026-11-30"}]}}`), "scotland")
	f.Add([]byte(`{"england-and-wales":{"division":"england-and-wales","events":[{"title":"A","date":"2026-02-30"}]}}`), DivisionEnglandAndWales)
	f.Add(builtinJSON, DivisionEnglandAndWales)
	f.Fuzz(func(t *testing.T, data []byte, division string) {
		list, err := LoadHolidays(bytes.NewReader(data), division)
		if err != nil {
			if list != nil {
				t.Fatalf("error %v with a list of %d", err, len(list))
			}
			if !strings.HasPrefix(err.Error(), "workcal: holidays") {
				t.Fatalf("error does not name the loader: %v", err)
			}
			return
		}
		if len(list) == 0 {
			t.Fatal("no holidays and no error")
		}
		seen := map[Date]bool{}
		for _, h := range list {
			if !h.Date.valid() || strings.TrimSpace(h.Name) == "" || seen[h.Date] {
				t.Fatalf("bad holiday %+v in %d", h, len(list))
			}
			seen[h.Date] = true
			if back, err := ParseDate(h.Date.String()); err != nil || back != h.Date {
				t.Fatalf("date %v does not round-trip: %v, %v", h.Date, back, err)
			}
		}
	})
}
