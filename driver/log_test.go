package driver

import (
	"bytes"
	"context"
	"database/sql"
	"log"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
	"github.com/plannersql/planner/internal/testkit"
)

// TestVerbosityLevels: what each Verbosity level logs, for a read, a write
// and a throttled request, through a Config.Logger.
func TestVerbosityLevels(t *testing.T) {
	tests := []struct {
		verbosity int
		want      []string // regular expressions every one of which must match
		wantNot   []string // messages that must not appear
	}{
		{0, nil, []string{"msg=statement", "graph request", "http body"}},
		{1, []string{`msg=statement sql="SELECT count\(\*\) FROM Tasks" args=0`, `msg=statement sql="UPDATE Tasks SET Title = \? WHERE TaskId = \?" args=2`},
			[]string{"graph request", "http body"}},
		{2, []string{`msg=statement`,
			`msg="graph request" method=GET path=/v1\.0/\S+ status=200 ms=\d+ throttled=false retries=0`,
			`msg="graph request" method=GET path=/v1\.0/\S+ status=429 ms=\d+ throttled=true retries=0`,
			`msg="graph request" method=GET path=/v1\.0/\S+ status=200 ms=\d+ throttled=false retries=1`,
			`msg="graph request" method=PATCH path=/v1\.0/planner/tasks/\S+ status=(200|204)`},
			[]string{"http body"}},
		{3, []string{`msg=statement`, `msg="graph request"`,
			`msg="http body" method=PATCH url=\S+/planner/tasks/\S+ status=(200|204) request="\{\\"title\\":\\"renamed by the log test\\"\}"`,
			`msg="http body" method=GET url=\S+ status=200 request="" response="\{`},
			nil},
	}
	for _, tt := range tests {
		t.Run("Verbosity="+itoa(tt.verbosity), func(t *testing.T) {
			var buf testkit.Buffer
			e := newEnv(t, func(c *Config) {
				c.Verbosity = tt.verbosity
				c.Logger = slog.New(slog.NewTextHandler(&buf, nil))
				if tt.verbosity == 0 {
					c.Logger = nil // a logger alone would mean Verbosity 1
				}
			})
			e.srv.Throttle(graphtest.Throttle{Match: "/tasks", EveryN: 1, Count: 1, RetryAfter: "0"})
			e.one("SELECT count(*) FROM Tasks")
			id := e.one("SELECT TaskId FROM Tasks LIMIT 1")
			e.exec("UPDATE Tasks SET Title = ? WHERE TaskId = ?", "renamed by the log test", id)
			out := buf.String()
			for _, w := range tt.want {
				if !regexp.MustCompile(w).MatchString(out) {
					t.Errorf("log lacks %s:\n%s", w, out)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(out, w) {
					t.Errorf("log has %q at Verbosity %d", w, tt.verbosity)
				}
			}
			if strings.Contains(out, e.srv.Token()) {
				t.Error("the log shows the access token")
			}
		})
	}
}

// TestVerbosity3Redacts: at Verbosity 3 a whole device code sign-in and a
// refresh are logged with their bodies, and no token, code or secret
// appears (signinEnv checks every issued secret); the redaction marks are
// there.
func TestVerbosity3Redacts(t *testing.T) {
	e := newSigninEnv(t, graphtest.WithDeviceCode(time.Second, 15*time.Minute))
	cfg := e.config(AuthDeviceCode) // Verbosity 3 into e.out
	cfg.DeviceCodePrompt = e.prompt
	db, _ := e.db(cfg)
	if _, err := e.plans(db); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(2 * time.Hour)
	if _, err := e.plans(db); err != nil {
		t.Fatal(err)
	}
	out := e.out.String()
	for _, w := range []string{
		`msg="identity request" method=POST path=/` + e.srv.TenantID() + `/oauth2/v2.0/devicecode status=200`,
		`msg="identity request" method=POST path=/` + e.srv.TenantID() + `/oauth2/v2.0/token status=400`, // authorization_pending
		`device_code=%5Bredacted%5D`, `\"device_code\":\"[redacted]\"`,
		`\"access_token\":\"[redacted]\"`, `\"refresh_token\":\"[redacted]\"`, `\"id_token\":\"[redacted]\"`,
		`grant_type=refresh_token&refresh_token=%5Bredacted%5D`,
		`\"error\":\"authorization_pending\"`,
	} {
		if !strings.Contains(out, w) {
			t.Errorf("log lacks %s", w)
		}
	}
	if e.srv.TokenCount("refresh_token") == 0 || e.issued() < 6 {
		t.Error("no refresh was logged, or the recorder missed tokens: the check would be blind")
	}
}

// TestRedactBody: the redaction rules on bodies and URLs themselves.
func TestRedactBody(t *testing.T) {
	jwt := "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	tests := []struct {
		ct, body string
		want     string
		not      []string
	}{
		{"application/x-www-form-urlencoded", "grant_type=authorization_code&code=0.AQ-the-code&code_verifier=ver1fier&client_id=app&client_secret=s3cret",
			"client_id=app&client_secret=%5Bredacted%5D&code=%5Bredacted%5D&code_verifier=%5Bredacted%5D&grant_type=authorization_code",
			[]string{"the-code", "ver1fier", "s3cret"}},
		{"application/json; charset=utf-8", `{"access_token":"` + jwt + `","refresh_token":"1.AQ-rt","expires_in":3600,"nested":[{"client_secret":"x1"}]}`,
			`{"access_token":"[redacted]","expires_in":3600,"nested":[{"client_secret":"[redacted]"}],"refresh_token":"[redacted]"}`,
			[]string{jwt, "1.AQ-rt", "x1"}},
		{"application/json", `{"error":{"code":"ErrorItemNotFound","message":"gone"}}`,
			`{"error":{"code":"ErrorItemNotFound","message":"gone"}}`, nil},
		{"text/plain", `oops access_token=abc123def and a ` + jwt + ` here`, "", []string{"abc123def", jwt}},
		{"application/json", `{"access_token":"cut-off-tok`, "", []string{"cut-off-tok"}},
		// Secret keys holding other kinds than a string; lifetimes kept.
		{"application/json", `{"Refresh_Token":["rt-one","rt-two"],"password":12345678,"x":{"client_secret":{"value":"s3cret-obj"}},"refresh_token_expires_in":7776000}`,
			`{"Refresh_Token":"[redacted]","password":"[redacted]","refresh_token_expires_in":7776000,"x":{"client_secret":"[redacted]"}}`,
			[]string{"rt-one", "rt-two", "12345678", "s3cret-obj"}},
		// URLs inside JSON strings and text, with secrets in the query or
		// the fragment.
		{"application/json", `{"link":"http://127.0.0.1:8400/?code=0.AQ-cb-code&state=st4te-val","webUrl":"https://x.example/#access_token=frag-tok&x=1"}`,
			`{"link":"http://127.0.0.1:8400/?code=[redacted]\u0026state=[redacted]","webUrl":"https://x.example/#access_token=[redacted]\u0026x=1"}`,
			[]string{"cb-code", "st4te-val", "frag-tok"}},
		{"text/html", `<a href="/cb?x=1&client_secret=html-s3cret">`, "", []string{"html-s3cret"}},
	}
	for _, raw := range []string{"https://graph.example/v1.0/x?$skiptoken=sk1p-val#access_token=frag-t0k", "http://127.0.0.1/cb?code=c0de-val&state=st4te-val"} {
		u, _ := url.Parse(raw)
		got := redactURL(u)
		for _, n := range []string{"sk1p-val", "frag-t0k", "c0de-val", "st4te-val"} {
			if strings.Contains(got, n) {
				t.Errorf("redactURL(%q) = %q keeps %q", raw, got, n)
			}
		}
	}
	for _, tt := range tests {
		got := redactBody(tt.ct, []byte(tt.body))
		if tt.want != "" && got != tt.want {
			t.Errorf("redactBody(%q)\n got %s\nwant %s", tt.body, got, tt.want)
		}
		for _, n := range tt.not {
			if strings.Contains(got, n) {
				t.Errorf("redactBody(%q) = %q keeps %q", tt.body, got, n)
			}
		}
	}
}

