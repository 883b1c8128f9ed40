package config

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestConfigDeskComponents(t *testing.T) {
	withComponents := func(list string) string {
		return strings.Replace(loopbackTOML, "[desk]\n", "[desk]\ncomponents = "+list+"\n", 1) + "password = \"pw\"\n"
	}
	cfg, err := Load(writeConfig(t, withComponents(`[" Login ", "Attendance"]`)), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Login", "Attendance"}; !slices.Equal(cfg.Components, want) {
		t.Errorf("components %q, want %q", cfg.Components, want)
	}
	if cfg, err := Load(writeConfig(t, loopbackTOML+"password = \"pw\"\n"), noEnv); err != nil {
		t.Fatal(err)
	} else if cfg.Components != nil {
		t.Errorf("unset: %q, want nil", cfg.Components)
	}
	for list, want := range map[string]string{
		`["Login", ""]`:                        "desk.components[1]: empty",
		`["Login", "login"]`:                   `desk.components[1]: "login" is listed twice`,
		`["a\nb"]`:                             "desk.components[0]:",
		`["` + strings.Repeat("x", 65) + `"]`:  "at most 64 characters",
		`[` + strings.Repeat(`"x",`, 51) + `]`: "desk.components: 51 names",
	} {
		_, err := Load(writeConfig(t, withComponents(list)), noEnv)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("components = %s: %v, want an error with %q", list, err, want)
		}
	}
}

// The example documents desk.components; uncommented, its line loads.
func TestExampleComponentsLineLoads(t *testing.T) {
	ex, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	line := ""
	for l := range strings.Lines(string(ex)) {
		if strings.HasPrefix(l, "# components = ") {
			line = strings.TrimPrefix(l, "# ")
		}
	}
	if line == "" {
		t.Fatal("config.example.toml does not document desk.components")
	}
	cfg, err := Load(writeConfig(t, strings.Replace(loopbackTOML, "[desk]\n", "[desk]\n"+line, 1)+"password = \"pw\"\n"), noEnv)
	if err != nil {
		t.Fatalf("the example's components line: %v", err)
	}
	if len(cfg.Components) == 0 {
		t.Error("the example's components line gives no components")
	}
}
