package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // hermetic zone data for the DST cases

	"github.com/robfig/cron/v3"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

// at parses "2006-01-02 15:04" (optionally with a zone abbreviation check) in loc.
func at(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

func mustParse(t testing.TB, spec string, loc *time.Location) Schedule {
	t.Helper()
	s, err := ParseInLocation(spec, loc)
	if err != nil {
		t.Fatalf("ParseInLocation(%q): %v", spec, err)
	}
	return s
}

// TestNextAlignment checks the slots of every accepted form in UTC.
func TestNextAlignment(t *testing.T) {
	utc := time.UTC
	tests := []struct {
		spec  string
		after string
		want  []string // consecutive slots
	}{
		{"every 10m", "2024-05-06 10:03", []string{"2024-05-06 10:10", "2024-05-06 10:20", "2024-05-06 10:30"}},
		{"every 10m", "2024-05-06 23:55", []string{"2024-05-07 00:00", "2024-05-07 00:10"}},
		{"every 10 minutes", "2024-05-06 10:10", []string{"2024-05-06 10:20"}},
		{"every 15 minutes", "2024-05-06 10:03", []string{"2024-05-06 10:15", "2024-05-06 10:30", "2024-05-06 10:45", "2024-05-06 11:00"}},
		{"EVERY 20 MIN", "2024-05-06 10:03", []string{"2024-05-06 10:20"}},
		{"every 30m", "2024-05-06 10:03", []string{"2024-05-06 10:30", "2024-05-06 11:00"}},
		{"every 1h", "2024-05-06 10:00", []string{"2024-05-06 11:00", "2024-05-06 12:00"}},
		{"every hour", "2024-05-06 10:59", []string{"2024-05-06 11:00"}},
		{"hourly", "2024-05-06 23:30", []string{"2024-05-07 00:00"}},
		{"every 90m", "2024-05-06 01:00", []string{"2024-05-06 01:30", "2024-05-06 03:00", "2024-05-06 04:30"}},
		{"every 1h30m", "2024-05-06 22:31", []string{"2024-05-07 00:00"}},
		{"every 2 hours", "2024-05-06 01:00", []string{"2024-05-06 02:00", "2024-05-06 04:00"}},
		{"every 2h", "2024-05-06 23:00", []string{"2024-05-07 00:00"}},
		{"every 12 hours", "2024-05-06 11:00", []string{"2024-05-06 12:00", "2024-05-07 00:00"}},
		{"every 24h", "2024-05-06 11:00", []string{"2024-05-07 00:00"}},
		{"every 1 day", "2024-05-06 10:00", []string{"2024-05-07 00:00", "2024-05-08 00:00"}},
		{"every day", "2024-05-06 00:00", []string{"2024-05-07 00:00"}},
		{"daily", "2024-12-31 23:59", []string{"2025-01-01 00:00"}},
		{"every 1 day at 02:30", "2024-05-06 02:30", []string{"2024-05-07 02:30"}},
		{"daily at 2:05", "2024-05-06 01:00", []string{"2024-05-06 02:05"}},
		// Days since 1970-01-01: 2024-05-06 is day 19849 (odd), so even days are 05-07, 05-09.
		{"every 2 days", "2024-05-06 10:00", []string{"2024-05-07 00:00", "2024-05-09 00:00"}},
		{"every 48h", "2024-05-06 10:00", []string{"2024-05-07 00:00", "2024-05-09 00:00"}},
		{"every 1 week", "2024-05-08 10:00", []string{"2024-05-13 00:00", "2024-05-20 00:00"}},
		{"every 1 week", "2024-05-13 00:00", []string{"2024-05-20 00:00"}},
		{"weekly", "2024-05-12 23:59", []string{"2024-05-13 00:00"}},
		{"weekly at 06:00", "2024-05-13 05:00", []string{"2024-05-13 06:00", "2024-05-20 06:00"}},
		// 2024-05-13 is 2836 weeks after Monday 1970-01-05: even.
		{"every 2 weeks", "2024-05-08 10:00", []string{"2024-05-13 00:00", "2024-05-27 00:00"}},
		{"every 1 month", "2024-01-31 10:00", []string{"2024-02-01 00:00", "2024-03-01 00:00", "2024-04-01 00:00"}},
		{"every 1 month", "2024-02-01 00:00", []string{"2024-03-01 00:00"}},
		{"monthly", "2024-12-15 00:00", []string{"2025-01-01 00:00"}},
		{"monthly at 03:00", "2024-02-01 02:00", []string{"2024-02-01 03:00", "2024-03-01 03:00"}},
		{"every 3 months", "2024-02-10 00:00", []string{"2024-04-01 00:00", "2024-07-01 00:00", "2024-10-01 00:00", "2025-01-01 00:00"}},
		{"every 6 mo", "2024-02-10 00:00", []string{"2024-07-01 00:00", "2025-01-01 00:00"}},
		// Cron.
		{"30 2 * * 1-5", "2024-05-10 03:00", []string{"2024-05-13 02:30", "2024-05-14 02:30"}},
		{"*/15 9-17 * * *", "2024-05-06 17:50", []string{"2024-05-07 09:00", "2024-05-07 09:15"}},
		{"0 0 13 * 5", "2024-09-01 00:00", []string{"2024-09-06 00:00", "2024-09-13 00:00", "2024-09-20 00:00"}}, // 13th OR Friday
		{"0 0 31 * *", "2024-01-31 00:00", []string{"2024-03-31 00:00", "2024-05-31 00:00"}},
		{"0 0 29 2 *", "2024-03-01 00:00", []string{"2028-02-29 00:00"}},
		{"0 0 29 2 *", "2096-03-01 00:00", []string{"2104-02-29 00:00"}}, // 2100 is not a leap year
		{"0 6 * jan,jul sun", "2024-01-30 00:00", []string{"2024-07-07 06:00"}},
		{"@hourly", "2024-05-06 10:03", []string{"2024-05-06 11:00"}},
		{"@daily", "2024-05-06 10:03", []string{"2024-05-07 00:00"}},
		{"@midnight", "2024-05-06 10:03", []string{"2024-05-07 00:00"}},
		{"@weekly", "2024-05-08 10:00", []string{"2024-05-12 00:00"}}, // cron's @weekly is Sunday
		{"@monthly", "2024-02-10 00:00", []string{"2024-03-01 00:00"}},
		{"@yearly", "2024-02-10 00:00", []string{"2025-01-01 00:00"}},
		{"@Annually", "2024-02-10 00:00", []string{"2025-01-01 00:00"}},
		{"@every 1h", "2024-05-06 10:03", []string{"2024-05-06 11:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.spec+"/"+tt.after, func(t *testing.T) {
			s := mustParse(t, tt.spec, utc)
			cur := at(t, utc, tt.after)
			for i, w := range tt.want {
				got := s.Next(cur)
				if want := at(t, utc, w); !got.Equal(want) {
					t.Fatalf("slot %d after %s = %s, want %s", i+1, cur, got, want)
				}
				cur = got
			}
		})
	}
}

// TestNextInZone checks that slots are computed in the schedule's zone and returned
// in the caller's.
func TestNextInZone(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	ny := mustLoad(t, "America/New_York")
	after := time.Date(2024, 5, 6, 10, 0, 0, 0, time.UTC)

	tests := []struct {
		spec string
		loc  *time.Location
		want time.Time
	}{
		{"every 1 day", paris, time.Date(2024, 5, 6, 22, 0, 0, 0, time.UTC)}, // Paris midnight, CEST
		{"every 1 day", ny, time.Date(2024, 5, 7, 4, 0, 0, 0, time.UTC)},
		{"CRON_TZ=America/New_York 0 9 * * *", paris, time.Date(2024, 5, 6, 13, 0, 0, 0, time.UTC)},
		{"TZ=America/New_York every 1 day at 09:00", paris, time.Date(2024, 5, 6, 13, 0, 0, 0, time.UTC)},
		{"cron_tz=Asia/Kolkata every 2 hours", time.UTC, time.Date(2024, 5, 6, 10, 30, 0, 0, time.UTC)}, // +05:30
		{"every 10m", nil, time.Date(2024, 5, 6, 10, 10, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		s := mustParse(t, tt.spec, tt.loc)
		got := s.Next(after)
		if !got.Equal(tt.want) {
			t.Errorf("%q in %v: Next(%s) = %s, want %s", tt.spec, tt.loc, after, got, tt.want)
		}
		if got.Location() != time.UTC {
			t.Errorf("%q: Next returned location %v, want the argument's (UTC)", tt.spec, got.Location())
		}
	}
	// A non-UTC argument keeps its location.
	if got := mustParse(t, "every 1 day", paris).Next(after.In(ny)); got.Location() != ny {
		t.Errorf("Next in New York returned location %v", got.Location())
	}
}

// TestNextDST checks the rules for wall times that are skipped or repeated.
func TestNextDST(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	berlin := mustLoad(t, "Europe/Berlin")
	saoPaulo := mustLoad(t, "America/Sao_Paulo")
	lordHowe := mustLoad(t, "Australia/Lord_Howe")
	u := func(s string) time.Time { return at(t, time.UTC, s) }

	tests := []struct {
		name  string
		spec  string
		loc   *time.Location
		after time.Time
		want  []time.Time
	}{
		{
			// 2024-03-10 02:00 EST → 03:00 EDT: 02:30 does not exist and runs at the jump.
			name: "NY spring forward daily 02:30", spec: "every 1 day at 02:30", loc: ny,
			after: u("2024-03-09 12:00"),
			want:  []time.Time{u("2024-03-10 07:00"), u("2024-03-11 06:30")},
		},
		{
			name: "NY spring forward cron 30 2", spec: "30 2 * * *", loc: ny,
			after: u("2024-03-09 12:00"),
			want:  []time.Time{u("2024-03-10 07:00"), u("2024-03-11 06:30")},
		},
		{
			// 01:50 EST, then the 02:xx slots collapse into 03:00 EDT, then 03:10 EDT.
			name: "NY spring forward every 10m", spec: "every 10m", loc: ny,
			after: u("2024-03-10 06:45"),
			want:  []time.Time{u("2024-03-10 06:50"), u("2024-03-10 07:00"), u("2024-03-10 07:10")},
		},
		{
			name: "NY spring forward hourly", spec: "hourly", loc: ny,
			after: u("2024-03-10 05:30"),
			want:  []time.Time{u("2024-03-10 06:00"), u("2024-03-10 07:00"), u("2024-03-10 08:00")},
		},
		{
			name: "NY spring forward midnight unaffected", spec: "every 1 day", loc: ny,
			after: u("2024-03-09 12:00"),
			want:  []time.Time{u("2024-03-10 05:00"), u("2024-03-11 04:00")},
		},
		{
			// 2024-11-03 02:00 EDT → 01:00 EST: a fixed 01:30 runs once, on EDT.
			name: "NY fall back daily 01:30", spec: "daily at 01:30", loc: ny,
			after: u("2024-11-02 12:00"),
			want:  []time.Time{u("2024-11-03 05:30"), u("2024-11-04 06:30")},
		},
		{
			name: "NY fall back cron 30 1", spec: "30 1 * * *", loc: ny,
			after: u("2024-11-02 12:00"),
			want:  []time.Time{u("2024-11-03 05:30"), u("2024-11-04 06:30")},
		},
		{
			// Every-hour schedules keep their cadence through both occurrences of 01:xx.
			name: "NY fall back every 30m", spec: "every 30m", loc: ny,
			after: u("2024-11-03 04:45"),
			want: []time.Time{
				u("2024-11-03 05:00"), u("2024-11-03 05:30"), // 01:00, 01:30 EDT
				u("2024-11-03 06:00"), u("2024-11-03 06:30"), // 01:00, 01:30 EST
				u("2024-11-03 07:00"), // 02:00 EST
			},
		},
		{
			name: "NY fall back cron */30 * * * *", spec: "*/30 * * * *", loc: ny,
			after: u("2024-11-03 05:15"),
			want:  []time.Time{u("2024-11-03 05:30"), u("2024-11-03 06:00"), u("2024-11-03 06:30"), u("2024-11-03 07:00")},
		},
		{
			name: "NY fall back hourly", spec: "every 1h", loc: ny,
			after: u("2024-11-03 04:00"),
			want:  []time.Time{u("2024-11-03 05:00"), u("2024-11-03 06:00"), u("2024-11-03 07:00")},
		},
		{
			// Every 2 hours fires at 00:00 EDT and 02:00 EST, three real hours apart.
			name: "NY fall back every 2 hours", spec: "every 2 hours", loc: ny,
			after: u("2024-11-03 03:00"),
			want:  []time.Time{u("2024-11-03 04:00"), u("2024-11-03 07:00"), u("2024-11-03 09:00")},
		},
		{
			// 2024-03-31 02:00 CET → 03:00 CEST; a Monday-less check of weekly at 02:15
			// is covered by daily; here a monthly slot in the gap.
			name: "Berlin spring forward cron 15 2 31 3 *", spec: "15 2 31 3 *", loc: berlin,
			after: u("2024-03-30 00:00"),
			want:  []time.Time{u("2024-03-31 01:00"), u("2025-03-31 00:15")},
		},
		{
			// 2024-10-27 03:00 CEST → 02:00 CET: 02:30 runs once.
			name: "Berlin fall back daily 02:30", spec: "daily at 02:30", loc: berlin,
			after: u("2024-10-26 12:00"),
			want:  []time.Time{u("2024-10-27 00:30"), u("2024-10-28 01:30")},
		},
		{
			// 2018-11-04: DST started at midnight (00:00 → 01:00), midnight did not exist.
			name: "Sao Paulo midnight gap", spec: "every 1 day", loc: saoPaulo,
			after: u("2018-11-03 12:00"),
			want:  []time.Time{u("2018-11-04 03:00"), u("2018-11-05 02:00")},
		},
		{
			// 2024-04-07 02:00 → 01:30 (a 30-minute shift): 01:30 and 01:45 happen twice.
			name: "Lord Howe half-hour fall back", spec: "every 15m", loc: lordHowe,
			after: time.Date(2024, 4, 6, 14, 40, 0, 0, time.UTC), // the first 01:40 (+11)
			want: []time.Time{
				time.Date(2024, 4, 6, 14, 45, 0, 0, time.UTC), // 01:45 +11
				time.Date(2024, 4, 6, 15, 0, 0, 0, time.UTC),  // 01:30 +10:30
				time.Date(2024, 4, 6, 15, 15, 0, 0, time.UTC), // 01:45 +10:30
				time.Date(2024, 4, 6, 15, 30, 0, 0, time.UTC), // 02:00 +10:30
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, tt.spec, tt.loc)
			cur := tt.after
			for i, want := range tt.want {
				got := s.Next(cur)
				if !got.Equal(want) {
					t.Fatalf("slot %d after %s = %s (%s), want %s (%s)", i+1,
						cur.In(tt.loc), got.UTC(), got.In(tt.loc), want.UTC(), want.In(tt.loc))
				}
				cur = got
			}
		})
	}
}

// TestNextMatchesRobfigInUTC cross-checks the cron evaluation against
// robfig/cron's own Next where no DST can interfere.
func TestNextMatchesRobfigInUTC(t *testing.T) {
	specs := []string{
		"0 0 * * *", "30 2 * * 1-5", "*/15 9-17 * * *", "0 0 13 * 5", "0 0 31 * *",
		"5,35 */3 1-10 * *", "0 12 * jan,jun mon-wed", "0 0 29 2 *", "@monthly", "@weekly",
		"45 23 L * *",
	}
	start := time.Date(2023, 12, 30, 22, 17, 0, 0, time.UTC)
	for _, spec := range specs {
		ref, refErr := cron.ParseStandard(spec)
		ours, err := ParseInLocation(spec, time.UTC)
		if refErr != nil {
			if err == nil {
				t.Errorf("%q: robfig rejects it (%v) but Parse accepts it", spec, refErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", spec, err)
			continue
		}
		a, b := start, start
		for i := range 300 {
			a, b = ref.Next(a), ours.Next(b)
			if a.IsZero() {
				break // robfig searches five years only; ours nine
			}
			if !a.Equal(b) {
				t.Errorf("%q: slot %d: robfig %s, ours %s", spec, i+1, a, b)
				break
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		spec     string
		frequent bool   // wraps ErrTooFrequent
		want     string // substring of the error
	}{
		{"", false, "empty schedule"},
		{"   ", false, "empty schedule"},
		{"every", false, `"every" needs an interval`},
		{"every 5m", true, "minimum is 10m"},
		{"every 9 minutes", true, "throttled"},
		{"every 30s", true, "minimum is 10m"},
		{"@every 1m", true, "minimum is 10m"},
		{"*/5 * * * *", true, "slots 5m apart"},
		{"* * * * *", true, "slots 1m apart"},
		{"0,5 * * * *", true, "slots 5m apart"},
		{"every 7h", false, "does not divide 24 hours"},
		{"every 25m", false, "does not divide 24 hours"},
		{"every 36h", false, "does not divide 24 hours"},
		{"every 10m30s", false, "whole number of minutes"},
		{"every 0 days", false, "must be positive"},
		{"every 1 fortnight", false, `unknown unit "fortnight"`},
		{"every banana", false, `cannot read interval "banana"`},
		{"every 1 2 3", false, "cannot read interval"},
		{"every 10000 days", false, "too long"},
		{"every 99999999999 days", false, "cannot read count"},
		{"hourly at 02:00", false, `"at HH:MM" applies to intervals of days`},
		{"every 1 day at 25:00", false, "want HH:MM"},
		{"every 1 day at 2", false, "want HH:MM"},
		{"every 1 day at", false, `"at" takes one time of day`},
		{"weekly on monday", false, `unexpected "on monday" after the interval`},
		{"daily at 02:30 extra", false, `"at" takes one time of day`},
		{"0 0 30 2 *", false, "never fires"},
		{"CRON_TZ=Mars/Olympus 0 0 * * *", false, "unknown time zone"},
		{"CRON_TZ= 0 0 * * *", false, "unknown time zone"},
		{"CRON_TZ=Europe/Paris", false, "no schedule"},
		{"61 * * * *", false, "cron:"},
		{"0 0 * *", false, "cron:"},
		{"@fortnightly", false, "cron:"},
		{"banana", false, "cron:"},
	}
	for _, tt := range tests {
		_, err := ParseInLocation(tt.spec, time.UTC)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", tt.spec)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "schedule: ") {
			t.Errorf("Parse(%q) error %q lacks the package prefix", tt.spec, msg)
		}
		if !strings.Contains(msg, tt.want) {
			t.Errorf("Parse(%q) error %q does not contain %q", tt.spec, msg, tt.want)
		}
		if got := errors.Is(err, ErrTooFrequent); got != tt.frequent {
			t.Errorf("Parse(%q): errors.Is(err, ErrTooFrequent) = %v, want %v", tt.spec, got, tt.frequent)
		}
		if tt.frequent {
			if !strings.Contains(msg, "Microsoft Graph") || !strings.Contains(msg, "every 10m") {
				t.Errorf("Parse(%q) error %q does not explain the minimum", tt.spec, msg)
			}
		} else if !strings.Contains(msg, "never fires") && !strings.Contains(msg, "time zone") &&
			!strings.Contains(msg, "accepted forms") {
			t.Errorf("Parse(%q) error %q does not list the accepted forms", tt.spec, msg)
		}
	}
}

func TestParseTooFrequentAcrossMidnight(t *testing.T) {
	// 23:55 and 00:00 on consecutive days are five minutes apart.
	if _, err := ParseInLocation("55 23 * * *", time.UTC); err != nil {
		t.Fatalf("one slot a day: %v", err)
	}
	if _, err := ParseInLocation("0,55 0,23 * * *", time.UTC); !errors.Is(err, ErrTooFrequent) {
		t.Errorf("23:55 then 00:00: err = %v, want ErrTooFrequent", err)
	}
	// On Mondays and Wednesdays only, 23:55 is never followed by 00:00 the next day.
	if _, err := ParseInLocation("0,55 0,23 * * 1,3", time.UTC); err != nil {
		t.Errorf("Mondays and Wednesdays: %v", err)
	}
}

func TestParseString(t *testing.T) {
	for spec, want := range map[string]string{
		"  every   10m ":                  "every 10m",
		"CRON_TZ=Europe/Paris 0  2 * * *": "CRON_TZ=Europe/Paris 0 2 * * *",
		"Daily at 02:30":                  "Daily at 02:30",
	} {
		if got := mustParse(t, spec, time.UTC).String(); got != want {
			t.Errorf("String() of %q = %q, want %q", spec, got, want)
		}
	}
}

func TestParseUsesLocal(t *testing.T) {
	s, err := Parse("every 1 day")
	if err != nil {
		t.Fatal(err)
	}
	after := time.Date(2024, 5, 6, 10, 0, 0, 0, time.Local)
	want := time.Date(2024, 5, 7, 0, 0, 0, 0, time.Local)
	if got := s.Next(after); !got.Equal(want) {
		t.Errorf("Next = %s, want local midnight %s", got, want)
	}
}

func BenchmarkNext(b *testing.B) {
	ny := mustLoad(b, "America/New_York")
	for _, spec := range []string{"every 10m", "every 1 day at 02:30", "*/10 * * * *", "0 0 29 2 *"} {
		s := mustParse(b, spec, ny)
		b.Run(spec, func(b *testing.B) {
			t0 := time.Date(2024, 11, 2, 12, 0, 0, 0, time.UTC)
			cur := t0
			for b.Loop() {
				cur = s.Next(cur)
				if cur.Year() > 2200 {
					cur = t0
				}
			}
		})
	}
}

// TestParseWithMin: a sandbox job may run every minute; a job reading a
// tenant may not.
func TestParseWithMin(t *testing.T) {
	for _, spec := range []string{"every 1m", "every 2 minutes", "*/5 * * * *", "every 5m"} {
		s, err := ParseWithMin(spec, time.UTC, SandboxMinInterval)
		if err != nil {
			t.Errorf("ParseWithMin(%q, sandbox): %v", spec, err)
			continue
		}
		from := time.Date(2024, 5, 6, 10, 0, 30, 0, time.UTC)
		if next := s.Next(from); next.Sub(from) > 5*time.Minute {
			t.Errorf("%q: next slot %s after %s", spec, next, from)
		}
		if _, err := ParseInLocation(spec, time.UTC); !errors.Is(err, ErrTooFrequent) || !strings.Contains(err.Error(), "the minimum is 10m") {
			t.Errorf("ParseInLocation(%q) = %v, want too frequent", spec, err)
		}
	}
	for _, spec := range []string{"every 30 seconds", "every 0m"} {
		if _, err := ParseWithMin(spec, time.UTC, SandboxMinInterval); err == nil {
			t.Errorf("ParseWithMin(%q, sandbox) accepted it", spec)
		}
	}
	_, err := ParseWithMin("every 30s", time.UTC, SandboxMinInterval)
	if !errors.Is(err, ErrTooFrequent) || !strings.Contains(err.Error(), `the minimum is 1m; use "every 1m"`) {
		t.Errorf("every 30s: %v", err)
	}
}
