package schedule

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// MinInterval is the shortest distance allowed between two slots of a schedule.
// Shorter intervals make Microsoft Graph throttle the whole tenant (HTTP 429).
const MinInterval = 10 * time.Minute

// SandboxMinInterval is the shortest distance between two slots of a job
// whose source is the sandbox, which reads no tenant: one minute, the
// scheduler's resolution, so that a newcomer can watch runs come.
const SandboxMinInterval = time.Minute

// acceptedForms is appended to parse errors so that the user sees what to write.
const acceptedForms = `accepted forms: "every 10m", "every 15 minutes", "every 2 hours", "every 1 day", ` +
	`"every 1 week", "every 1 month" (optionally followed by "at HH:MM" for days, weeks and months), ` +
	`"hourly", "daily", "weekly", "monthly", a 5-field cron expression such as "30 2 * * 1-5", ` +
	`or a descriptor such as "@daily"; prefix "CRON_TZ=Area/City " to choose the time zone`

// ErrTooFrequent is wrapped by the error of a schedule that fires less than
// MinInterval apart.
var ErrTooFrequent = errors.New("schedule fires too often")

// Parse parses a schedule specification (see the package documentation) whose slots
// are computed in the local time zone unless it starts with CRON_TZ=.
func Parse(spec string) (Schedule, error) {
	return ParseInLocation(spec, time.Local)
}

// ParseInLocation is like Parse but computes slots in loc unless the specification
// starts with CRON_TZ=. A nil loc means UTC.
func ParseInLocation(spec string, loc *time.Location) (Schedule, error) {
	return ParseWithMin(spec, loc, MinInterval)
}

// ParseWithMin is ParseInLocation with min, not MinInterval, as the shortest
// distance allowed between two slots (SandboxMinInterval for a job reading
// the sandbox). min is at least one minute.
func ParseWithMin(spec string, loc *time.Location, min time.Duration) (Schedule, error) {
	min = max(min, time.Minute)
	if loc == nil {
		loc = time.UTC
	}
	fields := strings.Fields(spec)
	norm := strings.Join(fields, " ")
	if len(fields) == 0 {
		return nil, fmt.Errorf("schedule: empty schedule; %s", acceptedForms)
	}
	if name, ok := tzPrefix(fields[0]); ok {
		l, err := time.LoadLocation(name)
		if err != nil || name == "" {
			return nil, fmt.Errorf("schedule: unknown time zone %q in schedule %q: use an IANA zone name such as Europe/Paris: %w",
				name, norm, errOr(err, errors.New("empty zone name")))
		}
		loc = l
		fields = fields[1:]
		if len(fields) == 0 {
			return nil, fmt.Errorf("schedule: schedule %q has a time zone but no schedule; %s", norm, acceptedForms)
		}
	}
	c, err := parseFields(fields, loc, min)
	if err != nil {
		if errors.Is(err, ErrTooFrequent) {
			return nil, fmt.Errorf("schedule: schedule %q: %w", norm, err)
		}
		return nil, fmt.Errorf("schedule: invalid schedule %q: %w; %s", norm, err, acceptedForms)
	}
	c.spec = norm
	gap, fires := c.minGap()
	if !fires {
		return nil, fmt.Errorf("schedule: schedule %q never fires (no such date); check the day-of-month and month fields", norm)
	}
	if gap < min {
		return nil, fmt.Errorf("schedule: schedule %q: %w", norm, tooFrequent(gap, min))
	}
	return c, nil
}

func errOr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

// tzPrefix returns the zone name of a CRON_TZ= or TZ= field.
func tzPrefix(field string) (string, bool) {
	for _, p := range []string{"CRON_TZ=", "TZ="} {
		if len(field) >= len(p) && strings.EqualFold(field[:len(p)], p) {
			return field[len(p):], true
		}
	}
	return "", false
}

