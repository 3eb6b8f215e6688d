package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestReadmeInstall runs the README's install command as written, from the
// module root, and the binary it installs; and checks that the README says
// what @latest does and how long a first build takes.
func TestReadmeInstall(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i := strings.Index(readme, "## Install")
	if i < 0 {
		t.Fatal("the README has no Install section")
	}
	section := readme[i:]
	if j := strings.Index(section[1:], "\n## "); j >= 0 {
		section = section[:j+1]
	}
	m := regexp.MustCompile("(?s)```sh\n(.*?)\n```").FindStringSubmatch(section)
	if m == nil {
		t.Fatalf("no sh block in the Install section:\n%s", section)
	}
	line := strings.TrimSpace(strings.SplitN(m[1], "#", 2)[0])
	if line != "go install ./cmd/planner" {
		t.Fatalf("the install command is %q; this test runs 'go install ./cmd/planner'", line)
	}
	gobin := t.TempDir()
	cmd := exec.Command("go", "install", "./cmd/planner")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOBIN="+gobin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install ./cmd/planner: %v\n%s", err, out)
	}
	exe := filepath.Join(gobin, "planner")
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	out, err := exec.Command(exe, "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "planner ") {
		t.Errorf("the installed binary: %q, %v", out, err)
	}
	for _, want := range []string{"@latest` is\nrefused today", "Once a version is tagged", "With an empty build cache it took"} {
		if !strings.Contains(section, want) {
			t.Errorf("the Install section does not say %q", want)
		}
	}
}
