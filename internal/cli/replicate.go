package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/plannersql/planner/driver"
	"github.com/plannersql/planner/internal/format"
	"github.com/plannersql/planner/internal/redact"
	"github.com/plannersql/planner/replicate"
	"github.com/plannersql/planner/replicate/dest"
)

// DefaultDestination is where replicate writes without --to.
const DefaultDestination = "sqlite:planner.db"

// DefaultLockTimeout is how long replicate and jobs wait for another run
// into the same destination (see replicate's run lock) before skipping
// their run.
const DefaultLockTimeout = 10 * time.Second

const replicateUsage = `Usage: planner replicate [--sandbox | --source PROFILE | --dsn DSN] [--to DEST]
                         [--file script.sql | 'REPLICATE ...']

Copies Planner tables into a database: new rows are inserted, changed rows
updated, vanished rows deleted, unchanged rows left alone; one transaction
per table, and every run recorded in planner_replicate_history. With no
statement it runs REPLICATE ALL (every table).

DEST is sqlite:PATH[?mode=ro|rw|rwc&_pragma=...] (default sqlite:planner.db),
postgres://user@host/db or mysql://user:password@host:3306/db.

Tables and columns are named as Planner names them (Tasks.TaskId), or with
--name-style lower (tasks.taskid) or snake_case (tasks.task_id), which psql
and mysql users can write unquoted.

On a terminal, progress per table goes to stderr; at the end a summary of
inserted/updated/deleted/unchanged rows per table and the Graph requests
made is printed to stdout. The first Ctrl-C (or SIGTERM) finishes the table
in flight and skips the rest (exit status 130); a second one aborts it
(the table in flight is rolled back).

One run at a time copies into a destination with the same --schema,
--prefix and --source-name: a run that finds another one in progress waits
--lock-timeout, then is skipped as a whole — it copies nothing, records
"skipped: run in progress since T on H" in planner_replicate_runs, and
exits with status 3.

Flags:
%s
Examples:
  planner replicate --sandbox                       # every table into ./planner.db
  planner replicate --source prod --to postgres://localhost/warehouse
  planner replicate --source prod 'REPLICATE Tasks; REPLICATE Plans'
  planner replicate --source prod --to sqlite:prod.db --file nightly.sql
  planner replicate --source fabrikam --source-name fabrikam --to mysql://root@127.0.0.1:3306/planner
`

