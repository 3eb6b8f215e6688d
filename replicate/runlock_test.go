package replicate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSQLiteLeaseTakeover: a SQLite run lock left by a run that did not
// release it is taken over once expired, or at once when its holder is
// provably gone (this machine, pid not alive); a live holder's lease is
// respected. The holder's run record becomes "abandoned".
func TestSQLiteLeaseTakeover(t *testing.T) {
	t.Parallel()
	// A pid that is certainly not alive: a process that has exited (and was waited for).
	dead := exec.Command(os.Args[0], "-test.run=^$")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadPID := dead.Process.Pid
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name      string
		hostID    string
		pid       int
		expires   time.Time
		takenOver bool
	}{
		{"live holder here", hostIdentity(), os.Getpid(), t0.Add(time.Minute), false},
		{"holder elsewhere", "other-host|boot|ns", deadPID, t0.Add(time.Minute), false},
		{"holder elsewhere, expired", "other-host|boot|ns", os.Getpid(), t0.Add(-time.Second), true},
		{"live holder here, expired", hostIdentity(), os.Getpid(), t0.Add(-time.Second), true},
		{"dead holder here", hostIdentity(), deadPID, t0.Add(time.Hour), canProveGone},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dst, _ := sqliteDest(t)
			src, _ := sourceDB(t, tasksDDL)
			fillTasks(t, src, 0, 3)
			now := func() time.Time { return t0 }
			// A first run creates the bookkeeping tables and the lock's key.
			first := runOK(t, src, dst, "REPLICATE Tasks", Options{Now: now})
			key := scalar[string](t, dst, "SELECT LockKey FROM "+RunsTable+" WHERE RunId = ?", first.RunID)
			// A holder that never released its lease, recorded as running.
			mustExec(t, dst, "INSERT INTO "+RunsTable+" (RunId, LockKey, Host, Pid, StartDateTime, Status) VALUES ('holder', ?, 'h', ?, ?, 'running')",
				key, c.pid, formatTime(t0.Add(-time.Hour)))
			mustExec(t, dst, "INSERT INTO "+LockTable+" VALUES (?, 'holder', NULL, 'h', ?, ?, ?, ?, ?)",
				key, c.hostID, c.pid, formatTime(t0.Add(-time.Hour)), formatTime(c.expires.Add(-DefaultLeaseTTL)), formatTime(c.expires))
			res, err := Run(context.Background(), src, dst, "REPLICATE Tasks", Options{Now: now})
			status := scalar[string](t, dst, "SELECT Status FROM "+RunsTable+" WHERE RunId = 'holder'")
			if !c.takenOver {
				var se *SkippedError
				if !errors.As(err, &se) || se.Holder.RunID != "holder" || se.Holder.PID != c.pid || res != nil {
					t.Fatalf("got %v, %v; want skipped, held by the holder", res, err)
				}
				if status != "running" {
					t.Fatalf("the holder's run is %s, want running", status)
				}
				// The skipped run is recorded as ended, not as running for ever.
				if n := scalar[int](t, dst, "SELECT COUNT(*) FROM "+RunsTable+" WHERE Status = 'skipped' AND EndDateTime IS NOT NULL"); n != 1 {
					t.Fatalf("%d skipped runs recorded with an end, want 1", n)
				}
				return
			}
			if err != nil || len(res) != 1 || res[0].Err != nil {
				t.Fatalf("got %v, %v; want the lease taken over", res, err)
			}
			if status != string(StatusAbandoned) {
				t.Fatalf("the holder's run is %s, want abandoned", status)
			}
			if n := scalar[int](t, dst, "SELECT COUNT(*) FROM "+LockTable); n != 0 {
				t.Fatalf("%d leases left after the run", n)
			}
		})
	}
}

