package config

import (
	"strings"
	"testing"
	"time"
)

// TestConfigDependencyGrace: [outages] dependency_grace defaults to 5m,
// loads, and a bad value is refused with an error naming the key.
func TestConfigDependencyGrace(t *testing.T) {
	base := loopbackTOML + "password = \"x\"\n"
	cfg, err := Load(writeConfig(t, base), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DependencyGrace != 5*time.Minute {
		t.Errorf("default grace %s, want 5m", cfg.DependencyGrace)
	}
	cfg, err = Load(writeConfig(t, base+"[outages]\ndependency_grace = \"90s\"\n"), noEnv)
	if err != nil || cfg.DependencyGrace != 90*time.Second {
		t.Errorf("grace %v, %v; want 90s", cfg, err)
	}
	for value, want := range map[string]string{
		`"soon"`: `outages.dependency_grace: "soon" is not a duration`,
		`"1s"`:   `outages.dependency_grace: 1s is out of range`,
		`"48h"`:  `outages.dependency_grace: 48h0m0s is out of range`,
	} {
		_, err := Load(writeConfig(t, base+"[outages]\ndependency_grace = "+value+"\n"), noEnv)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("dependency_grace = %s: error %v, want %q", value, err, want)
		}
	}
}
