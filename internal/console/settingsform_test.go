package console

import (
	"os"
	"strings"
	"testing"
)

// handSettings is a console.toml written by hand as docs/console.md
// shows it: numbers and booleans as TOML values, a list as an array, a
// word in capitals, comments on the lines.
const handSettings = `# console.toml, by hand
[alerts]
on = "failure"                 # failure (default), always, never
slow = true                    # also when a run is slower than usual
slow_factor = 2.5
email_to = ["ops@example.com", "oncall@example.com"]   # an array
webhook_url = "${ALERT_WEBHOOK}"

[alerts.smtp]
host = "smtp.example.com"
port = 587                     # a number
tls = "STARTTLS"               # in capitals
username = "planner"
from = "Planner <planner@example.com>"

[alerts.jobs.nightly]          # what differs for one job
on = "always"
slow = false                   # a boolean
email_to = ["night@example.com"]
`

// TestSettingsSavedUntouched: saving the alerts and a job's alerts as read
// leaves a hand-written console.toml as it was, to the byte; a real change
// rewrites only its line.
func TestSettingsSavedUntouched(t *testing.T) {
	t.Setenv("ALERT_WEBHOOK", "https://hooks.example.com/services/abc")
	e := newEnv(t, jobsConfig)
	if err := os.WriteFile(e.srv.opts.SettingsPath, []byte(handSettings), 0o600); err != nil {
		t.Fatal(err)
	}
	e.srv.refreshScrubber()
	s := e.session()
	read := func() string {
		b, err := os.ReadFile(e.srv.opts.SettingsPath)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// The alerts page sends back what it shows (secrets empty: kept).
	a := s.must(200, "GET", "/api/alerts", nil)
	sm := a.json["smtp"].(map[string]any)
	alerts := map[string]any{"on": a.json["on"], "slow": a.json["slow"], "slow_factor": a.json["slow_factor"], "email_to": a.json["email_to"],
		"smtp": map[string]any{"host": sm["host"], "port": sm["port"], "tls": sm["tls"], "username": sm["username"], "from": sm["from"]}}
	s.must(200, "PUT", "/api/alerts", alerts)
	if got := read(); got != handSettings {
		t.Errorf("saving the alerts untouched rewrote console.toml:\n%s", got)
	}
	// The job editor sends back the job's alerts as read.
	out := "sqlite:" + e.dir + "/out.db"
	j := s.must(200, "GET", "/api/jobs/nightly", nil)
	ja := j.json["alerts"].(map[string]any)
	s.must(200, "PUT", "/api/jobs/nightly", map[string]any{"source": j.json["source"], "schedule": j.json["schedule"],
		"tables": j.json["tables"], "statements": j.json["statements"], "destinations": []any{map[string]string{"url": out}},
		"alerts": map[string]any{"on": ja["on"], "slow": ja["slow"], "email_to": ja["email_to"]}})
	if got := read(); got != handSettings {
		t.Errorf("saving the job untouched rewrote console.toml:\n%s", got)
	}
	// A real change: only its line.
	alerts["slow_factor"] = 3
	s.must(200, "PUT", "/api/alerts", alerts)
	if got, want := read(), strings.Replace(handSettings, "slow_factor = 2.5\n", "slow_factor = \"3\"\n", 1); got != want {
		t.Errorf("changing slow_factor:\n%s\nwant\n%s", got, want)
	}
}
