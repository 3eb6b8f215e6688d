//go:build windows

package filelock

import (
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// OpenNoFollow opens path without following a reparse point (symbolic link
// or junction) at path itself: FILE_FLAG_OPEN_REPARSE_POINT opens the link
// rather than its target, and a link is then refused.
func OpenNoFollow(path string, flag int, perm fs.FileMode) (*os.File, error) {
	name, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	access := uint32(windows.GENERIC_READ)
	if flag&(os.O_WRONLY|os.O_RDWR) != 0 {
		access |= windows.GENERIC_WRITE
	}
	disposition := uint32(windows.OPEN_EXISTING)
	switch {
	case flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		disposition = windows.CREATE_NEW
	case flag&os.O_CREATE != 0:
		disposition = windows.OPEN_ALWAYS
	}
	share := uint32(windows.FILE_SHARE_READ | windows.FILE_SHARE_WRITE | windows.FILE_SHARE_DELETE)
	h, err := windows.CreateFile(name, access, share, nil, disposition,
		windows.FILE_ATTRIBUTE_NORMAL|windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(h, &info); err != nil {
		windows.CloseHandle(h)
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	if info.FileAttributes&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0 {
		windows.CloseHandle(h)
		return nil, fmt.Errorf("filelock: refusing to open %s: it is a symbolic link or junction, which planner never follows there "+
			"(someone may have planted it to redirect the file); remove it", path)
	}
	if info.FileAttributes&windows.FILE_ATTRIBUTE_DIRECTORY != 0 {
		windows.CloseHandle(h)
		return nil, fmt.Errorf("filelock: refusing to use %s: it is not a regular file; remove it", path)
	}
	return os.NewFile(uintptr(h), path), nil
}

// checkOwnedFile: permission bits and owners are not checked on Windows,
// where the user profile directory's ACL keeps others out.
func checkOwnedFile(string, fs.FileInfo) error { return nil }
