package tokenstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/plannersql/planner/internal/filelock"
)

// procLocks holds one lock per lock path for the goroutines of this
// process; the OS file lock then excludes other processes. Entries are never
// removed: there is one per token file or profile the process touched.
var (
	procMu    sync.Mutex
	procLocks = map[string]chan struct{}{}
)

func procLock(ctx context.Context, key string) (func(), error) {
	procMu.Lock()
	ch, ok := procLocks[key]
	if !ok {
		ch = make(chan struct{}, 1)
		procLocks[key] = ch
	}
	procMu.Unlock()
	select {
	case ch <- struct{}{}:
		// The release is idempotent: a second call must not block on the
		// empty channel (nor release a lock another goroutine took since).
		var once sync.Once
		return func() { once.Do(func() { <-ch }) }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// lockPath takes the in-process lock and the OS file lock of path,
// creating the file (0600) and its directory (0700) when missing. The
// directory must be private (checkDir) and the lock file is opened without
// following a link (a link planted there must not make planner create a
// file at its target). It polls until ctx is done, so that a lock held by a
// stuck process ends in a clear error rather than a hang.
func lockPath(ctx context.Context, path, label string) (func(), error) {
	unlockProc, err := procLock(ctx, path)
	if err != nil {
		return nil, lockError(path, label, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		unlockProc()
		return nil, fmt.Errorf("tokenstore: cannot create the lock directory: %w", err)
	}
	if err := checkDir(filepath.Dir(path)); err != nil {
		unlockProc()
		return nil, err
	}
	f, err := filelock.OpenNoFollow(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		unlockProc()
		return nil, fmt.Errorf("tokenstore: cannot open the lock file: %w", err)
	}
	wait := time.Millisecond
	for {
		ok, err := filelock.TryLock(f)
		if err != nil {
			f.Close()
			unlockProc()
			return nil, fmt.Errorf("tokenstore: cannot lock %s: %w", path, err)
		}
		if ok {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			unlockProc()
			return nil, lockError(path, label, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = filelock.Unlock(f)
			f.Close()
			unlockProc()
		})
	}, nil
}

// lockError is the error of waiting for the lock at path of the sign-in of
// label (see labelOf).
func lockError(path, label string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("tokenstore: timed out waiting for another planner process to release the lock of the sign-in of %s (%s): %w", label, path, err)
	}
	return fmt.Errorf("tokenstore: waiting for the lock of the sign-in of %s (%s): %w", label, path, err)
}
