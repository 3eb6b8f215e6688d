package cli

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plannersql/planner/internal/config"
	"github.com/plannersql/planner/internal/redact"
	"github.com/plannersql/planner/internal/schedule"
	"github.com/plannersql/planner/replicate/dest"
)

// leak is the password in every hostile URL; no output may contain it.
const leak = "S3cr3tPW"

// shortLeak starts the passwords of the URLs where a '#', '?' or '/' cuts
// the authority short, so that url.Parse quotes "scheme://user:Qx" and calls
// Qx a port: too short for a secret to remove everywhere, it must still
// never follow a ':'.
const shortLeak = "Qx"

// hostileDestinations are destination URLs with a password, most of which
// url.Parse rejects; every one fails to open (nothing listens on port 1).
var hostileDestinations = []string{
	"postgres://user:" + leak + "@127.0.0.1:1/db?connect_timeout=2",
	"postgres://user:" + leak + "%zz@127.0.0.1:1/db",
	"postgres://user:" + leak + " x@127.0.0.1:1/db",
	"postgres://user:[" + leak + "@127.0.0.1:1/db",
	"postgres://user:pw#" + leak + "@127.0.0.1:1/db",
	"postgresql://user:" + leak + "@127.0.0.1:1/db?application_name=a@b&connect_timeout=2",
	"mysql://root:" + leak + "@127.0.0.1:1/db",
	"mysql://root:" + leak + "%zz@127.0.0.1:1/db",
	"mysql://root:" + leak + "#x@127.0.0.1:1/db",
	"mysql://root:a/" + leak + "@127.0.0.1:1/db",
	"postgres://user:" + shortLeak + "#" + leak + "@127.0.0.1:1/db",
	"postgres://user:" + shortLeak + "?" + leak + "@127.0.0.1:1/db",
	"mysql://root:" + shortLeak + "/" + leak + "@127.0.0.1:1/db",
	"postgres://user@127.0.0.1:1/db?connect_timeout=2&password=" + leak, // pgx takes the password here too
	"root:" + leak + "@/db",                                             // a go-sql-driver DSN: no kind planner knows, still never shown
	"root:" + leak + "@tcp(127.0.0.1:1)/db",                             // the same with an address
}

// noLeak fails the test if any text shows the password.
func noLeak(t *testing.T, where string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(s, leak) {
			t.Errorf("%s shows the password:\n%s", where, s)
		}
		if strings.Contains(s, ":"+shortLeak) {
			t.Errorf("%s shows the start of a password (%s):\n%s", where, shortLeak, s)
		}
	}
}

// TestNoPasswordInOutput runs every command that takes a destination URL
// with each hostile URL — on the command line (--to) and in a job's config —
// and scans all they print (errors, summaries, text and JSON logs) and all
// they record (run and table history rows) for the password.
func TestNoPasswordInOutput(t *testing.T) {
	for i, u := range hostileDestinations {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			// --to
			r := run(t, runOpts{dir: dir}, "replicate", "--sandbox", "--progress", "on", "--to", u, "REPLICATE Plans")
			if r.code == 0 {
				t.Fatalf("replicate --to %s succeeded", u)
			}
			noLeak(t, "replicate --to "+u, r.stdout, r.stderr)

			// A job into the hostile destination and into a SQLite file
			// whose run fails with an error that echoes the password.
			cfgPath := filepath.Join(dir, "config.toml")
			cfg := fmt.Sprintf(`
[jobs.j]
source = "sandbox"
schedule = "every 1h"
script = "REPLICATE Plans; REPLICATE Leak SELECT %s AS Id FROM Plans;"
[[jobs.j.destinations]]
url = %q
[[jobs.j.destinations]]
url = "sqlite:ok.db"
`, leak, u)
			if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			o := runOpts{dir: dir, env: []string{"PLANNER_CONFIG=" + cfgPath}}
			// A URL that does not parse makes the job invalid: listed as
			// such, never run (nothing is recorded); the others run and fail.
			invalid := dest.Check(u) != nil
			for _, args := range [][]string{
				{"jobs", "list"},
				{"jobs", "run"},
				{"jobs", "run", "--log-format", "json", "--log-level", "debug"},
				{"jobs", "history"},
				{"jobs", "history", "--run", "nope"},
			} {
				r := run(t, o, args...)
				noLeak(t, strings.Join(args, " "), r.stdout, r.stderr)
				switch {
				case args[1] == "run" && invalid:
					if r.code != ExitError || !strings.Contains(r.stderr, "destination 1: ") || !strings.Contains(r.stderr, "the job was not run") {
						t.Errorf("%v: exit %d, want %d saying the job is invalid\n%s%s", args, r.code, ExitError, r.stdout, r.stderr)
					}
				case args[1] == "run" && (r.code != ExitError || !strings.Contains(r.stdout, "failed: ")):
					t.Errorf("%v: exit %d, want %d with the destination's failure\n%s%s", args, r.code, ExitError, r.stdout, r.stderr)
				case args[1] == "list" && invalid && (r.code != ExitError || !strings.Contains(r.stderr, "destination 1: ")):
					t.Errorf("%v: exit %d, want %d saying the job is invalid\n%s%s", args, r.code, ExitError, r.stdout, r.stderr)
				}
			}
			if invalid {
				if _, err := os.Stat(filepath.Join(dir, "ok.db")); !os.IsNotExist(err) {
					t.Errorf("the invalid job ran (%v)", err)
				}
				return
			}
			// The runs recorded in the SQLite destination.
			db := openSQLite(t, filepath.Join(dir, "ok.db"))
			noLeak(t, "history rows", dumpText(t, db, "planner_replicate_runs"), dumpText(t, db, "planner_replicate_history"))
			if n := queryInt(t, db, "SELECT count(*) FROM planner_replicate_history WHERE Status = 'failed' AND Error LIKE '%no such column%'"); n != 2 {
				t.Errorf("%d failed Leak rows, want 2 (the test proves less than it should)", n)
			}
		})
	}
}