// TestSlotDone: a run of a job's slot is skipped when a run of the same
// job, destination scope and slot already copied, unless it is a later
// attempt; another slot, job or scope runs.
func TestSlotDone(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		src, _ := sourceDB(t, tasksDDL)
		fillTasks(t, src, 0, 3)
		slot := time.Date(2026, 3, 2, 9, 10, 0, 0, time.UTC)
		opts := func(job string, slot time.Time, attempt int) Options {
			return Options{Job: job, Slot: slot, Attempt: attempt}
		}
		first := runOK(t, src, dst, "REPLICATE Tasks", opts("nightly", slot, 1))
		res, err := Run(context.Background(), src, dst, "REPLICATE Tasks", opts("nightly", slot, 1))
		var se *SkippedError
		if res != nil || !errors.Is(err, ErrSlotDone) || !errors.As(err, &se) || se.Holder.RunID != first.RunID || se.Holder.Status != StatusOK {
			t.Fatalf("same slot again: %v, %v; want ErrSlotDone naming the first run", res, err)
		}
		if !strings.Contains(err.Error(), "skipped: this slot was already run (ok) since") {
			t.Fatalf("message %q", err)
		}
		runOK(t, src, dst, "REPLICATE Tasks", opts("nightly", slot, 2))                // a later attempt
		runOK(t, src, dst, "REPLICATE Tasks", opts("nightly", slot.Add(time.Hour), 1)) // the next slot
		runOK(t, src, dst, "REPLICATE Tasks", opts("other", slot, 1))                  // another job
		o := opts("nightly", slot, 1)
		o.TablePrefix = "P_"
		runOK(t, src, dst, "REPLICATE Tasks", o) // another scope
		// An attempt earlier than one that ran is skipped too.
		if _, err := Run(context.Background(), src, dst, "REPLICATE Tasks", opts("nightly", slot, 1)); !errors.Is(err, ErrSlotDone) {
			t.Fatalf("attempt 1 after attempt 2: %v", err)
		}
		h, _ := NewHistory(context.Background(), dst, HistoryOptions{})
		l, err := h.Runs(context.Background(), RunFilter{Job: "nightly", Status: StatusSkipped})
		if err != nil || l.Total != 2 {
			t.Fatalf("skipped runs of nightly: %+v, %v", l, err)
		}
		for _, r := range l.Runs {
			if !r.Slot.Equal(slot) || r.Attempt != 1 {
				t.Errorf("skipped run %+v: want slot %s, attempt 1", r, slot)
			}
		}
	})
}

// TestRunErrors: Run's error is nil exactly when every table was copied, and
// joins the tables' errors otherwise, with the results returned.
func TestRunErrors(t *testing.T) {
	t.Parallel()
	src, _ := sourceDB(t, tasksDDL)
	fillTasks(t, src, 0, 3)
	dst, _ := sqliteDest(t)
	res, err := Run(context.Background(), src, dst, "REPLICATE A SELECT * FROM Nope; REPLICATE B SELECT * FROM Nada", Options{})
	if len(res) != 2 || err == nil {
		t.Fatalf("every table failed: %d results, err %v", len(res), err)
	}
	for _, r := range res {
		if !errors.Is(err, r.Err) {
			t.Errorf("the error does not join %s's: %v", r.Table, err)
		}
	}
	if !strings.Contains(err.Error(), "Nope") || !strings.Contains(err.Error(), "Nada") {
		t.Errorf("error %q", err)
	}
	res, err = Run(context.Background(), src, dst, "REPLICATE Tasks; REPLICATE A SELECT * FROM Nope", Options{})
	if len(res) != 2 || res[0].Err != nil || !errors.Is(err, res[1].Err) {
		t.Fatalf("one table failed: %+v, %v", res, err)
	}
	if res, err := Run(context.Background(), src, dst, "REPLICATE Tasks", Options{}); err != nil || len(res) != 1 {
		t.Fatalf("success: %v, %v", res, err)
	}
	// A stop request skips the rest: not copied, so an error.
	stop := make(chan struct{})
	close(stop)
	res, err = Run(context.Background(), src, dst, "REPLICATE Tasks", Options{Stop: stop})
	if !errors.Is(err, ErrStopped) || res[0].Status() != StatusSkipped {
		t.Fatalf("stopped: %+v, %v", res, err)
	}
}

// TestRecordedTextRedacted: errors recorded in history never show a URL's
// password, nor what Options.Redact removes.
func TestRecordedTextRedacted(t *testing.T) {
	t.Parallel()
	dst, _ := sqliteDest(t)
	_, path := sourceDB(t, tasksDDL)
	const secret = "S3cr3tPW"
	h := &hooks{match: "/*x*/", after: 0, err: fmt.Errorf("GET https://u:%s@graph.example/v1.0 failed; token %s-tok", secret, secret)}
	src := openHooked(t, path, h)
	fillTasks(t, src, 0, 3)
	res, err := Run(context.Background(), src, dst, "REPLICATE Tasks SELECT /*x*/ * FROM Tasks", Options{RecordLog: true,
		Redact: func(s string) string { return strings.ReplaceAll(s, secret+"-tok", "[token]") }})
	if err == nil || len(res) != 1 {
		t.Fatalf("%v, %v", res, err)
	}
	for _, q := range []string{"SELECT Error FROM " + DefaultHistoryTable, "SELECT Error || Log FROM " + RunsTable} {
		if txt := scalar[string](t, dst, q); strings.Contains(txt, secret) {
			t.Errorf("%s: %q shows the secret", q, txt)
		}
	}
}

