package schedule

import (
	"cmp"
	"slices"
	"time"
)

// Schedule computes the slots of a job.
type Schedule interface {
	// Next returns the first slot strictly after after, in after's location, or the
	// zero time if the schedule never fires again.
	Next(after time.Time) time.Time
	// String returns the specification the schedule was parsed from.
	String() string
}

// searchDays bounds the search for the next matching day: nine years find a
// February 29 even across a century year that is not a leap year (2096 → 2104).
const searchDays = 9*366 + 1

// calendar is a Schedule that fires at fixed wall-clock times on matching days of
// one time zone. Every form Parse accepts compiles to it.
type calendar struct {
	spec string
	loc  *time.Location
	// day reports whether the civil date y-m-d has slots.
	day func(y int, m time.Month, d int) bool
	// minutes are the slot times of a matching day, in minutes after midnight,
	// ascending and unique.
	minutes []int
	// everyHour is set when the slots cover every hour of the day; a repeated wall
	// time then fires on both of its occurrences.
	everyHour bool
}

var _ Schedule = (*calendar)(nil)

func (c *calendar) String() string { return c.spec }

// Next implements Schedule.
func (c *calendar) Next(after time.Time) time.Time {
	a := after.In(c.loc)
	y, m, d := a.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	secOfDay := a.Hour()*3600 + a.Minute()*60 + a.Second()
	// Walk civil dates in UTC so that the walk itself knows nothing of DST. Start one
	// day early: in a zone that falls back across midnight, slots of the previous date
	// can come after the current one's.
	day := today.AddDate(0, 0, -1)
	for range searchDays {
		dy, dm, dd := day.Date()
		if c.day(dy, dm, dd) {
			if t, ok := c.nextOnDay(dy, dm, dd, after, day.Compare(today), secOfDay); ok {
				return t.In(after.Location())
			}
		}
		day = day.AddDate(0, 0, 1)
	}
	return time.Time{}
}

// nextOnDay returns the first slot of date y-m-d strictly after after. rel compares
// the date with after's date in the schedule's zone, and secOfDay is after's wall
// time of day in seconds.
func (c *calendar) nextOnDay(y int, m time.Month, d int, after time.Time, rel, secOfDay int) (time.Time, bool) {
	if !c.hasTransition(y, m, d) {
		// Wall order is real-time order around this date: earlier dates have no slot
		// after after, and on after's date the first later wall time wins.
		i := 0
		switch rel {
		case -1:
			return time.Time{}, false
		case 0:
			i, _ = slices.BinarySearchFunc(c.minutes, secOfDay, func(mins, sec int) int {
				return cmp.Compare(mins*60, sec+1) // first slot strictly after sec
			})
		}
		for _, mins := range c.minutes[i:] {
			t := time.Date(y, m, d, mins/60, mins%60, 0, 0, c.loc)
			if t.After(after) {
				return t, true
			}
		}
		return time.Time{}, false
	}
	var best time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && t.After(after) && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	for _, mins := range c.minutes {
		first, second := c.instants(y, m, d, mins/60, mins%60)
		consider(first)
		if c.everyHour {
			consider(second)
		}
	}
	return best, !best.IsZero()
}

// hasTransition reports whether the zone's offset may change within a day of
// y-m-d (a margin of half a day on each side).
func (c *calendar) hasTransition(y int, m time.Month, d int) bool {
	from := time.Date(y, m, d-1, 12, 0, 0, 0, c.loc)
	to := time.Date(y, m, d+1, 12, 0, 0, 0, c.loc)
	_, end := from.ZoneBounds()
	return !end.IsZero() && !end.After(to)
}

