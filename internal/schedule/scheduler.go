package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// JobFunc is the work of a job. ctx is not cancelled when a graceful stop is
// requested, only when the stop is forced (Scheduler.ForceStop, Options.StopTimeout);
// a long job watches run.Stopping() to finish the unit of work in flight (for example
// the table being copied) and return early.
type JobFunc func(ctx context.Context, run *Run) error

// Job is a named piece of work run on a schedule.
type Job struct {
	// Name identifies the job in logs and events; it must be unique and not empty.
	Name string
	// Schedule gives the job's slots; see Parse.
	Schedule Schedule
	// Func does the work.
	Func JobFunc
	// Retry overrides Options.Retry for this job when not nil.
	Retry *RetryPolicy
}

// RetryPolicy says how a failed run is retried. A retry is never scheduled at or
// after the job's next slot: that slot runs the job anyway. Errors marked with
// Permanent are not retried.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts per slot, the first included. Zero means
	// 4; 1 disables retries.
	MaxAttempts int
	// InitialBackoff is the delay after the first failure. Zero means 1 minute.
	InitialBackoff time.Duration
	// MaxBackoff caps the delay. Zero means 30 minutes.
	MaxBackoff time.Duration
	// Multiplier grows the delay after each failure. Zero means 2.
	Multiplier float64
}

// Default retry settings, used for the zero fields of a RetryPolicy.
const (
	DefaultMaxAttempts    = 4
	DefaultInitialBackoff = time.Minute
	DefaultMaxBackoff     = 30 * time.Minute
	DefaultMultiplier     = 2.0
)

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.InitialBackoff == 0 {
		p.InitialBackoff = DefaultInitialBackoff
	}
	if p.MaxBackoff == 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	if p.Multiplier == 0 {
		p.Multiplier = DefaultMultiplier
	}
	return p
}

func (p RetryPolicy) validate() error {
	switch {
	case p.MaxAttempts < 0:
		return fmt.Errorf("MaxAttempts is %d, want 0 (default) or more", p.MaxAttempts)
	case p.InitialBackoff < 0:
		return fmt.Errorf("InitialBackoff is %s, want 0 (default) or more", p.InitialBackoff)
	case p.MaxBackoff < 0:
		return fmt.Errorf("MaxBackoff is %s, want 0 (default) or more", p.MaxBackoff)
	case p.Multiplier != 0 && (p.Multiplier < 1 || math.IsNaN(p.Multiplier) || math.IsInf(p.Multiplier, 0)):
		return fmt.Errorf("field Multiplier is %v, want 0 (default) or at least 1", p.Multiplier)
	}
	return nil
}

// Backoff returns the delay before the attempt that follows failed attempt number
// failed (1 for the first attempt): InitialBackoff × Multiplier^(failed−1), capped at
// MaxBackoff, with defaults applied.
func (p RetryPolicy) Backoff(failed int) time.Duration {
	p = p.withDefaults()
	d := float64(p.InitialBackoff) * math.Pow(p.Multiplier, float64(max(failed, 1)-1))
	if math.IsInf(d, 0) || math.IsNaN(d) || d >= float64(p.MaxBackoff) {
		return p.MaxBackoff
	}
	return time.Duration(d)
}

// Run describes one attempt of a job; it is passed to JobFunc.
type Run struct {
	// Job is the job's name.
	Job string
	// Slot is the scheduled time this run belongs to. Retries keep their slot.
	Slot time.Time
	// Attempt counts the attempts for Slot, from 1.
	Attempt int

	stopping <-chan struct{}
}

// Stopping returns a channel that is closed when a graceful stop has been requested.
func (r *Run) Stopping() <-chan struct{} { return r.stopping }

// StopRequested reports whether a graceful stop has been requested.
func (r *Run) StopRequested() bool {
	select {
	case <-r.stopping:
		return true
	default:
		return false
	}
}

type stoppingKey struct{}

// Stopping returns the stop channel carried by a job's context: it is closed when
// the scheduler that runs the job has been asked to stop gracefully. It returns nil
// (a channel that never fires) for other contexts, so code deep inside a job can
// select on it without knowing whether it runs under a Scheduler.
func Stopping(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(stoppingKey{}).(<-chan struct{})
	return ch
}

