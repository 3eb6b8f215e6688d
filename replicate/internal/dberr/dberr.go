// Package dberr classifies errors of the destination databases replicate
// writes to — SQLite (modernc.org/sqlite), PostgreSQL (pgx) and
// MySQL/MariaDB (go-sql-driver/mysql) — and of the network under them,
// without importing those drivers: it reads their error values through
// the methods and fields they export (Code, SQLState, Number), so that
// package replicate links no driver a caller did not choose.
//
// Each Kind has a hint saying what the user can do; errors of no known
// kind get none, so a hint always follows from the error.
package dberr

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"reflect"
	"strings"
	"syscall"
)

// Kind is a class of database error.
type Kind int

// The kinds Classify tells apart.
const (
	Unknown     Kind = iota
	Refused          // nothing listens at the address
	NoHost           // the host name does not resolve
	Timeout          // no answer in time
	Auth             // user name or password refused
	NoDatabase       // the named database does not exist
	Permission       // a privilege or file permission is missing
	DiskFull         // the disk (or the table's space) is full
	ReadOnly         // the database or file is read-only
	Locked           // another session holds a lock
	Syntax           // the server rejected the SQL text
	NotADB           // the file is not a SQLite database
	CantOpen         // SQLite cannot open the file
	Duplicate        // a table, column or index exists already (MySQL)
	LockTimeout      // a lock wait ended (PostgreSQL lock_timeout)
	BadSetting       // the server knows no setting of a name the URL gave
)

// sqliteCoder is modernc.org/sqlite's *Error.
type sqliteCoder interface{ Code() int }

// sqlStater is pgx's *pgconn.PgError.
type sqlStater interface{ SQLState() string }

// SQLiteCode returns the primary result code of a SQLite error (the low 8
// bits: 5 SQLITE_BUSY, 13 SQLITE_FULL, ...), or 0.
func SQLiteCode(err error) int {
	var c sqliteCoder
	if errors.As(err, &c) && isPkg(c, "modernc.org/sqlite") {
		return c.Code() & 0xff
	}
	return 0
}

// SQLState returns a PostgreSQL error's SQLSTATE, or "".
func SQLState(err error) string {
	var s sqlStater
	if errors.As(err, &s) {
		return s.SQLState()
	}
	return ""
}

// MySQLNumber returns a MySQL/MariaDB server error's number (go-sql-driver's
// *MySQLError.Number), or 0.
func MySQLNumber(err error) int {
	for e := err; e != nil; {
		v := reflect.ValueOf(e)
		if v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct &&
			v.Elem().Type().Name() == "MySQLError" && strings.HasPrefix(v.Elem().Type().PkgPath(), "github.com/go-sql-driver/mysql") {
			if f := v.Elem().FieldByName("Number"); f.IsValid() && f.CanUint() {
				return int(f.Uint())
			}
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			e = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				if n := MySQLNumber(x); n != 0 {
					return n
				}
			}
			return 0
		default:
			return 0
		}
	}
	return 0
}

// isPkg reports whether v's type (or the type it points to) is declared in pkg.
func isPkg(v any, pkg string) bool {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.PkgPath() == pkg
}

// sqliteKinds maps SQLite primary result codes to kinds.
var sqliteKinds = map[int]Kind{
	13: DiskFull,   // SQLITE_FULL
	5:  Locked,     // SQLITE_BUSY
	6:  Locked,     // SQLITE_LOCKED
	8:  ReadOnly,   // SQLITE_READONLY
	3:  Permission, // SQLITE_PERM
	23: Permission, // SQLITE_AUTH
	26: NotADB,     // SQLITE_NOTADB
	14: CantOpen,   // SQLITE_CANTOPEN
}

// pgKinds maps PostgreSQL SQLSTATEs to kinds (class 08, connection
// exceptions, is Refused).
var pgKinds = map[string]Kind{
	"28P01": Auth, "28000": Auth, "3D000": NoDatabase, "53100": DiskFull, "42501": Permission,
	"42601": Syntax, "55P03": LockTimeout, "40P01": Locked, "55006": Locked, "25006": ReadOnly, "57P03": Refused,
}

// mysqlKinds maps MySQL/MariaDB error numbers to kinds.
var mysqlKinds = map[int]Kind{
	1045: Auth, 1049: NoDatabase, 1044: Permission, 1142: Permission, 1143: Permission, 1227: Permission,
	1370: Permission, 1064: Syntax, 1205: Locked, 1213: Locked, 1021: DiskFull, 1114: DiskFull,
	1290: ReadOnly, 1792: ReadOnly, 1050: Duplicate, 1060: Duplicate, 1061: Duplicate,
	1193: BadSetting, 1231: BadSetting, 1232: BadSetting,
}

// textKinds are the kinds of drivers that flatten a network or system
// error into text.
var textKinds = []struct {
	text string
	kind Kind
}{
	{"connection refused", Refused}, {"no such host", NoHost}, {"no space left on device", DiskFull},
	{"password authentication failed", Auth}, {"i/o timeout", Timeout},
	{"unrecognized configuration parameter", BadSetting}, {"invalid value for parameter", BadSetting},
}