// instants returns the instants at which the wall time y-m-d h:mi happens in the
// schedule's zone. second is set only when the wall time happens twice (clocks went
// back). A wall time that does not exist (clocks went forward) maps to the instant
// of the jump.
func (c *calendar) instants(y int, m time.Month, d, h, mi int) (first, second time.Time) {
	want := wall{y, m, d, h, mi}
	t := time.Date(y, m, d, h, mi, 0, 0, c.loc)
	start, end := t.ZoneBounds()
	if got := wallOf(t); got != want {
		// In a gap: time.Date picked an offset on one side of the jump.
		if got.before(want) {
			return end, time.Time{}
		}
		return start, time.Time{}
	}
	_, off := t.Zone()
	if !start.IsZero() {
		if _, prev := start.Add(-time.Nanosecond).Zone(); prev > off {
			// t is the second occurrence; the first is in the previous zone.
			o := t.Add(-time.Duration(prev-off) * time.Second)
			if o.Before(start) && wallOf(o.In(c.loc)) == want {
				return o, t
			}
		}
	}
	if !end.IsZero() {
		if _, next := end.Zone(); next < off {
			o := t.Add(time.Duration(off-next) * time.Second)
			if !o.Before(end) && wallOf(o.In(c.loc)) == want {
				return t, o
			}
		}
	}
	return t, time.Time{}
}

// wall is a wall-clock time to the minute.
type wall struct {
	y      int
	m      time.Month
	d      int
	h, min int
}

func wallOf(t time.Time) wall {
	y, m, d := t.Date()
	return wall{y, m, d, t.Hour(), t.Minute()}
}

func (w wall) before(o wall) bool {
	return w.y < o.y || w.y == o.y && (w.m < o.m || w.m == o.m && (w.d < o.d ||
		w.d == o.d && (w.h < o.h || w.h == o.h && w.min < o.min)))
}

// minGap returns the smallest distance between two consecutive slots of c, ignoring
// DST, and whether c fires at all.
func (c *calendar) minGap() (gap time.Duration, fires bool) {
	// Look for a matching day and for two consecutive matching days.
	ref := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	prevMatched, consecutive := false, false
	for i := range searchDays {
		y, m, d := ref.AddDate(0, 0, i).Date()
		ok := c.day(y, m, d)
		fires = fires || ok
		if ok && prevMatched {
			consecutive = true
			break
		}
		prevMatched = ok
	}
	if !fires || len(c.minutes) == 0 {
		return 0, false
	}
	gapMin := 1 << 30
	for i := 1; i < len(c.minutes); i++ {
		gapMin = min(gapMin, c.minutes[i]-c.minutes[i-1])
	}
	if consecutive {
		gapMin = min(gapMin, 24*60-c.minutes[len(c.minutes)-1]+c.minutes[0])
	}
	if gapMin == 1<<30 {
		// One slot per matching day and no two matching days in a row.
		gapMin = 2 * 24 * 60
	}
	return time.Duration(gapMin) * time.Minute, true
}

// daysSinceEpoch returns the number of civil days from 1970-01-01 to y-m-d.
func daysSinceEpoch(y int, m time.Month, d int) int64 {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// floorMod returns a mod n in [0, n).
func floorMod(a, n int64) int64 {
	r := a % n
	if r < 0 {
		r += n
	}
	return r
}

// everyDays matches days whose number since 1970-01-01 is a multiple of n.
func everyDays(n int64) func(int, time.Month, int) bool {
	return func(y int, m time.Month, d int) bool {
		return n == 1 || floorMod(daysSinceEpoch(y, m, d), n) == 0
	}
}

// everyWeeks matches Mondays of weeks, counted from Monday 1970-01-05, that are a
// multiple of n.
func everyWeeks(n int64) func(int, time.Month, int) bool {
	return func(y int, m time.Month, d int) bool {
		days := daysSinceEpoch(y, m, d) - 4 // 1970-01-05 is a Monday
		return floorMod(days, 7) == 0 && floorMod(days/7, n) == 0
	}
}

// everyMonths matches the 1st of months whose index year×12+month−1 is a multiple
// of n.
func everyMonths(n int64) func(int, time.Month, int) bool {
	return func(y int, m time.Month, d int) bool {
		return d == 1 && floorMod(int64(y)*12+int64(m)-1, n) == 0
	}
}

// spanMinutes returns the slots of a day for an interval of step minutes that
// divides a day.
func spanMinutes(step int) []int {
	out := make([]int, 0, 24*60/step)
	for mins := 0; mins < 24*60; mins += step {
		out = append(out, mins)
	}
	return out
}

// coversEveryHour reports whether the slots include at least one minute of every
// hour of the day.
func coversEveryHour(minutes []int) bool {
	var hours [24]bool
	for _, m := range minutes {
		hours[m/60] = true
	}
	return !slices.Contains(hours[:], false)
}
