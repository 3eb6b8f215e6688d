package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/plannersql/planner/driver"
	"github.com/plannersql/planner/internal/config"
	"github.com/plannersql/planner/internal/format"
	"github.com/plannersql/planner/internal/jobcheck"
	"github.com/plannersql/planner/internal/redact"
	"github.com/plannersql/planner/internal/schedule"
	"github.com/plannersql/planner/replicate"
	"github.com/plannersql/planner/replicate/dest"
)

const jobsUsage = `Usage: planner jobs <list | run [NAME...] | serve | history [NAME]> [flags]

Replication jobs are defined in the config file ($PLANNER_CONFIG, or
~/.config/planner/config.toml; --config FILE chooses another):

  [profiles.prod]
  Tenant = "contoso.onmicrosoft.com"
  AuthScheme = "AzureServicePrincipal"
  OAuthClientId = "11111111-2222-3333-4444-555555555555"
  OAuthClientSecret = "${PROD_SECRET}"        # from the environment

  [jobs.nightly]
  source = "prod"                             # a profile, or "sandbox"
  schedule = "every 1 day at 02:00"           # every 10m … every 1 month, or cron
                                              # (every 1m for a sandbox source)
  script = "REPLICATE ALL;"                   # or script_file = "nightly.sql"
  [[jobs.nightly.destinations]]
  url = "postgres://replicator@db/warehouse"
  schema = "prod"                             # optional; also prefix, source_name
  [[jobs.nightly.destinations]]               # one account into several databases
  url = "sqlite:/var/lib/planner/prod.db"

Several accounts into one database: give each job's destination its own
prefix, schema or source_name. A relative sqlite: path is taken from the
directory planner runs in (script_file from the config file's): give jobs
absolute paths.

  list              the jobs, their schedules and next runs
  run [NAME...]     run jobs once, now (all when no name is given)
  serve             run jobs on their schedules until SIGINT/SIGTERM: a job
                    never overlaps itself (a slot that comes while it still
                    runs is skipped and logged), a failed run is retried with
                    backoff, a stop finishes the table in flight.
  history [NAME]    the latest runs recorded in the destinations (--run ID:
                    one run's tables and log)

A job's run into a destination takes a lock in that destination before it
reads Planner: runs of one job into one destination never overlap, from any
number of processes or machines. A run that finds another in progress waits
--lock-timeout, then is skipped (recorded as "skipped: run in progress since
T on H"); replicas of 'jobs serve' sharing a config run each slot once.

Alerts: 'jobs serve' sends the alerts set in console.toml beside the config
file (the Alerts page of 'planner console', see docs/console.md): an email
or a webhook POST when a run fails and when the job recovers — once per
failure streak, whichever process ran the earlier failed runs, since the
streak is read from the runs recorded in the job's destinations (a run
that failed before reaching them is known only to its own process). Its
log says at start what it will send. 'jobs run' sends none: its exit
status says how the run went.

Flags:
%s
Examples:
  planner jobs list
  planner jobs run nightly
  planner jobs serve --log-format json
  planner jobs history nightly --limit 50
  planner jobs history nightly --run 019cadc69a803034b3522fd1b135

Exit status of run: 0 ok, 1 a table or destination failed, 3 a run was
skipped (another run into its destination was in progress), 130 interrupted.
`

// jobsFlags are the flags of every jobs subcommand.
type jobsFlags struct {
	configPath  string
	logFormat   string
	logLevel    string
	lockTimeout time.Duration
	limit       int
	offset      int
	runID       string
}

