package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
	_ "github.com/plannersql/planner/sandbox" // --sandbox and Sandbox=true: the in-process demo tenant
)

const sandboxUsage = `Usage: planner sandbox serve [flags]

Serves the Graph emulator — Planner's endpoints and the identity platform's
OAuth endpoints, with a demo or generated tenant — until SIGINT/SIGTERM, and
prints its GraphURL, an access token (valid until 2199) and a DSN to use
(and writes the DSN to a file with --dsn-file):

  GraphURL=http://127.0.0.1:8400/v1.0
  Token=...
  DSN=GraphURL=http://127.0.0.1:8400/v1.0;OAuthAccessToken=...;InitiateOAuth=OFF

Any Graph client can be pointed at it. Nothing is persisted: data written
lives until the process ends.

--throttle takes comma-separated key=value pairs: match=PATH-SUBSTRING,
every=N (every Nth matching request) or fraction=F, count=N (then stop),
retry-after=SECONDS. It may be repeated.

Flags:
%s
Examples:
  planner sandbox serve
  planner sandbox serve --addr 127.0.0.1:9000 --plans 20 --tasks-per-plan 500 --seed 7
  planner sandbox serve --latency 200ms --throttle every=5,retry-after=1,match=/details

  # In the background, for a shell in the same terminal: --dsn-file writes
  # the DSN (mode 0600) once the emulator listens, and removes it at exit.
  planner sandbox serve --addr 127.0.0.1:0 --dsn-file sandbox.dsn &
  until [ -s sandbox.dsn ]; do sleep 0.1; done
  planner shell --dsn "$(cat sandbox.dsn)"
  kill $! && wait
`

// throttleFlags collects repeated --throttle values.
type throttleFlags []graphtest.Throttle

func (t *throttleFlags) String() string { return fmt.Sprint(len(*t), " rules") }

func (t *throttleFlags) Set(v string) error {
	th, err := parseThrottle(v)
	if err != nil {
		return err
	}
	*t = append(*t, th)
	return nil
}

// parseThrottle parses "match=/details,every=5,retry-after=1".
func parseThrottle(v string) (graphtest.Throttle, error) {
	var th graphtest.Throttle
	th.RetryAfter = "1"
	for _, part := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return th, fmt.Errorf("%q is not key=value (keys: match, every, fraction, count, retry-after)", part)
		}
		var err error
		switch strings.ToLower(k) {
		case "match":
			th.Match = val
		case "every":
			th.EveryN, err = strconv.Atoi(val)
		case "fraction":
			th.Fraction, err = strconv.ParseFloat(val, 64)
		case "count":
			th.Count, err = strconv.Atoi(val)
		case "retry-after":
			th.RetryAfter = val
		default:
			return th, fmt.Errorf("unknown key %q (keys: match, every, fraction, count, retry-after)", k)
		}
		if err != nil {
			return th, fmt.Errorf("%s: %w", k, err)
		}
	}
	if th.EveryN <= 0 && th.Fraction <= 0 {
		return th, errors.New("give every=N or fraction=F")
	}
	return th, nil
}

