package config

import (
	"strings"
	"testing"
	"time"
)

func TestRetentionConfig(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		toml string
		want time.Time // zero: off
	}{
		{"", time.Date(2024, 12, 4, 10, 0, 0, 0, time.UTC)},
		{"[retention]\nafter_closure = \"18 months\"\n", time.Date(2025, 6, 4, 10, 0, 0, 0, time.UTC)},
		{"[retention]\nafter_closure = \"1 day\"\n", time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)},
		{"[retention]\nafter_closure = \"off\"\n", time.Time{}},
	} {
		cfg, err := Load(writeConfig(t, slaBase+tc.toml), noEnv)
		if err != nil {
			t.Fatalf("%q: %v", tc.toml, err)
		}
		got, ok := cfg.Retention.ClosedBefore(now)
		if ok != !tc.want.IsZero() || !got.Equal(tc.want) {
			t.Errorf("%q: closed before %v (%v), want %v", tc.toml, got, ok, tc.want)
		}
	}
	_, err := Load(writeConfig(t, slaBase+"[retention]\nafter_closure = \"forever\"\n"), noEnv)
	if err == nil || !strings.Contains(err.Error(), `retention.after_closure: "forever" is not a period`) {
		t.Errorf("after_closure = forever: %v", err)
	}
}