// TestSQLiteBusyIsNoRun: a SQLite file whose write lock another program
// holds for the whole wait, with no run's lease in it, fails the run
// saying the database is busy; it is not skipped as "run in progress".
func TestSQLiteBusyIsNoRun(t *testing.T) {
	t.Parallel()
	src, _ := sourceDB(t, tasksDDL)
	fillTasks(t, src, 0, 3)
	path := filepath.Join(t.TempDir(), "busy.db")
	holder, err := openDest(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	runOK(t, src, holder, "REPLICATE Tasks", Options{})
	c, err := holder.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mustExecConn(t, c, "BEGIN EXCLUSIVE")
	defer c.ExecContext(context.Background(), "ROLLBACK")
	dst, err := openDest(context.Background(), "sqlite:"+path+"?_pragma=busy_timeout(50)")
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	res, err := Run(context.Background(), src, dst, "REPLICATE Tasks", Options{LockTimeout: 300 * time.Millisecond})
	if res != nil || err == nil || errors.Is(err, ErrSkipped) || !strings.Contains(err.Error(), "the destination database is busy") {
		t.Fatalf("got %v, %v; want the run failed, the database busy", res, err)
	}
}

// TestPanicReleases: a panic in the middle of a table (here in a Progress
// callback) reaches Run's caller, after the table's transaction was rolled
// back and the run lock released: Run does not wait for ever on its own
// transaction (PostgreSQL, MySQL), the connection goes back to the pool
// without an open transaction (SQLite), and the next run copies.
func TestPanicReleases(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		src, _ := sourceDB(t, tasksDDL)
		fillTasks(t, src, 0, 3)
		for _, ph := range []Phase{PhaseCopy, PhaseCommit} {
			done := make(chan any, 1)
			go func() {
				defer func() { done <- recover() }()
				Run(context.Background(), src, dst, "REPLICATE Tasks", Options{Progress: func(p Progress) {
					if p.Phase == ph {
						panic("boom in " + string(ph))
					}
				}})
			}()
			// A guard, not a measure: without the fix Run never returns.
			select {
			case v := <-done:
				if v != "boom in "+string(ph) {
					t.Fatalf("%s: recovered %v, want the callback's panic", ph, v)
				}
			case <-time.After(time.Minute):
				t.Fatalf("%s: Run did not return after the panic", ph)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			res, err := Run(ctx, src, dst, "REPLICATE Tasks", Options{})
			cancel()
			if err != nil || len(res) != 1 {
				t.Fatalf("%s: the run after the panic: %v, %v", ph, res, err)
			}
			if n := scalar[int](t, dst, "SELECT COUNT(*) FROM "+quoteFor(kind, "Tasks")); n != 3 {
				t.Fatalf("%s: %d rows", ph, n)
			}
		}
	})
}

// signalHandler is a slog.Handler that calls f with each record's message.
type signalHandler struct{ f func(string) }

func (h signalHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h signalHandler) Handle(_ context.Context, r slog.Record) error {
	h.f(r.Message)
	return nil
}
func (h signalHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h signalHandler) WithGroup(string) slog.Handler      { return h }

