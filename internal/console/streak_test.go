package console

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plannersql/planner/internal/config"
	"github.com/plannersql/planner/internal/testkit"
	"github.com/plannersql/planner/replicate"
)

// TestAlertStreakAcrossProcesses: two processes serving one job (two
// 'planner jobs serve' replicas, or one beside the console) send one
// alert per failure streak between them: each reads the runs recorded in
// the job's destinations before deciding. A run that copied nothing
// because the other process had the slot neither alerts nor ends the
// streak.
func TestAlertStreakAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	hook := NewTestHook(t)
	settings := filepath.Join(dir, SettingsFile)
	if err := os.WriteFile(settings, []byte("[alerts]\nwebhook_url = \""+hook.URL+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	job := config.Job{Name: "nightly", Source: "sandbox", Destinations: []config.Destination{{URL: "sqlite:" + filepath.Join(dir, "out.db")}}}
	var logs testkit.Buffer
	newProcess := func(name string) *Alerts {
		return NewAlerts(AlertsOptions{SettingsPath: settings, Sender: name,
			Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	}
	one, two := newProcess("replica one"), newProcess("replica two")
	slot := time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC)
	// run makes a real run of job (recorded in its destination) in process
	// p, failing or not, and tells p.
	run := func(p *Alerts, fail bool) {
		t.Helper()
		j := job
		j.Script = "REPLICATE Plans;"
		if fail {
			j.Script += " REPLICATE Broken SELECT * FROM NoSuchTable;"
		}
		slot = slot.Add(24 * time.Hour)
		started := time.Now()
		res, err := realRun(context.Background(), j, RunContext{Logger: slog.New(slog.DiscardHandler), Slot: slot, Attempt: 1})
		if (err != nil) != fail {
			t.Fatalf("run (fail %v): %v", fail, err)
		}
		p.RunFinished(j, started, slot, 1, res, err)
		p.Wait()
	}
	alerts := func() []string {
		var events []string
		for {
			select {
			case c := <-hook.Calls:
				events = append(events, c.Body["event"].(string)+" from "+strings.TrimSuffix(strings.Split(c.Body["sender"].(string), " on ")[0], " "))
			default:
				return events
			}
		}
	}
	check := func(what string, want ...string) {
		t.Helper()
		got := alerts()
		if strings.Join(got, "; ") != strings.Join(want, "; ") {
			t.Errorf("%s: alerts %q, want %q", what, got, want)
		}
	}

	run(one, false)
	check("a good first run")
	run(one, true)
	check("the first failure", "failed from replica one")
	run(two, true) // the next slot, on the other replica: the streak goes on
	check("a second failure on the other replica")
	// The other replica had the slot: this one copied nothing.
	skipped := []DestinationResult{{Destination: job.Destinations[0], Skipped: &replicate.SkippedError{RunID: "x"}}}
	one.RunFinished(job, time.Now(), slot, 1, skipped, nil)
	one.Wait()
	check("a skipped run")
	// Stopped (a shutdown) before its first destination: nothing copied.
	one.RunFinished(job, time.Now(), slot, 1, nil, nil)
	one.Wait()
	check("a run stopped before its destinations")
	run(two, true)
	check("a third failure")
	run(one, false)
	check("the recovery, on the replica whose own last run had failed", "recovered from replica one")
	run(two, false)
	check("a good run on the replica that saw only failures")
	// A failure before any destination was reached (the source could not
	// be opened) is known to its process only.
	two.RunFinished(job, time.Now(), slot.Add(time.Hour), 1, nil, errors.New("job nightly: sign in again"))
	two.Wait()
	check("a failure before the destinations", "failed from replica two")
	if strings.Contains(logs.String(), hook.URL) {
		t.Error("the webhook URL reached the log")
	}
}

// TestAlertsScrubSettingsSecrets: 'planner jobs serve' removes the
// settings file's secrets from its alerts and log lines, including a
// secret written into the file after it started (the file is read again
// at each run's end).
func TestAlertsScrubSettingsSecrets(t *testing.T) {
	dir := t.TempDir()
	hook := NewTestHook(t)
	settings := filepath.Join(dir, SettingsFile)
	write := func(extra string) {
		t.Helper()
		if err := os.WriteFile(settings, []byte("[alerts]\nwebhook_url = \""+hook.URL+"\"\n"+extra), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("")
	var logs testkit.Buffer
	x := NewAlerts(AlertsOptions{SettingsPath: settings, Sender: "serve",
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	const late = "late-smtp-password-4711"
	write("webhook_secret = \"" + late + "-hook\"\n[alerts.smtp]\nhost = \"127.0.0.1\"\npassword = \"" + late + "\"\n")
	job := config.Job{Name: "nightly", Source: "sandbox"}
	x.RunFinished(job, time.Now(), time.Time{}, 1, nil, errors.New("login failed with password "+late))
	x.Wait()
	select {
	case c := <-hook.Calls:
		if strings.Contains(c.Raw, late) {
			t.Errorf("the alert shows a secret set after start: %s", c.Raw)
		}
	default:
		t.Error("no alert for the failed run")
	}
	if strings.Contains(logs.String(), late) {
		t.Errorf("the log shows a secret set after start: %s", logs.String())
	}
}