// Options configures a Scheduler. The zero value is usable.
type Options struct {
	// Clock is the time source; nil means SystemClock().
	Clock Clock
	// Logger receives the scheduler's logs; nil discards them.
	Logger *slog.Logger
	// MaxConcurrent bounds the number of jobs running at once; 0 means no bound. A
	// run waiting for its turn counts as running for the overlap rule.
	MaxConcurrent int
	// Retry is the retry policy of jobs that do not set their own.
	Retry RetryPolicy
	// StopTimeout, when positive, forces the stop (cancelling the jobs' context) if
	// running jobs have not returned that long after a graceful stop was requested.
	StopTimeout time.Duration
	// OnEvent, when not nil, is called for every Event, synchronously, from the
	// scheduler's goroutines: it must be safe for concurrent use and return quickly.
	OnEvent func(Event)
}

// EventKind is the kind of an Event.
type EventKind int

// Event kinds.
const (
	// EventSlotScheduled: the job is waiting for Slot (its timer is armed).
	EventSlotScheduled EventKind = iota + 1
	// EventRunStarted: Attempt of Slot started.
	EventRunStarted
	// EventRunFinished: Attempt of Slot returned Err after Duration.
	EventRunFinished
	// EventSlotSkipped: Slot came while a run of the job was still going.
	EventSlotSkipped
	// EventSlotsMissed: the clock jumped over Missed slots (suspend, clock change);
	// only the latest, Slot, runs.
	EventSlotsMissed
	// EventRetryScheduled: Attempt of Slot failed with Err; the next attempt is at
	// RetryAt.
	EventRetryScheduled
	// EventGaveUp: no further attempt of Slot will be made, for Reason; Err is the
	// last error.
	EventGaveUp
	// EventStopRequested: a graceful stop began; Running runs are in flight.
	EventStopRequested
	// EventStopForced: the jobs' context was cancelled with Running runs in flight.
	EventStopForced
)

var eventNames = map[EventKind]string{
	EventSlotScheduled:  "slot scheduled",
	EventRunStarted:     "run started",
	EventRunFinished:    "run finished",
	EventSlotSkipped:    "slot skipped",
	EventSlotsMissed:    "slots missed",
	EventRetryScheduled: "retry scheduled",
	EventGaveUp:         "gave up",
	EventStopRequested:  "stop requested",
	EventStopForced:     "stop forced",
}

