package driver

import (
	"strings"
	"time"

	"github.com/plannersql/planner/schema"
)

// DATETIME values.
//
// SQLite has no time type: a DATETIME column holds text, and SQLite
// compares text byte by byte. Graph sends 0 to 7 fractional digits, so
// Graph's own text would sort 09:30:00.5Z before 09:30:00Z. The driver
// therefore gives every DATETIME value one fixed-width form, dateTimeLayout
// (7 fractional digits always: Graph's resolution, 100 ns, so nothing Graph
// returns is lost), in which text order is time order; and it declares the
// DATETIME columns of its tables with the collation dateTimeCollation,
// which compares by time, so that the literals people write —
// '2026-12-01T09:30:00Z', '2026-12-01 09:30', '2026-12-01', a time with an
// offset — compare as the times they name in WHERE, ORDER BY, min() and
// max(), BETWEEN, IN and joins.

// dateTimeLayout is the canonical text of a DATETIME value, in UTC
// (schema.DateTimeLayout, which replicate's text destinations use too).
const dateTimeLayout = "2006-01-02T15:04:05.0000000Z"

// timeText formats a time in the canonical form, in UTC.
func timeText(t time.Time) string { return schema.FormatDateTime(t) }

// isCanonicalTime reports whether s has the shape of dateTimeLayout (its
// digits are not checked: two such strings compare as text correctly).
func isCanonicalTime(s string) bool {
	return len(s) == len(dateTimeLayout) && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
		s[16] == ':' && s[19] == '.' && s[27] == 'Z'
}

// compareDateTimes is the collation of DATETIME columns: values that name a
// time (see parseDateTimeText) compare as times, before any value that does
// not; those compare as text. It is a total order, as SQLite requires.
func compareDateTimes(a, b string) int {
	if isCanonicalTime(a) && isCanonicalTime(b) {
		return strings.Compare(a, b)
	}
	ta, _, okA := parseDateTimeText(a)
	tb, _, okB := parseDateTimeText(b)
	switch {
	case okA && okB:
		return ta.Compare(tb)
	case okA:
		return -1
	case okB:
		return 1
	}
	return strings.Compare(a, b)
}

// Parts of a date-time text, for parseDateTimeText's precision.
const (
	yearOnly = iota + 1
	monthOnly
	dateOnly
	withTime
)

// parseDateTimeText reads the date-time texts people write and SQLite's
// date functions return: YYYY[-MM[-DD[(T|t| )HH:MM[:SS[.fraction]]]]]
// followed by an optional zone (Z, ±HH:MM or ±HHMM; UTC when absent), with
// surrounding spaces ignored. Missing parts are their start (a date is its
// midnight, UTC). precision says how much was given (yearOnly … withTime).
func parseDateTimeText(s string) (t time.Time, precision int, ok bool) {
	s = strings.TrimSpace(s)
	p := dtParser{s: s}
	year, ok := p.digits(4)
	if !ok {
		return time.Time{}, 0, false
	}
	month, day, hour, minute, sec, nsec := 1, 1, 0, 0, 0, 0
	precision = yearOnly
	if p.take('-') {
		if month, ok = p.digits(2); !ok {
			return time.Time{}, 0, false
		}
		precision = monthOnly
		if p.take('-') {
			if day, ok = p.digits(2); !ok {
				return time.Time{}, 0, false
			}
			precision = dateOnly
			if p.take('T') || p.take('t') || p.take(' ') {
				if hour, ok = p.digits(2); !ok || !p.take(':') {
					return time.Time{}, 0, false
				}
				if minute, ok = p.digits(2); !ok {
					return time.Time{}, 0, false
				}
				precision = withTime
				if p.take(':') {
					if sec, ok = p.digits(2); !ok {
						return time.Time{}, 0, false
					}
					if p.take('.') {
						if nsec, ok = p.fraction(); !ok {
							return time.Time{}, 0, false
						}
					}
				}
			}
		}
	}
	offset := 0
	switch {
	case p.take('Z') || p.take('z'):
	case p.peek('+') || p.peek('-'):
		if precision < withTime {
			return time.Time{}, 0, false
		}
		sign := 1
		if p.take('-') {
			sign = -1
		} else {
			p.take('+')
		}
		h, ok := p.digits(2)
		if !ok {
			return time.Time{}, 0, false
		}
		p.take(':')
		m, ok := p.digits(2)
		if !ok || h > 23 || m > 59 {
			return time.Time{}, 0, false
		}
		offset = sign * (h*3600 + m*60)
	}
	if p.i != len(s) || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour > 24 || minute > 59 || sec > 60 || hour == 24 && (minute != 0 || sec != 0 || nsec != 0) {
		return time.Time{}, 0, false
	}
	t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC).Add(-time.Duration(offset) * time.Second)
	return t, precision, true
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// dtParser walks a date-time text.
type dtParser struct {
	s string
	i int
}

func (p *dtParser) peek(c byte) bool { return p.i < len(p.s) && p.s[p.i] == c }

func (p *dtParser) take(c byte) bool {
	if p.peek(c) {
		p.i++
		return true
	}
	return false
}

// digits reads exactly n decimal digits.
func (p *dtParser) digits(n int) (int, bool) {
	if p.i+n > len(p.s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(p.s[p.i : p.i+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	p.i += n
	return v, true
}

// fraction reads one or more digits of a fraction of a second as
// nanoseconds (digits beyond the ninth are ignored).
func (p *dtParser) fraction() (int, bool) {
	start, v, scale := p.i, 0, 100_000_000
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		v += int(p.s[p.i]-'0') * scale
		scale /= 10
		p.i++
	}
	return v, p.i > start
}
