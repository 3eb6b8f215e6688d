package console

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/plannersql/planner/internal/config"
	"github.com/plannersql/planner/replicate"
)

// TestNoSecretInResponses configures a secret in every place one can be
// (profiles, destination URLs, SMTP, webhooks, the environment, the
// login) and reads every page and every API answer, including errors and
// run logs that quote a URL: none may hold one. (newEnv's cleanup scans
// every response body and the console's log.)
func TestNoSecretInResponses(t *testing.T) {
	sec := func(name string) string { return name + "-" + randomHex(6) }
	clientSecret, envSecret, pgPass, myPass := sec("client-secret"), sec("env-secret"), sec("pg-pass"), sec("my-pass")
	smtpPass, hookToken, hookKey, namedPass := sec("smtp-pass"), sec("hook-token"), sec("hook-key"), sec("named-pass")
	t.Setenv("APP_SECRET", envSecret)
	t.Setenv("PG_PASS", pgPass)
	cfg := fmt.Sprintf(`[profiles.demo]
Sandbox = true

[profiles.app]
AuthScheme = "AzureServicePrincipal"
Tenant = "contoso.onmicrosoft.com"
OAuthClientId = "11111111-2222-3333-4444-555555555555"
OAuthClientSecret = %q
GraphURL = "http://127.0.0.1:1/v1.0"
AuthorityURL = "http://127.0.0.1:1"
OAuthSettingsLocation = "memory://"

[profiles.env]
AuthScheme = "AzureServicePrincipal"
OAuthClientId = "11111111-2222-3333-4444-555555555555"
OAuthClientSecret = "${APP_SECRET}"

[jobs.nightly]
source = "demo"
schedule = "hourly"
script = "REPLICATE Tasks;"
[[jobs.nightly.destinations]]
url = "postgres://planner:${PG_PASS}@127.0.0.1:1/warehouse"
[[jobs.nightly.destinations]]
url = "mysql://root:%s@127.0.0.1:1/test?tls=false"
[[jobs.nightly.destinations]]
url = "sqlite:/var/lib/planner-replication-data/nightly.db"
`, clientSecret, myPass)
	var runner func(context.Context, config.Job, RunContext) ([]DestinationResult, error)
	e := newEnv(t, cfg, func(o *Options) {
		o.RunJob = func(ctx context.Context, j config.Job, rc RunContext) ([]DestinationResult, error) {
			return runner(ctx, j, rc)
		}
	})
	e.secret(clientSecret, envSecret, pgPass, myPass, smtpPass, hookToken, hookKey, namedPass)
	settings := fmt.Sprintf(`[alerts]
email_to = "ops@example.com"
webhook_url = "https://hooks.example.com/services/%s"
webhook_secret = %q
[alerts.smtp]
host = "127.0.0.1"
port = 1
username = "alerts"
password = %q
from = "planner@example.com"
[alerts.jobs.nightly]
webhook_url = "https://hooks.example.com/job/%s"
[destinations.named]
url = "postgres://u:%s@127.0.0.1:1/db"
`, hookToken, hookKey, smtpPass, hookToken, namedPass)
	if err := os.WriteFile(e.srv.opts.SettingsPath, []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}
	e.srv.refreshScrubber()
	s := e.session()

	// A careless run error quoting the destination URL, and a log line
	// quoting it: the console scrubs both.
	runner = func(_ context.Context, j config.Job, rc RunContext) ([]DestinationResult, error) {
		u, _ := expandEnv(j.Destinations[0].URL)
		rc.Logger.Error("cannot connect", "url", u, "smtp", smtpPass)
		return []DestinationResult{{Destination: j.Destinations[0], Err: fmt.Errorf("connect to %s: refused", u),
				Results: []replicate.Result{{Table: "Tasks", Err: errors.New("password " + myPass + " rejected"), Warnings: []string{"token " + hookToken}}}}},
			fmt.Errorf("job nightly: %s failed", u)
	}
	id := s.must(202, "POST", "/api/jobs/nightly/run", nil).json["id"].(string)
	d := s.finished(id)
	if d.json["status"] != statusFailed || !strings.Contains(d.json["error"].(string), "xxxxx") {
		t.Errorf("the failed run: %s", d.body)
	}
	e.srv.alerts.inflight.Wait() // the alert fails (nothing listens): its error is shown too

	for _, p := range append(allPages, "/runs/"+id, "/connections/sources/app/edit", "/connections/destinations/named/edit") {
		s.must(200, "GET", p, nil)
	}
	for _, p := range []string{"/api/connections", "/api/connections/sources/app", "/api/connections/sources/env", "/api/connections/destinations/named",
		"/api/connections/destinations/job:nightly:0", "/api/connections/destinations/job:nightly:1", "/api/jobs", "/api/jobs/nightly",
		"/api/jobs/nightly/runs", "/api/jobs/nightly/history", "/api/alerts", "/api/runs/" + id} {
		s.must(200, "GET", p, nil)
	}
	// Tests that fail, quoting what they were given.
	s.must(200, "POST", "/api/connections/sources/app/test", nil)
	s.must(200, "POST", "/api/connections/sources/env/test", nil)
	s.must(200, "POST", "/api/connections/destinations/named/test", nil)
	s.must(200, "POST", "/api/connections/destinations/job:nightly:0/test", nil)
	s.must(200, "POST", "/api/connections/destinations/job:nightly:1/test", nil)
	s.must(200, "POST", "/api/connections/destinations/test", map[string]string{"url": "postgres://u:********@127.0.0.1:1/db", "name": "named"})
	s.must(200, "POST", "/api/alerts/test", map[string]string{"job": "nightly"})
	// A validation error quoting a URL.
	s.call("POST", "/api/jobs", map[string]any{"name": "x", "source": "demo", "tables": []string{"Tasks"},
		"destinations": []any{map[string]string{"url": "oracle://u:" + namedPass + "@h/db"}}})

	// The masked forms are what the API shows.
	v := s.must(200, "GET", "/api/jobs/nightly", nil)
	if field(v.json, "destinations", 0, "url") != "postgres://planner:${PG_PASS}@127.0.0.1:1/warehouse" ||
		field(v.json, "destinations", 1, "url") != "mysql://root:********@127.0.0.1:1/test?tls=false" ||
		field(v.json, "destinations", 2, "url") != "sqlite:/var/lib/planner-replication-data/nightly.db" {
		t.Errorf("job destinations: %v", v.json["destinations"])
	}
}