// String returns a short lower-case name of the kind.
func (k EventKind) String() string {
	if s, ok := eventNames[k]; ok {
		return s
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Reasons given in EventGaveUp events.
const (
	ReasonRetriesExhausted = "retries exhausted"
	ReasonPermanent        = "permanent error"
	ReasonNextSlot         = "next slot comes before the retry"
	ReasonStopRequested    = "stop requested"
	ReasonStopForced       = "stop forced"
)

// Event reports what the scheduler did; see Options.OnEvent. Fields that do not
// apply to a kind are zero.
type Event struct {
	Kind     EventKind
	Job      string
	Slot     time.Time
	Attempt  int
	Time     time.Time // the clock's time when the event happened
	Duration time.Duration
	Err      error
	RetryAt  time.Time
	Missed   int
	Running  int
	Reason   string
}

// ErrStopForced is returned by Scheduler.Run when running jobs had their context
// cancelled by ForceStop or Options.StopTimeout.
var ErrStopForced = errors.New("schedule: stop forced: running jobs were cancelled")

// Permanent marks err as not worth retrying (bad configuration, missing
// permission…): the scheduler gives up on the slot at once. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err, or an error it wraps, was marked by Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Scheduler runs jobs on their schedules. Create it with New and start it with Run.
type Scheduler struct {
	jobs  []*job
	opts  Options
	clock Clock
	log   *slog.Logger
	sem   chan struct{}

	started  atomic.Bool
	stopping chan struct{} // closed when a graceful stop begins
	forceCh  chan struct{} // closed by ForceStop
	runs     sync.WaitGroup
	active   atomic.Int64 // runs in flight, retry waits included

	mu           sync.Mutex
	cancelJobs   context.CancelFunc
	forced       bool
	forcedActive bool
}

type job struct {
	Job
	retry RetryPolicy
	busy  atomic.Bool

	mu      sync.Mutex
	running time.Time // slot of the run in flight
}

// New validates the jobs and returns a Scheduler for them.
func New(opts Options, jobs ...Job) (*Scheduler, error) {
	if opts.MaxConcurrent < 0 {
		return nil, fmt.Errorf("schedule: MaxConcurrent is %d, want 0 (no bound) or more", opts.MaxConcurrent)
	}
	if opts.StopTimeout < 0 {
		return nil, fmt.Errorf("schedule: StopTimeout is %s, want 0 (wait for jobs) or more", opts.StopTimeout)
	}
	if err := opts.Retry.validate(); err != nil {
		return nil, fmt.Errorf("schedule: default retry policy: %w", err)
	}
	s := &Scheduler{
		opts:     opts,
		clock:    opts.Clock,
		log:      opts.Logger,
		stopping: make(chan struct{}),
		forceCh:  make(chan struct{}),
	}
	if s.clock == nil {
		s.clock = SystemClock()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if opts.MaxConcurrent > 0 {
		s.sem = make(chan struct{}, opts.MaxConcurrent)
	}
	seen := make(map[string]bool, len(jobs))
	for i, j := range jobs {
		switch {
		case j.Name == "":
			return nil, fmt.Errorf("schedule: job #%d has no name", i+1)
		case seen[j.Name]:
			return nil, fmt.Errorf("schedule: job %q is defined twice; give each job a unique name", j.Name)
		case j.Schedule == nil:
			return nil, fmt.Errorf("schedule: job %q has no schedule", j.Name)
		case j.Func == nil:
			return nil, fmt.Errorf("schedule: job %q has no function", j.Name)
		}
		seen[j.Name] = true
		p := opts.Retry
		if j.Retry != nil {
			if err := j.Retry.validate(); err != nil {
				return nil, fmt.Errorf("schedule: job %q: retry policy: %w", j.Name, err)
			}
			p = *j.Retry
		}
		s.jobs = append(s.jobs, &job{Job: j, retry: p.withDefaults()})
	}
	return s, nil
}

// Run runs the jobs until ctx is cancelled or ForceStop is called, then stops: no
// new run or retry starts, running jobs are told through Run.Stopping and Stopping,
// and Run returns once they have returned. Their context is cancelled only by
// ForceStop or when Options.StopTimeout expires; Run then returns ErrStopForced. A
// job that ignores its cancelled context keeps Run waiting. Run may be called once.
func (s *Scheduler) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("schedule: Run called twice; create a new Scheduler")
	}
	base := context.WithoutCancel(ctx)
	jobCtx, cancelJobs := context.WithCancel(context.WithValue(base, stoppingKey{}, (<-chan struct{})(s.stopping)))
	defer cancelJobs()
	s.mu.Lock()
	s.cancelJobs = cancelJobs
	if s.forced {
		cancelJobs()
	}
	s.mu.Unlock()

	s.log.LogAttrs(base, slog.LevelInfo, "scheduler started", slog.Int("jobs", len(s.jobs)))
	loopCtx, stopLoops := context.WithCancel(ctx)
	var loops sync.WaitGroup
	for _, j := range s.jobs {
		loops.Go(func() { s.loop(loopCtx, jobCtx, j) })
	}
	select {
	case <-ctx.Done():
	case <-s.forceCh:
	}
	stopLoops()
	close(s.stopping)
	loops.Wait() // no run starts after this

	done := make(chan struct{})
	go func() {
		s.runs.Wait()
		close(done)
	}()
	running := int(s.active.Load())
	var deadline Timer
	if s.opts.StopTimeout > 0 && running > 0 {
		deadline = s.clock.NewTimer(s.opts.StopTimeout)
	}
	s.log.LogAttrs(base, slog.LevelInfo, "stop requested: waiting for running jobs to finish",
		slog.Int("running", running))
	s.emit(Event{Kind: EventStopRequested, Running: running})
	if deadline != nil {
		select {
		case <-done:
			deadline.Stop()
		case <-deadline.C():
			s.forceStop(base)
			<-done
		}
	} else {
		<-done
	}
	cancelJobs()
	s.mu.Lock()
	forced := s.forcedActive
	s.mu.Unlock()
	s.log.LogAttrs(base, slog.LevelInfo, "scheduler stopped", slog.Bool("forced", forced))
	if forced {
		return ErrStopForced
	}
	return nil
}

// ForceStop cancels the context of running jobs and stops Run as if its context
// had been cancelled. Call it on a second interrupt signal. It is safe to call at
// any time, more than once, and from any goroutine.
func (s *Scheduler) ForceStop() { s.forceStop(context.Background()) }

func (s *Scheduler) forceStop(ctx context.Context) {
	s.mu.Lock()
	if s.forced {
		s.mu.Unlock()
		return
	}
	s.forced = true
	close(s.forceCh)
	running := int(s.active.Load())
	if running > 0 {
		s.forcedActive = true
	}
	cancel := s.cancelJobs
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "stop forced: cancelling running jobs", slog.Int("running", running))
	s.emit(Event{Kind: EventStopForced, Running: running})
}

