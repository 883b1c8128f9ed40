package workcal

import (
	"testing"
	"time"
)

func BenchmarkDue(b *testing.B) {
	c := Default()
	start := time.Date(2026, 12, 18, 16, 30, 0, 0, c.Location()) // over Christmas
	tg := Target{N: 2, Unit: UnitWorkingWeek}
	for b.Loop() {
		c.Due(start, tg)
	}
}

func BenchmarkBetween(b *testing.B) {
	c := Default()
	a := time.Date(2026, 12, 18, 16, 30, 0, 0, c.Location())
	z := a.AddDate(0, 0, 21)
	for b.Loop() {
		c.Between(a, z)
	}
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(nil); err != nil {
			b.Fatal(err)
		}
	}
}