func tooFrequent(d, min time.Duration) error {
	if min < MinInterval {
		return fmt.Errorf("%w: slots %s apart, the minimum is %s; use \"every %s\" or a longer interval",
			ErrTooFrequent, fmtDuration(d), fmtDuration(min), fmtDuration(min))
	}
	return fmt.Errorf("%w: slots %s apart, the minimum is %s because every run reads whole plans "+
		"from Microsoft Graph and more frequent runs get the tenant throttled (HTTP 429); "+
		"use \"every %s\" or a longer interval", ErrTooFrequent, fmtDuration(d), fmtDuration(min), fmtDuration(min))
}

// fmtDuration prints d without the zero units time.Duration.String adds ("10m", not
// "10m0s").
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func parseFields(fields []string, loc *time.Location, min time.Duration) (*calendar, error) {
	head := strings.ToLower(fields[0])
	switch head {
	case "hourly", "daily", "weekly", "monthly":
		unit := map[string]string{"hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month"}[head]
		return interval(1, unit, fields[1:], loc, min)
	case "every", "@every":
		return parseEvery(fields[1:], loc, min)
	}
	if strings.HasPrefix(head, "@") {
		fields = append([]string{head}, fields[1:]...)
	}
	return parseCron(strings.Join(fields, " "), loc)
}

// unitNames maps the accepted unit spellings to a canonical unit.
var unitNames = map[string]string{
	"s": "second", "sec": "second", "secs": "second", "second": "second", "seconds": "second",
	"m": "minute", "min": "minute", "mins": "minute", "minute": "minute", "minutes": "minute",
	"h": "hour", "hr": "hour", "hrs": "hour", "hour": "hour", "hours": "hour",
	"d": "day", "day": "day", "days": "day",
	"w": "week", "wk": "week", "wks": "week", "week": "week", "weeks": "week",
	"mo": "month", "mon": "month", "month": "month", "months": "month",
}

// maxCount bounds the count of each unit, to about eight years.
var maxCount = map[string]int64{
	"second": 8 * 366 * 86400, "minute": 8 * 366 * 1440, "hour": 8 * 366 * 24,
	"day": 8 * 366, "week": 8 * 52, "month": 8 * 12,
}

var countUnit = regexp.MustCompile(`^([0-9]+)?([a-z]+)$`)

// parseEvery parses what follows "every".
func parseEvery(args []string, loc *time.Location, min time.Duration) (*calendar, error) {
	var at []string
	for i, a := range args {
		if strings.EqualFold(a, "at") {
			args, at = args[:i], args[i:]
			break
		}
	}
	var (
		n    int64 = 1
		unit string
	)
	switch len(args) {
	case 0:
		return nil, errors.New(`"every" needs an interval`)
	case 1:
		a := strings.ToLower(args[0])
		if mm := countUnit.FindStringSubmatch(a); mm != nil && unitNames[mm[2]] != "" {
			if mm[1] != "" {
				v, err := strconv.ParseInt(mm[1], 10, 32)
				if err != nil {
					return nil, fmt.Errorf("interval %q is too large", args[0])
				}
				n = v
			}
			unit = unitNames[mm[2]]
			break
		}
		d, err := time.ParseDuration(a)
		if err != nil {
			return nil, fmt.Errorf("cannot read interval %q", args[0])
		}
		return duration(d, at, loc, min)
	case 2:
		v, err := strconv.ParseInt(args[0], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("cannot read count %q", args[0])
		}
		n = v
		unit = unitNames[strings.ToLower(args[1])]
		if unit == "" {
			return nil, fmt.Errorf("unknown unit %q", args[1])
		}
	default:
		return nil, fmt.Errorf("cannot read interval %q", strings.Join(args, " "))
	}
	return interval(n, unit, at, loc, min)
}

