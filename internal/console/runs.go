package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/plannersql/planner/internal/config"
	"github.com/plannersql/planner/internal/redact"
	"github.com/plannersql/planner/internal/schedule"
	"github.com/plannersql/planner/replicate"
)

// Run triggers.
const (
	triggerSchedule = "schedule"
	triggerRetry    = "retry"
	triggerManual   = "manual" // "Run now" in the console or POST /api/jobs/{name}/run
)

// watchInterval is how often the config and settings files are checked
// for changes made outside the console.
const watchInterval = 10 * time.Second

// keepRuns is how many run records (with their logs) are kept per job.
const keepRuns = 100

// maxLog bounds a run's log; beyond it the middle is dropped.
const maxLog = 512 << 10

// errCancelled is the error of a run cancelled from the console.
var errCancelled = errors.New("cancelled from the console")

// runSummary is one run as lists show it.
type runSummary struct {
	ID         string     `json:"id"`
	Job        string     `json:"job"`
	Trigger    string     `json:"trigger"`
	Attempt    int        `json:"attempt"`
	Started    time.Time  `json:"started"`
	Finished   *time.Time `json:"finished,omitempty"`
	DurationMS int64      `json:"duration_ms"`
	Status     string     `json:"status"` // running, ok, partial, failed
	Cancelled  bool       `json:"cancelled,omitempty"`
	// Skipped: no destination was copied, another run of the job was in
	// progress there or had done the slot (a replica, 'planner jobs
	// serve'). Such a run neither alerts nor ends a failure streak.
	Skipped   bool   `json:"skipped,omitempty"`
	Error     string `json:"error,omitempty"`
	Tables    int    `json:"tables"`
	Inserted  int64  `json:"inserted"`
	Updated   int64  `json:"updated"`
	Deleted   int64  `json:"deleted"`
	Unchanged int64  `json:"unchanged"`
	Requests  int    `json:"requests"`  // Graph requests
	Throttled int    `json:"throttled"` // of which the service throttled
}

// runDetail is one run with its destinations, tables and log.
type runDetail struct {
	runSummary
	Destinations []destRunView `json:"destinations"`
	Log          string        `json:"log"`
}

// destRunView is one destination's part of a run.
type destRunView struct {
	URL        string         `json:"url"`              // password masked
	RunID      string         `json:"run_id,omitempty"` // the run in the destination's history
	Prefix     string         `json:"prefix,omitempty"`
	Schema     string         `json:"schema,omitempty"`
	SourceName string         `json:"source_name,omitempty"`
	Status     string         `json:"status"`
	Error      string         `json:"error,omitempty"`
	Requests   int            `json:"requests"`
	Throttled  int            `json:"throttled"`
	Tables     []tableRunView `json:"tables"`
}

// tableRunView is one destination table of a run.
type tableRunView struct {
	Table      string    `json:"table"`
	Status     string    `json:"status"` // ok, failed, skipped
	Error      string    `json:"error,omitempty"`
	Inserted   int64     `json:"inserted"`
	Updated    int64     `json:"updated"`
	Deleted    int64     `json:"deleted"`
	Unchanged  int64     `json:"unchanged"`
	Started    time.Time `json:"started"`
	DurationMS int64     `json:"duration_ms"`
	Warnings   []string  `json:"warnings,omitempty"`
}

// activeRun is a run in progress.
type activeRun struct {
	detail    *runDetail
	log       *logBuffer
	stop      chan struct{}
	stopOnce  sync.Once
	cancel    context.CancelFunc
	cancelled bool
	done      chan struct{}
	slot      time.Time // a scheduled run's slot
}

func (a *activeRun) requestStop() { a.stopOnce.Do(func() { close(a.stop) }) }

// jobSched is the scheduler of one job.
type jobSched struct {
	spec   string
	cancel context.CancelFunc
	done   chan struct{}
}