func TestDisplayAndRestoreURL(t *testing.T) {
	tests := []struct {
		raw, shown string
		secret     bool
	}{
		{"sqlite:/var/lib/p.db", "sqlite:/var/lib/p.db", false},
		{"postgres://u@h/db", "postgres://u@h/db", false},
		{"postgres://u:p%40ss@h:5432/db?sslmode=require", "postgres://u:********@h:5432/db?sslmode=require", true},
		{"postgres://u@h/db?password=hunter2&sslmode=disable", "postgres://u@h/db?password=********&sslmode=disable", true},
		{"mysql://root:${MY_PW}@h:3306/db", "mysql://root:${MY_PW}@h:3306/db", true},
		{"mysql://root:@h/db", "mysql://root:********@h/db", true},
	}
	for _, tt := range tests {
		shown, secret := displayURL(tt.raw)
		if shown != tt.shown || secret != tt.secret {
			t.Errorf("displayURL(%q) = %q, %v; want %q, %v", tt.raw, shown, secret, tt.shown, tt.secret)
		}
		back, ok := restoreURL(shown, tt.raw)
		if !ok {
			t.Errorf("restoreURL(%q) refused", shown)
			continue
		}
		if again, _ := displayURL(back); again != shown {
			t.Errorf("restoreURL(%q, %q) = %q, which shows as %q", shown, tt.raw, back, again)
		}
		if tt.secret && strings.Contains(tt.raw, "hunter2") && !strings.Contains(back, "hunter2") {
			t.Errorf("restoreURL lost the password: %q", back)
		}
	}
	if _, ok := restoreURL("postgres://u:********@other/db", "postgres://u:pw@h/db"); ok {
		t.Error("a masked password was carried to another host")
	}
	if _, ok := restoreURL("postgres://v:********@h/db", "postgres://u:pw@h/db"); ok {
		t.Error("a masked password was carried to another user")
	}
	if got, ok := restoreURL("postgres://u:new@h/db", "postgres://u:pw@h/db"); !ok || got != "postgres://u:new@h/db" {
		t.Errorf("a new password: %q %v", got, ok)
	}
}

// TestDisplayURLUnparsable: a destination URL that url.Parse rejects (as a
// hand-written config file may hold) is shown without its password too.
func TestDisplayURLUnparsable(t *testing.T) {
	const pw = "S3cr3tPW"
	for _, raw := range []string{
		"postgres://u:" + pw + "%zz@h/db",
		"postgres://u:a#" + pw + "@h/db",
		"postgres://u:" + pw + " x@h/db",
		"mysql://root:[" + pw + "@h/db",
		"postgres://u@h/db?password=" + pw + "%zz",
		"root:" + pw + "@tcp(h:3306)/db",
	} {
		shown, secret := displayURL(raw)
		if strings.Contains(shown, pw) || !secret {
			t.Errorf("displayURL(%q) = %q, %v: want the password masked and reported", raw, shown, secret)
		}
	}
}

// TestScrubUnparsableURL: the password of a destination URL that url.Parse
// rejects is still a known secret, removed from errors that quote the URL
// whole, cut, or decoded.
func TestScrubUnparsableURL(t *testing.T) {
	const pw = "S3cr3tPW"
	for _, raw := range []string{
		"postgres://u:" + pw + "%zz@h/db",
		"postgres://u:a#" + pw + "@h/db",
		"postgres://u:" + pw + " x@h/db",
		"mysql://root:[" + pw + "@h/db",
	} {
		sc := newScrubber(urlSecrets(raw))
		_, perr := url.Parse(raw)
		for _, msg := range []string{
			"replicate: destination " + raw + ": boom",
			fmt.Sprintf("open %q: refused", raw),
			"replicate: " + fmt.Sprint(perr),
		} {
			if got := sc.scrub(msg); strings.Contains(got, pw) {
				t.Errorf("scrub(%q) = %q: the password is shown", msg, got)
			}
		}
	}
}
