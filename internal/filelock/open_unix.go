//go:build unix

package filelock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// OpenNoFollow opens path with flag and perm without following a symbolic
// link at path itself (O_NOFOLLOW), and refuses anything but a regular file
// owned by this user: a link or a file planted there by someone else must
// not decide where planner writes, nor hold what planner reads (a token).
func OpenNoFollow(path string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|unix.O_NOFOLLOW, perm)
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EMLINK) {
			return nil, fmt.Errorf("filelock: refusing to open %s: it is a symbolic link, which planner never follows there "+
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
		return fmt.Errorf("filelock: refusing to use %s: it is not a regular file; remove it", path)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() {
		return fmt.Errorf("filelock: refusing to use %s: it belongs to another user (uid %d), who could have planted it; "+
			"remove it, or choose another OAuthSettingsLocation", path, sys.Uid)
	}
	return nil
}
