//go:build unix && !linux && !darwin && !freebsd && !dragonfly

package config

// statfsReadOnly reports whether path is on a file system mounted
// read-only; where that is not known, false (the mode bits decide).
func statfsReadOnly(string) bool { return false }