func (s *Scheduler) emit(e Event) {
	if s.opts.OnEvent == nil {
		return
	}
	e.Time = s.clock.Now()
	s.opts.OnEvent(e)
}

// loop waits for the slots of j and starts its runs until ctx is done.
func (s *Scheduler) loop(ctx, jobCtx context.Context, j *job) {
	after := s.clock.Now()
	for {
		slot := j.Schedule.Next(after)
		if slot.IsZero() {
			s.log.LogAttrs(ctx, slog.LevelWarn, "job has no further slots", slog.String("job", j.Name))
			return
		}
		if !s.sleepUntil(ctx, j, slot) {
			return
		}
		now := s.clock.Now()
		due, missed := slot, 0
		for {
			n := j.Schedule.Next(due)
			if n.IsZero() || n.After(now) {
				break
			}
			due, missed = n, missed+1
		}
		if missed > 0 {
			s.log.LogAttrs(ctx, slog.LevelWarn, "slots missed (clock jump or suspend): running the latest only",
				slog.String("job", j.Name), slog.Time("first_missed", slot), slog.Int("missed", missed),
				slog.Time("slot", due))
			s.emit(Event{Kind: EventSlotsMissed, Job: j.Name, Slot: due, Missed: missed})
		}
		next := j.Schedule.Next(due)
		if j.busy.CompareAndSwap(false, true) {
			j.mu.Lock()
			j.running = due
			j.mu.Unlock()
			s.runs.Add(1)
			s.active.Add(1)
			go s.execute(jobCtx, j, due, next)
		} else {
			j.mu.Lock()
			running := j.running
			j.mu.Unlock()
			s.log.LogAttrs(ctx, slog.LevelWarn, "slot skipped: previous run still in progress",
				slog.String("job", j.Name), slog.Time("slot", due), slog.Time("running_slot", running),
				slog.Time("next_slot", next))
			s.emit(Event{Kind: EventSlotSkipped, Job: j.Name, Slot: due})
		}
		after = due
	}
}

// sleepUntil waits until the clock reaches slot. It reports false if ctx ended first.
func (s *Scheduler) sleepUntil(ctx context.Context, j *job, slot time.Time) bool {
	announced := false
	for {
		d := slot.Sub(s.clock.Now())
		if d <= 0 {
			return ctx.Err() == nil
		}
		t := s.clock.NewTimer(d)
		if !announced {
			announced = true
			s.log.LogAttrs(ctx, slog.LevelInfo, "next run", slog.String("job", j.Name), slog.Time("slot", slot))
			s.emit(Event{Kind: EventSlotScheduled, Job: j.Name, Slot: slot})
		}
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C():
			// Loop: a wall clock set back makes the timer fire before the slot.
		}
	}
}

