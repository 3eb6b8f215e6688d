package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/plannersql/planner/internal/format"
	"github.com/plannersql/planner/internal/sqltext"
)

const queryUsage = `Usage: planner query [--sandbox | --profile NAME | --dsn DSN] [flags] 'SQL'

Runs one SQL statement and prints its result to stdout. '-' reads the
statement from stdin. Results stream: large results are not held in memory
(the table modes size their columns from the first 1000 rows).

INSERT, UPDATE and DELETE print how many rows they changed, as psql does
("INSERT 0 1", "UPDATE 3", "DELETE 48"): on stdout in the table, box,
markdown and line formats, on stderr in csv, tsv, json and jsonl. On an
account other than the sandbox, UPDATE or DELETE without a WHERE clause
of its own is refused (it would change every row of every plan the
account can reach) unless --safe-updates=false is given.

Flags:
%s
Examples:
  planner query --sandbox 'SELECT Title, PercentComplete FROM Tasks ORDER BY Title'
  planner query --profile prod --format csv 'SELECT * FROM Plans' > plans.csv
  planner query --sandbox --format json 'DESCRIBE Tasks'
  planner query --sandbox --timer 'SELECT count(*) FROM TaskDetails'
`

func runQuery(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("query", queryUsage)
	var sf sourceFlags
	sf.register(fs, "profile")
	mode := fs.String("format", string(format.ModeTable), "output `FORMAT`: "+modeList())
	fs.StringVar(mode, "mode", string(format.ModeTable), "the same as --format")
	noHeaders := fs.Bool("no-headers", false, "leave out column headers")
	null := fs.String("null", "", "`TEXT` shown for NULL (default NULL; empty in csv and tsv)")
	maxWidth := fs.Int("max-width", -1, "cap table columns at `N` cells (0: no cap; default "+strconv.Itoa(terminalMaxWidth)+" on a terminal, none otherwise)")
	timer := fs.Bool("timer", false, "print the time taken and the Graph requests made to stderr")
	safe := onOffVar(fs, "safe-updates", true, "refuse UPDATE and DELETE without WHERE (never applies to the sandbox); on|off")
	pos, err := a.parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("query: give exactly one SQL statement (quote it), e.g. planner query --sandbox 'SELECT * FROM Plans'")
	}
	stmt := pos[0]
	if stmt == "-" {
		b, err := io.ReadAll(a.io.Stdin)
		if err != nil {
			return fmt.Errorf("query: read stdin: %w", err)
		}
		stmt = string(b)
	}
	if _, ok := sqltext.MetaLine(stmt); ok && !strings.Contains(strings.TrimSpace(stmt), "\n") {
		word := strings.TrimRight(strings.Fields(strings.TrimLeft(stmt, " \t\r\n\ufeff"))[0], ";")
		return usageErrorf("query: %s is a shell command: run it in 'planner shell' (SHOW TABLES and DESCRIBE <table> work in queries)", word)
	}
	stmts := sqltext.Split(stmt)
	switch {
	case len(stmts) == 0:
		return usageErrorf("query: the statement is empty")
	case len(stmts) > 1:
		return usageErrorf("query: give one statement, not %d (pipe several to 'planner shell')", len(stmts))
	}
	if tok, open := stmts[0].Open(); open {
		what := "a string"
		if tok.Kind == sqltext.Ident {
			what = "a quoted identifier"
		}
		return usageErrorf("query: the statement ends inside %s opened at line %d, column %d: close it", what, tok.Pos.Line, tok.Pos.Column)
	}
	m, err := format.ParseMode(*mode)
	if err != nil {
		return withCode(ExitUsage, fmt.Errorf("query: %w", err))
	}
	opts := format.Options{Mode: m, NoHeaders: *noHeaders, MaxColumnWidth: a.maxWidth(*maxWidth)}
	if isFlagSet(fs, "null") {
		opts.Null = null
	}
	cfg, err := sf.config(a.io.Stderr)
	if err != nil {
		return err
	}
	src, err := a.openSource(cfg, nil, a.io.StdinTerminal || a.io.StderrTerminal)
	if err != nil {
		return err
	}
	defer src.Close()

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	s := newShell(a, src, opts, *safe)
	defer func() {
		if s.conn != nil {
			s.conn.Close()
		}
	}()
	start := time.Now()
	err = s.execute(ctx, stmts[0])
	if *timer {
		fmt.Fprintln(a.io.Stderr, timerLine(time.Since(start), src.conn.Requests(), throttleNote(src.conn.Throttling())))
	}
	if ctx.Err() != nil && err != nil {
		return withCode(ExitInterrupted, errors.New("query: interrupted"))
	}
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	return nil
}

// terminalMaxWidth caps table columns when the output is a terminal, so that
// a JSON column does not push every other column off the screen.
const terminalMaxWidth = 60

// maxWidth resolves a --max-width flag: negative means the default, a cap
// on terminals and none when the output goes to a file or a pipe.
func (a *app) maxWidth(flagValue int) int {
	if flagValue >= 0 {
		return flagValue
	}
	if a.io.StdoutTerminal {
		return terminalMaxWidth
	}
	return 0
}