// runManager starts runs (on schedule or on demand), keeps their records
// and logs, and tells the alerter how they ended.
type runManager struct {
	s *Server

	reconcileMu sync.Mutex // one reconcile at a time
	mu          sync.Mutex
	active      map[string]*activeRun   // by job name
	records     map[string][]*runDetail // by job name, oldest first
	byID        map[string]*runDetail
	scheds      map[string]*jobSched
	serveCtx    context.Context   // set while serving
	stamps      string            // fileStamps when last checked
	problems    map[string]string // jobs not scheduled: why (logged once)
	manual      sync.WaitGroup
}

func newRunManager(s *Server) *runManager {
	return &runManager{s: s, active: map[string]*activeRun{}, records: map[string][]*runDetail{},
		byID: map[string]*runDetail{}, scheds: map[string]*jobSched{}}
}

// serve runs the schedulers until ctx ends; then it stops them and the
// runs started on demand, gracefully, and waits for them.
func (m *runManager) serve(ctx context.Context) error {
	m.mu.Lock()
	if m.serveCtx != nil {
		m.mu.Unlock()
		return errors.New("console: Start called twice")
	}
	m.serveCtx = ctx
	m.stamps = m.s.fileStamps()
	m.mu.Unlock()
	m.reconcile()
	// A config file edited by hand (or by another console) takes effect
	// without a restart.
	watch := time.NewTicker(watchInterval)
	defer watch.Stop()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-watch.C:
			m.checkFiles()
		}
	}
	m.mu.Lock()
	scheds := m.scheds
	m.scheds = map[string]*jobSched{}
	for _, a := range m.active {
		a.requestStop()
	}
	m.mu.Unlock()
	for _, js := range scheds {
		js.cancel()
	}
	for _, js := range scheds {
		<-js.done
	}
	m.manual.Wait()
	return nil
}

// reconcile starts, restarts and stops job schedulers to match the
// config file. A job whose schedule changed while it runs keeps its
// scheduler until the run ends (the run's end reconciles again).
func (m *runManager) reconcile() {
	m.reconcileMu.Lock()
	defer m.reconcileMu.Unlock()
	m.mu.Lock()
	ctx := m.serveCtx
	m.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		return
	}
	f, err := m.s.loadExpanded()
	if err != nil {
		m.s.log.Error("config file does not load: schedules unchanged", "err", m.s.scrubErr(err))
		return
	}
	want := map[string]string{}
	parsed := map[string]schedule.Schedule{}
	problems := map[string]string{}
	for _, j := range f.Jobs() {
		// A job that cannot run here (an unset environment variable, a
		// missing source, a script that does not parse) is not scheduled:
		// the jobs page says why.
		sc, err := m.s.checkJob(f, j)
		if err != nil {
			problems[j.Name] = err.Error()
			continue
		}
		if sc == nil {
			continue
		}
		// The source is part of the key: it decides how often the
		// schedule may fire.
		want[j.Name] = j.Source + "\x00" + j.Schedule
		parsed[j.Name] = sc
	}
	var stop []*jobSched
	m.mu.Lock()
	for name, p := range problems {
		if m.problems[name] != p {
			m.s.log.Error("job not scheduled: it cannot run", "job", name, "err", p)
		}
	}
	m.problems = problems
	for name, js := range m.scheds {
		if spec, ok := want[name]; ok && spec == js.spec {
			continue
		}
		if _, running := m.active[name]; running {
			delete(want, name)
			continue
		}
		stop = append(stop, js)
		delete(m.scheds, name)
	}
	m.mu.Unlock()
	// Wait outside the lock: a stopping scheduler may be starting a run.
	for _, js := range stop {
		js.cancel()
		<-js.done
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, spec := range want {
		if _, ok := m.scheds[name]; ok {
			continue
		}
		sc := parsed[name]
		sched, err := schedule.New(schedule.Options{Clock: m.s.opts.Clock, Logger: m.s.log, Retry: m.s.opts.Retry, OnEvent: m.s.opts.OnSchedulerEvent},
			schedule.Job{Name: name, Schedule: sc, Func: m.scheduled(name)})
		if err != nil {
			m.s.log.Error("job not scheduled", "job", name, "err", err)
			continue
		}
		jctx, cancel := context.WithCancel(ctx)
		js := &jobSched{spec: spec, cancel: cancel, done: make(chan struct{})}
		m.scheds[name] = js
		go func() {
			defer close(js.done)
			if err := sched.Run(jctx); err != nil {
				m.s.log.Error("scheduler stopped", "job", name, "err", err)
			}
		}()
		m.s.log.Info("job scheduled", "job", name, "schedule", sc.String())
	}
}