// execute runs the attempts of one slot of j. The job stops counting as busy before
// the events that end the slot are emitted, so that an observer of those events can
// rely on the next slot running.
func (s *Scheduler) execute(ctx context.Context, j *job, slot, next time.Time) {
	defer func() {
		s.active.Add(-1)
		s.runs.Done()
	}()
	attrs := []slog.Attr{slog.String("job", j.Name), slog.Time("slot", slot)}
	var lastErr error
	for attempt := 1; ; attempt++ {
		if !s.acquire() {
			j.busy.Store(false)
			s.giveUp(ctx, j, slot, attempt-1, lastErr, ReasonStopRequested)
			return
		}
		run := &Run{Job: j.Name, Slot: slot, Attempt: attempt, stopping: s.stopping}
		start := s.clock.Now()
		s.log.LogAttrs(ctx, slog.LevelInfo, "run started", append(attrs, slog.Int("attempt", attempt))...)
		s.emit(Event{Kind: EventRunStarted, Job: j.Name, Slot: slot, Attempt: attempt})
		err := s.call(ctx, j, run)
		s.release()
		took := s.clock.Now().Sub(start)
		finished := Event{Kind: EventRunFinished, Job: j.Name, Slot: slot, Attempt: attempt, Err: err, Duration: took}
		if err == nil {
			j.busy.Store(false)
			s.log.LogAttrs(ctx, slog.LevelInfo, "run finished",
				append(attrs, slog.Int("attempt", attempt), slog.Duration("duration", took))...)
			s.emit(finished)
			return
		}
		lastErr = err
		s.log.LogAttrs(ctx, slog.LevelError, "run failed",
			append(attrs, slog.Int("attempt", attempt), slog.Duration("duration", took), slog.String("error", err.Error()))...)

		var (
			reason  string
			delay   time.Duration
			retryAt time.Time
		)
		switch {
		case IsPermanent(err):
			reason = ReasonPermanent
		case attempt >= j.retry.MaxAttempts:
			reason = ReasonRetriesExhausted
		case ctx.Err() != nil:
			reason = ReasonStopForced
		case isClosed(s.stopping):
			reason = ReasonStopRequested
		default:
			delay = j.retry.Backoff(attempt)
			retryAt = s.clock.Now().Add(delay)
			if !next.IsZero() && !retryAt.Before(next) {
				reason = ReasonNextSlot
			}
		}
		if reason != "" {
			j.busy.Store(false)
			s.emit(finished)
			s.giveUp(ctx, j, slot, attempt, err, reason)
			return
		}
		s.emit(finished)
		t := s.clock.NewTimer(delay)
		s.log.LogAttrs(ctx, slog.LevelWarn, "retry scheduled",
			append(attrs, slog.Int("attempt", attempt+1), slog.Duration("backoff", delay), slog.Time("retry_at", retryAt))...)
		s.emit(Event{Kind: EventRetryScheduled, Job: j.Name, Slot: slot, Attempt: attempt, Err: err, RetryAt: retryAt})
		select {
		case <-t.C():
		case <-s.stopping:
			t.Stop()
			j.busy.Store(false)
			s.giveUp(ctx, j, slot, attempt, err, ReasonStopRequested)
			return
		}
	}
}

func (s *Scheduler) giveUp(ctx context.Context, j *job, slot time.Time, attempts int, err error, reason string) {
	level := slog.LevelInfo
	if reason == ReasonRetriesExhausted || reason == ReasonPermanent {
		level = slog.LevelError
	}
	attrs := []slog.Attr{slog.String("job", j.Name), slog.Time("slot", slot), slog.Int("attempts", attempts),
		slog.String("reason", reason)}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	s.log.LogAttrs(ctx, level, "giving up on slot", attrs...)
	s.emit(Event{Kind: EventGaveUp, Job: j.Name, Slot: slot, Attempt: attempts, Err: err, Reason: reason})
}

// call runs the job function, turning a panic into an error.
func (s *Scheduler) call(ctx context.Context, j *job, run *Run) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("schedule: job %q panicked: %v", j.Name, r)
			s.log.LogAttrs(ctx, slog.LevelError, "job panicked", slog.String("job", j.Name),
				slog.Time("slot", run.Slot), slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
		}
	}()
	return j.Func(ctx, run)
}

// acquire takes a concurrency slot; it reports false if a stop was requested first.
func (s *Scheduler) acquire() bool {
	if isClosed(s.stopping) {
		return false
	}
	if s.sem == nil {
		return true
	}
	select {
	case s.sem <- struct{}{}:
		return true
	case <-s.stopping:
		return false
	}
}

func (s *Scheduler) release() {
	if s.sem != nil {
		<-s.sem
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