func runJobs(ctx context.Context, a *app, args []string) error {
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	fs := a.newFlagSet("jobs "+sub, jobsUsage)
	var jf jobsFlags
	fs.Var(fileFlag{&jf.configPath}, "config", "config `FILE` (default $PLANNER_CONFIG or the user config dir)")
	fs.StringVar(&jf.logFormat, "log-format", "text", "serve, run: log format, text or json (to stderr)")
	fs.StringVar(&jf.logLevel, "log-level", "info", "serve, run: log level: debug, info, warn, error (run on a terminal: warn, as the summaries say the rest)")
	fs.DurationVar(&jf.lockTimeout, "lock-timeout", DefaultLockTimeout, "run, serve: wait this long for another run of the job into a destination, then skip it")
	fs.IntVar(&jf.limit, "limit", 20, "history: runs shown per destination")
	fs.IntVar(&jf.offset, "offset", 0, "history: skip this many of the newest runs per destination")
	fs.StringVar(&jf.runID, "run", "", "history: show this run's tables and log")
	if sub == "" {
		pos, err := a.parseFlags(fs, args)
		if err != nil {
			return err
		}
		if len(pos) == 0 {
			return usageErrorf("jobs: give a subcommand: list, run, serve or history (run 'planner jobs --help')")
		}
		sub, args = pos[0], pos[1:]
	}
	pos, err := a.parseFlags(fs, args)
	if err != nil {
		return err
	}
	level := jf.logLevel
	if sub == "run" && a.io.StderrTerminal && !isFlagSet(fs, "log-level") {
		// On a terminal the summary tables say what the info records
		// would say again: show only warnings and errors.
		level = "warn"
	}
	logger, err := newLogger(a.io.Stderr, jf.logFormat, level, a.secrets)
	if err != nil {
		return err
	}
	switch sub {
	case "list", "run", "serve", "history":
	default:
		return usageErrorf("jobs: unknown subcommand %q: use list, run, serve or history", sub)
	}
	f, err := loadConfig(jf.configPath)
	if err != nil {
		return err
	}
	for _, j := range f.Jobs() {
		for _, d := range j.Destinations {
			a.secrets.AddURL(d.URL)
		}
	}
	switch sub {
	case "list":
		if len(pos) > 0 {
			return usageErrorf("jobs list: takes no arguments")
		}
		return jobsList(a.io.Stdout, f, time.Now())
	case "run":
		return a.jobsRun(ctx, f, pos, jf, logger)
	case "serve":
		if len(pos) > 0 {
			return usageErrorf("jobs serve: takes no arguments (it runs every job that has a schedule)")
		}
		return a.jobsServe(ctx, f, jf, logger)
	default:
		if len(pos) > 1 {
			return usageErrorf("jobs history: give at most one job name")
		}
		return jobsHistory(ctx, a.io.Stdout, a.io.Stderr, f, pos, jf)
	}
}

// newLogger returns a slog logger writing text or JSON to w, without URL
// passwords, secret key=value pairs, or the secrets of set.
func newLogger(w io.Writer, logFormat, level string, set *redact.Set) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageErrorf("--log-level must be debug, info, warn or error, not %q", level)
	}
	ho := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(logFormat) {
	case "text":
		return slog.New(set.Handler(slog.NewTextHandler(w, ho))), nil
	case "json":
		return slog.New(set.Handler(slog.NewJSONHandler(w, ho))), nil
	}
	return nil, usageErrorf("--log-format must be text or json, not %q", logFormat)
}

// loadConfig loads the config file: path, or config.Path(). The driver
// loads profiles from config.Path(), so an explicit path is exported as
// $PLANNER_CONFIG for it.
func loadConfig(path string) (*config.File, error) {
	origin := ""
	if path != "" {
		origin = config.OriginFlag
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
		if err := os.Setenv(config.EnvVar, abs); err != nil {
			return nil, err
		}
		path = abs
	} else {
		p, err := config.Path()
		if err != nil {
			return nil, fmt.Errorf("config: %w (set $%s to the config file)", err, config.EnvVar)
		}
		path = p
	}
	f, err := config.Load(path, config.LoadOptions{
		ValidProperty: driver.IsProperty,
		PropertyNames: driver.PropertyNames(),
		MustExist:     true,
		Origin:        origin,
	})
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return f, nil
}

