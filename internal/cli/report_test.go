package cli

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// TestReportLines: joined errors are reported one per line, each with the
// context wrapped around them; other errors on one line.
func TestReportLines(t *testing.T) {
	joined := errors.Join(errors.New("config: f:3: a"), errors.New("config: f:7: b\nmore"))
	tests := []struct {
		err  error
		want string
	}{
		{errors.New("plain"), "planner: plain\n"},
		{fmt.Errorf("config: %w", joined), "planner: config: f:3: a\nplanner: config: f:7: b more\n"},
		{fmt.Errorf("open profile x: %w", fmt.Errorf("loading: %w", joined)),
			"planner: open profile x: loading: config: f:3: a\nplanner: open profile x: loading: config: f:7: b more\n"},
		{rewording{joined}, "planner: reworded\n"},
		{withCode(ExitUsage, joined), "planner: config: f:3: a\nplanner: config: f:7: b more\n"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		report(&b, tt.err)
		if b.String() != tt.want {
			t.Errorf("report(%q):\n%s\nwant:\n%s", tt.err, b.String(), tt.want)
		}
	}
}

// rewording is a wrapper whose text does not contain the wrapped error's.
type rewording struct{ err error }

func (r rewording) Error() string { return "reworded" }
func (r rewording) Unwrap() error { return r.err }
