package driver

import (
	"bufio"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
	"github.com/plannersql/planner/internal/tokenstore"
)

// TestSignInFromDSN is the scenario of a new user: sql.Open with a DSN
// asking for device code sign-in and a token file, then a query. The
// service's message reaches stderr, the user (here: the test, reading
// stderr) enters the code, the query runs, the sign-in is saved, and a
// second DB reuses it without a prompt. The Verbosity 3 log file and
// stderr hold no token.
func TestSignInFromDSN(t *testing.T) {
	srv := graphtest.NewServer(t, graphtest.WithDeviceCode(time.Second, 15*time.Minute))
	dir := t.TempDir()
	store, logfile := filepath.Join(dir, "t.json"), filepath.Join(dir, "planner.log")

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w // the default prompt writes to the connector's stderr, taken from os.Stderr
	t.Cleanup(func() { os.Stderr = saved })
	var stderr strings.Builder
	done := make(chan struct{})
	go func() {
		defer close(done)
		code := regexp.MustCompile(`enter the code ([A-Z0-9]+)`)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			stderr.WriteString(sc.Text() + "\n")
			if m := code.FindStringSubmatch(sc.Text()); m != nil {
				if err := srv.ApproveDeviceCode(m[1]); err != nil {
					t.Errorf("ApproveDeviceCode: %v", err)
				}
			}
		}
	}()

	dsn := fmt.Sprintf("AuthScheme=DeviceCode;InitiateOAuth=GETANDREFRESH;Tenant=%s;OAuthClientId=%s;OAuthSettingsLocation=%s;"+
		"AuthorityURL=%s;GraphURL=%s;Verbosity=3;Logfile=%s", srv.TenantID(), srv.ClientID(), store, srv.AuthorityURL(), srv.GraphURL(), logfile)
	count := func() int {
		db, err := sql.Open("planner", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.QueryRow("SELECT count(*) FROM Plans").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if first, second := count(), count(); first == 0 || second == 0 {
		t.Error("no plans")
	}
	os.Stderr = saved
	w.Close()
	<-done
	if got := strings.Count(stderr.String(), "To sign in, use a web browser to open the page"); got != 1 {
		t.Errorf("%d prompts on stderr, want 1:\n%s", got, stderr.String())
	}
	if srv.TokenCount("device_code") != 1 || srv.TokenCount("refresh_token") != 1 {
		t.Errorf("%d device code sign-ins, %d refreshes; want 1 and 1 (the second DB reuses the sign-in)",
			srv.TokenCount("device_code"), srv.TokenCount("refresh_token"))
	}
	st, _, err := tokenstore.Open(store, "")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := st.Load()
	if err != nil || rec.RefreshToken == "" {
		t.Fatalf("stored sign-in: %v", err)
	}
	if fi, err := os.Stat(store); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file: %v %v", fi.Mode(), err)
	}
	log, err := os.ReadFile(logfile)
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"stderr": stderr.String(), "the log": string(log)} {
		if strings.Contains(out, rec.RefreshToken) || regexp.MustCompile(`eyJ[A-Za-z0-9_-]{10,}\.`).MatchString(out) {
			t.Errorf("%s holds a token", name)
		}
	}
	if !strings.Contains(string(log), `\"refresh_token\":\"[redacted]\"`) {
		t.Error("the log lacks the redacted token response: the check would be blind")
	}
}