// selectJobs returns the named jobs, or all of them.
func selectJobs(f *config.File, names []string) ([]config.Job, error) {
	if len(names) == 0 {
		jobs := f.Jobs()
		if len(jobs) == 0 {
			return nil, fmt.Errorf("jobs: the config file %s defines no jobs: add a [jobs.NAME] section (see 'planner jobs --help')", f.Path)
		}
		return jobs, nil
	}
	var jobs []config.Job
	for _, n := range names {
		j, err := f.Job(n)
		if j == nil {
			return nil, withCode(ExitUsage, fmt.Errorf("jobs: %w", err))
		}
		jobs = append(jobs, *j) // with its Err, if any: reported by the command
	}
	return jobs, nil
}

// jobsList prints the jobs. Jobs with an invalid schedule or script are
// listed with "invalid" as their next run; the error then lists each
// problem on its own line (below the table, on stderr) and the command
// exits 1.
func jobsList(w io.Writer, f *config.File, now time.Time) error {
	t := newMemRows([]string{"Job", "Source", "Schedule", "NextRun", "Destinations"})
	var problems []error
	for _, j := range f.Jobs() {
		next := "manual (jobs run)"
		s, err := jobcheck.Check(f, j)
		switch {
		case err != nil:
			next = "invalid (see below)"
			problems = append(problems, err)
		case s != nil:
			if n := s.Next(now); !n.IsZero() {
				next = n.Format(time.RFC3339)
			} else {
				next = "never"
			}
		}
		var dests []string
		for _, d := range j.Destinations {
			dests = append(dests, describeDest(d))
		}
		t.add(j.Name, j.Source, j.Schedule, next, strings.Join(dests, "; "))
	}
	if len(t.rows) == 0 {
		_, err := fmt.Fprintf(w, "no jobs in %s\n", f.Path)
		return err
	}
	if err := t.write(w, format.ModeTable); err != nil {
		return err
	}
	return jobProblems("jobs list", problems)
}

// jobProblems joins the problems of invalid jobs into one error printed a
// problem per line.
func jobProblems(cmd string, problems []error) error {
	if len(problems) == 0 {
		return nil
	}
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = fmt.Errorf("%s: %w", cmd, p)
	}
	return errors.Join(errs...)
}

// describeDest renders a destination for people (and run records): the URL
// without its password, with schema, prefix and source name.
func describeDest(d config.Destination) string {
	return describeDestination(d.URL, d.Schema, d.Prefix, d.SourceName)
}

// jobRunner runs jobs: each destination in turn, from one source
// connection per run.
type jobRunner struct {
	logger      *slog.Logger
	lockTimeout time.Duration
	secrets     *redact.Set
	// openSource opens a job's source (the app's openSource without
	// interactive sign-in).
	openSource func(cfg *driver.Config) (*source, error)
}

// jobResult is one destination's outcome of a job run.
type jobResult struct {
	dest      config.Destination
	results   []replicate.Result
	err       error                   // the destination as a whole failed
	skipped   *replicate.SkippedError // the run was skipped (another run in progress, or the slot done)
	requests  int                     // Graph requests the destination's run sent
	throttled driver.Throttling       // of which the service throttled
}

// sourceConfig returns the driver configuration of a job's source.
func sourceConfig(j config.Job) (*driver.Config, error) {
	if config.IsSandbox(j.Source) {
		return &driver.Config{Sandbox: true}, nil
	}
	return &driver.Config{Profile: j.Source}, nil
}

// jobSlot is the schedule slot a job run belongs to (zero for jobs run).
type jobSlot struct {
	slot    time.Time
	attempt int
}

