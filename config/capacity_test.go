package config

import (
	"strings"
	"testing"
)

func TestConfigCapacity(t *testing.T) {
	cfg, err := Load(writeConfig(t, loopbackTOML+"password = \"x\"\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Desk.Capacity.Threshold != 70 || cfg.Capacity.StoreLimit != 0 || cfg.Capacity.OpenRFAs != 0 || cfg.Capacity.OutboxLimit != 1000 {
		t.Errorf("defaults: %+v %+v", cfg.Desk.Capacity, cfg.Capacity)
	}
	good := loopbackTOML + "password = \"x\"\n[capacity]\nthreshold = 80.5\nstore_limit = \"2GiB\"\nopen_rfas = 300\noutbox_limit = 50\n"
	if cfg, err = Load(writeConfig(t, good), noEnv); err != nil {
		t.Fatal(err)
	}
	if cfg.Desk.Capacity.Threshold != 80.5 || cfg.Capacity.StoreLimit != 2<<30 || cfg.Capacity.OpenRFAs != 300 || cfg.Capacity.OutboxLimit != 50 {
		t.Errorf("got %+v %+v", cfg.Desk.Capacity, cfg.Capacity)
	}
	for body, want := range map[string]string{
		"threshold = 0\n":          "capacity.threshold: 0 is not a percentage",
		"threshold = 9.5\n":        "capacity.threshold: 9.5 is not a percentage from 10 to 100",
		"threshold = 101\n":        "capacity.threshold: 101 is not a percentage",
		"store_limit = \"lots\"\n": `capacity.store_limit: "lots" is not a size`,
		"store_limit = \"0MB\"\n":  `capacity.store_limit: "0MB" is not a size`,
		"open_rfas = -3\n":         "capacity.open_rfas: -3 must be a positive number",
		"outbox_limit = 0\n":       "capacity.outbox_limit: 0 must be a positive number",
		"open_rfa = 3\n":           "capacity.open_rfa: unknown key",
	} {
		_, err := Load(writeConfig(t, loopbackTOML+"password = \"x\"\n[capacity]\n"+body), noEnv)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one saying %q", body, err, want)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for s, want := range map[string]int64{"1048576": 1 << 20, "500 MB": 500e6, "2GiB": 2 << 30, "3KiB": 3072, "7B": 7} {
		if n, err := parseBytes(s); err != nil || n != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", s, n, err, want)
		}
	}
}
