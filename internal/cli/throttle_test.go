package cli

import (
	"strings"
	"testing"

	"github.com/plannersql/planner/driver"
)

// TestThrottleNote checks that summaries claim a Retry-After only for the
// responses that carried one.
func TestThrottleNote(t *testing.T) {
	tests := []struct {
		t      driver.Throttling
		want   string
		reject string
	}{
		{driver.Throttling{}, "", ""},
		{driver.Throttling{Throttled: 3, RetryAfter: 3}, "3 throttled by the service and retried after its Retry-After", ""},
		{driver.Throttling{Throttled: 2, Backoff: 2}, "2 throttled by the service and retried after a backoff: no Retry-After was sent", "after its Retry-After"},
		{driver.Throttling{Throttled: 6, RetryAfter: 1, Backoff: 4}, "6 throttled by the service: 1 retried after its Retry-After, 4 after a backoff without one, 1 not retried", ""},
		{driver.Throttling{Throttled: 1}, "1 throttled by the service: 1 not retried", "Retry-After"},
	}
	for _, tt := range tests {
		got := throttleNote(tt.t)
		if got != tt.want {
			t.Errorf("throttleNote(%+v) = %q, want %q", tt.t, got, tt.want)
		}
		if tt.reject != "" && strings.Contains(got, tt.reject) {
			t.Errorf("throttleNote(%+v) = %q claims %q", tt.t, got, tt.reject)
		}
	}
	if got := timerLine(0, 5, throttleNote(driver.Throttling{Throttled: 2, Backoff: 2})); !strings.HasSuffix(got, "Graph requests: 5 (2 throttled by the service and retried after a backoff: no Retry-After was sent)") {
		t.Errorf("timerLine = %q", got)
	}
}
