//go:build unix

package console

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunRecordFollowsNoLink: a link planted where the run record's
// temporary file was once named does not make the console write at its
// target.
func TestRunRecordFollowsNoLink(t *testing.T) {
	state := t.TempDir()
	m := &runManager{s: &Server{opts: Options{StateDir: state}}}
	d := &runDetail{runSummary: runSummary{ID: "20261129T160000Z-abcdef", Job: "nightly"}}
	dir := m.recordDir(d.Job)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "victim")
	if err := os.Symlink(target, filepath.Join(dir, "."+d.ID+".tmp")); err != nil {
		t.Fatal(err)
	}
	if err := m.store(d); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Errorf("the record was written through the planted link (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, d.ID+".json")); err != nil {
		t.Errorf("the record was not stored: %v", err)
	}
}

// TestEditLockFollowsNoLink: a link planted at the edit lock's name beside
// the config file makes a save fail saying so; the console creates nothing
// at the link's target.
func TestEditLockFollowsNoLink(t *testing.T) {
	e := newEnv(t, jobsConfig)
	target := filepath.Join(t.TempDir(), "victim")
	if err := os.Symlink(target, editLockPath(e.cfgPath)); err != nil {
		t.Fatal(err)
	}
	r := e.session().call("POST", "/api/connections/destinations", map[string]any{"name": "d", "url": "sqlite:" + e.dir + "/d.db"})
	if r.status < 500 || !strings.Contains(string(r.body), "symbolic link") {
		t.Errorf("a save through a planted lock link: %d %s", r.status, r.body)
	}
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Errorf("the console created the link's target (%v)", err)
	}
}
