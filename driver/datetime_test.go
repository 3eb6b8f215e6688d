package driver

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestParseDateTimeText(t *testing.T) {
	t.Parallel()
	utc := func(y, mo, d, h, mi, s, ns int) time.Time {
		return time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		in        string
		want      time.Time
		precision int
	}{
		{"2026-12-01T09:30:00.5000000Z", utc(2026, 12, 1, 9, 30, 0, 500_000_000), withTime},
		{"2026-12-01T09:30:00Z", utc(2026, 12, 1, 9, 30, 0, 0), withTime},
		{"2026-12-01T09:30:00.123456789Z", utc(2026, 12, 1, 9, 30, 0, 123456789), withTime},
		{"2026-12-01T09:30:00.1234567891Z", utc(2026, 12, 1, 9, 30, 0, 123456789), withTime},
		{"2026-12-01 09:30:00", utc(2026, 12, 1, 9, 30, 0, 0), withTime},
		{"2026-12-01t09:30", utc(2026, 12, 1, 9, 30, 0, 0), withTime},
		{" 2026-12-01T10:30:00.25+01:00 ", utc(2026, 12, 1, 9, 30, 0, 250_000_000), withTime},
		{"2026-12-01T04:00:00-0530", utc(2026, 12, 1, 9, 30, 0, 0), withTime},
		{"2026-12-01T24:00:00Z", utc(2026, 12, 2, 0, 0, 0, 0), withTime},
		{"2026-12-01", utc(2026, 12, 1, 0, 0, 0, 0), dateOnly},
		{"2026-12-01Z", utc(2026, 12, 1, 0, 0, 0, 0), dateOnly},
		{"2026-12", utc(2026, 12, 1, 0, 0, 0, 0), monthOnly},
		{"2026", utc(2026, 1, 1, 0, 0, 0, 0), yearOnly},
		{"2024-02-29", utc(2024, 2, 29, 0, 0, 0, 0), dateOnly},
	}
	for _, tt := range tests {
		got, p, ok := parseDateTimeText(tt.in)
		if !ok || !got.Equal(tt.want) || p != tt.precision {
			t.Errorf("parseDateTimeText(%q) = %v, %d, %v; want %v, %d", tt.in, got, p, ok, tt.want, tt.precision)
		}
	}
	for _, bad := range []string{"", "now", "tomorrow", "26-12-01", "2026-1-01", "2026-12-1", "2026-13-01", "2025-02-29",
		"2026-12-01T9:30", "2026-12-01T09", "2026-12-01T09:30:00.", "2026-12-01T09:60", "2026-12-01T24:00:01Z",
		"2026-12-01+01:00", "2026-12-01T09:30:00+25:00", "2026-12-01T09:30:00Zjunk", "2026-12-01\x00T09:30"} {
		if got, _, ok := parseDateTimeText(bad); ok {
			t.Errorf("parseDateTimeText(%q) = %v, want no time", bad, got)
		}
	}
}

// TestCompareDateTimes checks the DATETIME collation: times by instant,
// whatever their form, before text that names none; a total order (SQLite
// requires it for sorting and indexes).
func TestCompareDateTimes(t *testing.T) {
	t.Parallel()
	ordered := [][]string{ // groups of equal values, in order
		{"2026", "2026-01-01T00:00:00.0000000Z", "2026-01-01", "2025-12-31T19:00:00-05:00"},
		{"2026-12-01 09:30:00", "2026-12-01T09:30:00Z", "2026-12-01T09:30:00.0000000Z", "2026-12-01T10:30+01:00"},
		{"2026-12-01T09:30:00.1234567Z"},
		{"2026-12-01T09:30:00.5Z", "2026-12-01T09:30:00.5000000Z", "2026-12-01T09:30:00.500"},
		{"2026-12-02"},
		{""}, {"junk"}, {"now"},
	}
	var all []string
	rank := map[string]int{}
	for i, g := range ordered {
		for _, v := range g {
			all = append(all, v)
			rank[v] = i
		}
	}
	for _, a := range all {
		for _, b := range all {
			got := compareDateTimes(a, b)
			want := 0
			switch {
			case rank[a] < rank[b]:
				want = -1
			case rank[a] > rank[b]:
				want = 1
			}
			if (got < 0) != (want < 0) || (got > 0) != (want > 0) {
				t.Errorf("compareDateTimes(%q, %q) = %d, want %d", a, b, got, want)
			}
		}
	}
	// Sorting with it is stable under shuffling.
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		s := slices.Clone(all)
		r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
		slices.SortStableFunc(s, compareDateTimes)
		for i := 1; i < len(s); i++ {
			if rank[s[i-1]] > rank[s[i]] {
				t.Fatalf("sorted out of order: %q before %q", s[i-1], s[i])
			}
		}
	}
}

// BenchmarkCompareDateTimes measures the collation on the stored form (the
// case of ORDER BY and joins) and against a literal (the case of WHERE).
func BenchmarkCompareDateTimes(b *testing.B) {
	a, c := "2026-12-01T09:30:00.5000000Z", "2026-12-01T09:30:00.1234567Z"
	b.Run("stored", func(b *testing.B) {
		for b.Loop() {
			compareDateTimes(a, c)
		}
	})
	b.Run("literal", func(b *testing.B) {
		for b.Loop() {
			compareDateTimes(a, "2026-12-01T09:30:00Z")
		}
	})
}
