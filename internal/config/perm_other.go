//go:build !unix

package config

// checkPermissions does nothing where permission bits do not describe who
// may write a file (Windows decides by ACL; the user's profile directory,
// where the file lives by default, is private).
func checkPermissions(string) error { return nil }

// CheckPermissions is the rule Load applies to a configuration file, for
// other files that decide where secrets go: nothing here.
func CheckPermissions(string) error { return nil }

// checkScriptFile does nothing here, as checkPermissions.
func checkScriptFile(string) error { return nil }
