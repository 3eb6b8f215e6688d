package auth

import (
	"fmt"
	"strings"

	"github.com/plannersql/planner/internal/config"
)

// PropertySetter is what a profile fills in: the driver's *Config.
type PropertySetter interface {
	// IsSet reports whether the property was set explicitly (in the DSN).
	IsSet(name string) bool
	// Set sets a property by name (case-insensitive).
	Set(key, value string) error
}

// ApplyProfile loads the configuration file at path and sets every
// property of profile name that dst does not already have explicitly: keys
// given in the DSN override the profile's. Errors name the file (and the
// line, for a bad key or value) and, for an unknown profile, list the
// profiles the file defines.
func ApplyProfile(path, name string, dst PropertySetter, opts config.LoadOptions) error {
	f, err := config.Load(path, opts)
	if err != nil {
		return fmt.Errorf("auth: loading profile %q: %w", name, err)
	}
	p, err := f.Profile(name)
	if err != nil {
		return fmt.Errorf("auth: Profile=%s: %w", name, err)
	}
	for _, pr := range p.Properties {
		if strings.EqualFold(pr.Key, "Profile") {
			return fmt.Errorf("auth: %s:%d: profile %q sets Profile: a profile cannot name another profile; remove the key", p.File, pr.Line, p.Name)
		}
		if dst.IsSet(pr.Key) {
			continue
		}
		if err := dst.Set(pr.Key, pr.Value); err != nil {
			return fmt.Errorf("auth: %s:%d: profile %q: %w", p.File, pr.Line, p.Name, err)
		}
	}
	return nil
}
