package replicate

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/plannersql/planner/replicate/internal/dberr"
)

// Errors of a skipped run. A skipped run returns a *SkippedError, for which
// errors.Is(err, ErrSkipped) is true, and errors.Is with ErrRunInProgress or
// ErrSlotDone says why.
var (
	// ErrSkipped means the whole run was skipped: it read nothing from the
	// source and wrote nothing but its own history record.
	ErrSkipped = errors.New("replicate: run skipped")
	// ErrRunInProgress means another run holding the same run lock was in
	// progress (for longer than Options.LockTimeout).
	ErrRunInProgress = errors.New("replicate: another run into this destination is in progress")
	// ErrSlotDone means a run of the same job, destination and schedule slot
	// had already been made (Options.Slot).
	ErrSlotDone = errors.New("replicate: this slot has already been run")
	// ErrLeaseLost means a SQLite run's lease was taken over by another run
	// (the lease expired without a heartbeat): the run wrote nothing more,
	// and the table in flight was rolled back.
	ErrLeaseLost = errors.New("replicate: the run lock's lease was taken over by another run")
)

// Defaults of the lock options.
const (
	// DefaultTableLockTimeout is Options.TableLockTimeout's default.
	DefaultTableLockTimeout = 30 * time.Minute
	// DefaultLeaseTTL is Options.LeaseTTL's default.
	DefaultLeaseTTL = 2 * time.Minute
)

// LockHolder describes the run that holds a run lock (or, for ErrSlotDone,
// the run that already did the slot), as far as the destination knows it.
type LockHolder struct {
	// RunID is the holder's run record (see History).
	RunID string `json:"runId,omitempty"`
	// Job is the holder's Options.Job.
	Job string `json:"job,omitempty"`
	// Host and PID are the holder's machine and process.
	Host string `json:"host,omitempty"`
	PID  int    `json:"pid,omitempty"`
	// Since is when the holder's run started.
	Since time.Time `json:"since,omitzero"`
	// Heartbeat is the last time a SQLite holder renewed its lease.
	Heartbeat time.Time `json:"heartbeat,omitzero"`
	// Status is the holder's run status (running, or for ErrSlotDone how
	// that run ended).
	Status Status `json:"status,omitempty"`
	// Session is what the database says about the session holding the lock
	// when no run record names it (PostgreSQL backend pid and client, MySQL
	// connection id), or "".
	Session string `json:"session,omitempty"`
}

// String describes the holder: "since 2026-03-02T09:10:00Z on host-a (pid
// 4242, run 0190f0c2a1b26c8e41d0c7a1f2b3)".
func (h LockHolder) String() string {
	var s []string
	if !h.Since.IsZero() {
		s = append(s, "since "+h.Since.UTC().Format(time.RFC3339))
	}
	if h.Host != "" {
		s = append(s, "on "+h.Host)
	}
	var paren []string
	if h.PID > 0 {
		paren = append(paren, fmt.Sprintf("pid %d", h.PID))
	}
	if h.Job != "" {
		paren = append(paren, "job "+h.Job)
	}
	if h.RunID != "" {
		paren = append(paren, "run "+h.RunID)
	}
	if h.Session != "" {
		paren = append(paren, h.Session)
	}
	out := strings.Join(s, " ")
	if len(paren) > 0 {
		if out != "" {
			out += " "
		}
		out += "(" + strings.Join(paren, ", ") + ")"
	}
	if out == "" {
		return "by an unknown holder"
	}
	return out
}

// SkippedError reports a run that was skipped as a whole. errors.Is(err,
// ErrSkipped) is true, and so is errors.Is(err, ErrRunInProgress) or
// errors.Is(err, ErrSlotDone).
type SkippedError struct {
	// RunID is the skipped run's own history record ("" if it could not be
	// written).
	RunID string
	// Holder is the run in progress, or the run that already did the slot.
	Holder LockHolder
	// Waited is how long the run waited for the lock (Options.LockTimeout).
	Waited time.Duration
	// Reason is ErrRunInProgress or ErrSlotDone.
	Reason error
}

// Error says why the run was skipped, in the words recorded in its history
// record after "replicate: ".
func (e *SkippedError) Error() string { return "replicate: " + e.message() }

// message is the text recorded in history: "skipped: run in progress since T on H (...)".
func (e *SkippedError) message() string {
	if errors.Is(e.Reason, ErrSlotDone) {
		s := "skipped: this slot was already run"
		if e.Holder.Status != "" {
			s += " (" + string(e.Holder.Status) + ")"
		}
		return s + " " + e.Holder.String()
	}
	s := "skipped: run in progress " + e.Holder.String()
	if e.Waited > 0 {
		s += fmt.Sprintf("; waited %s", e.Waited)
	}
	return s
}

