package console

import (
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/plannersql/planner/internal/filelock"
)

// editLockWait bounds the wait for another console's edit.
const editLockWait = 15 * time.Second

// editLockPath is the lock file of edits of the config file at path: a
// hidden file beside it.
func editLockPath(configPath string) string {
	return filepath.Join(filepath.Dir(configPath), "."+filepath.Base(configPath)+".lock")
}

// lockEdits serialises edits of the config and settings files: among the
// requests of this console (cfgMu), and among the consoles sharing the
// config file (an OS lock on a file beside it). Each edit reads a file,
// changes it and replaces it, so two replicas editing at once would
// otherwise lose one's change. The returned function releases the lock.
func (s *Server) lockEdits() (func(), error) {
	s.cfgMu.Lock()
	path := editLockPath(s.opts.ConfigPath)
	// The first save creates the config file's directory (as the save
	// itself would): the lock lives there.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		s.cfgMu.Unlock()
		return nil, errorf(http.StatusInternalServerError, "console: cannot create %s: %v; check that it can be written", filepath.Dir(path), err)
	}
	// Never through a link planted at the lock's name (filelock.OpenNoFollow):
	// it would make the console create a file at the link's target.
	f, err := filelock.OpenNoFollow(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		s.cfgMu.Unlock()
		return nil, errorf(http.StatusInternalServerError, "console: cannot open the edit lock %s: %v; check that the config file's directory is writable", path, err)
	}
	deadline := time.Now().Add(editLockWait)
	wait := time.Millisecond
	for {
		ok, err := filelock.TryLock(f)
		if err != nil {
			f.Close()
			s.cfgMu.Unlock()
			return nil, errorf(http.StatusInternalServerError, "console: cannot lock %s: %v", path, err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			f.Close()
			s.cfgMu.Unlock()
			return nil, errorf(http.StatusServiceUnavailable, "another console sharing %s has been saving a change for %s (it holds %s): try again, and check that process if this persists",
				s.opts.ConfigPath, editLockWait, path)
		}
		time.Sleep(wait)
		wait = min(2*wait, 50*time.Millisecond)
	}
	return func() {
		_ = filelock.Unlock(f)
		f.Close()
		s.cfgMu.Unlock()
	}, nil
}
