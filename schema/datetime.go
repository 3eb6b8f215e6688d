package schema

import "time"

// DateTimeLayout is the one canonical text form of a DATETIME value: RFC
// 3339 in UTC with exactly seven fractional digits (Graph's precision), so
// that every value has the same width and text order is time order, for
// example "2026-11-28T17:43:36.0000000Z".
const DateTimeLayout = "2006-01-02T15:04:05.0000000Z07:00"

// FormatDateTime renders t in the canonical DATETIME form (DateTimeLayout),
// in UTC. The driver's DATETIME columns and replicate's text destinations
// both use it, so a time copied into a text column reads as the source's.
// Digits beyond the seventh (nanoseconds) are truncated.
func FormatDateTime(t time.Time) string {
	return t.UTC().Truncate(100 * time.Nanosecond).Format(DateTimeLayout)
}
