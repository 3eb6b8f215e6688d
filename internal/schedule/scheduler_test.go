package schedule

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// t0 is a Monday, 10:03 UTC.
var t0 = time.Date(2024, 5, 6, 10, 3, 0, 0, time.UTC)

func hm(h, m int) time.Time { return time.Date(2024, 5, 6, h, m, 0, 0, time.UTC) }

// safety bounds a wait on a channel that the code under test must fill; it is a
// deadlock guard, never a synchronisation device.
const safety = 20 * time.Second

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(safety):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a slog handler and
// the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// records returns the JSON log records.
func (s *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(s.b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// harness runs a Scheduler on a FakeClock and records its events and logs.
type harness struct {
	t      *testing.T
	clock  *FakeClock
	s      *Scheduler
	logs   *syncBuffer
	events chan Event
	cancel context.CancelFunc
	done   chan error

	backlog []Event // events received but not returned by next yet

	mu   sync.Mutex
	seen []Event

	once   sync.Once
	result error
}

func start(t *testing.T, opts Options, jobs ...Job) *harness {
	t.Helper()
	h := &harness{
		t:      t,
		clock:  NewFakeClock(t0),
		logs:   &syncBuffer{},
		events: make(chan Event, 4096),
		done:   make(chan error, 1),
	}
	opts.Clock = h.clock
	opts.Logger = slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.OnEvent = func(e Event) {
		h.mu.Lock()
		h.seen = append(h.seen, e)
		h.mu.Unlock()
		h.events <- e
	}
	s, err := New(opts, jobs...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.s = s
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		s.ForceStop()
		h.wait()
	})
	return h
}

// wait returns Run's result, waiting for it once.
func (h *harness) wait() error {
	h.t.Helper()
	h.once.Do(func() { h.result = recv(h.t, h.done, "Run to return") })
	return h.result
}

// next returns the first event, in emission order, of kind for job (any job if
// empty) that satisfies match (if not nil) and that no earlier call returned. Events
// of other kinds stay available to later calls.
func (h *harness) next(kind EventKind, job string, match func(Event) bool) Event {
	h.t.Helper()
	ok := func(e Event) bool {
		return e.Kind == kind && (job == "" || e.Job == job) && (match == nil || match(e))
	}
	for i, e := range h.backlog {
		if ok(e) {
			h.backlog = slices.Delete(h.backlog, i, i+1)
			return e
		}
	}
	deadline := time.After(safety)
	for {
		select {
		case e := <-h.events:
			if ok(e) {
				return e
			}
			h.backlog = append(h.backlog, e)
		case <-deadline:
			h.t.Fatalf("timed out waiting for a %q event of job %q", kind, job)
		}
	}
}

// slotIs matches events for slot.
func slotIs(slot time.Time) func(Event) bool {
	return func(e Event) bool { return e.Slot.Equal(slot) }
}

// fireSlot waits until job waits for slot, then moves the clock there.
func (h *harness) fireSlot(job string, slot time.Time) {
	h.t.Helper()
	h.next(EventSlotScheduled, job, slotIs(slot))
	h.clock.Set(slot)
}

// count returns how many recorded events of kind there are for job.
func (h *harness) count(kind EventKind, job string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, e := range h.seen {
		if e.Kind == kind && e.Job == job {
			n++
		}
	}
	return n
}

func every(t *testing.T, spec string) Schedule { return mustParse(t, spec, time.UTC) }

func TestSchedulerRunsJobOnSlots(t *testing.T) {
	runs := make(chan *Run, 10)
	job := Job{Name: "sync", Schedule: every(t, "every 10m"), Func: func(ctx context.Context, r *Run) error {
		if Stopping(ctx) == nil {
			return errors.New("job context carries no stop channel")
		}
		if r.StopRequested() {
			return errors.New("stop requested too early")
		}
		runs <- r
		return nil
	}}
	h := start(t, Options{}, job)

	for _, slot := range []time.Time{hm(10, 10), hm(10, 20)} {
		h.fireSlot("sync", slot)
		r := recv(t, runs, "the run")
		if r.Job != "sync" || !r.Slot.Equal(slot) || r.Attempt != 1 {
			t.Errorf("run = {%s %s %d}, want {sync %s 1}", r.Job, r.Slot, r.Attempt, slot)
		}
		if fin := h.next(EventRunFinished, "sync", slotIs(slot)); fin.Err != nil {
			t.Errorf("RunFinished.Err = %v", fin.Err)
		}
	}
	h.cancel()
	if err := h.wait(); err != nil {
		t.Errorf("Run = %v, want nil after a graceful stop", err)
	}
}

func TestSchedulerSkipsOverlappingSlot(t *testing.T) {
	started := make(chan time.Time, 10)
	release := make(chan struct{})
	job := Job{Name: "sync", Schedule: every(t, "every 10m"), Func: func(ctx context.Context, r *Run) error {
		started <- r.Slot
		<-release
		return nil
	}}
	h := start(t, Options{}, job)

	h.fireSlot("sync", hm(10, 10))
	recv(t, started, "the 10:10 run")
	h.fireSlot("sync", hm(10, 20))
	skip := h.next(EventSlotSkipped, "sync", nil)
	if !skip.Slot.Equal(hm(10, 20)) {
		t.Errorf("skipped slot %s, want 10:20", skip.Slot)
	}
	h.next(EventSlotScheduled, "sync", slotIs(hm(10, 30)))
	close(release)
	h.next(EventRunFinished, "sync", slotIs(hm(10, 10)))
	h.clock.Set(hm(10, 30))
	if got := recv(t, started, "the 10:30 run"); !got.Equal(hm(10, 30)) {
		t.Errorf("next run slot %s, want 10:30", got)
	}
	h.next(EventRunFinished, "sync", slotIs(hm(10, 30)))
	h.cancel()
	if err := h.wait(); err != nil {
		t.Fatal(err)
	}

	found := false
	for _, r := range h.logs.records(t) {
		if r["level"] == "WARN" && strings.Contains(fmt.Sprint(r["msg"]), "slot skipped") {
			found = true
			if r["job"] != "sync" || r["slot"] != "2024-05-06T10:20:00Z" || r["running_slot"] != "2024-05-06T10:10:00Z" {
				t.Errorf("skip log record = %v", r)
			}
		}
	}
	if !found {
		t.Error("no WARN log record for the skipped slot")
	}
	if n := h.count(EventSlotSkipped, "sync"); n != 1 {
		t.Errorf("%d slots skipped, want 1", n)
	}
}

func TestSchedulerRetryBackoff(t *testing.T) {
	var attempts atomic.Int32
	job := Job{
		Name:     "flaky",
		Schedule: every(t, "every 1h"),
		Retry:    &RetryPolicy{MaxAttempts: 5, InitialBackoff: time.Minute, MaxBackoff: 4 * time.Minute},
		Func: func(ctx context.Context, r *Run) error {
			if int(attempts.Add(1)) != r.Attempt {
				return Permanent(fmt.Errorf("attempt %d out of order", r.Attempt))
			}
			if !r.Slot.Equal(hm(11, 0)) {
				return Permanent(fmt.Errorf("retry moved to slot %s", r.Slot))
			}
			return errors.New("graph unavailable")
		},
	}
	h := start(t, Options{}, job)
	h.fireSlot("flaky", hm(11, 0))

	want := []time.Time{hm(11, 1), hm(11, 3), hm(11, 7), hm(11, 11)} // 1m, 2m, 4m, 4m (capped)
	for i, w := range want {
		e := h.next(EventRetryScheduled, "flaky", nil)
		if !e.RetryAt.Equal(w) || e.Attempt != i+1 || e.Err == nil || !e.Slot.Equal(hm(11, 0)) {
			t.Fatalf("retry %d: RetryAt %s attempt %d err %v slot %s; want RetryAt %s attempt %d",
				i+1, e.RetryAt, e.Attempt, e.Err, e.Slot, w, i+1)
		}
		h.clock.Set(e.RetryAt)
	}
	gave := h.next(EventGaveUp, "flaky", nil)
	if gave.Reason != ReasonRetriesExhausted || gave.Attempt != 5 || gave.Err == nil ||
		!strings.Contains(gave.Err.Error(), "graph unavailable") {
		t.Errorf("GaveUp = %+v", gave)
	}
	if got := attempts.Load(); got != 5 {
		t.Errorf("%d attempts, want 5", got)
	}
	h.cancel()
	if err := h.wait(); err != nil {
		t.Fatal(err)
	}
	var retryLogs int
	for _, r := range h.logs.records(t) {
		if r["msg"] == "retry scheduled" && r["level"] == "WARN" {
			retryLogs++
		}
	}
	if retryLogs != 4 {
		t.Errorf("%d retry log records, want 4", retryLogs)
	}
}

func TestSchedulerRetryNeverPastNextSlot(t *testing.T) {
	job := Job{
		Name:     "sync",
		Schedule: every(t, "every 10m"),
		Retry:    &RetryPolicy{MaxAttempts: 10, InitialBackoff: time.Minute, MaxBackoff: time.Hour},
		Func: func(ctx context.Context, r *Run) error {
			if r.Slot.Equal(hm(10, 20)) {
				return nil
			}
			return errors.New("throttled")
		},
	}
	h := start(t, Options{}, job)
	h.fireSlot("sync", hm(10, 10))
	var got []time.Time
	for range 3 {
		e := h.next(EventRetryScheduled, "sync", nil)
		got = append(got, e.RetryAt)
		h.clock.Set(e.RetryAt)
	}
	if want := []time.Time{hm(10, 11), hm(10, 13), hm(10, 17)}; !slicesEqual(got, want) {
		t.Errorf("retries at %v, want %v", got, want)
	}
	// The next backoff (8m) would land at 10:25, after the 10:20 slot.
	gave := h.next(EventGaveUp, "sync", nil)
	if gave.Reason != ReasonNextSlot || gave.Attempt != 4 {
		t.Errorf("GaveUp = %+v, want reason %q after 4 attempts", gave, ReasonNextSlot)
	}
	h.clock.Set(hm(10, 20))
	start := h.next(EventRunStarted, "sync", slotIs(hm(10, 20)))
	if start.Attempt != 1 {
		t.Errorf("10:20 run attempt %d, want 1", start.Attempt)
	}
	if fin := h.next(EventRunFinished, "sync", slotIs(hm(10, 20))); fin.Err != nil {
		t.Errorf("10:20 run: %v", fin.Err)
	}
	if n := h.count(EventSlotSkipped, "sync"); n != 0 {
		t.Errorf("%d slots skipped, want 0", n)
	}
}

func slicesEqual(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

func TestSchedulerPermanentErrorIsNotRetried(t *testing.T) {
	job := Job{Name: "cfg", Schedule: every(t, "every 10m"), Func: func(ctx context.Context, r *Run) error {
		return Permanent(errors.New("destination not configured"))
	}}
	h := start(t, Options{}, job)
	h.fireSlot("cfg", hm(10, 10))
	gave := h.next(EventGaveUp, "cfg", nil)
	if gave.Reason != ReasonPermanent || gave.Attempt != 1 || !IsPermanent(gave.Err) {
		t.Errorf("GaveUp = %+v", gave)
	}
	h.cancel()
	if err := h.wait(); err != nil {
		t.Fatal(err)
	}
	if n := h.count(EventRetryScheduled, "cfg"); n != 0 {
		t.Errorf("%d retries scheduled for a permanent error", n)
	}
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
	wrapped := fmt.Errorf("replicate: %w", Permanent(errors.New("x")))
	if !IsPermanent(wrapped) || IsPermanent(errors.New("x")) {
		t.Error("IsPermanent does not look through wrapping")
	}
}

func TestSchedulerRecoversPanics(t *testing.T) {
	var calls atomic.Int32
	job := Job{
		Name: "p", Schedule: every(t, "every 10m"), Retry: &RetryPolicy{MaxAttempts: 1},
		Func: func(ctx context.Context, r *Run) error {
			if calls.Add(1) == 1 {
				panic("boom")
			}
			return nil
		},
	}
	h := start(t, Options{}, job)
	h.fireSlot("p", hm(10, 10))
	fin := h.next(EventRunFinished, "p", slotIs(hm(10, 10)))
	if fin.Err == nil || !strings.Contains(fin.Err.Error(), `job "p" panicked: boom`) {
		t.Errorf("RunFinished.Err = %v", fin.Err)
	}
	if gave := h.next(EventGaveUp, "p", nil); gave.Reason != ReasonRetriesExhausted {
		t.Errorf("GaveUp reason %q", gave.Reason)
	}
	h.fireSlot("p", hm(10, 20))
	if fin := h.next(EventRunFinished, "p", slotIs(hm(10, 20))); fin.Err != nil {
		t.Errorf("run after the panic: %v", fin.Err)
	}
	h.cancel()
	if err := h.wait(); err != nil {
		t.Fatal(err)
	}
	var stack bool
	for _, r := range h.logs.records(t) {
		if r["msg"] == "job panicked" && strings.Contains(fmt.Sprint(r["stack"]), "goroutine") {
			stack = true
		}
	}
	if !stack {
		t.Error("the panic was not logged with its stack")
	}
}

func TestSchedulerGracefulStopWaitsForRun(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	job := Job{Name: "sync", Schedule: every(t, "every 10m"), Func: func(ctx context.Context, r *Run) error {
		close(started)
		select {
		case <-r.Stopping():
		case <-ctx.Done():
			return errors.New("context cancelled by a graceful stop")
		}
		if ctx.Err() != nil {
			return errors.New("context cancelled by a graceful stop")
		}
		select {
		case <-Stopping(ctx):
		default:
			return errors.New("Stopping(ctx) is not closed")
		}
		if !r.StopRequested() {
			return errors.New("StopRequested is false")
		}
		<-release // finish the table in flight
		return nil
	}}
	h := start(t, Options{}, job)
	h.fireSlot("sync", hm(10, 10))
	recv(t, started, "the run to start")
	h.cancel()
	stop := h.next(EventStopRequested, "", nil)
	if stop.Running != 1 {
		t.Errorf("StopRequested.Running = %d, want 1", stop.Running)
	}
	select {
	case err := <-h.done:
		t.Fatalf("Run returned %v while a job was still running", err)
	default:
	}
	close(release)
	if err := h.wait(); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	fin := h.next(EventRunFinished, "sync", nil)
	if fin.Err != nil {
		t.Errorf("job saw %v", fin.Err)
	}
	if n := h.count(EventRunStarted, "sync"); n != 1 {
		t.Errorf("%d runs started, want 1", n)
	}
}

func TestSchedulerForceStop(t *testing.T) {
	started := make(chan struct{})
	job := Job{Name: "sync", Schedule: every(t, "every 10m"), Func: func(ctx context.Context, r *Run) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}}
	h := start(t, Options{}, job)
	h.fireSlot("sync", hm(10, 10))
	recv(t, started, "the run to start")
	h.cancel() // first signal
	h.next(EventStopRequested, "", nil)
	h.s.ForceStop() // second signal
	if err := h.wait(); !errors.Is(err, ErrStopForced) {
		t.Fatalf("Run = %v, want ErrStopForced", err)
	}
	if e := h.next(EventStopForced, "", nil); e.Running != 1 {
		t.Errorf("StopForced.Running = %d, want 1", e.Running)
	}
	fin := h.next(EventRunFinished, "sync", nil)
	if !errors.Is(fin.Err, context.Canceled) {
		t.Errorf("job returned %v, want context.Canceled", fin.Err)
	}
	if gave := h.next(EventGaveUp, "sync", nil); gave.Reason != ReasonStopForced {
		t.Errorf("GaveUp reason %q, want %q", gave.Reason, ReasonStopForced)
	}
	h.s.ForceStop() // idempotent
}

func TestSchedulerForceStopWithoutRuns(t *testing.T) {
	h := start(t, Options{}, Job{Name: "idle", Schedule: every(t, "every 10m"),
		Func: func(context.Context, *Run) error { return nil }})
	h.next(EventSlotScheduled, "idle", nil)
	h.s.ForceStop()
	if err := h.wait(); err != nil {
		t.Errorf("Run = %v, want nil: nothing was running", err)
	}
	if h.clock.Pending() != 0 {
		t.Errorf("%d timers left pending", h.clock.Pending())
	}
}

func TestSchedulerStopTimeout(t *testing.T) {
	ctxs := make(chan context.Context, 1)
	job := Job{Name: "sync", Schedule: every(t, "every 10m"), Func: func(ctx context.Context, r *Run) error {
		ctxs <- ctx
		<-ctx.Done()
		return ctx.Err()
	}}
	h := start(t, Options{StopTimeout: 5 * time.Minute}, job)
	h.fireSlot("sync", hm(10, 10))
	jobCtx := recv(t, ctxs, "the run to start")
	h.cancel()
	h.next(EventStopRequested, "", nil) // the deadline timer is armed
	h.clock.Advance(5*time.Minute - time.Second)
	select {
	case <-jobCtx.Done():
		t.Fatal("job context cancelled before StopTimeout")
	default:
	}
	h.clock.Advance(time.Second)
	if err := h.wait(); !errors.Is(err, ErrStopForced) {
		t.Fatalf("Run = %v, want ErrStopForced", err)
	}
	if jobCtx.Err() == nil {
		t.Error("job context not cancelled after StopTimeout")
	}
}

func TestSchedulerStopDuringRetryWait(t *testing.T) {
	job := Job{Name: "sync", Schedule: every(t, "every 1h"), Func: func(ctx context.Context, r *Run) error {
		return errors.New("fail")
	}}
	h := start(t, Options{}, job)
	h.fireSlot("sync", hm(11, 0))
	h.next(EventRetryScheduled, "sync", nil)
	h.cancel()
	if gave := h.next(EventGaveUp, "sync", nil); gave.Reason != ReasonStopRequested || gave.Attempt != 1 {
		t.Errorf("GaveUp = %+v", gave)
	}
	if err := h.wait(); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if n := h.count(EventRunStarted, "sync"); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

func TestSchedulerConcurrentJobs(t *testing.T) {
	for _, tt := range []struct {
		name    string
		limit   int
		wantMax int32
	}{
		{"unbounded", 0, 2},
		{"MaxConcurrent=1", 1, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var running, maxRunning atomic.Int32
			started := make(chan string, 2)
			release := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
			fn := func(ctx context.Context, r *Run) error {
				n := running.Add(1)
				for {
					m := maxRunning.Load()
					if n <= m || maxRunning.CompareAndSwap(m, n) {
						break
					}
				}
				started <- r.Job
				<-release[r.Job]
				running.Add(-1)
				return nil
			}
			sched := every(t, "every 10m")
			h := start(t, Options{MaxConcurrent: tt.limit},
				Job{Name: "a", Schedule: sched, Func: fn}, Job{Name: "b", Schedule: sched, Func: fn})
			h.next(EventSlotScheduled, "a", nil)
			h.next(EventSlotScheduled, "b", nil)
			h.clock.Set(hm(10, 10))
			if tt.limit == 0 {
				// Both must be running at once: neither is released before both start.
				first := recv(t, started, "first job")
				second := recv(t, started, "second job")
				close(release[first])
				close(release[second])
			} else {
				first := recv(t, started, "first job")
				close(release[first])
				second := recv(t, started, "second job")
				close(release[second])
			}
			h.next(EventRunFinished, "a", nil)
			h.next(EventRunFinished, "b", nil)
			h.cancel()
			if err := h.wait(); err != nil {
				t.Fatal(err)
			}
			if got := maxRunning.Load(); got != tt.wantMax {
				t.Errorf("at most %d jobs ran at once, want %d", got, tt.wantMax)
			}
		})
	}
}

func TestSchedulerCoalescesMissedSlots(t *testing.T) {
	runs := make(chan time.Time, 10)
	job := Job{Name: "sync", Schedule: every(t, "every 10m"), Func: func(ctx context.Context, r *Run) error {
		runs <- r.Slot
		return nil
	}}
	h := start(t, Options{}, job)
	h.next(EventSlotScheduled, "sync", slotIs(hm(10, 10)))
	h.clock.Set(hm(10, 45)) // the process was suspended over 10:10 … 10:40
	missed := h.next(EventSlotsMissed, "sync", nil)
	if missed.Missed != 3 || !missed.Slot.Equal(hm(10, 40)) {
		t.Errorf("SlotsMissed = %d, slot %s; want 3, 10:40", missed.Missed, missed.Slot)
	}
	if got := recv(t, runs, "the coalesced run"); !got.Equal(hm(10, 40)) {
		t.Errorf("ran slot %s, want 10:40", got)
	}
	h.next(EventSlotScheduled, "sync", slotIs(hm(10, 50)))
}

// onceSchedule fires once.
type onceSchedule struct{ at time.Time }

func (o onceSchedule) Next(after time.Time) time.Time {
	if after.Before(o.at) {
		return o.at
	}
	return time.Time{}
}
func (onceSchedule) String() string { return "once" }

func TestSchedulerCustomScheduleEnds(t *testing.T) {
	ran := make(chan struct{})
	h := start(t, Options{}, Job{Name: "once", Schedule: onceSchedule{hm(10, 30)},
		Func: func(context.Context, *Run) error { close(ran); return nil }})
	h.fireSlot("once", hm(10, 30))
	recv(t, ran, "the single run")
	h.next(EventRunFinished, "once", nil)
	h.cancel()
	if err := h.wait(); err != nil {
		t.Fatal(err)
	}
	var ended bool
	for _, r := range h.logs.records(t) {
		ended = ended || r["msg"] == "job has no further slots" && r["job"] == "once"
	}
	if !ended {
		t.Error("no log record for the job's end")
	}
}

func TestSchedulerRunTwice(t *testing.T) {
	h := start(t, Options{}, Job{Name: "x", Schedule: every(t, "every 10m"),
		Func: func(context.Context, *Run) error { return nil }})
	h.next(EventSlotScheduled, "x", nil)
	if err := h.s.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "Run called twice") {
		t.Errorf("second Run = %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	sched := mustParse(t, "every 10m", time.UTC)
	fn := func(context.Context, *Run) error { return nil }
	tests := []struct {
		name string
		opts Options
		jobs []Job
		want string
	}{
		{"no name", Options{}, []Job{{Schedule: sched, Func: fn}}, "job #1 has no name"},
		{"duplicate", Options{}, []Job{{Name: "a", Schedule: sched, Func: fn}, {Name: "a", Schedule: sched, Func: fn}}, `job "a" is defined twice`},
		{"no schedule", Options{}, []Job{{Name: "a", Func: fn}}, `job "a" has no schedule`},
		{"no func", Options{}, []Job{{Name: "a", Schedule: sched}}, `job "a" has no function`},
		{"negative concurrency", Options{MaxConcurrent: -1}, nil, "MaxConcurrent"},
		{"negative stop timeout", Options{StopTimeout: -time.Second}, nil, "StopTimeout"},
		{"bad default retry", Options{Retry: RetryPolicy{MaxAttempts: -1}}, nil, "MaxAttempts"},
		{"bad job retry", Options{}, []Job{{Name: "a", Schedule: sched, Func: fn, Retry: &RetryPolicy{Multiplier: 0.5}}}, `job "a": retry policy: field Multiplier`},
	}
	for _, tt := range tests {
		_, err := New(tt.opts, tt.jobs...)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "schedule: ") {
			t.Errorf("%s: New error = %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
	if _, err := New(Options{}); err != nil {
		t.Errorf("New with no jobs: %v", err)
	}
}

func TestRetryPolicyBackoff(t *testing.T) {
	tests := []struct {
		p    RetryPolicy
		want []time.Duration
	}{
		{RetryPolicy{}, []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
			16 * time.Minute, 30 * time.Minute, 30 * time.Minute}},
		{RetryPolicy{InitialBackoff: 10 * time.Second, Multiplier: 3, MaxBackoff: time.Minute},
			[]time.Duration{10 * time.Second, 30 * time.Second, time.Minute, time.Minute}},
		{RetryPolicy{Multiplier: 1}, []time.Duration{time.Minute, time.Minute}},
	}
	for _, tt := range tests {
		for i, want := range tt.want {
			if got := tt.p.Backoff(i + 1); got != want {
				t.Errorf("%+v.Backoff(%d) = %s, want %s", tt.p, i+1, got, want)
			}
		}
	}
	if got := (RetryPolicy{}).Backoff(10_000); got != DefaultMaxBackoff {
		t.Errorf("Backoff(10000) = %s, want the cap", got)
	}
}

func TestEventKindString(t *testing.T) {
	if EventSlotSkipped.String() != "slot skipped" || EventKind(99).String() != "EventKind(99)" {
		t.Errorf("String: %q, %q", EventSlotSkipped, EventKind(99))
	}
	if Stopping(context.Background()) != nil {
		t.Error("Stopping of a plain context is not nil")
	}
}

// TestSchedulerLogsNextRunAtInfo: 'jobs serve' at the default log level
// says when each job runs next.
func TestSchedulerLogsNextRunAtInfo(t *testing.T) {
	job := Job{Name: "sync", Schedule: every(t, "every 10m"), Func: func(ctx context.Context, r *Run) error { return nil }}
	h := start(t, Options{}, job)
	h.next(EventSlotScheduled, "sync", slotIs(hm(10, 10)))
	h.cancel()
	if err := h.wait(); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range h.logs.records(t) {
		if r["msg"] == "next run" {
			found = true
			if r["level"] != "INFO" || r["job"] != "sync" || r["slot"] != "2024-05-06T10:10:00Z" {
				t.Errorf("next-run record = %v, want level INFO, job sync, slot 10:10", r)
			}
		}
	}
	if !found {
		t.Error("no 'next run' log record")
	}
}