func runReplicate(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("replicate", replicateUsage)
	var sf sourceFlags
	sf.register(fs, "source")
	to := fs.String("to", DefaultDestination, "destination `URL`: sqlite:PATH, postgres://..., mysql://...")
	file := fs.String("file", "", "read the REPLICATE statements from `FILE`")
	sourceName := fs.String("source-name", "", "SourceName for statements without one (several accounts in one table)")
	prefix := fs.String("prefix", "", "table name `PREFIX` for tables named after their source")
	schemaName := fs.String("schema", "", "destination `SCHEMA` (PostgreSQL schema, MySQL database, SQLite attached file)")
	nameStyle := fs.String("name-style", "exact", "how created tables and columns are named: exact (Tasks.TaskId), lower (tasks.taskid) or snake_case (tasks.task_id)")
	lockTimeout := fs.Duration("lock-timeout", DefaultLockTimeout, "wait this long for another run into the same destination (same --schema, --prefix, --source-name), then skip this run (exit status 3)")
	progress := fs.String("progress", "auto", "per-table progress on stderr: auto (on a terminal), on, off")
	pos, err := a.parseFlags(fs, args)
	if err != nil {
		return err
	}
	a.secrets.AddURL(*to)
	// The URL's form is checked before anything is opened: an unknown
	// scheme or parameter is a usage error.
	if err := dest.Check(*to); err != nil {
		return withCode(ExitUsage, err)
	}
	style, err := replicate.ParseNameStyle(*nameStyle)
	if err != nil {
		return usageErrorf("replicate: --name-style: %s is not a name style: use %s", *nameStyle, replicate.NameStyles)
	}
	script := "REPLICATE ALL;"
	switch {
	case *file != "" && len(pos) > 0:
		return usageErrorf("replicate: give --file or a statement, not both")
	case *file != "":
		b, err := os.ReadFile(*file)
		if err != nil {
			return fmt.Errorf("replicate: read the script: %w", err)
		}
		script = string(b)
	case len(pos) == 1:
		script = pos[0]
	case len(pos) > 1:
		return usageErrorf("replicate: give the statements as one quoted argument (separated by ';'), or use --file")
	}
	if _, err := replicate.Parse(script); err != nil {
		return withCode(ExitUsage, fmt.Errorf("replicate: %w", err))
	}
	showProgress := a.io.StderrTerminal
	switch *progress {
	case "on":
		showProgress = true
	case "off":
		showProgress = false
	case "auto":
	default:
		return usageErrorf("replicate: --progress must be auto, on or off")
	}
	cfg, err := sf.config(a.io.Stderr)
	if err != nil {
		return err
	}
	src, err := a.openSource(cfg, nil, a.io.StdinTerminal || a.io.StderrTerminal)
	if err != nil {
		return err
	}
	defer src.Close()
	ctx, endRun := src.run(ctx) // the script reads each Graph object once
	defer endRun()

	stop := make(chan struct{})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stopped sync.Once
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		n := 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-sigs:
				n++
				if n == 1 {
					stopped.Do(func() { close(stop) })
					fmt.Fprintln(a.io.Stderr, "planner: stopping after the table in flight (interrupt again to abort)")
				} else {
					cancel()
					return
				}
			}
		}
	}()

	opts := replicate.Options{
		Stop: stop, LockTimeout: *lockTimeout,
		SourceName: *sourceName, TablePrefix: *prefix, Schema: *schemaName, NameStyle: style,
		Destination: describeDestination(*to, *schemaName, *prefix, *sourceName),
		Requests:    src.conn, RecordLog: true, Redact: a.secrets.Text,
		OnLockWait: func(h replicate.LockHolder) {
			fmt.Fprintf(a.io.Stderr, "planner: another run into this destination is in progress %s; waiting up to %s\n", h, *lockTimeout)
		},
	}
	if showProgress {
		p := &progressPrinter{w: a.io.Stderr, requests: src.conn.Requests, redact: a.secrets.Text}
		opts.Progress = p.report
	}
	req0, thr0 := src.conn.Requests(), src.conn.Throttling()
	results, err := runInto(ctx, src, *to, script, opts)
	if results == nil {
		switch {
		case errors.Is(err, replicate.ErrSkipped):
			return withCode(ExitSkipped, fmt.Errorf("replicate: %w; nothing was copied: run again once that run has finished, or wait longer with --lock-timeout", err))
		case errors.Is(err, replicate.ErrStopped):
			return withCode(ExitInterrupted, fmt.Errorf("replicate: interrupted: %w", err))
		case ctx.Err() != nil:
			return withCode(ExitInterrupted, fmt.Errorf("replicate: aborted: %w", err))
		}
		return fmt.Errorf("replicate: %w", err)
	}
	if err := writeSummary(a.io.Stdout, results, src.conn.Requests()-req0, src.conn.Throttling().Sub(thr0), a.secrets.Text); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return withCode(ExitInterrupted, fmt.Errorf("replicate: aborted: the table in flight was rolled back, %d skipped; run again to copy them", countErr(results, replicate.ErrStopped)))
	}
	select {
	case <-stop:
		n := countErr(results, replicate.ErrStopped)
		if n == 0 {
			// The stop came during the last table: there is nothing to run again for.
			msg := "replicate: interrupted, but no table was left to skip: the last one was finished"
			if err := resultsError("replicate", results); err != nil {
				msg += "; " + strings.TrimPrefix(err.Error(), "replicate: ")
			}
			return withCode(ExitInterrupted, errors.New(msg))
		}
		return withCode(ExitInterrupted, fmt.Errorf("replicate: interrupted: the table in flight was finished, %d skipped; run again to copy them", n))
	default:
	}
	return resultsError("replicate", results)
}

// runInto opens the destination and runs script into it. The error of a
// destination that cannot be opened says why (and what to do when the cause
// is known), never with its password.
func runInto(ctx context.Context, src *source, destURL, script string, opts replicate.Options) ([]replicate.Result, error) {
	dst, err := dest.Open(ctx, destURL)
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	return replicate.Run(ctx, src.db, dst, script, opts)
}

