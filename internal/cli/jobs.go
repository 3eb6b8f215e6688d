package cli

import (
	"context"
	"database/sql"
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
	"github.com/plannersql/planner/internal/schedule"
	"github.com/plannersql/planner/replicate"
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
prefix, schema or source_name.

  list              the jobs, their schedules and next runs
  run [NAME...]     run jobs once, now (all when no name is given)
  serve             run jobs on their schedules until SIGINT/SIGTERM: a job
                    never overlaps itself (a slot that comes while it still
                    runs is skipped and logged), a failed run is retried with
                    backoff, a stop finishes the table in flight. Replicas
                    sharing the config are safe: each table is locked in its
                    destination.
  history [NAME]    the latest runs recorded in the destinations

Flags:
%s
Examples:
  planner jobs list
  planner jobs run nightly
  planner jobs serve --log-format json
  planner jobs history nightly --limit 50
`

// jobsFlags are the flags of every jobs subcommand.
type jobsFlags struct {
	configPath  string
	logFormat   string
	logLevel    string
	lockTimeout time.Duration
	limit       int
}

func runJobs(ctx context.Context, a *app, args []string) error {
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	fs := a.newFlagSet("jobs "+sub, jobsUsage)
	var jf jobsFlags
	fs.StringVar(&jf.configPath, "config", "", "config `FILE` (default $PLANNER_CONFIG or the user config dir)")
	fs.StringVar(&jf.logFormat, "log-format", "text", "serve, run: log format, text or json (to stderr)")
	fs.StringVar(&jf.logLevel, "log-level", "info", "serve, run: log level: debug, info, warn, error (run on a terminal: warn, as the summaries say the rest)")
	fs.DurationVar(&jf.lockTimeout, "lock-timeout", DefaultLockTimeout, "wait this long for a table another run is copying, then skip it")
	fs.IntVar(&jf.limit, "limit", 20, "history: runs shown per destination")
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
	logger, err := newLogger(a.io.Stderr, jf.logFormat, level)
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
		return jobsHistory(ctx, a.io.Stdout, f, pos, jf.limit)
	}
}

// newLogger returns a slog logger writing text or JSON to w.
func newLogger(w io.Writer, logFormat, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageErrorf("--log-level must be debug, info, warn or error, not %q", level)
	}
	ho := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(logFormat) {
	case "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
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
		if err != nil {
			return nil, withCode(ExitUsage, fmt.Errorf("jobs: %w", err))
		}
		jobs = append(jobs, *j)
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
		s, err := checkJob(f, j)
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

// jobSchedule parses a job's schedule ("" for none: a manual job, nil
// schedule). A job reading the sandbox may run every minute; one reading a
// tenant every 10 minutes at most.
func jobSchedule(j config.Job) (schedule.Schedule, error) {
	if strings.TrimSpace(j.Schedule) == "" {
		return nil, nil
	}
	min := schedule.MinInterval
	if j.Source == config.SandboxSource {
		min = schedule.SandboxMinInterval
	}
	return schedule.ParseWithMin(j.Schedule, time.Local, min)
}

// checkJob checks what can be checked of a job without running it: its
// schedule and its script. The error names the job, the file and line.
func checkJob(f *config.File, j config.Job) (schedule.Schedule, error) {
	where := fmt.Sprintf("job %s (%s:%d)", j.Name, f.Path, j.Line)
	s, err := jobSchedule(j)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	script, err := j.LoadScript()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if _, err := replicate.Parse(script); err != nil {
		return nil, fmt.Errorf("%s: script: %w", where, err)
	}
	return s, nil
}

// describeDest renders a destination for people.
func describeDest(d config.Destination) string {
	s := redactURL(d.URL)
	var extra []string
	if d.Schema != "" {
		extra = append(extra, "schema "+d.Schema)
	}
	if d.Prefix != "" {
		extra = append(extra, "prefix "+d.Prefix)
	}
	if d.SourceName != "" {
		extra = append(extra, "SourceName "+d.SourceName)
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

// jobRunner runs jobs: each destination in turn, from one source
// connection per run.
type jobRunner struct {
	logger      *slog.Logger
	lockTimeout time.Duration
	// openSource opens a job's source (the app's openSource without
	// interactive sign-in).
	openSource func(cfg *driver.Config) (*source, error)
}

// jobResult is one destination's outcome of a job run.
type jobResult struct {
	dest      config.Destination
	results   []replicate.Result
	err       error             // the destination as a whole failed
	requests  int               // Graph requests the destination's run sent
	throttled driver.Throttling // of which the service throttled
}

// sourceConfig returns the driver configuration of a job's source.
func sourceConfig(j config.Job) (*driver.Config, error) {
	if strings.EqualFold(j.Source, config.SandboxSource) {
		return &driver.Config{Sandbox: true}, nil
	}
	return &driver.Config{Profile: j.Source}, nil
}

// run runs job once into each destination. The error reports failed tables
// and destinations (locked tables are not failures: another run copies
// them); configuration problems are schedule.Permanent.
func (r *jobRunner) run(ctx context.Context, j config.Job, stop <-chan struct{}) ([]jobResult, error) {
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
	var out []jobResult
	var failures []string
	for _, d := range j.Destinations {
		select {
		case <-stop:
			log.Info("stop requested: destination skipped", "destination", redactURL(d.URL))
			continue
		default:
		}
		opts := replicate.Options{
			Logger: log, Stop: stop, LockTimeout: r.lockTimeout,
			SourceName: d.SourceName, TablePrefix: d.Prefix, Schema: d.Schema,
		}
		req0, thr0 := src.conn.Requests(), src.conn.Throttling()
		results, err := runInto(ctx, src, d.URL, script, opts)
		jr := jobResult{dest: d, results: results, err: err,
			requests: src.conn.Requests() - req0, throttled: src.conn.Throttling().Sub(thr0)}
		out = append(out, jr)
		dlog := log.With("destination", describeDest(d))
		if err != nil {
			dlog.Error("destination failed", "err", oneLine(err.Error()))
			failures = append(failures, fmt.Sprintf("%s: %v", redactURL(d.URL), err))
			continue
		}
		var ins, upd, del, unch int64
		for _, res := range results {
			ins, upd, del, unch = ins+res.Inserted, upd+res.Updated, del+res.Deleted, unch+res.Unchanged
			switch {
			case res.Err == nil:
			case errors.Is(res.Err, replicate.ErrLocked):
				dlog.Warn("table skipped: locked by another run", "table", res.Table, "err", oneLine(res.Err.Error()))
			case errors.Is(res.Err, replicate.ErrStopped):
				dlog.Info("table skipped: stop requested", "table", res.Table)
			case errors.Is(res.Err, replicate.ErrSourceUnreachable):
				dlog.Info("table skipped: the source is unreachable", "table", res.Table)
			default:
				dlog.Error("table failed", "table", res.Table, "err", oneLine(res.Err.Error()))
				failures = append(failures, fmt.Sprintf("%s %s: %v", redactURL(d.URL), res.Table, res.Err))
			}
		}
		dlog.Info("destination done", "tables", len(results), "inserted", ins, "updated", upd,
			"deleted", del, "unchanged", unch, "requests", jr.requests, "throttled", jr.throttled.Throttled,
			"retried_after_retry_after", jr.throttled.RetryAfter, "retried_after_backoff", jr.throttled.Backoff)
	}
	if len(failures) > 0 {
		return out, fmt.Errorf("job %s: %d failures; first: %s", j.Name, len(failures), oneLine(failures[0]))
	}
	return out, nil
}

func (a *app) newRunner(logger *slog.Logger, lockTimeout time.Duration) *jobRunner {
	return &jobRunner{logger: logger, lockTimeout: lockTimeout, openSource: func(cfg *driver.Config) (*source, error) {
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
	var all []replicate.Result
	var firstErr error
	var problems []error
	for _, j := range jobs {
		if _, err := checkJob(f, j); err != nil {
			problems = append(problems, fmt.Errorf("%w; the job was not run", err))
			continue
		}
		res, err := r.run(ctx, j, stop)
		for _, jr := range res {
			fmt.Fprintf(a.io.Stdout, "job %s → %s\n", j.Name, describeDest(jr.dest))
			if jr.err != nil {
				fmt.Fprintf(a.io.Stdout, "failed: %s\n\n", oneLine(jr.err.Error()))
				continue
			}
			if err := writeSummary(a.io.Stdout, jr.results, jr.requests, jr.throttled); err != nil {
				return err
			}
			fmt.Fprintln(a.io.Stdout)
			all = append(all, jr.results...)
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
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
	return resultsError("jobs run", all)
}

// ServeOptions configure ServeJobs.
type ServeOptions struct {
	// Clock drives the schedules (default the system clock).
	Clock schedule.Clock
	// Logger receives the scheduler's and the runs' logs (default: discard).
	Logger *slog.Logger
	// LockTimeout is replicate's wait for a table another run is copying
	// (default DefaultLockTimeout).
	LockTimeout time.Duration
	// Retry is the retry policy of failed runs (zero: the scheduler's defaults).
	Retry schedule.RetryPolicy
	// OnEvent receives every scheduler event (see schedule.Options.OnEvent).
	OnEvent func(schedule.Event)
	// Force, when closed, cancels runs in flight (a second interrupt).
	Force <-chan struct{}
	// OpenSource opens a job's source; default: the driver, without
	// interactive sign-in.
	OpenSource func(cfg *driver.Config) (*source, error)
}

// ServeJobs runs the jobs of f that have a schedule until ctx is done, then
// stops gracefully: runs in flight finish the table they are copying.
func ServeJobs(ctx context.Context, f *config.File, opts ServeOptions) error {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	r := &jobRunner{logger: opts.Logger, lockTimeout: opts.LockTimeout, openSource: opts.OpenSource}
	if r.openSource == nil {
		a := &app{io: IO{Stderr: io.Discard}}
		r.openSource = func(cfg *driver.Config) (*source, error) { return a.openSource(cfg, nil, false) }
	}
	var jobs []schedule.Job
	for _, j := range f.Jobs() {
		if strings.TrimSpace(j.Schedule) == "" {
			opts.Logger.Warn("job has no schedule: not served (run it with 'planner jobs run')", "job", j.Name)
			continue
		}
		s, err := checkJob(f, j)
		if err != nil {
			return fmt.Errorf("jobs serve: %w", err)
		}
		j := j
		jobs = append(jobs, schedule.Job{Name: j.Name, Schedule: s, Func: func(ctx context.Context, run *schedule.Run) error {
			_, err := r.run(ctx, j, run.Stopping())
			return err
		}})
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
	err := ServeJobs(ctx, f, ServeOptions{Logger: logger, LockTimeout: jf.lockTimeout, Force: force,
		OpenSource: func(cfg *driver.Config) (*source, error) { return a.openSource(cfg, nil, false) }})
	if errors.Is(err, schedule.ErrStopForced) {
		return withCode(ExitInterrupted, fmt.Errorf("jobs serve: %w", err))
	}
	return err
}

// jobsHistory prints the latest runs recorded in each destination of the
// named job (or of every job).
func jobsHistory(ctx context.Context, w io.Writer, f *config.File, names []string, limit int) error {
	jobs, err := selectJobs(f, names)
	if err != nil {
		return err
	}
	t := newMemRows([]string{"Job", "Destination", "Started", "Table", "SourceName", "Status", "Inserted", "Updated", "Deleted", "Unchanged", "Error"},
		"TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "INTEGER", "INTEGER", "INTEGER", "INTEGER", "TEXT")
	var failures []string
	for _, j := range jobs {
		for _, d := range j.Destinations {
			rows, err := readHistory(ctx, d, limit)
			if err != nil {
				failures = append(failures, fmt.Sprintf("job %s, %s: %v", j.Name, describeDest(d), err))
				continue
			}
			for _, r := range rows {
				t.add(append([]any{j.Name, describeDest(d)}, r...)...)
			}
		}
	}
	if err := t.write(w, format.ModeTable); err != nil {
		return err
	}
	if len(failures) > 0 {
		return fmt.Errorf("jobs history: %s", oneLine(failures[0]))
	}
	return nil
}

// readHistory reads the latest runs of a destination's history table that
// belong to it (its SourceName and prefix).
func readHistory(ctx context.Context, d config.Destination, limit int) ([][]any, error) {
	url := d.URL
	kind := destKind(url)
	table := quoteIdent(kind, replicate.DefaultHistoryTable)
	if d.Schema != "" {
		if kind == "sqlite" {
			url = sqliteSchemaFile(url, d.Schema)
		} else {
			table = quoteIdent(kind, d.Schema) + "." + table
		}
	}
	if kind == "sqlite" {
		p := strings.TrimPrefix(url, "sqlite:")
		if _, err := os.Stat(p); err != nil {
			return nil, nil // never written
		}
	}
	db, err := replicate.OpenDestination(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	defer db.Close()
	ph := func(n int) string {
		if kind == "postgres" {
			return fmt.Sprintf("$%d", n)
		}
		return "?"
	}
	q := "SELECT StartDateTime, TableName, SourceName, Status, Inserted, Updated, Deleted, Unchanged, Error FROM " + table + " WHERE 1=1"
	var args []any
	if d.SourceName != "" {
		args = append(args, d.SourceName)
		q += " AND SourceName = " + ph(len(args))
	}
	if d.Prefix != "" {
		args = append(args, d.Prefix+"%")
		q += " AND TableName LIKE " + ph(len(args))
	}
	args = append(args, limit)
	q += " ORDER BY Id DESC LIMIT " + ph(len(args))
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		if isMissingTable(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", replicate.DefaultHistoryTable, err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		var started, tbl, status string
		var srcName, errText sql.NullString
		var ins, upd, del, unch int64
		var st any
		if err := rows.Scan(&st, &tbl, &srcName, &status, &ins, &upd, &del, &unch, &errText); err != nil {
			return nil, err
		}
		switch v := st.(type) {
		case time.Time:
			started = v.UTC().Format(time.RFC3339)
		case []byte:
			started = string(v)
		default:
			started = fmt.Sprint(v)
		}
		var e any
		if errText.Valid && errText.String != "" {
			e = oneLine(errText.String)
		}
		var sn any
		if srcName.Valid {
			sn = srcName.String
		}
		out = append(out, []any{started, tbl, sn, status, ins, upd, del, unch, e})
	}
	return out, rows.Err()
}

// isMissingTable reports whether err says a table does not exist.
func isMissingTable(err error) bool {
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "no such table") || strings.Contains(s, "does not exist") || strings.Contains(s, "doesn't exist")
}

// destKind classifies a destination URL: sqlite, postgres or mysql.
func destKind(url string) string {
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return "postgres"
	case strings.HasPrefix(url, "mysql://"):
		return "mysql"
	}
	return "sqlite"
}

// quoteIdent quotes an identifier for a destination kind.
func quoteIdent(kind, name string) string {
	if kind == "mysql" {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// sqliteSchemaFile returns the URL of the file replicate attaches for a
// schema of a SQLite destination: <dir>/<main name without extension>.<schema>.db.
func sqliteSchemaFile(url, schemaName string) string {
	p := strings.TrimPrefix(url, "sqlite:")
	base := filepath.Base(p)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	var b strings.Builder
	for _, r := range strings.ToLower(schemaName) {
		if r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			for _, c := range []byte(string(r)) {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		}
	}
	return "sqlite:" + filepath.Join(filepath.Dir(p), base+"."+b.String()+".db")
}
