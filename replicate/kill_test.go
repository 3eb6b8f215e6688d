package replicate

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// The child process of TestKillMidTable reads its job from these variables.
const (
	envChild      = "REPLICATE_TEST_CHILD"
	envChildSrc   = "REPLICATE_TEST_CHILD_SRC"
	envChildDst   = "REPLICATE_TEST_CHILD_DST"
	envChildAfter = "REPLICATE_TEST_CHILD_AFTER"
)

// TestKillChild is the child process of TestKillMidTable: it starts a
// replication whose source blocks after N rows, says so on fd 3, and waits
// to be killed.
func TestKillChild(t *testing.T) {
	if os.Getenv(envChild) == "" {
		t.Skip("helper process for TestKillMidTable")
	}
	ready := os.NewFile(3, "ready")
	after, _ := strconv.Atoi(os.Getenv(envChildAfter))
	// The source blocks after `after` rows; the child reports once the run
	// has processed (and so written, in its open transaction) 1,000 rows.
	src := openHooked(t, os.Getenv(envChildSrc), &hooks{match: "/*kill*/", after: after})
	dst, err := openDest(context.Background(), os.Getenv(envChildDst))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(os.Getenv(envChildDst), "sqlite:") {
		// A tiny page cache makes SQLite spill the uncommitted rows into the WAL file.
		dst.SetMaxOpenConns(1)
		mustExec(t, dst, "PRAGMA cache_size = 2")
	}
	_, err = Run(context.Background(), src, dst, killScript, Options{BatchSize: 10, Progress: func(p Progress) {
		if p.Phase == PhaseCopy && p.Read == 1000 {
			fmt.Fprintln(ready, "blocked")
			ready.Close()
		}
	}})
	t.Fatalf("the run returned (%v); it should have been killed", err)
}

const killScript = "REPLICATE Tasks SELECT /*kill*/ * FROM Tasks"

// TestKillMidTable kills a process in the middle of a table (SIGKILL, with
// rows written in its open transaction) and checks that the destination
// keeps its previous state and that the next run converges.
func TestKillMidTable(t *testing.T) {
	if os.Getenv(envChild) != "" {
		t.Skip("in the child process")
	}
	t.Parallel()
	for _, kind := range []string{"sqlite", "postgres", "mysql"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			var dst *sql.DB
			var dstURL, walFile string
			switch kind {
			case "sqlite":
				var path string
				dst, path = sqliteDest(t)
				dstURL, walFile = "sqlite:"+path, path+"-wal"
			case "postgres":
				dst, dstURL = pgDest(t)
			case "mysql":
				var dsn string
				dst, dsn = mysqlDest(t)
				cfg, err := mysql.ParseDSN(dsn)
				if err != nil {
					t.Fatal(err)
				}
				u := url.URL{Scheme: "mysql", User: url.UserPassword(cfg.User, cfg.Passwd), Host: cfg.Addr, Path: "/" + cfg.DBName}
				if cfg.Passwd == "" {
					u.User = url.User(cfg.User)
				}
				dstURL = u.String()
			}
			src, srcPath := sourceDB(t, tasksDDL)
			fillTasks(t, src, 0, 2000)
			mustExec(t, src, "UPDATE Tasks SET Title = Title || ? ", strings.Repeat("long title ", 30))
			runOK(t, src, dst, killScript, Options{})
			before := readCanon(t, dst, kind, "SELECT "+colsFor(kind, tasksCols)+" FROM "+quoteFor(kind, "Tasks"), tasksTypes)
			history := scalar[int](t, dst, "SELECT COUNT(*) FROM "+quoteFor(kind, "planner_replicate_history"))

			mustExec(t, src, "UPDATE Tasks SET Title = 'changed', Priority = 5 WHERE rowid % 3 = 0")
			mustExec(t, src, "DELETE FROM Tasks WHERE rowid % 10 = 1")
			fillTasks(t, src, 5000, 5040)

			var walBefore int64
			if walFile != "" {
				mustExec(t, dst, "PRAGMA wal_checkpoint(TRUNCATE)")
				if fi, err := os.Stat(walFile); err == nil {
					walBefore = fi.Size()
				}
			}
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), envChild+"=1", envChildSrc+"="+srcPath, envChildDst+"="+dstURL, envChildAfter+"=1300")
			cmd.ExtraFiles = []*os.File{w}
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			line, err := bufio.NewReader(r).ReadString('\n')
			r.Close()
			if line != "blocked\n" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("child did not block (%q, %v):\n%s", line, err, out.String())
			}
			if walFile != "" {
				fi, err := os.Stat(walFile)
				if err != nil || fi.Size() <= walBefore {
					t.Errorf("no uncommitted pages reached the WAL before the kill (%v): the test proves less than it should", err)
				}
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()

			after := readCanon(t, dst, kind, "SELECT "+colsFor(kind, tasksCols)+" FROM "+quoteFor(kind, "Tasks"), tasksTypes)
			if !equalRows(before, after) {
				t.Fatal("the killed run changed the destination")
			}
			if n := scalar[int](t, dst, "SELECT COUNT(*) FROM "+quoteFor(kind, "planner_replicate_history")); n != history {
				t.Fatalf("history has %d rows after the kill, want %d", n, history)
			}
			if n := scalar[int](t, dst, "SELECT COUNT(*) FROM "+quoteFor(kind, RunsTable)+" WHERE "+quoteFor(kind, "Status")+" = 'running'"); n != 1 {
				t.Fatalf("%d runs recorded as running after the kill, want the killed one", n)
			}
			// The next run is not kept out by the dead run's lock (a SQLite
			// lease of a dead process is taken over at once; PostgreSQL and
			// MySQL release the lock when they notice the session ended, so
			// the run waits for that), and records the killed run as
			// abandoned.
			res := runOK(t, src, dst, killScript, Options{LockTimeout: time.Minute})
			wantCounts(t, res, counts{Inserted: 40, Updated: 600, Deleted: 200, Unchanged: 1200})
			if n := scalar[int](t, dst, "SELECT COUNT(*) FROM "+quoteFor(kind, RunsTable)+" WHERE "+quoteFor(kind, "Status")+" = 'abandoned'"); n != 1 {
				t.Fatalf("%d abandoned runs, want the killed one", n)
			}
			assertSame(t, src, dst, kind, "Tasks", "")
			res = runOK(t, src, dst, killScript, Options{})
			wantCounts(t, res, counts{Unchanged: 1840})
		})
	}
}