// run runs job once into each destination. The error reports failed tables
// and destinations; a destination skipped because another run of the job
// was in progress there (or had done the slot) is not a failure.
// Configuration problems are schedule.Permanent.
func (r *jobRunner) run(ctx context.Context, j config.Job, stop <-chan struct{}, slot jobSlot) ([]jobResult, error) {
	log := r.logger.With("job", j.Name)
	script, err := j.LoadScript()
	if err != nil {
		return nil, schedule.Permanent(fmt.Errorf("job %s: %w", j.Name, err))
	}
	if _, err := replicate.Parse(script); err != nil {
		return nil, schedule.Permanent(fmt.Errorf("job %s: script: %w", j.Name, err))
	}
	cfg, err := sourceConfig(j)
	if err != nil {
		return nil, schedule.Permanent(fmt.Errorf("job %s: source %s: %w", j.Name, j.Source, err))
	}
	src, err := r.openSource(cfg)
	if err != nil {
		return nil, schedule.Permanent(fmt.Errorf("job %s: %w", j.Name, err))
	}
	defer src.Close()
	ctx, endRun := src.run(ctx) // every destination is copied from one read of the source
	defer endRun()
	var out []jobResult
	var failures []string
	for _, d := range j.Destinations {
		dlog := log.With("destination", describeDest(d))
		select {
		case <-stop:
			dlog.Info("stop requested: destination skipped")
			continue
		default:
		}
		opts := replicate.Options{
			Logger: dlog, Stop: stop, LockTimeout: r.lockTimeout,
			SourceName: d.SourceName, TablePrefix: d.Prefix, Schema: d.Schema, NameStyle: replicate.NameStyle(d.NameStyle),
			Job: j.Name, Slot: slot.slot, Attempt: slot.attempt, Destination: describeDest(d),
			Requests: src.conn, RecordLog: true, Redact: r.secrets.Text,
		}
		req0, thr0 := src.conn.Requests(), src.conn.Throttling()
		results, err := runInto(ctx, src, d.URL, script, opts)
		jr := jobResult{dest: d, results: results,
			requests: src.conn.Requests() - req0, throttled: src.conn.Throttling().Sub(thr0)}
		switch {
		case results == nil && errors.Is(err, replicate.ErrStopped):
			dlog.Info("stop requested while waiting for the run in progress: destination skipped")
			continue
		case errors.As(err, &jr.skipped):
			// replicate has logged the skip (to dlog), with its run id.
			out = append(out, jr)
			continue
		case results == nil && err != nil:
			jr.err = err
			out = append(out, jr)
			dlog.Error("destination failed", "err", oneLine(err.Error()))
			failures = append(failures, fmt.Sprintf("%s: %v", describeDest(d), err))
			continue
		}
		out = append(out, jr)
		var ins, upd, del, unch int64
		for _, res := range results {
			ins, upd, del, unch = ins+res.Inserted, upd+res.Updated, del+res.Deleted, unch+res.Unchanged
			switch res.Status() {
			case replicate.StatusSkipped:
				if errors.Is(res.Err, replicate.ErrSourceUnreachable) {
					dlog.Info("table skipped: the source is unreachable", "table", res.Table)
				} else {
					dlog.Info("table skipped: stop requested", "table", res.Table)
				}
			case replicate.StatusFailed:
				// replicate has logged the failure (to dlog); it is counted here.
				failures = append(failures, describeDest(d)+": "+res.Failure())
			}
		}
		runID := ""
		if len(results) > 0 {
			runID = results[0].RunID
		}
		dlog.Info("destination done", "run", runID, "tables", len(results), "inserted", ins, "updated", upd,
			"deleted", del, "unchanged", unch, "requests", jr.requests, "throttled", jr.throttled.Throttled,
			"retried_after_retry_after", jr.throttled.RetryAfter, "retried_after_backoff", jr.throttled.Backoff)
	}
	if len(failures) > 0 {
		what := "failures"
		if len(failures) == 1 {
			what = "failure"
		}
		return out, fmt.Errorf("job %s: %d %s; first: %s", j.Name, len(failures), what, oneLine(failures[0]))
	}
	return out, nil
}

