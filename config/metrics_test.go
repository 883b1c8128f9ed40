package config

import (
	"strings"
	"testing"
)

func TestConfigLogFormatAndMetricsListen(t *testing.T) {
	cfg, err := Load(writeConfig(t, loopbackTOML+"password = \"x\"\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log.Format != "text" || cfg.Metrics.Listen != "" {
		t.Errorf("defaults: log.format %q, metrics.listen %q; want text and empty", cfg.Log.Format, cfg.Metrics.Listen)
	}

	good := loopbackTOML + "password = \"x\"\n[log]\nformat = \"json\"\n[metrics]\nlisten = \"0.0.0.0:9090\"\n"
	if cfg, err = Load(writeConfig(t, good), noEnv); err != nil {
		t.Fatal(err)
	}
	if cfg.Log.Format != "json" || cfg.Metrics.Listen != "0.0.0.0:9090" {
		t.Errorf("log.format %q, metrics.listen %q", cfg.Log.Format, cfg.Metrics.Listen)
	}

	for body, want := range map[string]string{
		"[log]\nformat = \"xml\"\n":                                        `log.format: "xml" is not a format: use text or json`,
		"[metrics]\nlisten = \"9090\"\n":                                   `metrics.listen: "9090" is not host:port`,
		"[metrics]\nlisten = \"127.0.0.1:8080\"\n":                         `metrics.listen: "127.0.0.1:8080" is web.listen too`,
		"[web]\nlisten = \"[::1]:80\"\n[metrics]\nlisten = \"[::1]:80\"\n": "give metrics its own port",
	} {
		_, err := Load(writeConfig(t, loopbackTOML+"password = \"x\"\n"+body), noEnv)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one saying %q", body, err, want)
		}
	}
}
