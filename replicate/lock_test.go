package replicate

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestLocking runs two replications of one table at once: the second fails
// at once (LockTimeout 0) or after its timeout with ErrLocked naming the
// table, or waits and then runs after the first committed.
func TestLocking(t *testing.T) {
	t.Parallel()
	for _, dc := range destCases {
		t.Run(dc.name, func(t *testing.T) {
			t.Parallel()
			kind := dc.name
			// Two independent pools on one destination, as two processes would have.
			var dstA, dstB *sql.DB
			switch kind {
			case "sqlite":
				var path string
				dstA, path = sqliteDest(t)
				var err error
				if dstB, err = OpenDestination(context.Background(), "sqlite:"+path); err != nil {
					t.Fatal(err)
				}
			case "postgres":
				var u string
				dstA, u = pgDest(t)
				var err error
				if dstB, err = OpenDestination(context.Background(), u); err != nil {
					t.Fatal(err)
				}
			case "mysql":
				var dsn string
				dstA, dsn = mysqlDest(t)
				var err error
				if dstB, err = sql.Open("mysql", dsn); err != nil {
					t.Fatal(err)
				}
			}
			defer dstB.Close()

			_, path := sourceDB(t, tasksDDL)
			blocked, release := make(chan struct{}), make(chan struct{})
			h := &hooks{match: "/*slow*/", after: 5, onBlock: func() { close(blocked) }, release: release}
			slow := openHooked(t, path, h)
			fillTasks(t, slow, 0, 20)
			plain, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer plain.Close()

			// Run A holds the lock, blocked mid-table (it reports PhaseCopy
			// once locked; its source blocks after 5 rows).
			doneA, copying := make(chan Result), make(chan struct{})
			go func() {
				res, err := Run(context.Background(), slow, dstA, "REPLICATE Tasks SELECT /*slow*/ * FROM Tasks", Options{BatchSize: 2,
					Progress: func(p Progress) {
						if p.Phase == PhaseCopy && p.Read == 0 {
							close(copying)
						}
					}})
				if err != nil {
					t.Error(err)
				}
				doneA <- res[0]
			}()
			<-blocked
			<-copying

			// Run B does not wait.
			res := run(t, plain, dstB, "REPLICATE Tasks", Options{})
			var le *LockedError
			if !errors.Is(res[0].Err, ErrLocked) || !errors.As(res[0].Err, &le) || res[0].Status() != StatusSkipped {
				t.Fatalf("second run: err %v status %s, want ErrLocked/skipped", res[0].Err, res[0].Status())
			}
			if le.Table != "Tasks" || !strings.Contains(le.Error(), "Tasks") {
				t.Fatalf("LockedError %+v does not name the table", le)
			}
			if kind != "sqlite" && le.Holder == "" {
				t.Fatalf("LockedError %v does not say who holds the lock", le)
			}
			t.Logf("locked: %v", le)

			// Run B waits a little and gives up.
			// (That it really waits is run C's part below; no test times it.)
			res = run(t, plain, dstB, "REPLICATE Tasks", Options{LockTimeout: 300 * time.Millisecond})
			if !errors.Is(res[0].Err, ErrLocked) || !errors.As(res[0].Err, &le) {
				t.Fatalf("second run with a timeout: err %v, want ErrLocked", res[0].Err)
			}
			if le.Waited != 300*time.Millisecond || !strings.Contains(le.Error(), "gave up after waiting 300ms") {
				t.Fatalf("LockedError %v does not say it waited its LockTimeout", le)
			}

			// Run C waits for A, then runs on A's committed result.
			waiting := make(chan struct{})
			doneC := make(chan Result)
			go func() {
				res, err := Run(context.Background(), plain, dstB, "REPLICATE Tasks", Options{LockTimeout: time.Minute,
					Progress: func(p Progress) {
						if p.Phase == PhaseLock {
							close(waiting)
						}
					}})
				if err != nil {
					t.Error(err)
				}
				doneC <- res[0]
			}()
			<-waiting
			close(release)
			a, c := <-doneA, <-doneC
			if a.Err != nil || c.Err != nil {
				t.Fatalf("A: %v, C: %v", a.Err, c.Err)
			}
			wantCounts(t, a, counts{Inserted: 20})
			wantCounts(t, c, counts{Unchanged: 20}) // C saw A's rows and state: no interleaving
			assertSame(t, plain, dstA, kind, "Tasks", "")
		})
	}
}
