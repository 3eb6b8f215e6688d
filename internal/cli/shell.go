package cli

import (
	"bufio"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/peterh/liner"
	"github.com/plannersql/planner/internal/config"
	"github.com/plannersql/planner/internal/format"
	"github.com/plannersql/planner/internal/sqltext"
)

// HistoryEnvVar names the environment variable that overrides the shell's
// history file (default: history next to the config file's directory).
const HistoryEnvVar = "PLANNER_HISTORY"

const shellUsage = `Usage: planner shell [--sandbox | --profile NAME | --dsn DSN] [flags]

An SQL shell over Planner. Statements end with ';' and may span lines.
On a terminal it has line editing, history (kept across sessions) and tab
completion of table and column names; Ctrl-C cancels the running query,
Ctrl-D exits. When stdin is not a terminal it reads statements from stdin
with no prompts, prints the results to stdout and errors to stderr, and
exits 1 if any statement failed.

Meta-commands:
` + metaHelp + `
Flags:
%s
Examples:
  planner shell --sandbox
  planner shell --profile prod --mode box
  echo 'SELECT Title FROM Plans;' | planner shell --sandbox --mode csv
  planner shell --sandbox < report.sql > report.txt
`

const metaHelp = `  .tables [PATTERN]        list tables (SHOW TABLES works too)
  .schema [TABLE]          show table definitions (or DESCRIBE TABLE)
  .mode MODE               output mode: table, box, csv, json, jsonl, markdown, line
  .headers on|off          show column headers (table, box, csv, markdown)
  .nullvalue TEXT          text shown for NULL
  .output [FILE]           send results to FILE (no FILE: back to stdout)
  .timer on|off            show each statement's time and Graph requests
  .read FILE               run the statements in FILE
  .help                    show this help
  .quit, .exit             leave the shell
`

// silentError is an error already reported to the user; report prints
// nothing more for it.
type silentError struct{ code int }

func (e *silentError) Error() string { return "" }

// shell is one shell session.
type shell struct {
	a       *app
	src     *source
	conn    *sql.Conn
	out     io.Writer
	outFile *os.File
	opts    format.Options
	timer   bool
	prompt  bool // interactive: a person is typing
	bail    bool
	failed  int

	mu          sync.Mutex
	cancel      context.CancelFunc // of the running statement
	interrupted bool

	catOnce sync.Once
	words   []string // completion candidates: table and column names
}

func runShell(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("shell", shellUsage)
	var sf sourceFlags
	sf.register(fs, "profile")
	mode := fs.String("mode", string(format.ModeTable), "output `MODE`: "+modeList())
	noHeaders := fs.Bool("no-headers", false, "leave out column headers")
	maxWidth := fs.Int("max-width", -1, "cap table columns at `N` cells (0: no cap; default "+strconv.Itoa(terminalMaxWidth)+" on a terminal, none otherwise)")
	null := fs.String("null", "", "`TEXT` shown for NULL (default NULL; empty in csv)")
	bail := fs.Bool("bail", false, "stop at the first failing statement (stdin not a terminal)")
	pos, err := a.parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("shell: unexpected argument %q: pipe statements to stdin, or use 'planner query'", pos[0])
	}
	m, err := format.ParseMode(*mode)
	if err != nil {
		return withCode(ExitUsage, fmt.Errorf("shell: %w", err))
	}
	cfg, err := sf.config()
	if err != nil {
		return err
	}
	src, err := a.openSource(cfg, nil, a.io.StdinTerminal)
	if err != nil {
		return err
	}
	defer src.Close()
	s := &shell{a: a, src: src, out: a.io.Stdout, prompt: a.io.StdinTerminal, bail: *bail,
		opts: format.Options{Mode: m, NoHeaders: *noHeaders, MaxColumnWidth: a.maxWidth(*maxWidth)}}
	if isFlagSet(fs, "null") {
		s.opts.Null = null
	}
	defer s.closeOutput()
	defer func() {
		if s.conn != nil {
			s.conn.Close()
		}
	}()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case sig := <-sigs:
				// Ctrl-C cancels the running statement; on a terminal the
				// shell stays (at the prompt the line editor reads Ctrl-C
				// itself). SIGTERM, or any signal in batch mode, ends it.
				s.interrupt()
				if sig == syscall.SIGTERM || !s.prompt {
					stop()
				}
			}
		}
	}()
	if s.prompt {
		return s.interactive(ctx)
	}
	return s.batch(ctx, a.io.Stdin)
}

