//go:build !unix

package config

// checkPermissions does nothing where permission bits do not describe who
// may write a file (Windows decides by ACL; the user's profile directory,
// where the file lives by default, is private).
func checkPermissions(string) error { return nil }