// describeDestination renders a destination and its scope for people and
// run records: the URL without its password, then schema, prefix and source
// name when set.
func describeDestination(url, schema, prefix, sourceName string) string {
	s := redact.URL(url)
	var extra []string
	if schema != "" {
		extra = append(extra, "schema "+schema)
	}
	if prefix != "" {
		extra = append(extra, "prefix "+prefix)
	}
	if sourceName != "" {
		extra = append(extra, "SourceName "+sourceName)
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

// resultsError summarises failed tables as the command's error.
func resultsError(cmd string, results []replicate.Result) error {
	var failed []replicate.Result
	for _, r := range results {
		if r.Status() == replicate.StatusFailed {
			failed = append(failed, r)
		}
	}
	if n := countErr(results, replicate.ErrSourceUnreachable); n > 0 && len(failed) > 0 {
		// One message for the run, not one per table.
		return fmt.Errorf("%s: %d of %d tables not copied (%d skipped unread); %s", cmd, len(failed)+n, len(results), n, failed[0].Failure())
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s: %d of %d tables failed; %s", cmd, len(failed), len(results), failed[0].Failure())
	}
	return nil
}

func countErr(results []replicate.Result, target error) int {
	n := 0
	for _, r := range results {
		if errors.Is(r.Err, target) {
			n++
		}
	}
	return n
}

// resultNote is the summary's Note column: the error, or the warnings.
func resultNote(r replicate.Result) string {
	switch {
	case errors.Is(r.Err, replicate.ErrStopped):
		return "stopped before this table"
	case errors.Is(r.Err, replicate.ErrSourceUnreachable):
		return "skipped: Microsoft Graph is unreachable"
	case r.Err != nil:
		// The Table column names the table (or statement) already.
		return cleanMessage(strings.TrimPrefix(r.Failure(), r.Label()+": "))
	}
	return oneLine(strings.Join(r.Warnings, "; "))
}

// writeSummary prints the per-table counts and the total requests, saying
// how many the service throttled (answered 429/503/504) when any were. red
// removes secrets from the notes.
func writeSummary(w io.Writer, results []replicate.Result, requests int, throttled driver.Throttling, red func(string) string) error {
	t := newMemRows([]string{"Table", "Status", "Inserted", "Updated", "Deleted", "Unchanged", "Requests", "Seconds", "Note"},
		"TEXT", "TEXT", "INTEGER", "INTEGER", "INTEGER", "INTEGER", "INTEGER", "REAL", "TEXT")
	var ins, upd, del, unch int64
	for _, r := range results {
		t.add(r.Label(), string(r.Status()), r.Inserted, r.Updated, r.Deleted, r.Unchanged, int64(r.Requests),
			float64(r.Duration.Milliseconds())/1000, red(resultNote(r)))
		ins, upd, del, unch = ins+r.Inserted, upd+r.Updated, del+r.Deleted, unch+r.Unchanged
	}
	if err := t.write(w, format.ModeTable); err != nil {
		return err
	}
	thr := ""
	if note := throttleNote(throttled); note != "" {
		thr = " (" + note + ")"
	}
	tables := "tables"
	if len(results) == 1 {
		tables = "table"
	}
	_, err := fmt.Fprintf(w, "%d %s: %d inserted, %d updated, %d deleted, %d unchanged; %d Graph requests%s\n",
		len(results), tables, ins, upd, del, unch, requests, thr)
	return err
}

// throttleNote says how many responses throttled the client (429, 503,
// 504) and what it did next — waited the Retry-After the service sent, or
// its own backoff when none was sent, or gave up — claiming nothing the
// responses did not say; "" when there were none.
func throttleNote(t driver.Throttling) string {
	switch {
	case t.Throttled <= 0:
		return ""
	case t.RetryAfter == t.Throttled:
		return fmt.Sprintf("%d throttled by the service and retried after its Retry-After", t.Throttled)
	case t.Backoff == t.Throttled:
		return fmt.Sprintf("%d throttled by the service and retried after a backoff: no Retry-After was sent", t.Throttled)
	}
	var parts []string
	if t.RetryAfter > 0 {
		parts = append(parts, fmt.Sprintf("%d retried after its Retry-After", t.RetryAfter))
	}
	if t.Backoff > 0 {
		parts = append(parts, fmt.Sprintf("%d after a backoff without one", t.Backoff))
	}
	if n := t.NotRetried(); n > 0 {
		parts = append(parts, fmt.Sprintf("%d not retried", n))
	}
	return fmt.Sprintf("%d throttled by the service: %s", t.Throttled, strings.Join(parts, ", "))
}

// progressPrinter shows replicate progress per table on a terminal.
type progressPrinter struct {
	w        io.Writer
	requests func() int
	redact   func(string) string
	mu       sync.Mutex
	req0     int
}

func (p *progressPrinter) report(pr replicate.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pr.Phase == replicate.PhaseStart {
		p.req0 = p.requests()
	}
	rate := 0.0
	if s := pr.Elapsed.Seconds(); s > 0 {
		rate = float64(pr.Read) / s
	}
	line := fmt.Sprintf("%-28s %-7s %8d rows %6d requests %9.0f rows/s", pr.Table, pr.Phase, pr.Read, p.requests()-p.req0, rate)
	if pr.Phase == replicate.PhaseDone {
		status := "ok"
		if pr.Err != nil {
			status = "failed: " + p.redact(oneLine(pr.Err.Error()))
			if errors.Is(pr.Err, replicate.ErrStopped) {
				status = "skipped: stopped"
			}
		}
		fmt.Fprintf(p.w, "\r\033[K%s  %s\n", line, status)
		return
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
}
