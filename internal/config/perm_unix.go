//go:build unix

package config

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// checkPermissions refuses a configuration file that someone other than
// its user could have written, as ssh refuses such a ~/.ssh/config: a file
// or directory writable by group or others (a directory with the sticky
// bit, like /tmp, is safe: others cannot replace files in it; so is one on
// a file system mounted read-only), or a file or directory of another user
// than this one or root. Whoever can write the
// file decides where tokens go (GraphURL, AuthorityURL,
// OAuthSettingsLocation) and, through ${NAME}, which environment variables
// are sent there. The same holds for every directory above the file, as
// ssh checks them. A symbolic link is checked at both ends.
func checkPermissions(path string) error { return checkFile(path, configFile) }

// CheckPermissions is the rule Load applies to a configuration file, for
// other files that decide where secrets go and expand ${NAME} (the console's
// settings, console.toml): see checkPermissions.
func CheckPermissions(path string) error { return checkFile(path, configFile) }

// fileKind names a checked file and says what a writer other than its
// user could do with it, for messages.
type fileKind struct{ name, risk string }

var (
	configFile = fileKind{"configuration file", "redirect your sign-in and tokens or read your environment variables through ${NAME}"}
	scriptFile = fileKind{"script_file", "run SQL of their own with your sign-in (deleting tasks, replicating them elsewhere)"}
)

// checkFile applies checkPermissions's rule to a file of kind k.
func checkFile(path string, k fileKind) error {
	paths := []string{path}
	if real, err := filepath.EvalSymlinks(path); err == nil && real != path {
		paths = append(paths, real)
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("config: cannot check the %s %s: %w", k.name, p, err)
		}
		if err := checkOwner(p, k.name, st); err != nil {
			return err
		}
		if perm := st.Mode().Perm(); perm&0o022 != 0 && !readOnlyFS(p) {
			return fmt.Errorf("config: refusing to read the %s %s: its mode %04o lets group or others write to it, "+
				"so another user could %s; run `chmod go-w %s` (or `chmod 600 %s`)", k.name, p, perm, k.risk, p, p)
		}
		// The file's directory and every one above it: whoever can write
		// to any of them can rename the directory below away and put one
		// of their own in its place.
		abs, err := filepath.Abs(p)
		if err != nil {
			return fmt.Errorf("config: cannot check the %s %s: %w", k.name, p, err)
		}
		for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
			if err := checkDir(p, dir, k); err != nil {
				return err
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return nil
}

// checkDir refuses a directory holding the configuration file p (directly
// or further down) that someone other than its user or root could write to.
func checkDir(p, dir string, k fileKind) error {
	dst, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("config: cannot check the %s's directory %s: %w", k.name, dir, err)
	}
	if err := checkOwner(dir, k.name+"'s directory", dst); err != nil {
		return err
	}
	if perm := dst.Mode().Perm(); perm&0o022 != 0 && dst.Mode()&fs.ModeSticky == 0 && !readOnlyFS(dir) {
		return fmt.Errorf("config: refusing to read the %s %s: its directory %s has mode %04o, which lets group or others "+
			"write to it, so another user could replace the file; run `chmod go-w %s` (or move the file to a private directory)",
			k.name, p, dir, perm, dir)
	}
	return nil
}

// readOnlyFS reports whether path is on a file system mounted read-only: a
// file or directory there is writable by no one, whatever its mode bits
// say (a Kubernetes ConfigMap volume is mounted read-only with a directory
// of mode 0777). A variable so that tests can stand in for a read-only
// mount.
var readOnlyFS = statfsReadOnly

// checkOwner refuses a file or directory of another user than this one or
// root.
func checkOwner(p, what string, st fs.FileInfo) error {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok || int(sys.Uid) == os.Geteuid() || sys.Uid == 0 {
		return nil
	}
	return fmt.Errorf("config: refusing to read the %s: the %s %s belongs to another user (uid %d), "+
		"who could change it; use a file of your own (--config or $%s)", strings.Split(what, "'")[0], what, p, sys.Uid, EnvVar)
}

// checkScriptFile applies the configuration file's rule to a job's
// script_file: whoever can write it decides what SQL runs with the job's
// sign-in.
func checkScriptFile(path string) error { return checkFile(path, scriptFile) }
