//go:build unix

package tokenstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// openNoFollow opens path with flag and perm without following a symbolic
// link at path itself (O_NOFOLLOW), and refuses anything but a regular file
// owned by this user: a link or a file planted there by someone else must
// not decide where planner writes, nor hold a token.
func openNoFollow(path string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|unix.O_NOFOLLOW, perm)
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EMLINK) {
			return nil, fmt.Errorf("tokenstore: refusing to open %s: it is a symbolic link, which planner never follows there "+
				"(someone may have planted it to redirect the file); remove it", path)
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := checkOwnedFile(path, st); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkOwnedFile refuses a file that is not a regular file owned by this
// user.
func checkOwnedFile(path string, st fs.FileInfo) error {
	if !st.Mode().IsRegular() {
		return fmt.Errorf("tokenstore: refusing to use %s: it is not a regular file; remove it", path)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() {
		return fmt.Errorf("tokenstore: refusing to use %s: it belongs to another user (uid %d), who could have planted it; "+
			"remove it, or choose another OAuthSettingsLocation", path, sys.Uid)
	}
	return nil
}

// checkDir refuses a token or lock directory that lets group or others
// write to it (unless it is sticky, like /tmp, where they cannot replace
// files of ours), or that belongs to another user than this one or root:
// whoever can write there can swap the token file or plant links in place
// of the lock and temporary files.
func checkDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("tokenstore: cannot check the token directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("tokenstore: %s is not a directory", dir)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() && sys.Uid != 0 {
		return fmt.Errorf("tokenstore: refusing to use the token directory %s: it belongs to another user (uid %d), "+
			"who could replace the token file; choose another OAuthSettingsLocation", dir, sys.Uid)
	}
	if perm := st.Mode().Perm(); perm&0o022 != 0 && st.Mode()&fs.ModeSticky == 0 {
		return fmt.Errorf("tokenstore: refusing to use the token directory %s: its mode %04o lets group or others write to it, "+
			"so another user could replace the token file or plant links in it; make it private with `chmod 700 %s` "+
			"(or choose another OAuthSettingsLocation)", dir, perm, dir)
	}
	return nil
}