// interval builds the schedule of "every n unit [at HH:MM]".
func interval(n int64, unit string, at []string, loc *time.Location, min time.Duration) (*calendar, error) {
	if n <= 0 {
		return nil, fmt.Errorf("interval must be positive, got %d %ss", n, unit)
	}
	if limit := maxCount[unit]; n > limit {
		return nil, fmt.Errorf("interval of %d %ss is too long, the longest is %d %ss", n, unit, limit, unit)
	}
	switch unit {
	case "second":
		return duration(time.Duration(n)*time.Second, at, loc, min)
	case "minute":
		return duration(time.Duration(n)*time.Minute, at, loc, min)
	case "hour":
		return duration(time.Duration(n)*time.Hour, at, loc, min)
	}
	mins, err := parseAt(at)
	if err != nil {
		return nil, err
	}
	c := &calendar{loc: loc, minutes: []int{mins}}
	switch unit {
	case "day":
		c.day = everyDays(n)
	case "week":
		c.day = everyWeeks(n)
	case "month":
		c.day = everyMonths(n)
	default:
		return nil, fmt.Errorf("unknown unit %q", unit)
	}
	return c, nil
}

// duration builds the schedule of an interval given as a duration.
func duration(d time.Duration, at []string, loc *time.Location, min time.Duration) (*calendar, error) {
	const day = 24 * time.Hour
	switch {
	case d <= 0:
		return nil, fmt.Errorf("interval must be positive, got %s", d)
	case d < min:
		return nil, tooFrequent(d, min)
	case d%day == 0:
		return interval(int64(d/day), "day", at, loc, min)
	case d%time.Minute != 0:
		return nil, fmt.Errorf("interval %s is not a whole number of minutes", d)
	case d > day || day%d != 0:
		return nil, fmt.Errorf("interval %s does not divide 24 hours: slots restart at midnight so that "+
			"replicas agree; use a divisor of 24 hours (10m, 15m, 20m, 30m, 1h, 90m, 2h, 3h, 4h, 6h, 8h, 12h), "+
			"whole days, or a cron expression", fmtDuration(d))
	}
	if len(at) > 0 {
		return nil, errors.New(`"at HH:MM" applies to intervals of days, weeks and months; use a cron expression such as "15 * * * *" to shift shorter intervals`)
	}
	minutes := spanMinutes(int(d / time.Minute))
	return &calendar{
		loc:       loc,
		day:       func(int, time.Month, int) bool { return true },
		minutes:   minutes,
		everyHour: coversEveryHour(minutes),
	}, nil
}

// parseAt parses an optional ["at", "HH:MM"] suffix into minutes after midnight.
func parseAt(at []string) (int, error) {
	if len(at) == 0 {
		return 0, nil
	}
	if !strings.EqualFold(at[0], "at") {
		return 0, fmt.Errorf("unexpected %q after the interval", strings.Join(at, " "))
	}
	if len(at) != 2 {
		return 0, errors.New(`"at" takes one time of day, HH:MM`)
	}
	h, m, ok := strings.Cut(at[1], ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || len(h) > 2 || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, fmt.Errorf("cannot read time of day %q, want HH:MM between 00:00 and 23:59", at[1])
	}
	return hh*60 + mm, nil
}

// parseCron parses a standard cron expression or descriptor.
func parseCron(expr string, loc *time.Location) (*calendar, error) {
	s, err := cron.ParseStandard(expr)
	if err != nil {
		return nil, fmt.Errorf("cron: %w", err)
	}
	spec, ok := s.(*cron.SpecSchedule)
	if !ok || spec.Second&^(1<<63) != 1 {
		return nil, fmt.Errorf("unsupported cron expression %q", expr)
	}
	var minutes []int
	for h := range 24 {
		if spec.Hour&(1<<h) == 0 {
			continue
		}
		for m := range 60 {
			if spec.Minute&(1<<m) != 0 {
				minutes = append(minutes, h*60+m)
			}
		}
	}
	const star = 1 << 63
	return &calendar{
		loc: loc,
		day: func(y int, m time.Month, d int) bool {
			if spec.Month&(1<<uint(m)) == 0 {
				return false
			}
			wd := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday()
			domOK := spec.Dom&(1<<uint(d)) != 0
			dowOK := spec.Dow&(1<<uint(wd)) != 0
			if spec.Dom&star != 0 || spec.Dow&star != 0 {
				return domOK && dowOK
			}
			return domOK || dowOK
		},
		minutes:   minutes,
		everyHour: coversEveryHour(minutes),
	}, nil
}
