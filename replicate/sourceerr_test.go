package replicate

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"
	"testing"
)

// errSignIn stands for a source that cannot be connected to: a sign-in
// whose login host does not resolve, a refused connection.
var errSignIn = errors.New(`app sign-in (client credentials): Post "https://login.invalid/token": no such host`)

// failingConnector is a database/sql connector of an unknown driver whose
// every connection fails, as the planner driver's does when it cannot sign in.
type failingConnector struct{ err error }

func (c failingConnector) Connect(context.Context) (driver.Conn, error) { return nil, c.err }
func (c failingConnector) Driver() driver.Driver                        { return failingDriver(c) }

type failingDriver struct{ err error }

func (d failingDriver) Open(string) (driver.Conn, error) { return nil, d.err }

// TestUnreachableSourceError: every statement of a run over a source that
// cannot be connected to fails with the source's own error — REPLICATE ALL
// and REPLICATE TABLES (...) included, which used to report a guess (the
// source "has no sys_tables catalog and its driver is not SQLite...") —
// and the run's record and the results name the statement, never "".
func TestUnreachableSourceError(t *testing.T) {
	t.Parallel()
	src := sql.OpenDB(failingConnector{errSignIn})
	t.Cleanup(func() { src.Close() })
	tests := []struct {
		script, label string
	}{
		{"REPLICATE ALL", "REPLICATE ALL"},
		{"REPLICATE ALL EXCLUDE TABLES (Groups)", "REPLICATE ALL EXCLUDE TABLES (Groups)"},
		{"REPLICATE TABLES (Tasks, Plans)", "REPLICATE TABLES (Tasks, Plans)"},
		{"REPLICATE Tasks", "Tasks"},
		{"REPLICATE Open SELECT * FROM Tasks WHERE PercentComplete < 100", "Open"},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			t.Parallel()
			dst, _ := sqliteDest(t)
			res, err := Run(context.Background(), src, dst, tt.script, Options{})
			if len(res) != 1 {
				t.Fatalf("%d results (%v), want 1", len(res), err)
			}
			r := res[0]
			if !errors.Is(r.Err, errSignIn) || !errors.Is(err, errSignIn) {
				t.Fatalf("result error %v, run error %v: want the source's error", r.Err, err)
			}
			if n := strings.Count(r.Err.Error(), "replicate: "); n != 1 {
				t.Errorf("error %q says %q %d times", r.Err, "replicate: ", n)
			}
			for _, bad := range []string{"sys_tables", "is not SQLite", "no key known"} {
				if strings.Contains(r.Err.Error(), bad) {
					t.Errorf("error %q guesses (%q)", r.Err, bad)
				}
			}
			if r.Label() != tt.label {
				t.Errorf("Label() = %q, want %q", r.Label(), tt.label)
			}
			f := r.Failure()
			if !strings.HasPrefix(f, tt.label+": connect to the source: ") || strings.Contains(f, "replicate:") {
				t.Errorf("Failure() = %q: want %q, the label once and no repeated prefix", f, tt.label+": connect to the source: ...")
			}
			var msg string
			if err := dst.QueryRow("SELECT Error FROM planner_replicate_runs").Scan(&msg); err != nil {
				t.Fatal(err)
			}
			if want := "1 of 1 tables failed; " + tt.label + ": connect to the source: "; !strings.HasPrefix(msg, want) {
				t.Errorf("run record error %q, want it to start %q", msg, want)
			}
		})
	}
}

// TestUnreachableDestinationDriver: a destination of a wrapped driver that
// cannot be connected to reports the connection's error, not that the
// driver is unsupported.
func TestUnreachableDestinationDriver(t *testing.T) {
	t.Parallel()
	src, _ := sourceDB(t, "CREATE TABLE A (Id INTEGER PRIMARY KEY)")
	dst := sql.OpenDB(failingConnector{errors.New("dial tcp 127.0.0.1:1: connection refused")})
	t.Cleanup(func() { dst.Close() })
	_, err := Run(context.Background(), src, dst, "REPLICATE A", Options{})
	if err == nil || !strings.Contains(err.Error(), "connect to the destination") || !strings.Contains(err.Error(), "connection refused") ||
		strings.Contains(err.Error(), "unsupported") {
		t.Fatalf("error %v: want the connection's error", err)
	}
}

// TestResultLabel: results name their table (and source name) or, with no
// table, their statement on one line, cut; Failure names it once.
func TestResultLabel(t *testing.T) {
	t.Parallel()
	long := "REPLICATE ALL EXCLUDE TABLES (" + strings.Repeat("Abcdefgh, ", 10) + "X)"
	tests := []struct {
		r              Result
		label, failure string
	}{
		{Result{Table: "Tasks", Err: errors.New("replicate: table Tasks: query the source: boom")}, "Tasks", "Tasks: query the source: boom"},
		{Result{Table: "Tasks", Source: "fab", Err: errors.New("replicate: table Tasks: boom")}, "Tasks (fab)", "Tasks (fab): boom"},
		{Result{Table: "Tasks", Err: errors.New("replicate: Tasks skipped: an earlier table found the source unreachable")}, "Tasks", "Tasks skipped: an earlier table found the source unreachable"},
		{Result{Table: "Tasks", Err: errors.New("replicate: prepare destination schema x: denied")}, "Tasks", "Tasks: prepare destination schema x: denied"},
		{Result{Statement: "REPLICATE ALL\n  EXCLUDE TABLES (Groups)", Err: errors.New("replicate: connect to the source: boom")}, "REPLICATE ALL EXCLUDE TABLES (Groups)", "REPLICATE ALL EXCLUDE TABLES (Groups): connect to the source: boom"},
		{Result{Statement: long, Err: errors.New("x")}, long[:59] + "…", long[:59] + "…: x"},
		{Result{Table: "Plans"}, "Plans", ""},
	}
	for _, tt := range tests {
		if got := tt.r.Label(); got != tt.label {
			t.Errorf("Label() = %q, want %q", got, tt.label)
		}
		if got := tt.r.Failure(); got != tt.failure {
			t.Errorf("Failure() = %q, want %q", got, tt.failure)
		}
	}
}
