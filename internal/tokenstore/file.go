package tokenstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/plannersql/planner/internal/filelock"
)

// fileVersion is the version of the token file format.
const fileVersion = 1

// tokenFile is the JSON content of a token file.
type tokenFile struct {
	Version  int                `json:"version"`
	Profiles map[string]*Record `json:"profiles"`
}

// fileStore keeps records in a JSON file shared by profiles.
type fileStore struct {
	path    string
	profile string
	label   string // the profile for messages (see labelOf)
}

// writeLockTimeout bounds the wait for another writer of the same file.
const writeLockTimeout = 30 * time.Second

// update runs the read-modify-write f under the file's write lock, which
// every Save and Delete of any profile of the file takes (in this process
// and others), so that profiles sharing a file never lose each other's
// records. It is a different lock from Lock's, so a caller holding Lock
// may Save.
func (s *fileStore) update(f func(tf *tokenFile) (write bool, err error)) error {
	ctx, cancel := context.WithTimeout(context.Background(), writeLockTimeout)
	defer cancel()
	unlock, err := lockPath(ctx, s.path+".write.lock", s.label)
	if err != nil {
		return err
	}
	defer unlock()
	tf, err := s.read()
	if err != nil {
		return err
	}
	write, err := f(tf)
	if err != nil || !write {
		return err
	}
	if len(tf.Profiles) == 0 {
		if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("tokenstore: cannot remove the token file: %w", err)
		}
		return nil
	}
	tf.Version = fileVersion
	return s.write(tf)
}

func newFileStore(path, profile, label string) *fileStore {
	return &fileStore{path: path, profile: profile, label: label}
}

func (s *fileStore) Location() string { return s.path }

func (s *fileStore) Describe() string { return fmt.Sprintf("file %s (%s)", s.path, s.label) }

// read returns the file's content; a missing file reads as empty. The
// directory must be private (checkDir) and the file a private regular file
// of this user, not a link.
func (s *fileStore) read() (*tokenFile, error) {
	empty := &tokenFile{Version: fileVersion, Profiles: map[string]*Record{}}
	if err := checkDir(filepath.Dir(s.path)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return empty, nil
		}
		return nil, err
	}
	f, err := filelock.OpenNoFollow(s.path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return empty, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tokenstore: cannot read the token file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("tokenstore: cannot read the token file: %w", err)
	}
	if err := checkPrivate(s.path, st); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, fmt.Errorf("tokenstore: cannot read the token file %s: %w", s.path, err)
	}
	tf := &tokenFile{}
	if err := json.Unmarshal(buf.Bytes(), tf); err != nil {
		return nil, fmt.Errorf("tokenstore: %s is not a valid token file (%v): delete it and sign in again", s.path, err)
	}
	if tf.Version > fileVersion {
		return nil, fmt.Errorf("tokenstore: %s was written by a newer planner (format %d): upgrade planner or use another OAuthSettingsLocation", s.path, tf.Version)
	}
	if tf.Profiles == nil {
		tf.Profiles = map[string]*Record{}
	}
	return tf, nil
}

// checkPrivate refuses a file that group or others may read or write.
func checkPrivate(path string, st fs.FileInfo) error {
	if runtime.GOOS == "windows" {
		return nil // permission bits mean nothing there; the profile directory is private
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("tokenstore: refusing to read the token file %s: its mode %04o lets group or others access it, "+
			"so the refresh token in it may have been seen by other users; make it private with `chmod 600 %s` "+
			"(and sign in again if others could have read it)", path, perm, path)
	}
	return nil
}

func (s *fileStore) Load() (*Record, error) {
	tf, err := s.read()
	if err != nil {
		return nil, err
	}
	rec, ok := tf.Profiles[s.profile]
	if !ok || rec == nil {
		return nil, fmt.Errorf("%w for %s in %s", ErrNotFound, s.label, s.path)
	}
	return rec, nil
}

func (s *fileStore) Save(rec *Record) error {
	if rec == nil {
		return errors.New("tokenstore: Save of a nil record")
	}
	r := *rec
	if r.Saved.IsZero() {
		r.Saved = time.Now().UTC()
	}
	return s.update(func(tf *tokenFile) (bool, error) {
		tf.Profiles[s.profile] = &r
		return true, nil
	})
}

func (s *fileStore) Delete() (bool, error) {
	found := false
	err := s.update(func(tf *tokenFile) (bool, error) {
		_, found = tf.Profiles[s.profile]
		delete(tf.Profiles, s.profile)
		return found, nil
	})
	return found && err == nil, err
}

func (s *fileStore) write(tf *tokenFile) error {
	data, err := json.MarshalIndent(tf, "", "  ")
	if err != nil {
		return fmt.Errorf("tokenstore: encoding the token file: %w", err)
	}
	return writePrivate(s.path, append(data, '\n'))
}

// writePrivate writes data to path atomically with mode 0600, creating
// the directory with mode 0700. The directory must be private (checkDir),
// and the temporary file is created new (O_EXCL) without following links.
func writePrivate(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("tokenstore: cannot create the token directory: %w", err)
	}
	if err := checkDir(dir); err != nil {
		return err
	}
	tmp, err := createTemp(dir, "."+filepath.Base(path)+".")
	if err != nil {
		return fmt.Errorf("tokenstore: cannot write the token file: %w", err)
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(name)
		}
	}()
	// The file is created 0600 already; say it explicitly (umask aside).
	if runtime.GOOS != "windows" {
		if err := tmp.Chmod(0o600); err != nil {
			return fmt.Errorf("tokenstore: cannot write the token file: %w", err)
		}
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("tokenstore: cannot write the token file %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("tokenstore: cannot write the token file %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("tokenstore: cannot write the token file %s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("tokenstore: cannot write the token file %s: %w", path, err)
	}
	ok = true
	return nil
}

func (s *fileStore) Lock(ctx context.Context) (func(), error) {
	return lockPath(ctx, s.path+".lock", s.label)
}

// tempName returns the name of a new temporary file: prefix, 16 random hex
// digits, ".tmp". A variable so that tests can plant links at the name.
var tempName = func(prefix string) string {
	return prefix + rand.Text()[:16] + ".tmp"
}

// createTemp creates a new temporary file in dir with mode 0600, never
// opening an existing file or following a link (O_CREATE|O_EXCL and
// O_NOFOLLOW).
func createTemp(dir, prefix string) (*os.File, error) {
	var err error
	for range 10 {
		var f *os.File
		f, err = filelock.OpenNoFollow(filepath.Join(dir, tempName(prefix)), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
	}
	return nil, err
}