// interrupt cancels the running statement; it reports whether one was running.
func (s *shell) interrupt() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel == nil {
		return false
	}
	s.interrupted = true
	s.cancel()
	return true
}

// batch runs the statements read from r, without prompts.
func (s *shell) batch(ctx context.Context, r io.Reader) error {
	err := s.runScript(ctx, r, "stdin")
	if errors.Is(err, errQuit) {
		err = nil
	}
	if ctx.Err() != nil {
		return withCode(ExitInterrupted, errors.New("shell: interrupted"))
	}
	if err != nil {
		return err
	}
	if s.failed > 0 {
		return &silentError{code: ExitError}
	}
	return nil
}

// errQuit ends a script or session (.quit).
var errQuit = errors.New("quit")

// runScript runs the statements and meta-commands read from r. Statement
// errors are printed and counted (and stop the script with --bail).
func (s *shell) runScript(ctx context.Context, r io.Reader, name string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	var buf strings.Builder
	for sc.Scan() {
		if ctx.Err() != nil {
			return nil
		}
		line := sc.Text()
		if buf.Len() == 0 || sqltext.Blank(buf.String()) {
			if t, ok := sqltext.MetaLine(line); ok {
				buf.Reset()
				if err := s.meta(ctx, t); err != nil {
					if errors.Is(err, errQuit) {
						return err
					}
					if s.fail(err) {
						return nil
					}
				}
				continue
			}
		}
		buf.WriteString(line)
		buf.WriteByte('\n')
		stmts, rest := takeStatements(buf.String())
		buf.Reset()
		buf.WriteString(rest)
		for _, st := range stmts {
			if err := s.execute(ctx, st); err != nil {
				if s.fail(err) {
					return nil
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("shell: read %s: %w", name, err)
	}
	for _, st := range sqltext.Split(buf.String()) {
		if ctx.Err() != nil {
			break
		}
		if err := s.execute(ctx, st); err != nil {
			s.fail(err)
		}
	}
	return nil
}

// fail prints a statement's error and reports whether to stop (--bail).
func (s *shell) fail(err error) bool {
	s.failed++
	fmt.Fprintln(s.a.io.Stderr, "Error: "+cleanMessage(err.Error()))
	return s.bail && !s.prompt
}

// interactive runs the line-editing loop.
func (s *shell) interactive(ctx context.Context) error {
	ln := liner.NewLiner()
	defer ln.Close()
	ln.SetCtrlCAborts(true)
	ln.SetMultiLineMode(true)
	ln.SetTabCompletionStyle(liner.TabPrints)
	ln.SetWordCompleter(s.complete)
	hist := historyPath()
	if hist != "" {
		if f, err := os.Open(hist); err == nil {
			ln.ReadHistory(f)
			f.Close()
		}
	}
	defer func() {
		if hist == "" {
			return
		}
		if err := os.MkdirAll(filepath.Dir(hist), 0o700); err != nil {
			return
		}
		if f, err := os.OpenFile(hist, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600); err == nil {
			ln.WriteHistory(f)
			f.Close()
		}
	}()
	fmt.Fprintf(s.a.io.Stdout, "planner %s — enter SQL ending with ';', .help for help, Ctrl-D to exit.\n", version())
	var buf strings.Builder
	for ctx.Err() == nil {
		p := "planner> "
		if buf.Len() > 0 {
			p = "    ...> "
		}
		line, err := ln.Prompt(p)
		if errors.Is(err, liner.ErrPromptAborted) {
			buf.Reset()
			continue
		}
		if err != nil { // io.EOF: Ctrl-D
			fmt.Fprintln(s.a.io.Stdout)
			return nil
		}
		if buf.Len() == 0 {
			if t, ok := sqltext.MetaLine(line); ok {
				ln.AppendHistory(strings.TrimSpace(line))
				if err := s.meta(ctx, t); err != nil {
					if errors.Is(err, errQuit) {
						return nil
					}
					s.fail(err)
				}
				continue
			}
		}
		buf.WriteString(line)
		buf.WriteByte('\n')
		stmts, rest := takeStatements(buf.String())
		if len(stmts) == 0 {
			if sqltext.Blank(buf.String()) {
				buf.Reset()
			}
			continue
		}
		ln.AppendHistory(strings.Join(strings.Fields(strings.TrimSpace(buf.String())), " "))
		buf.Reset()
		buf.WriteString(strings.TrimLeft(rest, " \t\r\n"))
		for _, st := range stmts {
			if err := s.execute(ctx, st); err != nil {
				s.fail(err)
			}
		}
	}
	return nil
}

// historyPath returns where the shell keeps its history.
func historyPath() string {
	if p, ok := os.LookupEnv(HistoryEnvVar); ok {
		return p
	}
	p, err := config.Path()
	if err != nil {
		return ""
	}
	return filepath.Join(filepath.Dir(p), "shell_history")
}

// session returns the shell's connection, opening it (again, after a
// cancelled query closed it) when needed.
func (s *shell) session(ctx context.Context) (*sql.Conn, error) {
	if s.conn != nil {
		return s.conn, nil
	}
	c, err := s.src.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	s.conn = c
	return c, nil
}

// takeStatements returns the statements of buf that a ';' ended and the
// text after them.
func takeStatements(buf string) ([]sqltext.Statement, string) {
	var done []sqltext.Statement
	rest := 0
	for _, st := range sqltext.Split(buf) {
		if st.Terminated {
			done = append(done, st)
			rest = st.Next
		}
	}
	return done, buf[rest:]
}

// execute runs one SQL statement and prints its result.
func (s *shell) execute(ctx context.Context, stmt sqltext.Statement) error {
	conn, err := s.session(ctx)
	if err != nil {
		return err
	}
	qctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.cancel, s.interrupted = cancel, false
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.cancel = nil
		s.mu.Unlock()
		cancel()
	}()
	start, req0, thr0 := time.Now(), s.src.conn.Requests(), s.src.conn.Throttled()
	err = s.runStatement(qctx, conn, stmt)
	s.mu.Lock()
	interrupted := s.interrupted
	s.mu.Unlock()
	if errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) {
		s.conn.Close()
		s.conn = nil
	}
	if s.timer {
		fmt.Fprintln(s.out, timerLine(time.Since(start), s.src.conn.Requests()-req0, s.src.conn.Throttled()-thr0))
	}
	if interrupted && err != nil {
		return errors.New("query cancelled (Ctrl-C)")
	}
	return err
}

func (s *shell) runStatement(ctx context.Context, conn *sql.Conn, st sqltext.Statement) error {
	stmt := st.Text
	if st.Class == sqltext.Replicate {
		return errors.New("REPLICATE copies into another database, so it runs outside the shell: " +
			"planner replicate [--sandbox | --profile P] --to DEST 'REPLICATE ...;'")
	}
	if !st.ReturnsRows() {
		res, err := conn.ExecContext(ctx, stmt)
		if err != nil {
			return err
		}
		if s.prompt {
			if n, err := res.RowsAffected(); err == nil {
				fmt.Fprintf(s.out, "OK, %d row(s) affected\n", n)
			}
		}
		return nil
	}
	rows, err := conn.QueryContext(ctx, stmt)
	if err != nil {
		return err
	}
	_, err = format.Write(s.out, rows, s.opts)
	cerr := rows.Close()
	if err == nil {
		err = cerr
	}
	return err
}

// closeOutput ends an .output redirection.
func (s *shell) closeOutput() error {
	s.out = s.a.io.Stdout
	if s.outFile == nil {
		return nil
	}
	err := s.outFile.Close()
	s.outFile = nil
	return err
}

// meta runs a meta-command.
func (s *shell) meta(ctx context.Context, line string) error {
	fields := strings.Fields(line)
	cmd, args := strings.ToLower(fields[0]), fields[1:]
	arg := strings.TrimSpace(strings.TrimPrefix(line, fields[0]))
	onOff := func(name string) (bool, error) {
		if len(args) != 1 {
			return false, fmt.Errorf("%s: give on or off", name)
		}
		switch strings.ToLower(args[0]) {
		case "on", "yes", "true", "1":
			return true, nil
		case "off", "no", "false", "0":
			return false, nil
		}
		return false, fmt.Errorf("%s: give on or off, not %q", name, args[0])
	}
	switch cmd {
	case ".quit", ".exit", ".q":
		return errQuit
	case ".help", ".h":
		fmt.Fprint(s.out, metaHelp)
		fmt.Fprintln(s.out, "SQL: SQLite's, over the tables of .tables; SHOW TABLES and DESCRIBE <table> work too.")
		return nil
	case ".mode":
		if len(args) != 1 {
			return fmt.Errorf(".mode: give one of %s (current: %s)", modeList(), s.modeName())
		}
		m, err := format.ParseMode(args[0])
		if err != nil {
			return fmt.Errorf(".mode: %w", err)
		}
		s.opts.Mode = m
		return nil
	case ".headers", ".header":
		on, err := onOff(".headers")
		if err != nil {
			return err
		}
		s.opts.NoHeaders = !on
		return nil
	case ".nullvalue":
		v := arg
		s.opts.Null = &v
		return nil
	case ".timer":
		on, err := onOff(".timer")
		if err != nil {
			return err
		}
		s.timer = on
		return nil
	case ".output", ".once":
		if err := s.closeOutput(); err != nil {
			return fmt.Errorf(".output: %w", err)
		}
		if arg == "" || arg == "stdout" {
			return nil
		}
		f, err := os.Create(arg)
		if err != nil {
			return fmt.Errorf(".output: %w", err)
		}
		s.outFile, s.out = f, f
		return nil
	case ".read":
		if arg == "" {
			return errors.New(".read: give a file name")
		}
		f, err := os.Open(arg)
		if err != nil {
			return fmt.Errorf(".read: %w", err)
		}
		defer f.Close()
		err = s.runScript(ctx, f, arg)
		if errors.Is(err, errQuit) {
			return nil
		}
		return err
	case ".tables":
		return s.listTables(ctx, arg)
	case ".schema":
		return s.showSchema(ctx, arg)
	}
	return fmt.Errorf("unknown command %s: enter .help for the list", fields[0])
}

func (s *shell) modeName() string {
	if s.opts.Mode == "" {
		return string(format.ModeTable)
	}
	return string(s.opts.Mode)
}

func modeList() string {
	var names []string
	for _, m := range format.Modes() {
		names = append(names, string(m))
	}
	return strings.Join(names, ", ")
}

// listTables prints the table names matching the LIKE pattern.
func (s *shell) listTables(ctx context.Context, pattern string) error {
	conn, err := s.session(ctx)
	if err != nil {
		return err
	}
	if pattern == "" {
		pattern = "%"
	}
	rows, err := conn.QueryContext(ctx, "SELECT TableName FROM sys_tables WHERE TableName LIKE ? ORDER BY TableName", pattern)
	if err != nil {
		return fmt.Errorf(".tables: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return fmt.Errorf(".tables: %w", err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf(".tables: %w", err)
	}
	for _, n := range names {
		fmt.Fprintln(s.out, n)
	}
	return nil
}

// showSchema prints CREATE TABLE statements describing the tables (all,
// or the one named).
func (s *shell) showSchema(ctx context.Context, table string) error {
	conn, err := s.session(ctx)
	if err != nil {
		return err
	}
	q := "SELECT TableName, ColumnName, DataType, IsKey, Description FROM sys_columns"
	var args []any
	if table != "" {
		q += " WHERE TableName = ? COLLATE NOCASE"
		args = append(args, table)
	}
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf(".schema: %w", err)
	}
	defer rows.Close()
	type col struct{ name, typ, desc string }
	var order []string
	cols := map[string][]col{}
	keys := map[string][]string{}
	for rows.Next() {
		var t, c string
		var typ, desc sql.NullString
		var key sql.NullBool
		if err := rows.Scan(&t, &c, &typ, &key, &desc); err != nil {
			return fmt.Errorf(".schema: %w", err)
		}
		if _, ok := cols[t]; !ok {
			order = append(order, t)
		}
		cols[t] = append(cols[t], col{c, typ.String, desc.String})
		if key.Bool {
			keys[t] = append(keys[t], c)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf(".schema: %w", err)
	}
	if table != "" && len(order) == 0 {
		return fmt.Errorf(".schema: no table %s: enter .tables for the list", table)
	}
	for _, t := range order {
		fmt.Fprintf(s.out, "CREATE TABLE %s (\n", t)
		for i, c := range cols[t] {
			sep := ","
			if i == len(cols[t])-1 && len(keys[t]) == 0 {
				sep = ""
			}
			line := fmt.Sprintf("  %s %s%s", c.name, c.typ, sep)
			if c.desc != "" {
				line += " -- " + oneLine(c.desc)
			}
			fmt.Fprintln(s.out, line)
		}
		if len(keys[t]) > 0 {
			fmt.Fprintf(s.out, "  PRIMARY KEY (%s)\n", strings.Join(keys[t], ", "))
		}
		fmt.Fprintln(s.out, ");")
	}
	return nil
}

// sqlKeywords are offered by tab completion with the table and column names.
var sqlKeywords = []string{"SELECT", "FROM", "WHERE", "GROUP", "BY", "ORDER", "LIMIT", "JOIN", "LEFT",
	"INSERT", "INTO", "VALUES", "UPDATE", "SET", "DELETE", "AND", "OR", "NOT", "NULL", "COUNT", "DISTINCT",
	"DESCRIBE", "SHOW", "TABLES", "HAVING", "AS", "ON", "IN", "LIKE", "IS", "WITH", "RETURNING"}

// loadWords reads the completion candidates from the catalog, once.
func (s *shell) loadWords() {
	s.catOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := s.session(ctx)
		if err != nil {
			return
		}
		rows, err := conn.QueryContext(ctx, "SELECT TableName, ColumnName FROM sys_columns")
		if err != nil {
			return
		}
		defer rows.Close()
		seen := map[string]bool{}
		add := func(w string) {
			if !seen[w] {
				seen[w] = true
				s.words = append(s.words, w)
			}
		}
		for rows.Next() {
			var t, c string
			if rows.Scan(&t, &c) == nil {
				add(t)
				add(c)
			}
		}
		for _, m := range []string{".tables", ".schema", ".mode", ".headers", ".nullvalue", ".output", ".timer", ".read", ".help", ".quit"} {
			add(m)
		}
		sort.Strings(s.words)
	})
}