// TestSQLiteLeaseRenewedMidTable: with a pool of one connection (no
// heartbeat connection), the SQLite lease is renewed while a table's source
// is read, not only between tables: a table read for longer than LeaseTTL
// keeps its lease. The source blocks mid-table until the lease is renewed.
func TestSQLiteLeaseRenewedMidTable(t *testing.T) {
	t.Parallel()
	dst, _ := sqliteDest(t)
	dst.SetMaxOpenConns(1)
	_, path := sourceDB(t, tasksDDL)
	plain, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	fillTasks(t, plain, 0, 5)
	plain.Close()
	release := make(chan struct{})
	var once sync.Once
	renewed := false
	src := openHooked(t, path, &hooks{match: "Tasks", after: 2, release: release})
	// A guard, not a measure: without the fix nothing renews the lease
	// while the source waits, and this releases it.
	guard := time.AfterFunc(time.Minute, func() { once.Do(func() { close(release) }) })
	defer guard.Stop()
	log := slog.New(signalHandler{func(msg string) {
		if msg == "replicate: renewed the run lock's lease" {
			once.Do(func() { renewed = true; close(release) })
		}
	}})
	res, err := Run(context.Background(), src, dst, "REPLICATE Tasks", Options{LeaseTTL: 400 * time.Millisecond, Logger: log})
	if err != nil || len(res) != 1 {
		t.Fatalf("run: %v, %v", res, err)
	}
	if !renewed {
		t.Fatal("the lease was not renewed while the table's source was read")
	}
}

// TestForeignTableLock: a lock another program holds on a destination table
// (PostgreSQL LOCK TABLE, MySQL LOCK TABLES) is waited for up to
// TableLockTimeout, as a run's is; the table then fails saying a lock wait
// timed out, and the run does not stall. SQLite's file lock is covered by
// TestSQLiteBusyIsNoRun.
func TestForeignTableLock(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		lu := map[string][2]string{
			"postgres": {`LOCK TABLE "Tasks" IN ACCESS EXCLUSIVE MODE`, "ROLLBACK"},
			"mysql":    {"LOCK TABLES `Tasks` WRITE", "UNLOCK TABLES"},
		}[kind]
		lock, unlock := lu[0], lu[1]
		if lock == "" {
			t.Skip("SQLite: see TestSQLiteBusyIsNoRun")
		}
		src, _ := sourceDB(t, tasksDDL)
		fillTasks(t, src, 0, 3)
		runOK(t, src, dst, "REPLICATE Tasks", Options{})
		ctx := context.Background()
		c, err := dst.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if kind == "postgres" {
			mustExecConn(t, c, "BEGIN")
		}
		mustExecConn(t, c, lock)
		defer c.ExecContext(ctx, unlock)
		fillTasks(t, src, 3, 4)
		// A guard, not a measure: without the fix the run waits until it ends.
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		res, err := Run(rctx, src, dst, "REPLICATE Tasks", Options{TableLockTimeout: time.Second})
		if len(res) != 1 || res[0].Err == nil || !strings.Contains(err.Error(), "Lock wait timeout") && !strings.Contains(err.Error(), "lock timeout") {
			t.Fatalf("got %v, %v; want the table failed on a lock wait", res, err)
		}
		if strings.Contains(err.Error(), "did not answer in time") {
			t.Errorf("the error blames the network: %v", err)
		}
	})
}