// checkFiles reloads the schedules when the config or settings file
// changed since it last looked.
func (m *runManager) checkFiles() bool {
	now := m.s.fileStamps()
	m.mu.Lock()
	changed := m.stamps != "" && now != m.stamps
	m.stamps = now
	m.mu.Unlock()
	if changed {
		m.s.log.Info("the config file changed: schedules reloaded")
		m.s.configChanged()
	}
	return changed
}

// scheduled is the scheduler's function for job name.
func (m *runManager) scheduled(name string) schedule.JobFunc {
	return func(ctx context.Context, run *schedule.Run) error {
		trigger := triggerSchedule
		if run.Attempt > 1 {
			trigger = triggerRetry
		}
		job, err := m.jobToRun(name)
		if err != nil {
			return schedule.Permanent(err)
		}
		a, err := m.begin(name, trigger, run.Attempt)
		if err == nil {
			a.slot = run.Slot
		}
		if err != nil {
			m.s.log.Warn("slot skipped: the job is already running (started from the console)", "job", name)
			return nil
		}
		go func() {
			select {
			case <-run.Stopping():
				a.requestStop()
			case <-a.done:
			}
		}()
		return m.execute(ctx, a, job)
	}
}

// jobToRun loads the job as runs see it (environment references
// expanded), and checks that it can run (checkJob: a 409 error says why
// not).
func (m *runManager) jobToRun(name string) (config.Job, error) {
	f, err := m.s.loadExpanded()
	if err != nil {
		return config.Job{}, errorf(http.StatusConflict, "job %s: %s (fix the file, then reload)", name, m.s.scrubErr(err))
	}
	j, _ := f.Job(name)
	if j == nil {
		return config.Job{}, notFound("job", name)
	}
	if _, err := m.s.checkJob(f, *j); err != nil {
		return config.Job{}, err
	}
	return *j, nil
}

// runNow starts a run of job name now, outside its schedule.
func (m *runManager) runNow(name string) (*runSummary, error) {
	if m.s.opts.RunJob == nil {
		return nil, errorf(http.StatusServiceUnavailable, "this console cannot run jobs")
	}
	f, err := m.s.loadRaw()
	if err != nil {
		return nil, err
	}
	j, err := f.Job(name)
	if err != nil {
		return nil, notFound("job", name)
	}
	job, err := m.jobToRun(j.Name)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	base := m.serveCtx
	m.mu.Unlock()
	if base == nil {
		base = context.Background()
	}
	if base.Err() != nil {
		return nil, errorf(http.StatusServiceUnavailable, "the console is stopping")
	}
	a, err := m.begin(j.Name, triggerManual, 1)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	sum := a.detail.runSummary
	m.mu.Unlock()
	m.manual.Add(1)
	go func() {
		defer m.manual.Done()
		_ = m.execute(context.WithoutCancel(base), a, job)
	}()
	return &sum, nil
}

// begin registers a run of job; a job runs once at a time.
func (m *runManager) begin(job, trigger string, attempt int) (*activeRun, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a, ok := m.active[job]; ok {
		return nil, errorf(http.StatusConflict, "job %s is already running (run %s, started %s)", job, a.detail.ID, a.detail.Started.Format(time.RFC3339))
	}
	now := m.s.now().UTC()
	d := &runDetail{runSummary: runSummary{ID: now.Format("20060102T150405Z") + "-" + randomHex(3), Job: job, Trigger: trigger,
		Attempt: attempt, Started: now, Status: statusRunning}, Destinations: []destRunView{}}
	a := &activeRun{detail: d, log: &logBuffer{scrub: m.s.scrub}, stop: make(chan struct{}), done: make(chan struct{})}
	m.active[job] = a
	m.byID[d.ID] = d
	return a, nil
}