func (a *app) newRunner(logger *slog.Logger, lockTimeout time.Duration) *jobRunner {
	return &jobRunner{logger: logger, lockTimeout: lockTimeout, secrets: a.secrets, openSource: func(cfg *driver.Config) (*source, error) {
		return a.openSource(cfg, nil, false)
	}}
}

// jobsRun runs the named jobs (or all) once and prints their summaries.
func (a *app) jobsRun(ctx context.Context, f *config.File, names []string, jf jobsFlags, logger *slog.Logger) error {
	jobs, err := selectJobs(f, names)
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	var once sync.Once
	go func() {
		for n := 0; ; n++ {
			select {
			case <-ctx.Done():
				return
			case <-sigs:
				if n == 0 {
					once.Do(func() { close(stop) })
					continue
				}
				cancel()
				return
			}
		}
	}()
	r := a.newRunner(logger, jf.lockTimeout)
	var firstErr error
	skipped := 0
	var problems []error
	for _, j := range jobs {
		if _, err := jobcheck.Check(f, j); err != nil {
			problems = append(problems, fmt.Errorf("%w; the job was not run", err))
			continue
		}
		res, err := r.run(ctx, j, stop, jobSlot{})
		for _, jr := range res {
			fmt.Fprintf(a.io.Stdout, "job %s → %s\n", j.Name, describeDest(jr.dest))
			switch {
			case jr.skipped != nil:
				skipped++
				fmt.Fprintf(a.io.Stdout, "%s\n\n", strings.TrimPrefix(jr.skipped.Error(), "replicate: "))
				continue
			case jr.err != nil:
				fmt.Fprintf(a.io.Stdout, "failed: %s\n\n", a.secrets.Text(oneLine(jr.err.Error())))
				continue
			}
			if err := writeSummary(a.io.Stdout, jr.results, jr.requests, jr.throttled, a.secrets.Text); err != nil {
				return err
			}
			fmt.Fprintln(a.io.Stdout)
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if ctx.Err() != nil {
		return withCode(ExitInterrupted, errors.New("jobs run: aborted: the tables in flight were rolled back, the rest skipped"))
	}
	select {
	case <-stop:
		return withCode(ExitInterrupted, errors.New("jobs run: interrupted: the tables in flight were finished, the rest skipped"))
	default:
	}
	if err := jobProblems("jobs run", problems); err != nil {
		if firstErr != nil {
			err = errors.Join(err, fmt.Errorf("jobs run: %w", firstErr))
		}
		return err
	}
	if firstErr != nil {
		return fmt.Errorf("jobs run: %w", firstErr)
	}
	if skipped > 0 {
		runs := "runs were"
		if skipped == 1 {
			runs = "run was"
		}
		return withCode(ExitSkipped, fmt.Errorf("jobs run: %d %s skipped: another run into the same destination was in progress (see above; --lock-timeout waits for it)", skipped, runs))
	}
	return nil
}

// ServeOptions configure ServeJobs.
type ServeOptions struct {
	// Clock drives the schedules (default the system clock).
	Clock schedule.Clock
	// Logger receives the scheduler's and the runs' logs (default: discard).
	Logger *slog.Logger
	// LockTimeout is how long a run waits for another run of its job into
	// the same destination before it is skipped: 0 means
	// DefaultLockTimeout, a negative value not to wait.
	LockTimeout time.Duration
	// Secrets are removed from the runs' records (the logger should remove
	// them too: see redact.Set.Handler).
	Secrets *redact.Set
	// Retry is the retry policy of failed runs (zero: the scheduler's defaults).
	Retry schedule.RetryPolicy
	// OnEvent receives every scheduler event (see schedule.Options.OnEvent).
	OnEvent func(schedule.Event)
	// Force, when closed, cancels runs in flight (a second interrupt).
	Force <-chan struct{}
	// OpenSource opens a job's source; default: the driver, without
	// interactive sign-in.
	OpenSource func(cfg *driver.Config) (*source, error)
	// RunEnded, when set, is told of every run's end: the job, the run,
	// when it started, its results and error (the alerts of console.toml).
	RunEnded func(j config.Job, run *schedule.Run, started time.Time, res []jobResult, err error)
}

// ServeJobs runs the jobs of f that have a schedule until ctx is done, then
// stops gracefully: runs in flight finish the table they are copying.
func ServeJobs(ctx context.Context, f *config.File, opts ServeOptions) error {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case opts.LockTimeout == 0:
		opts.LockTimeout = DefaultLockTimeout
	case opts.LockTimeout < 0:
		opts.LockTimeout = 0
	}
	r := &jobRunner{logger: opts.Logger, lockTimeout: opts.LockTimeout, secrets: opts.Secrets, openSource: opts.OpenSource}
	if r.openSource == nil {
		a := &app{io: IO{Stderr: io.Discard}}
		r.openSource = func(cfg *driver.Config) (*source, error) { return a.openSource(cfg, nil, false) }
	}
	var jobs []schedule.Job
	var problems []error
	for _, j := range f.Jobs() {
		if strings.TrimSpace(j.Schedule) == "" {
			opts.Logger.Warn("job has no schedule: not served (run it with 'planner jobs run')", "job", j.Name)
			continue
		}
		s, err := jobcheck.Check(f, j)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		j := j
		jobs = append(jobs, schedule.Job{Name: j.Name, Schedule: s, Func: func(ctx context.Context, run *schedule.Run) error {
			started := time.Now()
			res, err := r.run(ctx, j, run.Stopping(), jobSlot{slot: run.Slot, attempt: run.Attempt})
			if opts.RunEnded != nil {
				opts.RunEnded(j, run, started, res, err)
			}
			return err
		}})
	}
	if err := jobProblems("jobs serve", problems); err != nil {
		return err // every invalid job, one per line
	}
	if len(jobs) == 0 {
		return fmt.Errorf("jobs serve: no job in %s has a schedule: add schedule = \"every 1h\" (or a cron expression) to a job", f.Path)
	}
	sched, err := schedule.New(schedule.Options{Clock: opts.Clock, Logger: opts.Logger, Retry: opts.Retry, OnEvent: opts.OnEvent}, jobs...)
	if err != nil {
		return fmt.Errorf("jobs serve: %w", err)
	}
	if opts.Force != nil {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-opts.Force:
				sched.ForceStop()
			case <-done:
			}
		}()
	}
	opts.Logger.Info("serving jobs", "jobs", len(jobs), "config", f.Path)
	err = sched.Run(ctx)
	opts.Logger.Info("stopped")
	return err
}

