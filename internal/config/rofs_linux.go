package config

import "golang.org/x/sys/unix"

// statfsReadOnly reports whether path is on a file system mounted
// read-only, where no one can write, whatever the mode bits say.
func statfsReadOnly(path string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false
	}
	return st.Flags&unix.ST_RDONLY != 0
}