// execute runs job for a and records the outcome.
func (m *runManager) execute(ctx context.Context, a *activeRun, job config.Job) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m.mu.Lock()
	a.cancel = cancel
	m.mu.Unlock()
	logger := slog.New(teeHandler{
		redact.Handler(slog.NewTextHandler(a.log, &slog.HandlerOptions{Level: slog.LevelInfo}), m.s.scrub),
		m.s.log.Handler(),
	}).With("run", a.detail.ID)
	logger.Info("run started", "trigger", a.detail.Trigger, "attempt", a.detail.Attempt)
	rc := RunContext{Logger: logger, Stop: a.stop, Slot: a.slot}
	if !a.slot.IsZero() {
		rc.Attempt = a.detail.Attempt
	}
	results, err := m.s.opts.RunJob(ctx, job, rc)
	m.mu.Lock()
	cancelled := a.cancelled
	m.mu.Unlock()
	if err != nil {
		logger.Error("run failed", "err", m.s.scrubErr(err))
	} else {
		logger.Info("run finished")
	}
	m.finish(a, job, results, err, cancelled)
	go m.reconcile() // the scheduler calling execute may be the one to restart
	if cancelled {
		return schedule.Permanent(errCancelled)
	}
	return err
}

// finish turns a run's results into its record, stores it and ends the run.
func (m *runManager) finish(a *activeRun, job config.Job, results []DestinationResult, err error, cancelled bool) *runDetail {
	// Readers copy the record under m.mu: fill a copy, then swap it in.
	m.mu.Lock()
	d := new(runDetail)
	*d = *a.detail
	m.mu.Unlock()
	now := m.s.now().UTC()
	d.Finished = &now
	d.DurationMS = now.Sub(d.Started).Milliseconds()
	summarize(d, results, err, cancelled, m.s.scrub)
	d.Log = a.log.String()
	// Kept on disk before anyone can see the run ended.
	if err := m.store(d); err != nil {
		m.s.log.Warn("run record not saved", "job", job.Name, "run", d.ID, "err", err)
	}
	// Alerts are under way (inflight) before anyone can see the run ended.
	m.s.alerts.runFinished(job, d, m.history(job.Name))
	m.mu.Lock()
	*a.detail = *d
	d = a.detail
	delete(m.active, job.Name)
	recs := append(m.records[job.Name], d)
	if len(recs) > keepRuns {
		for _, old := range recs[:len(recs)-keepRuns] {
			delete(m.byID, old.ID)
			m.removeRecord(old)
		}
		recs = slices.Clone(recs[len(recs)-keepRuns:])
	}
	m.records[job.Name] = recs
	m.mu.Unlock()
	close(a.done)
	return d
}

// cancelRun asks job's run to stop: after the table in flight, or at once
// (force: the table in flight is rolled back).
func (m *runManager) cancelRun(job string, force bool) (*runSummary, error) {
	m.mu.Lock()
	a, ok := m.active[job]
	if ok {
		a.cancelled = true
		if force && a.cancel != nil {
			a.cancel()
		}
	}
	m.mu.Unlock()
	if !ok {
		return nil, errorf(http.StatusConflict, "job %s is not running", job)
	}
	a.requestStop()
	m.mu.Lock()
	sum := a.detail.runSummary
	m.mu.Unlock()
	return &sum, nil
}

// last returns the latest finished run of job that copied something: a
// run skipped because another process had the slot says nothing of the
// job's state.
func (m *runManager) last(job string) *runSummary {
	m.mu.Lock()
	defer m.mu.Unlock()
	recs := m.records[job]
	for i := len(recs) - 1; i >= 0; i-- {
		if !recs[i].Skipped {
			sum := recs[i].runSummary
			return &sum
		}
	}
	return nil
}