// jobsServe is 'planner jobs serve'.
func (a *app) jobsServe(ctx context.Context, f *config.File, jf jobsFlags, logger *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	force := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-sigs:
		case <-done:
			return
		}
		logger.Info("stop requested: finishing the tables in flight (signal again to abort)")
		cancel()
		select {
		case <-sigs:
			close(force)
		case <-done:
		}
	}()
	lockTimeout := jf.lockTimeout
	if lockTimeout <= 0 {
		lockTimeout = -1 // --lock-timeout 0: do not wait
	}
	alerts := a.serveAlerts(f.Path, logger)
	err := ServeJobs(ctx, f, ServeOptions{Logger: logger, LockTimeout: lockTimeout, Force: force, Secrets: a.secrets,
		OpenSource: func(cfg *driver.Config) (*source, error) { return a.openSource(cfg, nil, false) },
		RunEnded:   alertRunEnd(alerts)})
	alerts.Wait()
	if errors.Is(err, schedule.ErrStopForced) {
		return withCode(ExitInterrupted, fmt.Errorf("jobs serve: %w", err))
	}
	return err
}

// jobsHistory prints the latest runs recorded in each destination of the
// named job (or of every job), or with --run one run's tables and log. It
// reads only through replicate.History: runs of other jobs, manual runs and
// runs of the job's other destinations in the same database are not listed.
func jobsHistory(ctx context.Context, w, stderr io.Writer, f *config.File, names []string, jf jobsFlags) error {
	jobs, err := selectJobs(f, names)
	if err != nil {
		return err
	}
	if jf.runID != "" {
		return showRun(ctx, w, jobs, jf.runID)
	}
	t := newMemRows([]string{"Job", "Destination", "Run", "Started", "Status", "Tables", "Inserted", "Updated", "Deleted", "Unchanged", "Requests", "Seconds", "Error"},
		"TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "INTEGER", "INTEGER", "INTEGER", "INTEGER", "INTEGER", "INTEGER", "REAL", "TEXT")
	var failures, notes []string
	for _, j := range jobs {
		if err := j.Err(); err != nil {
			failures = append(failures, fmt.Sprintf("job %s: %v", j.Name, err))
			continue
		}
		for _, d := range j.Destinations {
			if note := missingRelativeSQLite(d.URL); note != "" {
				notes = append(notes, fmt.Sprintf("planner: jobs history: job %s, %s: %s", j.Name, describeDest(d), note))
			}
			runs, err := destinationRuns(ctx, j, d, jf.limit, jf.offset)
			if err != nil {
				failures = append(failures, fmt.Sprintf("job %s, %s: %v", j.Name, describeDest(d), err))
				continue
			}
			for _, r := range runs {
				var secs any
				if !r.Ended.IsZero() {
					secs = r.Duration.Round(time.Millisecond).Seconds()
				}
				var errText any
				if r.Error != "" {
					errText = cleanMessage(r.Error)
				}
				t.add(j.Name, describeDest(d), r.ID, r.Started.UTC().Format(time.RFC3339), string(r.Status), int64(r.TableCount),
					r.Inserted, r.Updated, r.Deleted, r.Unchanged, r.Requests, secs, errText)
			}
		}
	}
	if err := t.write(w, format.ModeTable); err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintln(stderr, n)
	}
	errs := make([]error, len(failures))
	for i, f := range failures {
		errs[i] = fmt.Errorf("jobs history: %s", oneLine(f)) // one line per destination that failed
	}
	return errors.Join(errs...)
}