// dumpText returns every value of a table as text.
func dumpText(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	rows, err := db.Query("SELECT * FROM " + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, vals...)
	}
	return b.String()
}

// TestServeLogsNoPassword drives 'jobs serve' (ServeJobs with the logger
// and secrets the command builds) to a run into each hostile destination
// and scans its text and JSON logs.
func TestServeLogsNoPassword(t *testing.T) {
	for _, logFormat := range []string{"text", "json"} {
		for i, u := range hostileDestinations {
			t.Run(fmt.Sprintf("%s/%d", logFormat, i), func(t *testing.T) {
				t.Parallel()
				src := fmt.Sprintf("[jobs.j]\nsource = \"sandbox\"\nschedule = \"every 1h\"\nscript = \"REPLICATE Plans;\"\n[[jobs.j.destinations]]\nurl = %q\n", u)
				f, err := config.Parse(filepath.Join(t.TempDir(), "config.toml"), src, config.LoadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				secrets := &redact.Set{}
				for _, j := range f.Jobs() {
					for _, d := range j.Destinations {
						secrets.AddURL(d.URL)
					}
				}
				var buf strings.Builder
				logger, err := newLogger(&syncWriter{w: &buf}, logFormat, "debug", secrets)
				if err != nil {
					t.Fatal(err)
				}
				clock := schedule.NewFakeClock(time.Date(2026, 3, 2, 9, 59, 0, 0, time.Local))
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if dest.Check(u) != nil {
					// A URL that does not parse makes the job invalid: serve
					// refuses it before anything runs, saying why.
					err := ServeJobs(ctx, f, ServeOptions{Clock: clock, Logger: logger, Secrets: secrets})
					if err == nil || !strings.Contains(err.Error(), "destination 1") {
						t.Fatalf("serve accepted %s: %v", u, err)
					}
					noLeak(t, "serve's error and logs", secrets.Text(err.Error()), err.Error(), buf.String())
					return
				}
				finished := make(chan schedule.Event, 10)
				done := make(chan error, 1)
				go func() {
					done <- ServeJobs(ctx, f, ServeOptions{Clock: clock, Logger: logger, Secrets: secrets, Retry: schedule.RetryPolicy{MaxAttempts: 1},
						OnEvent: func(e schedule.Event) {
							if e.Kind == schedule.EventRunFinished {
								finished <- e
							}
						}})
				}()
				if err := clock.BlockUntil(ctx, 1); err != nil {
					t.Fatal(err)
				}
				clock.Set(time.Date(2026, 3, 2, 10, 0, 0, 0, time.Local))
				e := <-finished
				cancel()
				if err := <-done; err != nil {
					t.Fatal(err)
				}
				if e.Err == nil {
					t.Fatalf("the run into %s succeeded", u)
				}
				noLeak(t, "serve logs", buf.String())
				if !strings.Contains(buf.String(), "destination failed") {
					t.Errorf("logs lack the failure:\n%s", buf.String())
				}
			})
		}
	}
}
