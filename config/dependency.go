package config

import (
	"fmt"
	"time"
)

// DefaultDependencyGrace is outages.dependency_grace when it is not set.
const DefaultDependencyGrace = 5 * time.Minute

// Bounds of outages.dependency_grace.
const (
	minDependencyGrace = 30 * time.Second
	maxDependencyGrace = 24 * time.Hour
)

// validateDependencyGrace checks outages.dependency_grace.
func validateDependencyGrace(s string, errs []error) (time.Duration, []error) {
	if s == "" {
		return DefaultDependencyGrace, errs
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return DefaultDependencyGrace, append(errs, fmt.Errorf("outages.dependency_grace: %q is not a duration: write it like \"5m\"", s))
	case d < minDependencyGrace || d > maxDependencyGrace:
		return DefaultDependencyGrace, append(errs, fmt.Errorf("outages.dependency_grace: %s is out of range: use between %s and %s (default 5m)", d, minDependencyGrace, maxDependencyGrace))
	}
	return d, errs
}
