package replicate

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// twoPools returns a destination of kind and a second, independent pool on
// it, as two processes would have.
func twoPools(t *testing.T, kind string) (*sql.DB, *sql.DB) {
	t.Helper()
	var dstA, dstB *sql.DB
	var err error
	switch kind {
	case "sqlite":
		var path string
		dstA, path = sqliteDest(t)
		dstB, err = openDest(context.Background(), "sqlite:"+path)
	case "postgres":
		var u string
		dstA, u = pgDest(t)
		dstB, err = openDest(context.Background(), u)
	case "mysql":
		var dsn string
		dstA, dsn = mysqlDest(t)
		dstB, err = sql.Open("mysql", dsn)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dstB.Close() })
	return dstA, dstB
}

// blockedRun starts run A of script on dst; its source blocks after 5 rows
// (once A holds the run lock and is reading). release lets it finish; done
// delivers its results.
func blockedRun(t *testing.T, dst *sql.DB, script string, opts Options) (release func(), done <-chan []Result, plain *sql.DB, path string) {
	t.Helper()
	_, path = sourceDB(t, tasksDDL)
	blocked, rel := make(chan struct{}), make(chan struct{})
	slow := openHooked(t, path, &hooks{match: "/*slow*/", after: 5, onBlock: func() { close(blocked) }, release: rel})
	fillTasks(t, slow, 0, 20)
	plain, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plain.Close() })
	out := make(chan []Result, 1)
	go func() {
		opts.BatchSize = 2
		res, _ := Run(context.Background(), slow, dst, script, opts)
		out <- res
	}()
	<-blocked
	var once bool
	return func() {
		if !once {
			once = true
			close(rel)
		}
	}, out, plain, path
}

// TestRunLock runs two runs of one lock at once: the second is skipped as a
// whole at once (LockTimeout 0) with the holder named and a skipped run
// recorded, or waits for the first (LockTimeout) and then copies on its
// result. The skipped run reads nothing from the source.
func TestRunLock(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"sqlite", "postgres", "mysql"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			dstA, dstB := twoPools(t, kind)
			const script = "REPLICATE Tasks SELECT /*slow*/ * FROM Tasks"
			release, doneA, plain, path := blockedRun(t, dstA, script, Options{Job: "nightly"})
			defer release()

			// B does not wait: skipped, nothing read, the holder named.
			counting := &hooks{match: "\x00"}
			srcB := openHooked(t, path, counting)
			res, err := Run(context.Background(), srcB, dstB, script, Options{Job: "nightly"})
			var se *SkippedError
			if res != nil || !errors.Is(err, ErrSkipped) || !errors.Is(err, ErrRunInProgress) || !errors.As(err, &se) {
				t.Fatalf("second run: %v, %v; want a *SkippedError (run in progress)", res, err)
			}
			if n, m := counting.opens.Load(), counting.queries.Load(); n+m != 0 {
				t.Fatalf("the skipped run connected to the source %d times and sent it %d queries", n, m)
			}
			h := se.Holder
			if h.RunID == "" || h.PID != os.Getpid() || h.Host != hostName() || h.Since.IsZero() || h.Job != "nightly" {
				t.Fatalf("holder %+v: want the first run's id, pid, host and start", h)
			}
			msg := err.Error()
			if !strings.Contains(msg, "skipped: run in progress since ") || !strings.Contains(msg, " on "+hostName()) {
				t.Fatalf("message %q", msg)
			}
			hist, err := NewHistory(context.Background(), dstB, HistoryOptions{})
			if err != nil {
				t.Fatal(err)
			}
			skipped, err := hist.Run(context.Background(), se.RunID)
			if err != nil {
				t.Fatal(err)
			}
			if skipped.Status != StatusSkipped || skipped.Error != strings.TrimPrefix(msg, "replicate: ") || skipped.Job != "nightly" || len(skipped.Tables) != 0 {
				t.Fatalf("skipped run recorded as %+v", skipped)
			}
			running, err := hist.Run(context.Background(), h.RunID)
			if err != nil || running.Status != StatusRunning {
				t.Fatalf("the first run is recorded as %+v, %v; want running", running, err)
			}

			// A stop request ends a wait: the run has not started.
			stop := make(chan struct{})
			res, err = Run(context.Background(), plain, dstB, "REPLICATE Tasks", Options{Job: "nightly", LockTimeout: time.Hour, Stop: stop,
				OnLockWait: func(LockHolder) { close(stop) }})
			if res != nil || !errors.Is(err, ErrStopped) || errors.Is(err, ErrSkipped) {
				t.Fatalf("stopped while waiting: %v, %v", res, err)
			}

			// C waits for A (LockTimeout), then copies on A's committed result.
			waiting := make(chan LockHolder, 1)
			doneC := make(chan []Result, 1)
			go func() {
				res, err := Run(context.Background(), plain, dstB, "REPLICATE Tasks", Options{Job: "nightly", LockTimeout: time.Hour,
					OnLockWait: func(h LockHolder) { waiting <- h }})
				if err != nil {
					t.Errorf("run C: %v", err)
				}
				doneC <- res
			}()
			select {
			case w := <-waiting:
				if w.RunID != h.RunID {
					t.Errorf("C waits for %+v, want %s", w, h.RunID)
				}
			case c := <-doneC:
				t.Fatalf("C ended without waiting for A: %+v", c)
			}
			release()
			a, c := <-doneA, <-doneC
			if len(a) != 1 || len(c) != 1 || a[0].Err != nil || c[0].Err != nil {
				t.Fatalf("A: %+v, C: %+v", a, c)
			}
			wantCounts(t, a[0], counts{Inserted: 20})
			wantCounts(t, c[0], counts{Unchanged: 20}) // C saw A's rows and state: no interleaving
			assertSame(t, plain, dstA, kind, "Tasks", "")

			list, err := hist.Runs(context.Background(), RunFilter{Job: "nightly"})
			if err != nil {
				t.Fatal(err)
			}
			var st []Status
			for _, r := range list.Runs {
				st = append(st, r.Status)
			}
			if len(st) != 3 || st[0] != StatusOK || st[1] != StatusSkipped || st[2] != StatusOK || list.Total != 3 {
				t.Fatalf("runs newest first: %v (total %d), want ok (C), skipped (B), ok (A)", st, list.Total)
			}
		})
	}
}