func runSandbox(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || args[0] != "serve" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fs := a.newFlagSet("sandbox serve", sandboxUsage)
			sandboxFlags(fs)
			a.printHelp(fs)
			return flag.ErrHelp
		}
		return usageErrorf("sandbox: give the subcommand: planner sandbox serve (run 'planner sandbox --help')")
	}
	fs := a.newFlagSet("sandbox serve", sandboxUsage)
	sf := sandboxFlags(fs)
	pos, err := a.parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("sandbox serve: unexpected argument %q", pos[0])
	}
	opts := []graphtest.Option{graphtest.WithTokenTTL(*sf.tokenTTL)}
	if *sf.plans > 0 {
		opts = append(opts, graphtest.WithGenerated(graphtest.GenSpec{Seed: *sf.seed, Plans: *sf.plans,
			TasksPerPlan: *sf.tasks, Awkward: *sf.awkward}))
	} else if isFlagSet(fs, "tasks-per-plan") || isFlagSet(fs, "seed") || *sf.awkward {
		return usageErrorf("sandbox serve: --tasks-per-plan, --seed and --awkward need --plans N (a generated tenant)")
	}
	if *sf.latency > 0 {
		opts = append(opts, graphtest.WithLatency(*sf.latency))
	}
	if *sf.pageSize > 0 {
		opts = append(opts, graphtest.WithPageSize(*sf.pageSize))
	}
	srv, err := graphtest.New(opts...)
	if err != nil {
		return fmt.Errorf("sandbox serve: %w", err)
	}
	for _, th := range *sf.throttles {
		srv.Throttle(th)
	}
	l, err := net.Listen("tcp", *sf.addr)
	if err != nil {
		return fmt.Errorf("sandbox serve: listen on %s: %w (choose another --addr)", *sf.addr, err)
	}
	served, err := srv.Start(l)
	if err != nil {
		l.Close()
		return fmt.Errorf("sandbox serve: %w", err)
	}
	// Signals are caught before the DSN is given out: whoever reads it (a
	// script, a test) may stop the sandbox at once, and the DSN file is
	// then removed.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	dsn := fmt.Sprintf("GraphURL=%s;OAuthAccessToken=%s;InitiateOAuth=OFF", srv.GraphURL(), srv.Token())
	if *sf.dsnFile != "" {
		if err := writeFileAtomic(*sf.dsnFile, []byte(dsn+"\n")); err != nil {
			srv.Close()
			<-served
			return fmt.Errorf("sandbox serve: --dsn-file: %w", err)
		}
		defer os.Remove(*sf.dsnFile)
	}
	fmt.Fprintf(a.io.Stdout, "GraphURL=%s\nToken=%s\nDSN=%s\n", srv.GraphURL(), srv.Token(), dsn)
	fmt.Fprintf(a.io.Stdout, "AuthorityURL=%s\nTenant=%s\nOAuthClientId=%s\n", srv.AuthorityURL(), srv.TenantID(), srv.ClientID())
	if f, ok := a.io.Stdout.(*os.File); ok {
		f.Sync()
	}
	fmt.Fprintln(a.io.Stderr, "planner: sandbox serving; Ctrl-C to stop")

	select {
	case <-ctx.Done():
		srv.Close()
		<-served
		return nil
	case err := <-served:
		if err != nil {
			return fmt.Errorf("sandbox serve: %w", err)
		}
		return nil
	}
}

type sandboxOpts struct {
	addr              *string
	plans, tasks      *int
	seed              *int64
	awkward           *bool
	latency, tokenTTL *time.Duration
	pageSize          *int
	throttles         *throttleFlags
	dsnFile           *string
}

// writeFileAtomic writes data to path with mode 0600 through a temporary
// file in the same directory, so a reader sees the whole file or none.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o600)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

func sandboxFlags(fs *flag.FlagSet) sandboxOpts {
	var o sandboxOpts
	o.addr = fs.String("addr", "127.0.0.1:8400", "listen `ADDRESS` (127.0.0.1:0 picks a free port)")
	o.plans = fs.Int("plans", 0, "generate a tenant with `N` plans (default: the small demo tenant)")
	o.tasks = fs.Int("tasks-per-plan", 50, "tasks in each generated plan")
	o.seed = fs.Int64("seed", 1, "seed of the generated tenant (same seed, same data)")
	o.awkward = fs.Bool("awkward", false, "add awkward data to the generated tenant (emoji, RTL, quotes, long text)")
	o.latency = fs.Duration("latency", 0, "add this delay to every request")
	o.pageSize = fs.Int("page-size", 0, "items per list page (default 400, like Planner)")
	o.tokenTTL = fs.Duration("token-ttl", 30*24*time.Hour, "lifetime of tokens issued by the OAuth endpoints")
	o.dsnFile = fs.String("dsn-file", "", "also write the DSN to `FILE` (mode 0600) once serving; removed at exit")
	o.throttles = &throttleFlags{}
	fs.Var(o.throttles, "throttle", "answer 429 to some requests: `RULE` like every=5,retry-after=1,match=/details")
	return o
}