// TestLogfile: Logfile appends the log to a private file; alone it means
// Verbosity 1.
func TestLogfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "planner.log")
	e := newEnv(t, func(c *Config) { c.Logfile = path })
	e.one("SELECT count(*) FROM Plans")
	e.db.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `msg=statement sql="SELECT count(*) FROM Plans"`) || strings.Contains(string(b), "graph request") {
		t.Errorf("log file:\n%s", b)
	}
	if st, _ := os.Stat(path); runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("log file mode %v, want 0600", st.Mode().Perm())
	}
	if _, err := NewConnector(&Config{Logfile: filepath.Join(t.TempDir(), "no", "such", "dir", "x.log"), InitiateOAuth: OAuthOff, OAuthAccessToken: "t"}); err == nil ||
		!strings.Contains(err.Error(), "Logfile") {
		t.Errorf("unwritable Logfile: %v", err)
	}
}

// TestVerbosityWithoutDestination: Verbosity alone logs to slog.Default()
// at level Info, which its default handler prints.
func TestVerbosityWithoutDestination(t *testing.T) {
	var buf bytes.Buffer
	saved := slog.Default()
	savedOut, savedFlags := log.Writer(), log.Flags()
	log.SetOutput(&buf)
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() {
		slog.SetDefault(saved)
		log.SetOutput(savedOut)
		log.SetFlags(savedFlags)
	})
	srv := graphtest.NewServer(t)
	db, err := sql.Open("planner", "InitiateOAuth=OFF;Verbosity=1;OAuthAccessToken="+srv.Token()+";GraphURL="+srv.GraphURL())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRowContext(context.Background(), "SELECT 1").Scan(new(int)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `msg=statement sql="SELECT 1"`) {
		t.Errorf("slog.Default() got %q", buf.String())
	}
}

// TestLogfileInHome: Logfile=~/... is a file in the home directory, as
// OAuthSettingsLocation's ~ is, from a DSN and from a profile.
func TestLogfileInHome(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	srv := graphtest.NewServer(t)
	cfgFile := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfgFile, []byte("[profiles.p]\nLogfile = \"~/from-profile.log\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PLANNER_CONFIG", cfgFile)
	base := "InitiateOAuth=OFF;OAuthAccessToken=" + srv.Token() + ";GraphURL=" + srv.GraphURL()
	for dsn, file := range map[string]string{
		base + ";Logfile=~/planner.log": "planner.log",
		base + ";Profile=p":             "from-profile.log",
	} {
		db, err := sql.Open("planner", dsn)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if err := db.QueryRow("SELECT 1").Scan(new(int)); err != nil {
			t.Fatal(err)
		}
		db.Close()
		b, err := os.ReadFile(filepath.Join(home, file))
		if err != nil || !strings.Contains(string(b), `msg=statement sql="SELECT 1"`) {
			t.Errorf("~/%s: %q %v", file, b, err)
		}
	}
}