// Is matches ErrSkipped and the reason.
func (e *SkippedError) Is(target error) bool { return target == ErrSkipped || target == e.Reason }

// runScope is what a run lock covers: one job (or none) into one destination
// schema with one table prefix and source name.
type runScope struct {
	Job        string `json:"job"`
	Schema     string `json:"schema"`
	Prefix     string `json:"prefix"`
	SourceName string `json:"source"`
}

// key is the lock's name: 32 hex digits of the scope's SHA-256.
func (s runScope) key() string {
	b, _ := json.Marshal(s)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}

// runLocker takes and releases one run lock.
type runLocker interface {
	// try takes the lock if it is free.
	try(ctx context.Context) (bool, error)
	// wait waits up to timeout for the lock.
	wait(ctx context.Context, timeout time.Duration) (bool, error)
	// holder describes who holds the lock (best effort).
	holder(ctx context.Context) LockHolder
	// release frees the lock.
	release(ctx context.Context) error
}

// hostName is the machine's name as recorded in history.
func hostName() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}

// newRunLocker returns the lock of the runner's scope.
func (r *runner) newRunLocker() runLocker {
	switch d := r.d.(type) {
	case *postgresDialect:
		return &pgRunLock{r: r, id: pgLockID("planner_replicate_run:" + r.lockKey)}
	case *mysqlDialect:
		h := sha256.Sum256([]byte(r.runSchema + "\x00" + r.lockKey))
		return &mysqlRunLock{r: r, d: d, name: "planner_replicate_run:" + hex.EncodeToString(h[:16])}
	default:
		return &sqliteLease{r: r}
	}
}

// runningHolder reads the holder from the run records: the latest run of the
// lock still marked running.
func (r *runner) runningHolder(ctx context.Context) (LockHolder, bool) {
	d := r.d
	q := fmt.Sprintf("SELECT %s, %s, %s, %s, %s FROM %s WHERE %s = %s AND %s = %s ORDER BY %s DESC",
		d.quote("RunId"), d.quote("Job"), d.quote("Host"), d.quote("Pid"), d.quote("StartDateTime"),
		r.runsSQL, d.quote("LockKey"), d.placeholder(1), d.quote("Status"), d.placeholder(2), d.quote("StartDateTime"))
	var h LockHolder
	var job sql.NullString
	var pid sql.NullInt64
	var since any
	if err := r.conn.QueryRowContext(ctx, q, r.lockKey, string(StatusRunning)).Scan(&h.RunID, &job, &h.Host, &pid, &since); err != nil {
		return h, false
	}
	h.Job, h.PID, h.Status = job.String, int(pid.Int64), StatusRunning
	h.Since, _ = scanTime(since)
	return h, true
}

// pgRunLock is a PostgreSQL session advisory lock on the run's connection:
// released by pg_advisory_unlock or when the session ends (the process dies).
type pgRunLock struct {
	r  *runner
	id int64
}

func (l *pgRunLock) try(ctx context.Context) (bool, error) {
	var ok bool
	err := l.r.conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", l.id).Scan(&ok)
	return ok, err
}

func (l *pgRunLock) wait(ctx context.Context, timeout time.Duration) (bool, error) {
	conn := l.r.conn
	var prev string
	if err := conn.QueryRowContext(ctx, "SELECT current_setting('lock_timeout')").Scan(&prev); err != nil {
		return false, err
	}
	if _, err := conn.ExecContext(ctx, "SELECT set_config('lock_timeout', $1, false)", fmt.Sprintf("%dms", max(timeout.Milliseconds(), 1))); err != nil {
		return false, err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT set_config('lock_timeout', $1, false)", prev) //nolint:errcheck // best effort
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", l.id); err != nil {
		if dberr.SQLState(err) == "55P03" { // lock_not_available
			return false, nil
		}
		return false, err
	}
	return true, nil
}

func (l *pgRunLock) holder(ctx context.Context) LockHolder {
	if h, ok := l.r.runningHolder(ctx); ok {
		return h
	}
	return LockHolder{Session: pgHolder(ctx, l.r.conn, l.id)}
}

func (l *pgRunLock) release(ctx context.Context) error {
	_, err := l.r.conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", l.id)
	return err
}

// mysqlRunLock is a MySQL/MariaDB named lock (GET_LOCK) on the run's
// connection, released by RELEASE_LOCK or when the connection ends.
type mysqlRunLock struct {
	r    *runner
	d    *mysqlDialect
	name string
}

func (l *mysqlRunLock) get(ctx context.Context, secs float64) (bool, error) {
	var got sql.NullInt64
	if err := l.r.conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", l.name, secs).Scan(&got); err != nil {
		return false, err
	}
	return got.Valid && got.Int64 == 1, nil
}

