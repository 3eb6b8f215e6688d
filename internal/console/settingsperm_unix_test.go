//go:build unix

package console

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadSettingsRefusesWritable: console.toml says where alert secrets
// and replicated data go and expands ${NAME}, so a file (or directory)
// others may write is refused as the config file is.
func TestLoadSettingsRefusesWritable(t *testing.T) {
	for _, tt := range []struct {
		name              string
		fileMode, dirMode fs.FileMode
		want              string // "" when it loads
	}{
		{"private", 0o600, 0o700, ""},
		{"world-writable file", 0o666, 0o700, "chmod go-w"},
		{"group-writable directory", 0o600, 0o770, "chmod go-w"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "conf")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, SettingsFile)
			if err := os.WriteFile(path, []byte("[alerts]\nwebhook_url = \"${HOME}\"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.fileMode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tt.dirMode); err != nil {
				t.Fatal(err)
			}
			_, err := loadSettings(path)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("loadSettings: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("loadSettings = %v, want a refusal with %q", err, tt.want)
			}
		})
	}
}
