package cli

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestMaxWidth checks the column cap: none into a pipe unless asked, the
// flag's value when given, and a cap on terminals by default.
func TestMaxWidth(t *testing.T) {
	for _, tc := range []struct {
		terminal bool
		flag     int
		want     int
	}{
		{false, -1, 0},
		{true, -1, terminalMaxWidth},
		{true, 0, 0},
		{false, 25, 25},
		{true, 25, 25},
	} {
		a := &app{io: IO{StdoutTerminal: tc.terminal}}
		if got := a.maxWidth(tc.flag); got != tc.want {
			t.Errorf("terminal=%v --max-width=%d: %d, want %d", tc.terminal, tc.flag, got, tc.want)
		}
	}

	q := "SELECT Assignments FROM Tasks WHERE Assignments <> '{}' LIMIT 3"
	wide := mustRun(t, runOpts{}, "query", "--sandbox", q)
	capped := mustRun(t, runOpts{}, "query", "--sandbox", "--max-width", "20", q)
	longest := func(s string) (n int) {
		for _, l := range strings.Split(s, "\n") {
			n = max(n, utf8.RuneCountInString(l))
		}
		return n
	}
	if longest(wide.stdout) <= 100 {
		t.Errorf("uncapped output into a pipe is only %d wide:\n%s", longest(wide.stdout), wide.stdout)
	}
	if longest(capped.stdout) > 24 || !strings.Contains(capped.stdout, "…") {
		t.Errorf("--max-width 20 gave lines %d wide:\n%s", longest(capped.stdout), capped.stdout)
	}
}
