package tokenstore

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestLinksAreNeverFollowed plants a symbolic link at each file planner
// creates beside the token file (the lock files and the temporary file) and
// at the token file itself: every operation must refuse, naming the link,
// and nothing may appear at the link's target.
func TestLinksAreNeverFollowed(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("creating symbolic links needs a privilege on Windows")
	}
	planted := func(t *testing.T, name string) (path, target string) {
		dir := t.TempDir()
		path = filepath.Join(dir, "tokens.json")
		target = filepath.Join(t.TempDir(), "victim")
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		return path, target
	}
	tests := []struct {
		name string // file replaced by a link, beside tokens.json
		op   func(st Store) error
	}{
		{"tokens.json.lock", func(st Store) error {
			unlock, err := st.Lock(context.Background())
			if err == nil {
				unlock()
			}
			return err
		}},
		{"tokens.json.write.lock", func(st Store) error { return st.Save(sampleRecord("rt")) }},
		{".tokens.json.planted.tmp", func(st Store) error { return st.Save(sampleRecord("rt")) }},
		{"tokens.json", func(st Store) error { _, err := st.Load(); return err }},
	}
	old := tempName
	tempName = func(prefix string) string { return prefix + "planted.tmp" }
	t.Cleanup(func() { tempName = old })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, target := planted(t, tt.name)
			st, _, err := Open(path, "p")
			if err != nil {
				t.Fatal(err)
			}
			err = tt.op(st)
			// The temporary file is created new (O_EXCL): an existing name,
			// link or not, is "file exists".
			want := "symbolic link"
			if strings.HasSuffix(tt.name, ".tmp") {
				want = "file exists"
			}
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), tt.name) {
				t.Errorf("error %v, want a refusal naming the link %s", err, tt.name)
			}
			if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a file was created at the link's target: %v", err)
			}
		})
	}
}

// TestTokenDirectoryMustBePrivate: a directory others can write to is
// refused for the token file and the locks, as a readable token file is;
// a sticky one (like /tmp) and a readable one are fine.
func TestTokenDirectoryMustBePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("permission bits are not enforced on Windows")
	}
	tests := []struct {
		mode   fs.FileMode
		refuse bool
	}{
		{0o700, false},
		{0o755, false},
		{0o777 | fs.ModeSticky, false},
		{0o770, true},
		{0o777, true},
		{0o703, true},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "tokens")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "tokens.json")
			st, _, err := Open(path, "p")
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Save(sampleRecord("rt-saved-while-private")); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, loadErr := st.Load()
			saveErr := st.Save(sampleRecord("rt-2"))
			unlock, lockErr := st.Lock(context.Background())
			if lockErr == nil {
				unlock()
			}
			for op, err := range map[string]error{"Load": loadErr, "Save": saveErr, "Lock": lockErr} {
				if !tt.refuse {
					if err != nil {
						t.Errorf("%s: %v", op, err)
					}
					continue
				}
				if err == nil {
					t.Errorf("%s succeeded in a directory of mode %s", op, tt.mode)
					continue
				}
				for _, want := range []string{"refusing to use the token directory", dir, "group or others write", "chmod 700 " + dir} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("%s: error %q lacks %q", op, err, want)
					}
				}
				if strings.Contains(err.Error(), "rt-saved") {
					t.Errorf("%s: the error shows the refresh token", op)
				}
			}
		})
	}
}

// TestFileOfAnotherUserRefused: in a shared sticky directory, a token file
// planted by another user is not read (its refresh token would sign this
// user in as the other).
func TestFileOfAnotherUserRefused(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777|fs.ModeSticky); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tokens.json")
	st, _, _ := Open(path, "p")
	if err := st.Save(sampleRecord("rt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(); err == nil || !strings.Contains(err.Error(), "belongs to another user") {
		t.Errorf("Load of another user's file: %v", err)
	}
}