// current returns job's run in progress.
func (m *runManager) current(job string) *runSummary {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.active[job]
	if !ok {
		return nil
	}
	sum := a.detail.runSummary
	sum.DurationMS = m.s.now().Sub(sum.Started).Milliseconds()
	return &sum
}

// history returns job's finished runs, newest first.
func (m *runManager) history(job string) []runSummary {
	m.mu.Lock()
	defer m.mu.Unlock()
	recs := m.records[job]
	out := make([]runSummary, 0, len(recs))
	for i := len(recs) - 1; i >= 0; i-- {
		out = append(out, recs[i].runSummary)
	}
	return out
}

// get returns a run by id, waiting up to wait for it to finish when it is
// in progress.
func (m *runManager) get(ctx context.Context, id string, wait time.Duration) (*runDetail, bool) {
	m.mu.Lock()
	d, ok := m.byID[id]
	var a *activeRun
	if ok && d.Finished == nil {
		a = m.active[d.Job]
	}
	m.mu.Unlock()
	if !ok {
		return nil, false
	}
	if a != nil && wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-a.done:
		case <-t.C:
		case <-ctx.Done():
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cp := *d
	if cp.Finished == nil {
		if a := m.active[d.Job]; a != nil && a.detail == d {
			cp.Log = a.log.String()
			cp.DurationMS = m.s.now().Sub(cp.Started).Milliseconds()
		}
	}
	return &cp, true
}

// recordDir is where a job's run records are kept.
func (m *runManager) recordDir(job string) string {
	return filepath.Join(m.s.opts.StateDir, "job-"+url.PathEscape(job))
}

func (m *runManager) store(d *runDetail) error {
	dir := m.recordDir(d.Job)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	// A new temporary file of a random name (O_EXCL, mode 0600): a link
	// planted at a name planner would use must not decide where it writes.
	tmp, err := os.CreateTemp(dir, "."+d.ID+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, d.ID+".json"))
}

func (m *runManager) removeRecord(d *runDetail) {
	os.Remove(filepath.Join(m.recordDir(d.Job), d.ID+".json"))
}