func (l *mysqlRunLock) try(ctx context.Context) (bool, error) { return l.get(ctx, 0) }

func (l *mysqlRunLock) wait(ctx context.Context, timeout time.Duration) (bool, error) {
	secs := timeout.Seconds()
	if !l.d.mariadb {
		secs = math.Ceil(secs) // MySQL waits whole seconds
	}
	return l.get(ctx, secs)
}

func (l *mysqlRunLock) holder(ctx context.Context) LockHolder {
	if h, ok := l.r.runningHolder(ctx); ok {
		return h
	}
	return LockHolder{Session: mysqlHolder(ctx, l.r.conn, l.name)}
}

func (l *mysqlRunLock) release(ctx context.Context) error {
	_, err := l.r.conn.ExecContext(ctx, "DO RELEASE_LOCK(?)", l.name)
	return err
}

// sqliteLease is the run lock of a SQLite destination: a row of the lock
// table (LockTable) naming the holder — run, host, process — with a
// heartbeat. SQLite has no lock that outlives a statement without holding
// the file's write lock, which would stop every other writer; the lease
// holds nothing while the run reads its source.
//
// A run takes the lease when there is no row for its scope, when the row
// has expired (its heartbeat is older than Options.LeaseTTL), or when its
// holder is provably gone: it ran on this machine (same host name, boot and
// process namespace) and no process has its pid any more.
type sqliteLease struct {
	r        *runner
	lost     atomic.Bool
	lastBeat atomic.Int64 // UnixNano of the last renewal (the heartbeat's goroutine and the run's)
	busy     bool         // wait's last attempt found the file busy (another connection's write lock)
}

// tryOnce runs one attempt: it takes the lease or returns its holder.
func (l *sqliteLease) tryOnce(ctx context.Context) (bool, LockHolder, error) {
	r, d := l.r, l.r.d
	conn := r.conn
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		// A cancelled context can interrupt the call after the transaction
		// began: never return the connection holding the write lock.
		conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") //nolint:errcheck // "no transaction is active" is the usual answer
		if isSQLiteBusy(err) {
			return false, LockHolder{}, errDestinationBusy
		}
		return false, LockHolder{}, err
	}
	committed := false
	defer func() {
		if !committed {
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") //nolint:errcheck
		}
	}()
	cols := []string{"RunId", "Job", "Host", "HostId", "Pid", "StartDateTime", "HeartbeatDateTime", "ExpiresDateTime"}
	var h LockHolder
	var job sql.NullString
	var hostID string
	var pid int64
	var since, beat, expires string
	err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE %s = ?", quoteList(d, cols), r.lockSQL, d.quote("LockKey")), r.lockKey).
		Scan(&h.RunID, &job, &h.Host, &hostID, &pid, &since, &beat, &expires)
	now := r.now()
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return false, h, fmt.Errorf("read the lease: %w", err)
	default:
		h.Job, h.PID, h.Status = job.String, int(pid), StatusRunning
		h.Since, _ = asTime(since)
		h.Heartbeat, _ = asTime(beat)
		exp, _ := asTime(expires)
		gone := canProveGone && hostID == r.hostID && !processAlive(int(pid))
		if !gone && now.Before(exp) {
			return false, h, nil
		}
		why := "its lease expired at " + exp.UTC().Format(time.RFC3339)
		if gone {
			why = fmt.Sprintf("its process (pid %d) is gone", pid)
		}
		r.log.Warn("replicate: took over the run lock of a run that did not release it", "holder", h.String(), "reason", why)
	}
	vals := []any{r.lockKey, r.runID, nullIfEmpty(r.opts.Job), r.host, r.hostID, int64(os.Getpid()),
		d.timeValue(r.started), d.timeValue(now), d.timeValue(now.Add(r.leaseTTL()))}
	all := append([]string{"LockKey"}, cols...)
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (%s) DO UPDATE SET %s",
		r.lockSQL, quoteList(d, all), placeholders(d, 1, len(all)), d.quote("LockKey"), setExcluded(d, cols)), vals...); err != nil {
		return false, h, fmt.Errorf("write the lease: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return false, h, fmt.Errorf("commit the lease: %w", err)
	}
	committed = true
	l.lastBeat.Store(now.UnixNano())
	return true, LockHolder{}, nil
}

// setExcluded is "c1 = excluded.c1, ..." for an upsert.
func setExcluded(d dialect, cols []string) string {
	set := make([]string, len(cols))
	for i, c := range cols {
		set[i] = d.quote(c) + " = excluded." + d.quote(c)
	}
	return strings.Join(set, ", ")
}

// errDestinationBusy: another connection held SQLite's write lock for
// longer than the busy timeout.
var errDestinationBusy = errors.New("the destination database is busy: another program has been writing to it for longer than its busy timeout")