// TestSQLiteLeaseLostBeforeCommit: a run paused (SIGSTOP, a stalled VM)
// long enough for its SQLite lease to expire, and taken over meanwhile,
// must not commit the table in flight when it resumes: the lease is checked
// (and renewed) in the table's own transaction, so the table is rolled
// back, its result says ErrLeaseLost, and the rest of the run is skipped.
// The paused run's clock is frozen and its heartbeat period (LeaseTTL/4) is
// longer than the test, so nothing but the commit can notice the takeover.
func TestSQLiteLeaseLostBeforeCommit(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		after func(t *testing.T, dst *sql.DB, key string) // once the taker's run ended
	}{
		{"taker finished", func(*testing.T, *sql.DB, string) {}},
		{"taker still holds", func(t *testing.T, dst *sql.DB, key string) {
			mustExec(t, dst, "INSERT INTO "+LockTable+" VALUES (?, 'taker', NULL, 'h', 'other-host|boot|ns', 1, ?, ?, ?)",
				key, formatTime(t0), formatTime(t0), formatTime(t0.Add(10*time.Hour)))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dst, _ := sqliteDest(t)
			_, path := sourceDB(t, tasksDDL, "CREATE TABLE Plans (PlanId TEXT PRIMARY KEY, Title TEXT)")
			plain, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer plain.Close()
			fillTasks(t, plain, 0, 5)
			mustExec(t, plain, "INSERT INTO Plans VALUES ('p1', 'one')")
			blocked, release := make(chan struct{}), make(chan struct{})
			src := openHooked(t, path, &hooks{match: "Tasks", after: 2, onBlock: func() { close(blocked) }, release: release})
			const ttl = time.Hour
			type out struct {
				res []Result
				err error
			}
			done := make(chan out, 1)
			go func() {
				res, err := Run(context.Background(), src, dst, "REPLICATE Tasks; REPLICATE Plans", Options{Now: func() time.Time { return t0 }, LeaseTTL: ttl})
				done <- out{res, err}
			}()
			<-blocked // the paused run holds the lease, mid-table
			later := func() time.Time { return t0.Add(2 * ttl) }
			taker := run(t, plain, dst, "REPLICATE Tasks", Options{Now: later, LeaseTTL: ttl})
			if len(taker) != 1 || taker[0].Err != nil {
				t.Fatalf("the taker's run: %v", taker)
			}
			key := scalar[string](t, dst, "SELECT LockKey FROM "+RunsTable+" WHERE RunId = ?", taker[0].RunID)
			c.after(t, dst, key)
			close(release) // the paused run resumes
			o := <-done
			if len(o.res) != 2 || !errors.Is(o.res[0].Err, ErrLeaseLost) || !errors.Is(o.res[1].Err, ErrLeaseLost) || !errors.Is(o.err, ErrLeaseLost) {
				t.Fatalf("the resumed run: %v, %v; want both tables failed with ErrLeaseLost", o.res, o.err)
			}
			if msg := o.res[0].Err.Error(); msg != "replicate: table Tasks: the run lock's lease was taken over by another run (this run's lease, last renewed at 2026-03-02T09:00:00Z, expired: was the process paused?); not committed, nothing was written: the table keeps what the other run wrote" {
				t.Errorf("message %q", msg)
			}
			paused := o.res[0].RunID
			if n := scalar[int](t, dst, "SELECT COUNT(*) FROM "+DefaultHistoryTable+" WHERE RunId = ? AND Error IS NULL", paused); n != 0 {
				t.Fatalf("the resumed run recorded %d tables as copied after losing its lease", n)
			}
			if n := scalar[int](t, dst, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'Plans'"); n != 0 {
				t.Fatal("the resumed run created Plans after losing its lease")
			}
			if n := scalar[int](t, dst, "SELECT COUNT(*) FROM Tasks"); n != 5 {
				t.Fatalf("Tasks has %d rows, want the taker's 5", n)
			}
			// The lease the resumed run did not own is left alone.
			want := map[string]int{"taker finished": 0, "taker still holds": 1}[c.name]
			if n := scalar[int](t, dst, "SELECT COUNT(*) FROM "+LockTable); n != want {
				t.Fatalf("%d leases left, want %d", n, want)
			}
		})
	}
}

// TestSQLiteLeaseRenewedAtCommit: a table whose transaction outlasts
// LeaseTTL (the heartbeat cannot write while the transaction holds the
// write lock) leaves the lease renewed as of its commit, not expired for a
// waiting run to take over between tables. The run's clock jumps two TTLs
// after the table's transaction began (at PhaseCommit).
func TestSQLiteLeaseRenewedAtCommit(t *testing.T) {
	t.Parallel()
	dst, path := sqliteDest(t)
	src, _ := sourceDB(t, tasksDDL, "CREATE TABLE Plans (PlanId TEXT PRIMARY KEY, Title TEXT)")
	fillTasks(t, src, 0, 3)
	mustExec(t, src, "INSERT INTO Plans VALUES ('p1', 'one')")
	const ttl = time.Hour
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	watch, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	var expires string
	progress := func(p Progress) {
		switch {
		case p.Table == "Tasks" && p.Phase == PhaseCommit:
			mu.Lock()
			now = now.Add(2 * ttl) // the table's transaction takes two TTLs
			mu.Unlock()
		case p.Table == "Plans" && p.Phase == PhaseStart:
			if err := watch.QueryRow("SELECT ExpiresDateTime FROM " + LockTable).Scan(&expires); err != nil {
				t.Errorf("read the lease between tables: %v", err)
			}
		}
	}
	res, err := Run(context.Background(), src, dst, "REPLICATE Tasks; REPLICATE Plans", Options{Now: clock, LeaseTTL: ttl, Progress: progress})
	if err != nil || len(res) != 2 {
		t.Fatalf("run: %v, %v", res, err)
	}
	got, _ := asTime(expires)
	if want := t0.Add(3 * ttl); !got.Equal(want) {
		t.Fatalf("between tables the lease expires at %s, want %s (renewed as Tasks committed)", expires, want.Format(time.RFC3339))
	}
}
