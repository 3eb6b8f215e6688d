package console

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plannersql/planner/internal/config"
	"github.com/plannersql/planner/internal/schedule"
	"github.com/plannersql/planner/replicate"
)

// fakeRun is one call of fakeRunner's RunFunc, answered by the test.
type fakeRun struct {
	ctx   context.Context
	job   config.Job
	rc    RunContext
	reply chan fakeReply
}

type fakeReply struct {
	res []DestinationResult
	err error
	// took moves the console's fake clock before the run returns.
	took time.Duration
}

// fakeRunner is a RunFunc whose runs the test answers one by one.
type fakeRunner struct {
	clock *schedule.FakeClock
	calls chan *fakeRun
}

func newFakeRunner(clock *schedule.FakeClock) *fakeRunner {
	return &fakeRunner{clock: clock, calls: make(chan *fakeRun, 16)}
}

func (f *fakeRunner) run(ctx context.Context, j config.Job, rc RunContext) ([]DestinationResult, error) {
	c := &fakeRun{ctx: ctx, job: j, rc: rc, reply: make(chan fakeReply, 1)}
	f.calls <- c
	r := <-c.reply
	if r.took > 0 && f.clock != nil {
		f.clock.Advance(r.took)
	}
	rc.Logger.Info("fake run answered", "tables", len(r.res))
	return r.res, r.err
}

// okResult is a destination that copied one table.
func okResult(url string, inserted int64) []DestinationResult {
	return []DestinationResult{{Destination: config.Destination{URL: url}, Requests: 7,
		Results: []replicate.Result{{Table: "Tasks", Inserted: inserted}}}}
}

func TestRunNowAndCancel(t *testing.T) {
	fr := newFakeRunner(nil)
	e := newEnv(t, jobsConfig, func(o *Options) { o.RunJob = fr.run })
	e.start()
	s := e.session()

	r := s.must(202, "POST", "/api/jobs/nightly/run", nil)
	id := r.json["id"].(string)
	if r.json["status"] != statusRunning || r.json["trigger"] != triggerManual {
		t.Errorf("run answer: %s", r.body)
	}
	call := waitFor(t, fr.calls, "the run")
	if call.job.Name != "nightly" || len(call.job.Destinations) != 1 || call.job.Script != "REPLICATE Tasks;" {
		t.Errorf("the runner got job %+v", call.job)
	}
	// One run at a time; a running job is not deleted.
	if r := s.call("POST", "/api/jobs/nightly/run", nil); r.status != 409 || !strings.Contains(r.json["error"].(string), "already running") {
		t.Errorf("second run: %d %s", r.status, r.body)
	}
	if r := s.call("DELETE", "/api/jobs/nightly", nil); r.status != 409 {
		t.Errorf("delete while running: %d", r.status)
	}
	j := s.must(200, "GET", "/api/jobs/nightly", nil)
	if j.json["status"] != statusRunning || field(j.json, "running", "id") != id {
		t.Errorf("job while running: %s", j.body)
	}
	// Cancel: the run is asked to stop after the table in flight; its
	// context stays alive.
	s.must(202, "POST", "/api/jobs/nightly/cancel", nil)
	waitFor(t, call.rc.Stop, "the stop request")
	if call.ctx.Err() != nil {
		t.Error("a graceful cancel cancelled the run's context")
	}
	call.reply <- fakeReply{res: []DestinationResult{{Destination: call.job.Destinations[0], Results: []replicate.Result{
		{Table: "Tasks", Inserted: 3}, {Table: "Plans", Err: replicate.ErrStopped}}}}}
	d := s.finished(id)
	if d.json["status"] != statusPartial || d.json["cancelled"] != true || field(d.json, "destinations", 0, "tables", 1, "status") != "skipped" {
		t.Errorf("cancelled run: %s", d.body)
	}
	if !strings.Contains(d.json["log"].(string), "fake run answered") {
		t.Errorf("the run's log: %q", d.json["log"])
	}

	// Abort: the context is cancelled at once.
	id2 := s.must(202, "POST", "/api/jobs/nightly/run", nil).json["id"].(string)
	call = waitFor(t, fr.calls, "the second run")
	s.must(202, "POST", "/api/jobs/nightly/cancel", map[string]bool{"force": true})
	waitFor(t, call.ctx.Done(), "the run's context ending")
	call.reply <- fakeReply{err: context.Canceled}
	if d := s.finished(id2); d.json["cancelled"] != true || d.json["status"] != statusPartial {
		t.Errorf("aborted run: %s", d.body)
	}
	// Cancelled runs never alert.
	e.srv.alerts.inflight.Wait()
	if n := len(e.srv.alerts.recent()); n != 0 {
		t.Errorf("%d alerts for cancelled runs", n)
	}
	// Run records survive a restart of the console.
	e2, err := New(Options{ConfigPath: e.cfgPath, Token: "x-" + randomHex(8)})
	if err != nil {
		t.Fatal(err)
	}
	if h := e2.runs.history("nightly"); len(h) != 2 || h[1].ID != id {
		t.Errorf("history after a restart: %+v (first run %s, second %s)", h, id, id2)
	}
}