func (l *sqliteLease) try(ctx context.Context) (bool, error) {
	ok, _, err := l.tryOnce(ctx)
	return ok, err
}

// wait polls the lease: SQLite has no way to be told when a row changes.
func (l *sqliteLease) wait(ctx context.Context, timeout time.Duration) (bool, error) {
	deadline := time.Now().Add(timeout)
	for {
		ok, _, err := l.tryOnce(ctx)
		l.busy = errors.Is(err, errDestinationBusy)
		if ok || (err != nil && !l.busy) {
			return ok, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false, nil
		}
		t := time.NewTimer(min(left, leasePoll))
		select {
		case <-ctx.Done():
			t.Stop()
			return false, context.Cause(ctx)
		case <-t.C:
		}
	}
}

// leasePoll is how often a run waiting for a SQLite lease looks again.
const leasePoll = 250 * time.Millisecond

func (l *sqliteLease) holder(ctx context.Context) LockHolder {
	d, r := l.r.d, l.r
	var h LockHolder
	var job sql.NullString
	var pid int64
	var since, beat string
	err := r.conn.QueryRowContext(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE %s = ?",
		quoteList(d, []string{"RunId", "Job", "Host", "Pid", "StartDateTime", "HeartbeatDateTime"}), r.lockSQL, d.quote("LockKey")), r.lockKey).
		Scan(&h.RunID, &job, &h.Host, &pid, &since, &beat)
	if err != nil {
		return h
	}
	h.Job, h.PID, h.Status = job.String, int(pid), StatusRunning
	h.Since, _ = asTime(since)
	h.Heartbeat, _ = asTime(beat)
	return h
}

func (l *sqliteLease) release(ctx context.Context) error {
	d, r := l.r.d, l.r
	_, err := r.conn.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE %s = ? AND %s = ?", r.lockSQL, d.quote("LockKey"), d.quote("RunId")), r.lockKey, r.runID)
	return err
}

// beat renews the lease on q; it marks the lease lost when another run has
// taken it over.
func (l *sqliteLease) beat(ctx context.Context, q querier) {
	d, r := l.r.d, l.r
	now := r.now()
	res, err := q.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET %s = ?, %s = ? WHERE %s = ? AND %s = ?", r.lockSQL,
		d.quote("HeartbeatDateTime"), d.quote("ExpiresDateTime"), d.quote("LockKey"), d.quote("RunId")),
		d.timeValue(now), d.timeValue(now.Add(r.leaseTTL())), r.lockKey, r.runID)
	if err != nil {
		r.log.Warn("replicate: could not renew the run lock's lease", "err", err)
		return
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		if !l.lost.Swap(true) {
			r.log.Error("replicate: the run lock's lease was taken over by another run; this run writes nothing more")
		}
		return
	}
	l.lastBeat.Store(now.UnixNano())
	r.log.Debug("replicate: renewed the run lock's lease", "expires", now.Add(r.leaseTTL()))
}

// fence renews the lease in a table's transaction, as it begins: while the
// transaction holds SQLite's write lock no other run can take the lease
// over, so a run that finds its lease gone — it was paused (SIGSTOP, a
// stalled machine) past LeaseTTL and another run took over — rolls the table
// back instead of writing over the other run's, and stops.
func (l *sqliteLease) fence(ctx context.Context, q querier) error {
	d, r := l.r.d, l.r
	now := r.now()
	res, err := q.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET %s = ?, %s = ? WHERE %s = ? AND %s = ?", r.lockSQL,
		d.quote("HeartbeatDateTime"), d.quote("ExpiresDateTime"), d.quote("LockKey"), d.quote("RunId")),
		d.timeValue(now), d.timeValue(now.Add(r.leaseTTL())), r.lockKey, r.runID)
	if err != nil {
		return fmt.Errorf("renew the run lock's lease: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("renew the run lock's lease: %w", err)
	} else if n == 0 {
		if !l.lost.Swap(true) {
			r.log.Error("replicate: the run lock's lease was taken over by another run; this run writes nothing more")
		}
		return fmt.Errorf("%w (this run's lease, last renewed at %s, expired: was the process paused?); not committed, nothing was written: the table keeps what the other run wrote",
			ErrLeaseLost, time.Unix(0, l.lastBeat.Load()).UTC().Format(time.RFC3339))
	}
	l.lastBeat.Store(now.UnixNano())
	return nil
}

// heartbeat renews the lease every LeaseTTL/4 on its own connection until
// done is closed.
func (l *sqliteLease) heartbeat(conn *sql.Conn, done <-chan struct{}) {
	t := time.NewTicker(max(l.r.leaseTTL()/4, time.Second))
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), l.r.leaseTTL()/4)
			l.beat(ctx, conn)
			cancel()
		}
	}
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
