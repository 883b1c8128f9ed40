package config

import (
	"errors"
	"fmt"
	"os"
	"time"

	"rfadesk/bot"
)

// DefaultShutdownGrace is desk.shutdown_grace when it is not set.
const DefaultShutdownGrace = 10 * time.Second

// validateTemplates loads desk.templates_dir: each file in it replaces
// the embedded template of the same name (bot.ParseTemplates). An
// unknown name, or a template that does not parse or does not render
// with sample data, is an error naming the file. "" means the embedded
// templates.
func validateTemplates(dir string, errs []error) (*bot.Templates, []error) {
	if dir == "" {
		return bot.DefaultTemplates(), errs
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return bot.DefaultTemplates(), append(errs, fmt.Errorf("desk.templates_dir: %q is not a readable directory: create it or remove the key to use the built-in wording", dir))
	}
	t, err := bot.ParseTemplates(os.DirFS(dir))
	if err != nil {
		var joined interface{ Unwrap() []error }
		list := []error{err}
		if errors.As(err, &joined) {
			list = joined.Unwrap()
		}
		for _, e := range list {
			errs = append(errs, fmt.Errorf("desk.templates_dir: %s/%v: fix the file or remove it to use the built-in wording", dir, e))
		}
		return bot.DefaultTemplates(), errs
	}
	return t, errs
}

// validateShutdownGrace checks desk.shutdown_grace.
func validateShutdownGrace(s string, errs []error) (time.Duration, []error) {
	if s == "" {
		return DefaultShutdownGrace, errs
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return DefaultShutdownGrace, append(errs, fmt.Errorf("desk.shutdown_grace: %q is not a duration: write it like \"10s\"", s))
	case d < 0 || d > 10*time.Minute:
		return DefaultShutdownGrace, append(errs, fmt.Errorf("desk.shutdown_grace: %s is out of range: use between 0s and 10m (default 10s)", d))
	}
	return d, errs
}
