package schema

import (
	"testing"
	"time"
)

func TestFormatDateTime(t *testing.T) {
	t.Parallel()
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 28, 17, 43, 36, 0, time.UTC), "2026-11-28T17:43:36.0000000Z"},
		{time.Date(2026, 11, 28, 18, 43, 36, 123456789, paris), "2026-11-28T17:43:36.1234567Z"},
		{time.Date(1, 1, 1, 0, 0, 0, 100, time.UTC), "0001-01-01T00:00:00.0000001Z"},
	}
	for _, tt := range tests {
		got := FormatDateTime(tt.in)
		if got != tt.want {
			t.Errorf("FormatDateTime(%v) = %q, want %q", tt.in, got, tt.want)
		}
		back, err := time.Parse(time.RFC3339Nano, got)
		if err != nil || !back.Equal(tt.in.Truncate(100)) {
			t.Errorf("%q does not parse back as RFC 3339: %v, %v", got, back, err)
		}
	}
}