// TestTableLockTimeout: a table whose lock another run of another lock
// holds waits Options.TableLockTimeout and then fails (it is not "skipped":
// nobody copies it for this run), with a failed history record.
func TestTableLockTimeout(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"sqlite", "postgres", "mysql"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			dst, other := twoPools(t, kind)
			ctx := context.Background()
			conn, err := other.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// take holds the table's lock as another run would; free lets it go.
			var take, free func()
			switch kind {
			case "sqlite":
				take = func() { mustExecConn(t, conn, "BEGIN IMMEDIATE") }
				free = func() { conn.ExecContext(ctx, "ROLLBACK") }
			case "postgres":
				var sch string
				if err := conn.QueryRowContext(ctx, "SELECT current_schema()").Scan(&sch); err != nil {
					t.Fatal(err)
				}
				take = func() {
					mustExecConn(t, conn, "BEGIN")
					mustExecConn(t, conn, "SELECT pg_advisory_xact_lock($1)", pgLockID(lockKey(Name{Schema: sch, Table: "Tasks"})))
				}
				free = func() { conn.ExecContext(ctx, "ROLLBACK") }
			case "mysql":
				var db string
				if err := conn.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&db); err != nil {
					t.Fatal(err)
				}
				name := mysqlLockName(Name{Schema: db, Table: "Tasks"})
				take = func() { mustExecConn(t, conn, "DO GET_LOCK(?, 0)", name) }
				free = func() { conn.ExecContext(ctx, "DO RELEASE_LOCK(?)", name) }
			}
			// SQLite's lock is taken while the run reads its source (the run
			// needs the write lock to start). It is freed when the run
			// records the table's failure (the Redact hook sees its text).
			_, path := sourceDB(t, tasksDDL)
			h := &hooks{match: "/*slow*/", after: 2, onBlock: take, release: closedChan()}
			if kind != "sqlite" {
				// PostgreSQL and MySQL lock the table before reading the source.
				take()
				h.onBlock = nil
			}
			src := openHooked(t, path, h)
			fillTasks(t, src, 0, 5)
			freed := false
			res := run(t, src, dst, "REPLICATE Tasks SELECT /*slow*/ * FROM Tasks", Options{TableLockTimeout: 50 * time.Millisecond,
				Redact: func(s string) string {
					if !freed && strings.Contains(s, "being written by another run") {
						freed = true
						free()
					}
					return s
				}})
			var le *LockedError
			if !errors.Is(res[0].Err, ErrLocked) || !errors.As(res[0].Err, &le) || res[0].Status() != StatusFailed {
				t.Fatalf("err %v status %s, want ErrLocked, failed", res[0].Err, res[0].Status())
			}
			if le.Table != "Tasks" || (kind != "sqlite" && le.Holder == "") {
				t.Fatalf("LockedError %+v: want the table and (PostgreSQL, MySQL) the holder", le)
			}
			if strings.Contains(le.Error(), "will be copied") {
				t.Fatalf("the error claims another run copies the table: %v", le)
			}
			if n := scalar[int](t, dst, "SELECT COUNT(*) FROM "+quoteFor(kind, DefaultHistoryTable)+" WHERE "+quoteFor(kind, "Status")+" = 'failed'"); n != 1 {
				t.Fatalf("%d failed history rows, want 1", n)
			}
			if n := scalar[int](t, dst, "SELECT COUNT(*) FROM "+quoteFor(kind, RunsTable)+" WHERE "+quoteFor(kind, "Status")+" = 'failed'"); n != 1 {
				t.Fatalf("%d failed runs, want 1", n)
			}
		})
	}
}

func closedChan() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

func mustExecConn(t *testing.T, c *sql.Conn, q string, args ...any) {
	t.Helper()
	if _, err := c.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestSQLiteStagedCopy: a SQLite run does not hold the destination's write
// lock while it reads the source, so other writers go on; a run of another
// lock that writes the same table meanwhile makes the staged run fail
// without writing (it never overwrites what it did not see).
func TestSQLiteStagedCopy(t *testing.T) {
	t.Parallel()
	dst, other := twoPools(t, "sqlite")
	release, doneA, plain, _ := blockedRun(t, dst, "REPLICATE Tasks SELECT /*slow*/ * FROM Tasks", Options{})
	defer release()
	// While A reads its source, the file takes writes at once.
	ctx := context.Background()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustExecConn(t, conn, "PRAGMA busy_timeout = 0")
	mustExecConn(t, conn, "BEGIN IMMEDIATE")
	mustExecConn(t, conn, "CREATE TABLE Unrelated (x)")
	mustExecConn(t, conn, "COMMIT")
	conn.Close()
	// A run of another lock copies the same table meanwhile.
	c := runOK(t, plain, other, "REPLICATE Tasks", Options{Job: "other"})
	wantCounts(t, c, counts{Inserted: 20})
	release()
	a := <-doneA
	if a[0].Err == nil || !strings.Contains(a[0].Err.Error(), "changed the table while this run read its source") {
		t.Fatalf("A: %v, want a failure saying the table changed", a[0].Err)
	}
	assertSame(t, plain, dst, "sqlite", "Tasks", "") // C's copy, untouched by A
}
