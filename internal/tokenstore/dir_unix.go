//go:build unix

package tokenstore

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

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
		return fmt.Errorf("filelock: refusing to use the token directory %s: it belongs to another user (uid %d), "+
			"who could replace the token file; choose another OAuthSettingsLocation", dir, sys.Uid)
	}
	if perm := st.Mode().Perm(); perm&0o022 != 0 && st.Mode()&fs.ModeSticky == 0 {
		return fmt.Errorf("filelock: refusing to use the token directory %s: its mode %04o lets group or others write to it, "+
			"so another user could replace the token file or plant links in it; make it private with `chmod 700 %s` "+
			"(or choose another OAuthSettingsLocation)", dir, perm, dir)
	}
	return nil
}
