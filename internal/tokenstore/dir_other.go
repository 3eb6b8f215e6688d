//go:build !unix

package tokenstore

// checkDir: permission bits and owners are not checked on Windows, where
// the user profile directory's ACL keeps others out, nor on platforms
// without Unix permissions.
func checkDir(string) error { return nil }