// load reads the run records kept by earlier consoles.
func (m *runManager) load() error {
	dirs, err := os.ReadDir(m.s.opts.StateDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, de := range dirs {
		if !de.IsDir() || !strings.HasPrefix(de.Name(), "job-") {
			continue
		}
		files, err := os.ReadDir(filepath.Join(m.s.opts.StateDir, de.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, fe := range files {
			if !strings.HasSuffix(fe.Name(), ".json") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(m.s.opts.StateDir, de.Name(), fe.Name()))
			if err != nil {
				errs = append(errs, err)
				continue
			}
			var d runDetail
			if err := json.Unmarshal(b, &d); err != nil || d.ID == "" || d.Job == "" {
				errs = append(errs, fmt.Errorf("%s: not a run record", fe.Name()))
				continue
			}
			if d.Finished == nil { // the console stopped during the run
				d.Status, d.Error = statusFailed, "the console stopped during this run"
			}
			m.records[d.Job] = append(m.records[d.Job], &d)
			m.byID[d.ID] = &d
		}
	}
	for job, recs := range m.records {
		sort.Slice(recs, func(i, j int) bool {
			if !recs[i].Started.Equal(recs[j].Started) {
				return recs[i].Started.Before(recs[j].Started)
			}
			return recs[i].ID < recs[j].ID
		})
		if len(recs) > keepRuns {
			recs = recs[len(recs)-keepRuns:]
		}
		m.records[job] = recs
	}
	return errors.Join(errs...)
}

// logBuffer keeps a run's log, scrubbed of secrets, within maxLog.
type logBuffer struct {
	mu      sync.Mutex
	scrub   func(string) string
	head    []byte
	tail    []byte
	dropped int
}

func (l *logBuffer) Write(p []byte) (int, error) {
	s := l.scrub(string(p))
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.head) < maxLog/2 {
		l.head = append(l.head, s...)
		return len(p), nil
	}
	l.tail = append(l.tail, s...)
	if over := len(l.tail) - maxLog/2; over > 0 {
		// Drop whole lines from the middle.
		cut := over
		if i := strings.IndexByte(string(l.tail[over:]), '\n'); i >= 0 {
			cut = over + i + 1
		}
		l.dropped += cut
		l.tail = l.tail[cut:]
	}
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dropped == 0 {
		return string(l.head) + string(l.tail)
	}
	return string(l.head) + fmt.Sprintf("… %d bytes of log left out …\n", l.dropped) + string(l.tail)
}

// teeHandler sends records to several handlers.
type teeHandler []slog.Handler

func (t teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range t {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (t teeHandler) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, h := range t {
		if h.Enabled(ctx, r.Level) {
			errs = append(errs, h.Handle(ctx, r.Clone()))
		}
	}
	return errors.Join(errs...)
}

func (t teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(teeHandler, len(t))
	for i, h := range t {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (t teeHandler) WithGroup(name string) slog.Handler {
	out := make(teeHandler, len(t))
	for i, h := range t {
		out[i] = h.WithGroup(name)
	}
	return out
}

// summarize fills run d's destinations, counts and status from the
// results of its run (err: the run's error; cancelled: from the console).
// Every text is passed through scrub.
func summarize(d *runDetail, results []DestinationResult, err error, cancelled bool, scrub func(string) string) {
	scrubErr := func(err error) string { return scrub(oneLine(err.Error())) }
	skipped, allSkipped := false, len(results) > 0
	for _, dr := range results {
		shown, _ := displayURL(dr.Destination.URL)
		dv := destRunView{URL: shown, Prefix: dr.Destination.Prefix, Schema: dr.Destination.Schema, SourceName: dr.Destination.SourceName,
			Requests: dr.Requests, Throttled: dr.Throttled, Status: statusOK, Tables: []tableRunView{}}
		switch {
		case dr.Err != nil:
			dv.Status, dv.Error = statusFailed, scrubErr(dr.Err)
		case dr.Skipped != nil:
			// Another run of the job was copying into it, or had done the
			// slot: not a failure.
			dv.Status, dv.Error = statusPartial, scrubErr(dr.Skipped)
			skipped = true
		}
		allSkipped = allSkipped && dr.Skipped != nil && dr.Err == nil
		dv.RunID = dr.RunID
		for _, r := range dr.Results {
			tv := tableRunView{Table: r.Table, Status: string(r.Status()), Inserted: r.Inserted, Updated: r.Updated,
				Deleted: r.Deleted, Unchanged: r.Unchanged, Started: r.Started.UTC(), DurationMS: r.Duration.Milliseconds()}
			for _, w := range r.Warnings {
				tv.Warnings = append(tv.Warnings, scrub(w))
			}
			if r.Err != nil {
				tv.Error = scrubErr(r.Err)
			}
			switch r.Status() {
			case replicate.StatusSkipped:
				skipped = true
				if dv.Status == statusOK {
					dv.Status = statusPartial
				}
			case replicate.StatusFailed:
				dv.Status = statusFailed
			}
			d.Inserted += r.Inserted
			d.Updated += r.Updated
			d.Deleted += r.Deleted
			d.Unchanged += r.Unchanged
			d.Tables++
			dv.Tables = append(dv.Tables, tv)
		}
		d.Requests += dr.Requests
		d.Throttled += dr.Throttled
		d.Destinations = append(d.Destinations, dv)
	}
	switch {
	case cancelled:
		d.Status, d.Cancelled = statusPartial, true
		d.Error = "cancelled from the console"
		if err != nil && !errors.Is(err, context.Canceled) {
			d.Error += ": " + scrubErr(err)
		}
	case err != nil:
		d.Status, d.Error = statusFailed, scrubErr(err)
	case len(results) == 0:
		// Stopped (a shutdown) before its first destination: nothing
		// copied, nothing to say of the job's state.
		d.Status, d.Skipped, d.Error = statusPartial, true, "stopped before its first destination"
	case skipped:
		d.Status = statusPartial
		d.Skipped = allSkipped
	default:
		d.Status = statusOK
	}
}
