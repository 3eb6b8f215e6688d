package cli

import (
	"regexp"
	"strings"
	"testing"

	"github.com/plannersql/planner/graph/graphtest"
)

// TestVerbosityFlags: -v, -vv, -vvv and --verbosity N log the driver's
// statements, Graph requests and bodies to stderr; stdout keeps only the
// result, and no token appears.
func TestVerbosityFlags(t *testing.T) {
	srv := graphtest.NewServer(t)
	tests := []struct {
		flags   []string
		want    []string
		wantNot []string
	}{
		{nil, nil, []string{"msg=statement", "graph request"}},
		{[]string{"-v"}, []string{`msg=statement sql="SELECT count\(\*\) FROM Plans" args=0`}, []string{"graph request"}},
		{[]string{"-vv"}, []string{`msg=statement`, `msg="graph request" method=GET path=/v1\.0/\S+ status=200 ms=\d+ throttled=false retries=0`}, []string{"http body"}},
		{[]string{"-vvv"}, []string{`msg="http body" method=GET`}, nil},
		{[]string{"--verbosity", "2"}, []string{`msg="graph request"`}, []string{"http body"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(append([]string{"flags"}, tt.flags...), " "), func(t *testing.T) {
			args := append([]string{"query", "--dsn", emulatorDSN(srv), "--format", "csv", "--no-headers"}, tt.flags...)
			r := mustRun(t, runOpts{}, append(args, "SELECT count(*) FROM Plans")...)
			if strings.TrimSpace(r.stdout) == "" || strings.Contains(r.stdout, "msg=") {
				t.Errorf("stdout %q: want the count alone", r.stdout)
			}
			for _, w := range tt.want {
				if !regexp.MustCompile(w).MatchString(r.stderr) {
					t.Errorf("stderr lacks %s:\n%s", w, r.stderr)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(r.stderr, w) {
					t.Errorf("stderr has %q:\n%s", w, r.stderr)
				}
			}
			if strings.Contains(r.stderr, srv.Token()) {
				t.Error("stderr shows the access token")
			}
		})
	}
	if r := run(t, runOpts{}, "query", "--sandbox", "--verbosity", "4", "SELECT 1"); r.code != ExitUsage || !strings.Contains(r.stderr, "--verbosity 4: give 0 to 3") {
		t.Errorf("--verbosity 4: exit %d, %q", r.code, r.stderr)
	}
	// The sandbox works from the CLI (it imports package sandbox).
	if r := mustRun(t, runOpts{}, "query", "--sandbox", "-v", "SELECT count(*) FROM Tasks"); !strings.Contains(r.stderr, "msg=statement") {
		t.Errorf("--sandbox -v: %q", r.stderr)
	}
}