// Classify returns the kind of err.
func Classify(err error) Kind {
	if err == nil {
		return Unknown
	}
	if code := SQLiteCode(err); code != 0 {
		if k, ok := sqliteKinds[code]; ok {
			return k
		}
		if code == 1 && strings.Contains(err.Error(), "syntax error") {
			return Syntax
		}
	}
	if s := SQLState(err); s != "" {
		if k, ok := pgKinds[s]; ok {
			return k
		}
		if strings.HasPrefix(s, "08") {
			return Refused
		}
	}
	if k, ok := mysqlKinds[MySQLNumber(err)]; ok {
		return k
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		// The caller's context ended: nothing follows about the server.
		return Unknown
	}
	if k := systemKind(err); k != Unknown {
		return k
	}
	msg := strings.ToLower(err.Error())
	for _, tk := range textKinds {
		if strings.Contains(msg, tk.text) {
			return tk.kind
		}
	}
	return Unknown
}

// systemKind classifies the network and file system errors under a driver's.
func systemKind(err error) Kind {
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return DiskFull
	case errors.Is(err, syscall.EROFS):
		return ReadOnly
	case errors.Is(err, syscall.ECONNREFUSED):
		return Refused
	case errors.As(err, &dns) && dns.IsNotFound:
		return NoHost
	case errors.Is(err, os.ErrDeadlineExceeded), isTimeout(err):
		return Timeout
	case errors.Is(err, fs.ErrPermission):
		return Permission
	}
	return Unknown
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Hint says what to do about an error of kind k, or "" when nothing
// specific is known.
func (k Kind) Hint() string {
	switch k {
	case Refused:
		return "nothing accepted the connection: start the database server, or check the host and port in the URL"
	case NoHost:
		return "the host name does not resolve: check the host in the URL"
	case Timeout:
		return "the server did not answer in time: check the host, the port and any firewall between"
	case Auth:
		return "the server refused the credentials: check the user name and password in the URL"
	case NoDatabase:
		return "the database named in the URL does not exist: create it, or name another"
	case Permission:
		return "permission denied: grant the user the privilege (CREATE, INSERT, UPDATE, DELETE on the schema), or check the file's and directory's permissions"
	case DiskFull:
		return "the destination's disk is full: free space (or raise the quota) and run again; nothing was written"
	case ReadOnly:
		return "the destination is read-only: open it for writing (a SQLite file needs a writable file and directory; a server must not be a read-only replica)"
	case Locked:
		return "another session holds a lock on the destination: run again when it is done"
	case LockTimeout:
		return "a lock wait timed out: run again when the other session is done"
	case Syntax:
		return "the destination did not accept the SQL replicate sent: check that the server version is supported, and report it with the server version"
	case NotADB:
		return "the file is not a SQLite database: name another file"
	case CantOpen:
		return "SQLite cannot open the file: check that its directory exists and is writable"
	case BadSetting:
		return "the server refused a setting: URL parameters the driver does not know are sent to the server as settings; check the parameter's name and value in the URL, or remove it"
	}
	return ""
}

// Hint returns the hint for err's kind, or "". A missing permission and a
// read-only destination are said differently for a database server (a
// privilege, a replica) and for a SQLite file (its mode, its directory).
func Hint(err error) string {
	k := Classify(err)
	server := SQLState(err) != "" || MySQLNumber(err) != 0
	switch {
	case k == Permission && server:
		return "permission denied: grant the database user what replicate needs (CONNECT on the database, CREATE on the schema, SELECT, INSERT, UPDATE and DELETE on its tables)"
	case k == Permission:
		return "permission denied: the SQLite file and its directory must be readable and writable by this user: check their owner and mode"
	case k == ReadOnly && server:
		return "the server accepts no writes (a read-only replica, or read_only set): replicate into the primary"
	case k == ReadOnly:
		return "the SQLite file is read-only: open it for writing (not mode=ro or immutable=1; the file and its directory writable by this user)"
	}
	return k.Hint()
}

// Deduplicated returns err with repeated lines of its text removed, as pgx
// reports each connection attempt (TLS, then plain text, to each address)
// on a line of its own, often the same failure twice, and a DNS failure
// with its context and then alone. It unwraps to err.
func Deduplicated(err error) error {
	if err == nil || !strings.Contains(err.Error(), "\n") {
		return err
	}
	lines := strings.Split(err.Error(), "\n")
	var kept []string
	out := lines[:0]
next:
	for _, l := range lines {
		k := strings.TrimSpace(l)
		for _, s := range kept {
			// The same line, or one that says again what an earlier one
			// said with context ("hostname resolving error: <err>", "<err>").
			if k != "" && strings.HasSuffix(s, k) {
				continue next
			}
		}
		kept = append(kept, k)
		out = append(out, l)
	}
	return &dedupError{msg: strings.Join(out, "\n"), err: err}
}

type dedupError struct {
	msg string
	err error
}

func (e *dedupError) Error() string { return e.msg }
func (e *dedupError) Unwrap() error { return e.err }