// complete is the line editor's word completer: table names, column
// names, meta-commands and keywords matching the word before the cursor.
func (s *shell) complete(line string, pos int) (head string, completions []string, tail string) {
	s.loadWords()
	runes := []rune(line)
	if pos > len(runes) {
		pos = len(runes)
	}
	start := pos
	for start > 0 {
		r := runes[start-1]
		if r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			start--
			continue
		}
		break
	}
	word := string(runes[start:pos])
	head, tail = string(runes[:start]), string(runes[pos:])
	qualifier := ""
	if i := strings.LastIndexByte(word, '.'); i > 0 {
		qualifier, word = word[:i+1], word[i+1:]
	}
	lw := strings.ToLower(word)
	if lw == "" && qualifier == "" {
		return head, nil, tail
	}
	for _, w := range s.words {
		if strings.HasPrefix(strings.ToLower(w), lw) && (qualifier == "" || !strings.HasPrefix(w, ".")) {
			completions = append(completions, qualifier+w)
		}
	}
	if qualifier == "" {
		for _, k := range sqlKeywords {
			if strings.HasPrefix(strings.ToLower(k), lw) {
				if strings.ToLower(word) == word {
					k = strings.ToLower(k)
				}
				completions = append(completions, k)
			}
		}
	}
	return head, completions, tail
}

// timerLine is what .timer and --timer print after a statement.
func timerLine(d time.Duration, requests, throttled int) string {
	line := fmt.Sprintf("Run Time: %.3fs, Graph requests: %d", d.Seconds(), requests)
	if throttled > 0 {
		line += fmt.Sprintf(" (%d throttled and retried)", throttled)
	}
	return line
}
