package console

import (
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plannersql/planner/internal/config"
	"github.com/plannersql/planner/internal/redact"
)

// Alerts sends the alerts set in a console settings file (console.toml:
// [alerts], [alerts.smtp], [alerts.jobs.<name>]) for the runs of a process
// other than the console: 'planner jobs serve'. It decides as the console
// does — one alert per failure streak, the recovery, slow runs, every run
// with on = "always" — from the runs it was told of and the runs recorded
// in the jobs' destinations by every process. The settings file is read
// at each run's end, so edits made in the console take effect at once.
type Alerts struct {
	a *alerter
	// scrubber removes the settings file's secrets: read with the file at
	// the start and at each run's end, not at every text scrubbed.
	scrubber atomic.Pointer[scrubber]

	mu   sync.Mutex
	runs map[string][]runSummary // by job, newest first
}

// AlertsOptions configure NewAlerts.
type AlertsOptions struct {
	// SettingsPath is the console settings file (required). It need not
	// exist: without it, no alert is sent.
	SettingsPath string
	// Logger receives a line per alert delivered or not (default: discard).
	Logger *slog.Logger
	// Redact removes secrets from the alerts and the log lines, besides
	// those of the settings file, which Alerts removes itself (default:
	// none).
	Redact func(string) string
	// Sender names the process in alerts, such as "planner jobs serve"
	// (the machine's name is added).
	Sender string
	// HTTPClient posts webhooks (default: a client with a 15 s timeout).
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// NewAlerts returns an Alerts for the settings file of o.
func NewAlerts(o AlertsOptions) *Alerts {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Redact == nil {
		o.Redact = func(s string) string { return s }
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	x := &Alerts{runs: map[string][]runSummary{}}
	path := o.SettingsPath
	scrub := func(s string) string { return x.scrubber.Load().scrub(o.Redact(s)) }
	x.a = &alerter{settingsPath: path, log: slog.New(redact.Handler(o.Logger.Handler(), scrub)), scrub: scrub,
		now: o.Now, client: o.HTTPClient, sender: senderName(o.Sender)}
	x.loadScrubber()
	return x
}

// loadScrubber reads the secrets of the settings file (none when it does
// not load) into the scrubber.
func (x *Alerts) loadScrubber() {
	var secrets []string
	if st, err := loadSettings(x.a.settingsPath); err == nil {
		secrets = st.secrets()
	}
	x.scrubber.Store(newScrubber(secrets))
}

// Describe says what the settings file sends, for a log line at start:
// "on failure: email to 2 recipients, webhook" or why nothing is sent.
func (x *Alerts) Describe() string {
	st, err := loadSettings(x.a.settingsPath)
	switch {
	case err != nil:
		return "none until the settings file is fixed: " + x.a.scrubErr(err)
	case !fileExists(x.a.settingsPath):
		return "none (no " + x.a.settingsPath + ")"
	}
	var out []string
	for _, job := range append([]string{""}, slices.Sorted(maps.Keys(st.JobAlerts))...) {
		e := effectiveFor(st, job)
		var ch []string
		if len(e.emailTo) > 0 {
			ch = append(ch, fmt.Sprintf("email to %d recipients", len(e.emailTo)))
		}
		if e.webhookURL != "" {
			ch = append(ch, "webhook")
		}
		what := "none"
		if len(ch) > 0 && e.on != alertOnNever {
			what = "on " + e.on + ": " + strings.Join(ch, ", ")
			if e.slow {
				what += ", slow runs"
			}
		}
		if job == "" {
			out = append(out, what)
		} else {
			out = append(out, "job "+job+": "+what)
		}
	}
	return strings.Join(out, "; ")
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// RunFinished is told of a run of job (as it ran: references expanded)
// that started at started, of a scheduled slot (zero for none) and
// attempt, with its results and error. It sends the alert the run calls
// for, if any, in the background (Wait waits for it).
func (x *Alerts) RunFinished(job config.Job, started, slot time.Time, attempt int, results []DestinationResult, err error) {
	x.loadScrubber() // the settings may have changed since the last run
	now := x.a.now().UTC()
	trigger := triggerSchedule
	switch {
	case slot.IsZero():
		trigger = triggerManual
	case attempt > 1:
		trigger = triggerRetry
	}
	d := &runDetail{runSummary: runSummary{ID: started.UTC().Format("20060102T150405Z") + "-" + randomHex(3), Job: job.Name,
		Trigger: trigger, Attempt: attempt, Started: started.UTC(), Finished: &now, DurationMS: now.Sub(started).Milliseconds()},
		Destinations: []destRunView{}}
	summarize(d, results, err, false, x.a.scrub)
	x.mu.Lock()
	own := x.runs[job.Name]
	x.runs[job.Name] = append([]runSummary{d.runSummary}, own[:min(len(own), keepRuns-1)]...)
	x.mu.Unlock()
	x.a.runFinished(job, d, own)
}

// Wait waits for the alerts under way (each gives up after 30 s).
func (x *Alerts) Wait() { x.a.inflight.Wait() }
