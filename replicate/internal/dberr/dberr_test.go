package dberr

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	_ "modernc.org/sqlite"
)

// TestClassify: each driver's errors are told apart through what the driver
// exports, wrapped or not; an error of no known kind gets no hint.
func TestClassify(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, syntaxErr := db.Exec("CREATE TABLEX t (x)")
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"sqlite syntax", syntaxErr, Syntax},
		{"pg auth", &pgconn.PgError{Code: "28P01"}, Auth},
		{"pg disk full", fmt.Errorf("write: %w", &pgconn.PgError{Code: "53100"}), DiskFull},
		{"pg no database", &pgconn.PgError{Code: "3D000"}, NoDatabase},
		{"pg permission", &pgconn.PgError{Code: "42501"}, Permission},
		{"pg lock timeout", &pgconn.PgError{Code: "55P03"}, LockTimeout},
		{"mysql auth", &mysql.MySQLError{Number: 1045}, Auth},
		{"mysql table full", fmt.Errorf("write: %w", &mysql.MySQLError{Number: 1114}), DiskFull},
		{"mysql duplicate", errors.Join(errors.New("x"), &mysql.MySQLError{Number: 1061}), Duplicate},
		{"mysql syntax", &mysql.MySQLError{Number: 1064}, Syntax},
		{"enospc", &os.PathError{Op: "write", Path: "/x", Err: syscall.ENOSPC}, DiskFull},
		{"eacces", &os.PathError{Op: "open", Path: "/x", Err: syscall.EACCES}, Permission},
		{"refused", &net.OpError{Op: "dial", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}, Refused},
		{"no host", &net.DNSError{Err: "no such host", Name: "db.invalid", IsNotFound: true}, NoHost},
		{"plain", errors.New("something else"), Unknown},
		{"pg unknown setting", &pgconn.PgError{Code: "42704", Message: `unrecognized configuration parameter "x"`}, BadSetting},
		{"pg unknown type", &pgconn.PgError{Code: "42704", Message: `type "x" does not exist`}, Unknown},
		{"caller's deadline", fmt.Errorf("count rows: %w", context.DeadlineExceeded), Unknown},
		{"caller's cancel", fmt.Errorf("count rows: %w", context.Canceled), Unknown},
		{"mysql unknown variable", &mysql.MySQLError{Number: 1193, Message: "Unknown system variable 'x'"}, BadSetting},
	}
	for _, tt := range tests {
		if got := Classify(tt.err); got != tt.want {
			t.Errorf("%s: Classify(%v) = %d, want %d", tt.name, tt.err, got, tt.want)
		}
		if (Hint(tt.err) == "") != (tt.want == Unknown || tt.want == Duplicate) {
			t.Errorf("%s: hint %q", tt.name, Hint(tt.err))
		}
	}
	// A permission or read-only error is said for what it is about: a
	// server's privileges, or a SQLite file's mode.
	for _, tt := range []struct {
		name       string
		err        error
		want, dont string
	}{
		{"pg permission", &pgconn.PgError{Code: "42501"}, "grant the database user", "file"},
		{"mysql permission", &mysql.MySQLError{Number: 1142}, "grant the database user", "file"},
		{"file permission", &os.PathError{Op: "open", Path: "/x", Err: syscall.EACCES}, "SQLite file and its directory", "grant"},
		{"pg read-only", &pgconn.PgError{Code: "25006"}, "replica", "SQLite"},
		{"mysql read-only", &mysql.MySQLError{Number: 1290}, "replica", "SQLite"},
	} {
		h := Hint(tt.err)
		if !strings.Contains(h, tt.want) || strings.Contains(h, tt.dont) {
			t.Errorf("%s: hint %q, want it to say %q and not %q", tt.name, h, tt.want, tt.dont)
		}
	}
	if SQLiteCode(syntaxErr) != 1 {
		t.Errorf("SQLiteCode = %d", SQLiteCode(syntaxErr))
	}
	if MySQLNumber(fmt.Errorf("a: %w", &mysql.MySQLError{Number: 1205})) != 1205 {
		t.Error("MySQLNumber through a wrap")
	}
}

func TestDeduplicated(t *testing.T) {
	t.Parallel()
	base := errors.New("failed:\n\ta: refused\n\ta: refused\n\tb: refused")
	d := Deduplicated(base)
	if d.Error() != "failed:\n\ta: refused\n\tb: refused" || !errors.Is(d, base) {
		t.Fatalf("Deduplicated = %q", d)
	}
	// pgx says a DNS failure twice: with its context, then alone.
	dns := errors.New("failed to connect to `user=u database=db`:\n\thostname resolving error: lookup x.invalid: no such host\n\tlookup x.invalid: no such host")
	if d := Deduplicated(dns).Error(); d != "failed to connect to `user=u database=db`:\n\thostname resolving error: lookup x.invalid: no such host" {
		t.Fatalf("Deduplicated = %q", d)
	}
}
