package graphtest

import (
	"testing"
)

// The tests of this file are named after the points of issue 12 ("field
// fidelity"): what real tenants send and enforce.

// TestFidelity02DateTimesKeptAsSent: a date-time a client sends comes back
// with the fractional digits it had (Graph's resolution is seven), in UTC,
// over Graph's whole range of years 1 to 9999.
func TestFidelity02DateTimesKeptAsSent(t *testing.T) {
	_, c := demo(t)
	pid := firstAccessiblePlan(t, c)
	task := newTask(t, c, pid, nil)
	tid := str(task, "id")
	cases := []struct{ sent, want string }{
		{"2026-12-01T09:30:00.5Z", "2026-12-01T09:30:00.5Z"},
		{"2026-12-01T09:30:00Z", "2026-12-01T09:30:00Z"},
		{"2026-12-01T09:30:00.000Z", "2026-12-01T09:30:00.000Z"},
		{"2026-12-01T09:30:00.123Z", "2026-12-01T09:30:00.123Z"},
		{"2026-12-01T09:30:00.1234567Z", "2026-12-01T09:30:00.1234567Z"},
		{"2026-12-01T09:30:00.123456789Z", "2026-12-01T09:30:00.1234567Z"},
		{"2026-12-01T09:30:00.50", "2026-12-01T09:30:00.50Z"},
		{"2026-12-01T11:30:00.25+02:00", "2026-12-01T09:30:00.25Z"},
		{"2026-12-01", "2026-12-01T00:00:00Z"},
		{"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"},
		{"1969-12-31T23:59:59.9Z", "1969-12-31T23:59:59.9Z"},
		{"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
		{"9999-12-31T23:59:59.9999999Z", "9999-12-31T23:59:59.9999999Z"},
	}
	etag := str(task, "@odata.etag")
	for _, tc := range cases {
		got := patch(t, c, "/planner/tasks/"+tid, etag, map[string]any{"dueDateTime": tc.sent, "startDateTime": nil})
		etag = etagOf(got)
		if d := str(got, "dueDateTime"); d != tc.want {
			t.Errorf("dueDateTime %q came back as %q, want %q", tc.sent, d, tc.want)
		}
		if d := str(c.get("/planner/tasks/"+tid), "dueDateTime"); d != tc.want {
			t.Errorf("GET after %q: dueDateTime %q, want %q", tc.sent, d, tc.want)
		}
	}
	// Start after due is compared as instants, whatever the digits.
	r := c.do("PATCH", "/planner/tasks/"+tid, map[string]any{"startDateTime": "2026-12-01T09:30:00.5000000Z", "dueDateTime": "2026-12-01T09:30:00.5Z"}, "If-Match", etag)
	if r.status != 204 {
		t.Errorf("start equal to due with other digits: %d %s", r.status, r.body)
	}
	etag = etagOf(c.get("/planner/tasks/" + tid))
	r = c.do("PATCH", "/planner/tasks/"+tid, map[string]any{"startDateTime": "2026-12-01T09:30:00.5000001Z", "dueDateTime": "2026-12-01T09:30:00.5Z"}, "If-Match", etag)
	if r.status != 400 {
		t.Errorf("start 100 ns after due: %d %s", r.status, r.body)
	}
	for _, bad := range []string{"10000-01-01T00:00:00Z", "2026-13-01T00:00:00Z", "yesterday"} {
		if r := c.do("PATCH", "/planner/tasks/"+tid, map[string]any{"dueDateTime": bad}, "If-Match", etag); r.status != 400 {
			t.Errorf("dueDateTime %q: %d %s", bad, r.status, r.body)
		}
	}
}