// TestScheduledRunsAlertOncePerStreak runs a job on its schedule with a
// fake clock: the first failure alerts, its retries and the next failed
// slot do not, the recovery does.
func TestScheduledRunsAlertOncePerStreak(t *testing.T) {
	clock := schedule.NewFakeClock(time.Date(2026, 5, 1, 9, 5, 0, 0, time.UTC))
	fr := newFakeRunner(clock)
	hook := NewTestHook(t)
	cfg := strings.Replace(jobsConfig, `schedule = "every 1 day at 02:00"   # at night`, `schedule = "every 10m"`, 1)
	events := make(chan schedule.Event, 64)
	e := newEnv(t, cfg, func(o *Options) {
		o.RunJob, o.Clock = fr.run, clock
		o.Retry = schedule.RetryPolicy{MaxAttempts: 2, InitialBackoff: time.Minute}
		o.OnSchedulerEvent = func(ev schedule.Event) { events <- ev }
	})
	// until waits for the scheduler's event of kind.
	until := func(kind schedule.EventKind) {
		t.Helper()
		for {
			if ev := waitFor(t, events, kind.String()); ev.Kind == kind {
				return
			}
		}
	}
	e.secret(hook.URL)
	if err := os.WriteFile(e.srv.opts.SettingsPath, []byte("# alerts\n[alerts]\nwebhook_url = \""+hook.URL+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.start()
	ctx := context.Background()
	step := func(to time.Time, timers int) {
		t.Helper()
		if err := clock.BlockUntil(ctx, timers); err != nil {
			t.Fatal(err)
		}
		clock.Set(to)
	}
	at := func(hh, mm int) time.Time { return time.Date(2026, 5, 1, hh, mm, 0, 0, time.UTC) }
	fail := fakeReply{err: errors.New("job nightly: destination sqlite:x.db: disk full"), took: 10 * time.Second}

	step(at(9, 10), 1) // the 09:10 slot
	c := waitFor(t, fr.calls, "the 09:10 run")
	if !c.rc.Slot.Equal(at(9, 10)) || c.rc.Attempt != 1 {
		t.Errorf("the run's slot %v, attempt %d", c.rc.Slot, c.rc.Attempt)
	}
	c.reply <- fail
	if got := waitFor(t, hook.Calls, "the failure alert"); got.Body["event"] != eventFailed || got.Body["trigger"] != triggerSchedule ||
		!strings.Contains(got.Body["error"].(string), "disk full") ||
		got.Body["text"] != "planner: job nightly failed: destination sqlite:x.db: disk full" {
		t.Errorf("first alert: %s", got.Raw)
	}
	step(at(9, 11).Add(10*time.Second), 2) // its retry (and the 09:20 slot timer)
	c = waitFor(t, fr.calls, "the retry")
	if !c.rc.Slot.Equal(at(9, 10)) || c.rc.Attempt != 2 {
		t.Errorf("the retry's slot %v, attempt %d", c.rc.Slot, c.rc.Attempt)
	}
	c.reply <- fail
	until(schedule.EventGaveUp)
	step(at(9, 20), 1) // the next slot fails too
	c = waitFor(t, fr.calls, "the 09:20 run")
	c.reply <- fail
	step(at(9, 21).Add(10*time.Second), 2)
	c = waitFor(t, fr.calls, "the 09:21 retry")
	c.reply <- fakeReply{res: okResult("sqlite:x.db", 5), took: 10 * time.Second}
	if got := waitFor(t, hook.Calls, "the recovery alert"); got.Body["event"] != eventRecovered {
		t.Errorf("second alert: %s", got.Raw)
	}
	waitIdle(t, e, "nightly")
	e.srv.alerts.inflight.Wait()
	if n := len(e.srv.alerts.recent()); n != 2 {
		t.Errorf("%d alerts sent for one failure streak, want 2 (failed, recovered): %+v", n, e.srv.alerts.recent())
	}
	h := e.srv.runs.history("nightly")
	if len(h) != 4 || h[3].Trigger != triggerSchedule || h[2].Trigger != triggerRetry || h[0].Status != statusOK {
		t.Errorf("history: %+v", h)
	}
	// The job list shows the last run and the next slot.
	j := e.session().must(200, "GET", "/api/jobs/nightly", nil)
	if j.json["status"] != statusOK || j.json["next_run"] != "2026-05-01T09:30:00Z" {
		t.Errorf("job: status %v, next run %v", j.json["status"], j.json["next_run"])
	}
}

// waitIdle waits for the run of job in progress, if any, to end.
func waitIdle(t *testing.T, e *env, job string) {
	t.Helper()
	for cur := e.srv.runs.current(job); cur != nil; cur = e.srv.runs.current(job) {
		if _, ok := e.srv.runs.get(context.Background(), cur.ID, 30*time.Second); !ok {
			t.Fatalf("run %s vanished", cur.ID)
		}
	}
}

// TestAlertTriggers covers on = "always", slow runs and a job's own
// settings.
func TestAlertTriggers(t *testing.T) {
	clock := schedule.NewFakeClock(time.Date(2026, 5, 1, 9, 5, 0, 0, time.UTC))
	fr := newFakeRunner(clock)
	hook, jobHook := NewTestHook(t), NewTestHook(t)
	e := newEnv(t, jobsConfig, func(o *Options) { o.RunJob, o.Clock = fr.run, clock })
	e.secret(hook.URL, jobHook.URL)
	s := e.session()
	s.must(200, "PUT", "/api/alerts", map[string]any{"slow": true, "slow_factor": 2.5, "webhook_url": hook.URL})
	run := func(took time.Duration) string {
		t.Helper()
		id := s.must(202, "POST", "/api/jobs/nightly/run", nil).json["id"].(string)
		waitFor(t, fr.calls, "the run").reply <- fakeReply{res: okResult("sqlite:x.db", 1), took: took}
		s.finished(id)
		e.srv.alerts.inflight.Wait()
		return id
	}
	for range 3 {
		run(10 * time.Second)
	}
	if n := len(e.srv.alerts.recent()); n != 0 {
		t.Fatalf("%d alerts for ordinary runs", n)
	}
	run(20 * time.Second) // twice the usual: under 2.5 ×
	run(30 * time.Second) // three times
	got := waitFor(t, hook.Calls, "the slow alert")
	if got.Body["event"] != eventSlow || got.Body["usual_seconds"] != 10.0 || got.Body["duration_seconds"] != 30.0 {
		t.Errorf("slow alert: %s", got.Raw)
	}
	// The job's own settings: every run, to its own webhook.
	s.must(200, "PUT", "/api/jobs/nightly", map[string]any{"source": "demo", "tables": []string{"Tasks"},
		"destinations": []any{map[string]string{"url": "sqlite:" + e.dir + "/out.db"}},
		"alerts":       map[string]any{"on": "always", "webhook_url": jobHook.URL}})
	run(10 * time.Second)
	if got := waitFor(t, jobHook.Calls, "the job's alert"); got.Body["event"] != eventFinished || got.Body["status"] != statusOK {
		t.Errorf("on=always alert: %s", got.Raw)
	}
	v := s.must(200, "GET", "/api/jobs/nightly", nil)
	if field(v.json, "alerts", "on") != "always" || field(v.json, "alerts", "webhook_set") != true {
		t.Errorf("job alerts view: %v", v.json["alerts"])
	}
	// The webhook URL is write-only: sending it empty keeps it.
	s.must(200, "PUT", "/api/jobs/nightly", map[string]any{"source": "demo", "tables": []string{"Tasks"},
		"destinations": []any{map[string]string{"url": "sqlite:" + e.dir + "/out.db"}}, "alerts": map[string]any{"on": "always"}})
	st, err := loadSettings(e.srv.opts.SettingsPath)
	if err != nil || st.JobAlerts["nightly"].WebhookURL != jobHook.URL {
		t.Errorf("the job's webhook after a save without it: %+v, %v", st.JobAlerts["nightly"], err)
	}
}

// TestAlertDelivery sends test alerts by email (STARTTLS, AUTH, the
// password from the environment) and by a signed webhook.
func TestAlertDelivery(t *testing.T) {
	mail := NewTestSMTP(t)
	hook := NewTestHook(t)
	t.Setenv("CONSOLE_SMTP_PW", mail.Pass)
	e := newEnv(t, jobsConfig)
	e.secret(mail.Pass, hook.URL, "hook-signing-key")
	s := e.session()
	alerts := map[string]any{
		"email_to": []string{"ops@example.com", "oncall@example.com"}, "webhook_url": hook.URL, "webhook_secret": "hook-signing-key",
		"smtp": map[string]any{"host": mail.Host, "port": mail.Port, "username": mail.User, "password": "${CONSOLE_SMTP_PW}",
			"from": "planner@example.com", "tls": "starttls", "ca_file": mail.CAFile},
	}
	v := s.must(200, "PUT", "/api/alerts", alerts)
	if field(v.json, "smtp", "password_set") != true || field(v.json, "webhook_set") != true || field(v.json, "webhook_secret_set") != true {
		t.Errorf("alerts view: %s", v.body)
	}
	r := s.must(200, "POST", "/api/alerts/test", map[string]string{"job": "nightly"})
	if r.json["ok"] != true {
		t.Fatalf("test alert: %s", r.body)
	}
	m := waitFor(t, mail.Mail, "the email")
	if !m.TLS || m.User != mail.User || m.From != "planner@example.com" || len(m.To) != 2 ||
		!strings.Contains(m.Data, "Subject: [planner] test alert") || !strings.Contains(m.Data, "job nightly") {
		t.Errorf("email: %+v", m)
	}
	c := waitFor(t, hook.Calls, "the webhook")
	mac := hmac.New(sha256.New, []byte("hook-signing-key"))
	mac.Write([]byte(c.Raw))
	if c.Header.Get("X-Planner-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) || c.Header.Get("X-Planner-Event") != eventTest {
		t.Errorf("webhook headers: %v", c.Header)
	}
	// The settings file keeps the reference, not the password.
	b, _ := os.ReadFile(e.srv.opts.SettingsPath)
	if !strings.Contains(string(b), `password = "${CONSOLE_SMTP_PW}"`) {
		t.Errorf("console.toml:\n%s", b)
	}
	// Saving again without the secrets keeps them.
	delete(alerts, "webhook_url")
	delete(alerts, "webhook_secret")
	alerts["smtp"].(map[string]any)["password"] = ""
	s.must(200, "PUT", "/api/alerts", alerts)
	if r := s.must(200, "POST", "/api/alerts/test", nil); r.json["ok"] != true {
		t.Fatalf("test alert after a save without secrets: %s", r.body)
	}
	waitFor(t, mail.Mail, "the second email")
	waitFor(t, hook.Calls, "the second webhook")

	// Failures say what went wrong and never show the password.
	t.Setenv("CONSOLE_SMTP_PW", "not-the-password")
	e.secret("not-the-password")
	r = s.must(200, "POST", "/api/alerts/test", nil)
	if r.json["ok"] != false || !strings.Contains(fmt.Sprint(field(r.json, "channels", 0, "error")), "email via 127.0.0.1") {
		t.Errorf("wrong SMTP password: %s", r.body)
	}
	alerts["smtp"].(map[string]any)["tls"] = "none"
	alerts["smtp"].(map[string]any)["host"] = "smtp.example.com"
	s.must(200, "PUT", "/api/alerts", alerts)
	r = s.must(200, "POST", "/api/alerts/test", nil)
	if !strings.Contains(fmt.Sprint(field(r.json, "channels", 0, "error")), "unencrypted") {
		t.Errorf("a password over a clear connection: %s", r.body)
	}
	// Clearing the secrets removes them from the file.
	s.must(200, "PUT", "/api/alerts", map[string]any{"clear_webhook": true, "clear_webhook_secret": true,
		"smtp": map[string]any{"clear_password": true}})
	b, _ = os.ReadFile(e.srv.opts.SettingsPath)
	if strings.Contains(string(b), "password") || strings.Contains(string(b), "webhook") {
		t.Errorf("console.toml after clearing:\n%s", b)
	}
	if r := s.call("POST", "/api/alerts/test", nil); r.status != 422 {
		t.Errorf("test alert with no channel: %d", r.status)
	}
}

func TestSettingsFile(t *testing.T) {
	good := `# my alerts
[alerts]
on = "always"
slow = true
slow_factor = 3
email_to = ["a@example.com", "b@example.com"]

[alerts.smtp]
host = "smtp.example.com"
port = 465
tls = "tls"
from = "Planner <planner@example.com>"

[alerts.jobs.nightly]
on = "never"
slow = false

[destinations.warehouse]
url = "postgres://u@h/db"
[destinations.local]
url = "sqlite:x.db"
`
	st, err := parseSettings(good)
	if err != nil {
		t.Fatal(err)
	}
	if st.Alerts.On != "always" || !st.Alerts.Slow || st.Alerts.SlowFactor != 3 || len(st.Alerts.EmailTo) != 2 ||
		st.Alerts.SMTP.Port != 465 || st.JobAlerts["nightly"].On != "never" || *st.JobAlerts["nightly"].Slow ||
		strings.Join(st.destOrder, ",") != "warehouse,local" {
		t.Errorf("parsed %+v", st)
	}
	e := effectiveFor(st, "nightly")
	if e.on != "never" || e.slow || e.factor != 3 {
		t.Errorf("effective %+v", e)
	}
	for src, want := range map[string]string{
		"[alerts]\non = \"maybe\"\n":              "use failure, always or never",
		"[alerts]\nemial_to = \"x\"\n":            `unknown key "emial_to"`,
		"[alerts.smtp]\nport = 70000\n":           "port must be",
		"[alerts.smtp]\ntls = \"ssl\"\n":          "starttls, tls or none",
		"[alerts.smtp]\nfrom = \"nobody\"\n":      "not an email address",
		"[destinations.x]\n":                      "has no url",
		"[other]\n":                               `unknown key "other"`,
		"[alerts]\nslow_factor = 1\n":             "slow_factor",
		"[alerts.jobs.j]\nslow = \"sometimes\"\n": "true or false",
		"[alerts\n":                               "line 2",
	} {
		if _, err := parseSettings(src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseSettings(%q) = %v, want %q", src, err, want)
		}
	}
	// A settings file that does not parse is reported on the Alerts page,
	// never overwritten.
	e2 := newEnv(t, "")
	path := filepath.Join(e2.dir, SettingsFile)
	if err := os.WriteFile(path, []byte("[alerts]\non = \"maybe\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := e2.session()
	if r := s.call("GET", "/api/alerts", nil); r.status != 409 || !strings.Contains(r.json["error"].(string), "fix the file") {
		t.Errorf("broken settings: %d %s", r.status, r.body)
	}
	if r := s.call("PUT", "/api/alerts", map[string]any{"on": "never"}); r.status != 409 {
		t.Errorf("saving over broken settings: %d %s", r.status, r.body)
	}
	if b, _ := os.ReadFile(path); string(b) != "[alerts]\non = \"maybe\"\n" {
		t.Errorf("the broken file was changed: %s", b)
	}
}
