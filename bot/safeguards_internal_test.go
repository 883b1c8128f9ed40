package bot

import (
	"testing"
	"time"
)

func TestSpell(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "1h", 10 * time.Minute: "10m", 90 * time.Minute: "1h30m", 45 * time.Second: "45s", 24 * time.Hour: "24h",
	} {
		if got := spell(d); got != want {
			t.Errorf("spell(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestIsDeskAddress(t *testing.T) {
	for addr, want := range map[string]bool{
		"support@example.org": true, "Support@EXAMPLE.org": true, "support+x@example.org": true,
		" support+@example.org ": true, "supportx@example.org": false, "support@example.org.evil": false,
		"support@sub.example.org": false, "": false,
	} {
		if got := isDeskAddress(addr, "support@example.org"); got != want {
			t.Errorf("isDeskAddress(%q) = %v, want %v", addr, got, want)
		}
	}
}
