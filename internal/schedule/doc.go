// Package schedule parses job schedules and runs jobs on them.
//
// # Schedule syntax
//
// [Parse] accepts, case-insensitively:
//
//	every 10m | every 15 minutes | every 1h | every 2 hours | every 90m
//	every 1 day | every 2 days | every 1 week | every 1 month | every 3 months
//	hourly | daily | weekly | monthly            (the same as "every 1 hour" … "every 1 month")
//	every 1 day at 02:30 | weekly at 06:00       ("at HH:MM" for day, week and month intervals)
//	30 2 * * 1-5                                 (5-field cron: minute hour day-of-month month day-of-week)
//	@hourly @daily @midnight @weekly @monthly @yearly @annually @every 1h
//
// Any form may be prefixed by "CRON_TZ=Area/City " (or "TZ=Area/City ") to choose the
// time zone its slots are computed in; without it the zone given to [ParseInLocation]
// is used ([Parse] uses time.Local). Cron expressions go through
// github.com/robfig/cron/v3's standard parser.
//
// Slots must be at least [MinInterval] (10 minutes) apart: each run reads whole plans
// from Microsoft Graph, and running more often gets the tenant throttled (HTTP 429) for
// every client. "every 5m", "@every 1m" and cron expressions such as "*/5 * * * *" are
// rejected with an error that says so ([ErrTooFrequent]). A job whose source is the
// sandbox reads no tenant, so [ParseWithMin] with [SandboxMinInterval] (one minute)
// lets it run as often as every minute.
//
// # Slot alignment
//
// Interval slots are aligned to the wall clock of the schedule's time zone, never to
// the moment the process started, so every replica sharing a configuration computes
// the same slots:
//
//   - Intervals under a day must divide 24 hours evenly (10m, 15m, 20m, 30m, 1h, 90m,
//     2h, 3h, 4h, 6h, 8h, 12h …) and fire at midnight + k×interval: every 10m fires at
//     :00, :10, :20 …; every 2 hours at 00:00, 02:00, 04:00 …
//   - every N days fires at 00:00 (or the "at" time) on days whose number since
//     1970-01-01 is a multiple of N; every 1 day is every midnight.
//   - every N weeks fires on Mondays at 00:00 (or the "at" time) of weeks whose number,
//     counted from the week of Monday 1970-01-05, is a multiple of N. Note that the
//     cron descriptor @weekly keeps cron's meaning: Sunday 00:00.
//   - every N months fires on the 1st at 00:00 (or the "at" time) of months whose
//     index (year×12 + month−1) is a multiple of N: every 3 months is January, April,
//     July and October.
//
// # Daylight saving time
//
// Interval and cron schedules share one rule set, that of Vixie cron:
//
//   - A slot whose wall time does not exist (the hour skipped when clocks go forward)
//     fires at the instant the clocks jump: a daily 02:30 job in New York runs at 03:00
//     EDT on the day DST starts. Several such slots collapse into that one run.
//   - A slot whose wall time happens twice (the hour repeated when clocks go back)
//     fires once, at the first occurrence, unless the schedule fires in every hour
//     (sub-hourly and hourly intervals, cron expressions whose hour field is "*"), in
//     which case it fires in both occurrences so that the cadence is kept in real time.
//
// # Scheduler
//
// A [Scheduler] runs named jobs on their schedules using an injectable [Clock];
// [FakeClock] drives it in tests without real waiting. A job never overlaps itself: a
// slot that comes while the previous run (including its retries, or its wait for a
// concurrency slot) is still going is skipped and logged at warn level. When the clock
// jumps over several slots (suspend, clock change) only the latest runs. Failed runs
// are retried with exponential backoff, never at or past the job's next slot.
// [Run.Slot] is the slot a run belongs to, the same on every replica, which makes it
// a natural key for a lock shared by replicas.
//
// Cancelling the context given to [Scheduler.Run] requests a graceful stop: no new run
// or retry starts, running jobs see [Run.Stopping] (or [Stopping] on their context)
// close while their context stays alive, and Run returns once they have returned.
// [Scheduler.ForceStop] (for a second interrupt) or [Options.StopTimeout] cancel the
// jobs' context. [Options.OnEvent] reports every decision as an [Event].
package schedule
