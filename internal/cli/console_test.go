package cli

import (
	"bufio"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

func TestConsoleFlags(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	tests := []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"open address without a login", nil, []string{"console", "--addr", "0.0.0.0:0", "--config", cfg}, ExitUsage, "set a password ($PLANNER_CONSOLE_PASSWORD"},
		{"empty password file", nil, []string{"console", "--addr", "127.0.0.1:0", "--password-file", empty, "--config", cfg}, ExitUsage, "is empty"},
		{"half of TLS", nil, []string{"console", "--tls-cert", "c.pem", "--config", cfg}, ExitUsage, "both --tls-cert and --tls-key"},
		{"an argument", nil, []string{"console", "extra"}, ExitUsage, `unexpected argument "extra"`},
		{"help", nil, []string{"console", "--help"}, ExitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, runOpts{env: tt.env}, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tt.code, tt.want)
			}
		})
	}
	if r := mustRun(t, runOpts{}, "console", "--help"); !strings.Contains(r.stdout, "planner console [--addr 127.0.0.1:8080]") ||
		!strings.Contains(r.stdout, "console.toml") {
		t.Errorf("help:\n%s", r.stdout)
	}
	if r := mustRun(t, runOpts{}, "help"); !strings.Contains(r.stdout, "console ") {
		t.Errorf("the main help does not list console:\n%s", r.stdout)
	}
}

// TestConsoleServes starts 'planner console' as a user would: the link it
// prints logs in; the scheduler serves the config's jobs; a signal stops
// it.
func TestConsoleServes(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	// A sandbox job may run every minute, as with 'planner jobs serve'.
	os.WriteFile(cfg, []byte("[jobs.j]\nsource = \"sandbox\"\nschedule = \"every 1m\"\nscript = \"REPLICATE Plans;\"\n[[jobs.j.destinations]]\nurl = \"sqlite:x.db\"\n"), 0o600)
	cmd := newCmd(t, runOpts{dir: dir}, "console", "--addr", "127.0.0.1:0", "--config", cfg)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	link := regexp.MustCompile(`http://127\.0\.0\.1:\d+/login\?token=[0-9a-f]{48}`)
	var lines []string
	login := ""
	for login == "" && sc.Scan() {
		lines = append(lines, sc.Text())
		login = link.FindString(sc.Text())
	}
	if login == "" {
		cmd.Process.Kill()
		t.Fatalf("no login link:\n%s", strings.Join(lines, "\n"))
	}
	rest := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(stderr)
		rest <- string(b)
	}()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	res, err := hc.Get(login)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), `data-job="j"`) || res.Request.URL.RawQuery != "" {
		t.Errorf("after the login link: %d at %s", res.StatusCode, res.Request.URL)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	all := strings.Join(lines, "\n") + "\n" + <-rest
	if err != nil {
		t.Fatalf("console: %v\n%s", err, all)
	}
	for _, want := range []string{`msg="job scheduled" job=j schedule="every 1m"`, "console stopped"} {
		if !strings.Contains(all, want) {
			t.Errorf("stderr lacks %q:\n%s", want, all)
		}
	}
}