// missingRelativeSQLite explains why a SQLite destination with a relative
// path shows no runs when its file is not in the current directory: the
// path is kept as written, so it names a file of the directory planner runs
// in, not of the config file's (as script_file does). "" otherwise.
func missingRelativeSQLite(rawURL string) string {
	path, ok := dest.FilePath(rawURL)
	if !ok || path == "" || filepath.IsAbs(path) {
		return ""
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		return ""
	}
	wd, _ := os.Getwd()
	return fmt.Sprintf("no file %s in %s, where this relative path points (a relative sqlite: path is taken from the directory planner runs in, not the config file's): run this from the directory the job ran in, or give the destination an absolute path", path, wd)
}

// destinationRuns reads the runs of job j recorded in destination d.
func destinationRuns(ctx context.Context, j config.Job, d config.Destination, limit, offset int) ([]replicate.RunRecord, error) {
	h, err := dest.OpenHistory(ctx, d.URL, replicate.HistoryOptions{Schema: d.Schema})
	if err != nil {
		return nil, err
	}
	defer h.Close()
	prefix, source := d.Prefix, d.SourceName
	l, err := h.Runs(ctx, replicate.RunFilter{Job: j.Name, TablePrefix: &prefix, SourceName: &source, Limit: limit, Offset: offset})
	return l.Runs, err
}

