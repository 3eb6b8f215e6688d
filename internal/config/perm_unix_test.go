//go:build unix

package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadRefusesWritableConfig: a configuration file that group or others
// could have written is refused with the chmod that fixes it, as ssh does;
// a private one in a private or sticky directory is read.
func TestLoadRefusesWritableConfig(t *testing.T) {
	const body = "[profiles.p]\nTenant = \"contoso\"\n"
	tests := []struct {
		name      string
		dirMode   fs.FileMode
		fileMode  fs.FileMode
		symlinkTo fs.FileMode // when not 0, the config is a link to a file of this mode in another directory
		want      string      // "" when it loads
		parent    fs.FileMode // when not 0, the mode of the directory above the file's
	}{
		{"private", 0o700, 0o600, 0, "", 0},
		{"readable by others", 0o755, 0o644, 0, "", 0},
		{"group-writable file", 0o700, 0o620, 0, "its mode 0620 lets group or others write to it", 0},
		{"world-writable file", 0o700, 0o666, 0, "run `chmod go-w ", 0},
		{"group-writable directory", 0o770, 0o600, 0, "has mode 0770, which lets group or others write to it", 0},
		{"world-writable sticky directory", 0o777 | fs.ModeSticky, 0o600, 0, "", 0},
		{"link to a world-writable file", 0o700, 0, 0o666, "its mode 0666 lets group or others write", 0},
		{"link to a private file", 0o700, 0, 0o600, "", 0},
		{"world-writable parent directory", 0o700, 0o600, 0, "has mode 0777, which lets group or others write to it", 0o777},
		{"group-writable parent directory", 0o700, 0o600, 0, "has mode 0770, which lets group or others write to it", 0o770},
		{"link into a world-writable parent directory", 0o700, 0, 0o600, "has mode 0777, which lets group or others write to it", 0o777},
		{"sticky world-writable parent directory", 0o700, 0o600, 0, "", 0o777 | fs.ModeSticky},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			dir := filepath.Join(base, "conf")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "config.toml")
			if tt.symlinkTo != 0 {
				target := filepath.Join(base, "real.toml")
				writeMode(t, target, body, tt.symlinkTo)
				if err := os.Symlink(target, path); err != nil {
					t.Fatal(err)
				}
			} else {
				writeMode(t, path, body, tt.fileMode)
			}
			if err := os.Chmod(dir, tt.dirMode); err != nil {
				t.Fatal(err)
			}
			if tt.parent != 0 {
				if err := os.Chmod(base, tt.parent); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Load(path, LoadOptions{})
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Load: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "chmod")):
				t.Errorf("Load = %v, want an error with %q and the chmod that fixes it", err, tt.want)
			}
		})
	}
}

// TestLoadRefusesAnotherUsersConfig: a file of another user (not root)
// is refused. Changing a file's owner needs root.
func TestLoadRefusesAnotherUsersConfig(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	writeMode(t, path, "[profiles.p]\n", 0o600)
	if err := os.Chown(path, 4321, 4321); err != nil {
		t.Skipf("chown: %v", err)
	}
	_, err := Load(path, LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "belongs to another user (uid 4321)") {
		t.Errorf("Load = %v, want a refusal naming the owner", err)
	}
}

func writeMode(t *testing.T, path, body string, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// TestLoadReadOnlyMount: a Kubernetes ConfigMap volume — a directory of
// mode 0777 holding config.toml -> ..data/config.toml -> ..<stamp>/config.toml
// — is read when its file system is mounted read-only (no one can write
// there, whatever the mode bits say), and refused when it is not.
func TestLoadReadOnlyMount(t *testing.T) {
	if statfsReadOnly(t.TempDir()) {
		t.Fatal("the test directory is on a read-only file system")
	}
	for _, ro := range []bool{true, false} {
		base := t.TempDir()
		mount := filepath.Join(base, "planner")
		stamp := filepath.Join(mount, "..2026_11_29_16_00_00.000000001")
		if err := os.MkdirAll(stamp, 0o755); err != nil {
			t.Fatal(err)
		}
		writeMode(t, filepath.Join(stamp, "config.toml"), "[profiles.p]\nTenant = \"contoso\"\n", 0o644)
		if err := os.Symlink(filepath.Base(stamp), filepath.Join(mount, "..data")); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(mount, "config.toml")
		if err := os.Symlink(filepath.Join("..data", "config.toml"), path); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(mount, 0o777); err != nil {
			t.Fatal(err)
		}
		readOnlyFS = func(p string) bool { return ro && strings.HasPrefix(p, mount) }
		_, err := Load(path, LoadOptions{})
		readOnlyFS = statfsReadOnly
		switch {
		case ro && err != nil:
			t.Errorf("read-only mount: Load: %v", err)
		case !ro && (err == nil || !strings.Contains(err.Error(), "has mode 0777")):
			t.Errorf("writable mount: Load = %v, want a refusal", err)
		}
	}
}

// TestLoadScriptRefusesWritable: a job's script_file decides what SQL runs
// with the job's sign-in, so one others may write (or in a directory they
// may write) is refused as the configuration file is.
func TestLoadScriptRefusesWritable(t *testing.T) {
	for _, tt := range []struct {
		name              string
		fileMode, dirMode fs.FileMode
		want              string // "" when it loads
	}{
		{"private", 0o600, 0o700, ""},
		{"readable by others", 0o644, 0o755, ""},
		{"world-writable file", 0o666, 0o700, "refusing to read the script_file"},
		{"group-writable directory", 0o644, 0o770, "has mode 0770"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "scripts")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			script := filepath.Join(dir, "nightly.sql")
			writeMode(t, script, "REPLICATE ALL;", tt.fileMode)
			if err := os.Chmod(dir, tt.dirMode); err != nil {
				t.Fatal(err)
			}
			j := &Job{Name: "nightly", ScriptFile: script}
			got, err := j.LoadScript()
			switch {
			case tt.want == "" && (err != nil || got != "REPLICATE ALL;"):
				t.Errorf("LoadScript = %q, %v", got, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "chmod go-w")):
				t.Errorf("LoadScript = %q, %v; want a refusal with %q", got, err, tt.want)
			}
		})
	}
}