// showRun prints one run, found in the destinations of jobs: its record,
// its tables and its log.
func showRun(ctx context.Context, w io.Writer, jobs []config.Job, id string) error {
	for _, j := range jobs {
		if j.Err() != nil {
			continue // its destinations are not all known here
		}
		for _, d := range j.Destinations {
			h, err := dest.OpenHistory(ctx, d.URL, replicate.HistoryOptions{Schema: d.Schema})
			if err != nil {
				return fmt.Errorf("jobs history: job %s, %s: %w", j.Name, describeDest(d), err)
			}
			r, err := h.Run(ctx, id)
			h.Close()
			if errors.Is(err, replicate.ErrRunNotFound) || (err == nil && (r.Job != j.Name || r.TablePrefix != d.Prefix || r.SourceName != d.SourceName)) {
				continue // not this destination's (several may share a database)
			}
			if err != nil {
				return fmt.Errorf("jobs history: job %s, %s: %w", j.Name, describeDest(d), err)
			}
			return writeRun(w, j.Name, describeDest(d), r)
		}
	}
	return fmt.Errorf("jobs history: no run %s in the destinations of %s: list runs with 'planner jobs history'", id, jobNames(jobs))
}

func jobNames(jobs []config.Job) string {
	names := make([]string, len(jobs))
	for i, j := range jobs {
		names[i] = j.Name
	}
	if len(names) == 1 {
		return "job " + names[0]
	}
	return "jobs " + strings.Join(names, ", ")
}

// writeRun prints a run record with its tables and log.
func writeRun(w io.Writer, job, dest string, r replicate.RunRecord) error {
	fmt.Fprintf(w, "run %s: job %s → %s\n", r.ID, job, dest)
	fmt.Fprintf(w, "status %s, started %s on %s (pid %d)", r.Status, r.Started.UTC().Format(time.RFC3339), r.Host, r.PID)
	if !r.Ended.IsZero() {
		fmt.Fprintf(w, ", took %s", r.Duration.Round(time.Millisecond))
	}
	if !r.Slot.IsZero() {
		fmt.Fprintf(w, ", slot %s attempt %d", r.Slot.UTC().Format(time.RFC3339), r.Attempt)
	}
	tables := "tables"
	if r.TableCount == 1 {
		tables = "table"
	}
	fmt.Fprintf(w, "\n%d %s: %d inserted, %d updated, %d deleted, %d unchanged; %d Graph requests (%d throttled)\n",
		r.TableCount, tables, r.Inserted, r.Updated, r.Deleted, r.Unchanged, r.Requests, r.Throttled)
	if r.Error != "" {
		fmt.Fprintf(w, "error: %s\n", oneLine(r.Error))
	}
	if len(r.Tables) > 0 {
		t := newMemRows([]string{"Table", "Status", "Inserted", "Updated", "Deleted", "Unchanged", "Requests", "Throttled", "Seconds", "Note"},
			"TEXT", "TEXT", "INTEGER", "INTEGER", "INTEGER", "INTEGER", "INTEGER", "INTEGER", "REAL", "TEXT")
		for _, tr := range r.Tables {
			res := replicate.Result{Table: tr.Table, Source: tr.SourceName, Statement: tr.Statement}
			table := res.Label()
			note := strings.Join(tr.Warnings, "; ")
			if tr.Error != "" {
				res.Err = errors.New(tr.Error)
				note = cleanMessage(strings.TrimPrefix(res.Failure(), table+": "))
			}
			t.add(table, string(tr.Status), tr.Inserted, tr.Updated, tr.Deleted, tr.Unchanged, tr.Requests, tr.Throttled,
				tr.Duration.Round(time.Millisecond).Seconds(), oneLine(note))
		}
		if err := t.write(w, format.ModeTable); err != nil {
			return err
		}
	}
	if r.Log != "" {
		fmt.Fprintf(w, "log:\n%s", r.Log)
		if !strings.HasSuffix(r.Log, "\n") {
			fmt.Fprintln(w)
		}
	}
	return nil
}
