package cli

import (
	"bufio"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/peterh/liner"
	plannerdriver "github.com/plannersql/planner/driver"
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
completion (after FROM or JOIN the tables, elsewhere the columns of the
statement's tables, then keywords); the prompt names the account
(planner[sandbox]>, planner[PROFILE]>, or the DSN's host). Ctrl-C cancels
the running query, Ctrl-D exits. When stdin is not a terminal it reads
statements from stdin with no prompts, prints the results to stdout and
errors to stderr as "Error: stdin:LINE: ...", and exits 1 if any statement
failed.

At the end of the input (Ctrl-D, or the end of a script) a last statement
without ';' is run, and the shell says so; one left inside an unclosed
string or quoted identifier is reported and not run.

INSERT, UPDATE and DELETE print how many rows they changed, as psql does:
"INSERT 0 1", "UPDATE 3", "DELETE 48" (on stdout in the table, box,
markdown and line modes; on stderr in csv, tsv, json and jsonl, so the
data stays parseable).

Safe updates (MySQL's --safe-updates): on an account other than the
sandbox, an UPDATE or DELETE without a WHERE clause of its own would
change every row of every plan the account can reach, so it is refused.
Turn the guard off with --safe-updates=false or .safe-updates off.

Meta-commands (a line starting with '.'; exit, quit, help and psql's \q
work too; a ';' ending the line is ignored; quote an argument holding
spaces: .output 'my file.txt'):
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
  .mode [MODE]             show or set the output mode: table, box, csv, tsv,
                           json, jsonl, markdown, line
  .headers [on|off]        show or set column headers (table, box, csv, tsv,
                           markdown)
  .nullvalue [TEXT]        show or set the text shown for NULL ('' for none)
  .output [FILE]           send results to FILE (no FILE: back to stdout)
  .once FILE               send the next statement's results to FILE
  .timer [on|off]          show each statement's time and Graph requests (on
                           stderr)
  .safe-updates [on|off]   refuse UPDATE and DELETE without WHERE (not on the
                           sandbox)
  .show                    show the current settings
  .read FILE               run the statements in FILE
  .help                    show this help
  .quit, .exit             leave the shell
`

// maxReadDepth bounds .read files reading .read files.
const maxReadDepth = 16

// silentError is an error already reported to the user; report prints
// nothing more for it.
type silentError struct{ code int }

func (e *silentError) Error() string { return "" }

// errQuit ends a script or session (.quit).
var errQuit = errors.New("quit")

// errBail ends a script at its first failure (--bail).
var errBail = errors.New("bail")

// shell is one shell session (also used by 'planner query' for one
// statement).
type shell struct {
	a       *app
	src     *source
	conn    *sql.Conn
	out     io.Writer
	outFile *os.File
	outName string
	once    bool // .once: the output goes back to stdout after the next statement
	opts    format.Options
	timer   bool
	prompt  bool // interactive: a person is typing
	bail    bool
	failed  int
	depth   int // .read nesting

	// label names the account in the prompt; guarded reports an account
	// the safe-update guard protects (any but the sandbox); safeUpdates
	// is the guard's setting.
	label       string
	guarded     bool
	safeUpdates bool

	mu          sync.Mutex
	cancel      context.CancelFunc // of the running statement
	interrupted bool

	pending string // interactive: the lines of the statement being typed
	cat     catalog
}

// newShell returns a session on src writing results to stdout.
func newShell(a *app, src *source, opts format.Options, safeUpdates bool) *shell {
	cfg := src.conn.Config()
	return &shell{a: a, src: src, out: a.io.Stdout, opts: opts, outName: "stdout",
		label: sourceLabel(cfg), guarded: !cfg.Sandbox, safeUpdates: safeUpdates}
}

// sourceLabel names an account for the prompt: the profile, "sandbox", or
// the host of a DSN's GraphURL (its tenant when Graph is Microsoft's).
func sourceLabel(c *plannerdriver.Config) string {
	switch {
	case c.Profile != "":
		return c.Profile
	case c.Sandbox:
		return "sandbox"
	}
	if u, err := url.Parse(c.GraphURL); err == nil && u.Host != "" && c.GraphURL != plannerdriver.DefaultGraphURL {
		return u.Host
	}
	if c.Tenant != "" && c.Tenant != plannerdriver.DefaultTenant {
		return c.Tenant
	}
	return "graph.microsoft.com"
}

func runShell(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("shell", shellUsage)
	var sf sourceFlags
	sf.register(fs, "profile")
	mode := fs.String("mode", string(format.ModeTable), "output `MODE`: "+modeList())
	noHeaders := fs.Bool("no-headers", false, "leave out column headers")
	maxWidth := fs.Int("max-width", -1, "cap table columns at `N` cells (0: no cap; default "+strconv.Itoa(terminalMaxWidth)+" on a terminal, none otherwise)")
	null := fs.String("null", "", "`TEXT` shown for NULL (default NULL; empty in csv and tsv)")
	bail := fs.Bool("bail", false, "stop at the first failing statement (stdin not a terminal)")
	safe := onOffVar(fs, "safe-updates", true, "refuse UPDATE and DELETE without WHERE (never applies to the sandbox); on|off")
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
	cfg, err := sf.config(a.io.Stderr)
	if err != nil {
		return err
	}
	src, err := a.openSource(cfg, nil, a.io.StdinTerminal)
	if err != nil {
		return err
	}
	defer src.Close()
	s := newShell(a, src, format.Options{Mode: m, NoHeaders: *noHeaders, MaxColumnWidth: a.maxWidth(*maxWidth)}, *safe)
	s.prompt, s.bail = a.io.StdinTerminal, *bail
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
	if errors.Is(err, errQuit) || errors.Is(err, errBail) {
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

// script follows the lines of a script for error locations: buf holds the
// text of the statement being read, which starts at line first.
type script struct {
	name  string
	line  int // lines read
	first int // line of buf's first line
	buf   strings.Builder
}

// at returns "name:line" for a line of buf's text (1-based within buf).
func (sc *script) at(bufLine int) string {
	return sc.name + ":" + strconv.Itoa(sc.first+bufLine-1)
}

// add appends a line to buf.
func (sc *script) add(line string) {
	if sc.buf.Len() == 0 {
		sc.first = sc.line
	}
	sc.buf.WriteString(line)
	sc.buf.WriteByte('\n')
}

// keep replaces buf with its text from offset off on.
func (sc *script) keep(off int) {
	text := sc.buf.String()
	rest := text[off:]
	sc.first += strings.Count(text[:off], "\n")
	sc.buf.Reset()
	if !sqltext.Blank(rest) {
		sc.buf.WriteString(rest)
	}
}

// runScript runs the statements and meta-commands read from r (named name
// in error messages). Statement errors are printed with their file:line
// and counted; with --bail the first stops the script (errBail).
func (s *shell) runScript(ctx context.Context, r io.Reader, name string) error {
	rd := bufio.NewScanner(r)
	rd.Buffer(make([]byte, 64*1024), 64*1024*1024)
	sc := &script{name: name}
	for rd.Scan() {
		if ctx.Err() != nil {
			return nil
		}
		sc.line++
		line := rd.Text()
		if sc.buf.Len() == 0 {
			if cmd, ok := sqltext.MetaLine(line); ok {
				if err := s.meta(ctx, cmd); err != nil {
					if errors.Is(err, errQuit) || errors.Is(err, errBail) {
						return err
					}
					if s.fail(name+":"+strconv.Itoa(sc.line), err) {
						return errBail
					}
				}
				continue
			}
		}
		sc.add(line)
		if sqltext.Blank(sc.buf.String()) { // comments only: a meta-command may follow
			sc.buf.Reset()
			continue
		}
		if !strings.Contains(line, ";") {
			continue
		}
		stmts, next := takeStatements(sc.buf.String())
		for _, st := range stmts {
			if err := s.execute(ctx, st); err != nil {
				if s.fail(sc.at(st.Pos.Line), err) {
					return errBail
				}
			}
		}
		sc.keep(next)
	}
	if err := rd.Err(); err != nil {
		return fmt.Errorf("shell: read %s: %w", name, err)
	}
	if ctx.Err() != nil {
		return nil
	}
	if s.endOfInput(ctx, sc.buf.String(), sc.at) {
		return errBail
	}
	return nil
}

// endOfInput handles what is left when the input ends (a script's end, or
// Ctrl-D): a statement without ';' is run, and the shell says so; one
// inside an unclosed string or identifier is reported and not run. at
// locates a line of rest. It reports whether to stop (--bail).
func (s *shell) endOfInput(ctx context.Context, rest string, at func(int) string) (stop bool) {
	for _, st := range sqltext.Split(rest) {
		where := at(st.Pos.Line)
		if tok, open := st.Open(); open {
			what := "a string"
			if tok.Kind == sqltext.Ident {
				what = "a quoted identifier"
			}
			opened := fmt.Sprintf("line %d, column %d of the statement", tok.Pos.Line, tok.Pos.Column)
			if w := at(tok.Pos.Line); w != "" {
				opened = fmt.Sprintf("%s, column %d", w, tok.Pos.Column)
			}
			err := fmt.Errorf("the input ended inside %s opened at %s, so the statement was not run (close it and end the statement with ';')",
				what, opened)
			if s.fail(where, err) {
				return true
			}
			continue
		}
		msg := "planner: the input ended in a statement without ';'; running it"
		if where != "" {
			msg = "planner: " + where + ": the input ended in a statement without ';'; running it"
		}
		fmt.Fprintln(s.a.io.Stderr, msg)
		if err := s.execute(ctx, st); err != nil && s.fail(where, err) {
			return true
		}
	}
	return false
}

// fail prints a statement's error, located at where ("file:line", or ""
// at the prompt), and reports whether to stop (--bail).
func (s *shell) fail(where string, err error) bool {
	s.failed++
	msg := cleanMessage(err.Error())
	if where != "" {
		msg = where + ": " + msg
	}
	fmt.Fprintln(s.a.io.Stderr, "Error: "+msg)
	return s.bail && !s.prompt
}

// takeStatements returns the statements of buf that a ';' ended and the
// offset of the text after them (past empty statements: ";;" or a ';'
// alone on a line ends nothing but is consumed).
func takeStatements(buf string) ([]sqltext.Statement, int) {
	var done []sqltext.Statement
	next := 0
	for _, st := range sqltext.Split(buf) {
		if st.Terminated {
			done = append(done, st)
			next = st.Next
		}
	}
	for _, t := range sqltext.Lex(buf[next:]) {
		if !(t.IsOp(";") || t.Kind == sqltext.Comment && !t.Unterminated) {
			return done, next
		}
	}
	return done, len(buf)
}

// prompts returns the first and continuation prompts.
func (s *shell) prompts() (string, string) {
	first := "planner[" + s.label + "]> "
	return first, strings.Repeat(" ", len([]rune(first))-5) + "...> "
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
	fmt.Fprintf(s.a.io.Stdout, "planner %s — connected to %s. Enter SQL ending with ';', .help for help, Ctrl-D to exit.\n",
		version(), s.label)
	first, cont := s.prompts()
	var buf strings.Builder
	nowhere := func(int) string { return "" }
	for ctx.Err() == nil {
		s.pending = buf.String()
		p := first
		if buf.Len() > 0 {
			p = cont
		}
		line, err := ln.Prompt(p)
		if errors.Is(err, liner.ErrPromptAborted) {
			buf.Reset()
			continue
		}
		if err != nil { // io.EOF: Ctrl-D
			fmt.Fprintln(s.a.io.Stdout)
			if rest := buf.String(); !sqltext.Blank(rest) {
				ln.AppendHistory(strings.Join(strings.Fields(rest), " "))
				s.endOfInput(ctx, rest, nowhere)
			}
			return nil
		}
		if buf.Len() == 0 {
			if cmd, ok := sqltext.MetaLine(line); ok {
				ln.AppendHistory(strings.TrimSpace(line))
				if err := s.meta(ctx, cmd); err != nil {
					if errors.Is(err, errQuit) {
						return nil
					}
					s.fail("", err)
				}
				continue
			}
		}
		buf.WriteString(line)
		buf.WriteByte('\n')
		stmts, next := takeStatements(buf.String())
		if len(stmts) == 0 {
			if next == buf.Len() {
				buf.Reset()
			}
			continue
		}
		ln.AppendHistory(strings.Join(strings.Fields(strings.TrimSpace(buf.String())), " "))
		rest := buf.String()[next:]
		buf.Reset()
		if !sqltext.Blank(rest) {
			buf.WriteString(strings.TrimLeft(rest, " \t\r\n"))
		}
		for _, st := range stmts {
			if err := s.execute(ctx, st); err != nil {
				s.fail("", err)
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

// execute runs one SQL statement and prints its result; with .timer on,
// its time and Graph requests go to stderr.
func (s *shell) execute(ctx context.Context, st sqltext.Statement) (err error) {
	if s.once {
		defer func() {
			if cerr := s.closeOutput(); cerr != nil && err == nil {
				err = fmt.Errorf(".once: %w", cerr)
			}
		}()
	}
	if st.Class == sqltext.Replicate {
		return errors.New("REPLICATE copies into another database, so it runs outside the shell: " +
			"planner replicate [--sandbox | --profile P] --to DEST 'REPLICATE ...;'")
	}
	if s.guarded && s.safeUpdates && st.WritesEveryRow() {
		verb := "UPDATE"
		if st.Class == sqltext.Delete {
			verb = "DELETE"
		}
		return fmt.Errorf("safe updates: %s without WHERE would change every row of every plan %s can reach; "+
			"add a WHERE clause, or turn the guard off (.safe-updates off in the shell, --safe-updates=false on the command line)",
			verb, s.label)
	}
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
	start, req0, thr0 := time.Now(), s.src.conn.Requests(), s.src.conn.Throttling()
	err = s.runStatement(qctx, conn, st)
	s.mu.Lock()
	interrupted := s.interrupted
	s.mu.Unlock()
	if errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) {
		s.conn.Close()
		s.conn = nil
	}
	if s.timer {
		fmt.Fprintln(s.a.io.Stderr, timerLine(time.Since(start), s.src.conn.Requests()-req0, throttleNote(s.src.conn.Throttling().Sub(thr0))))
	}
	if interrupted && err != nil {
		return errors.New("query cancelled (Ctrl-C)")
	}
	return err
}

func (s *shell) runStatement(ctx context.Context, conn *sql.Conn, st sqltext.Statement) error {
	if !st.ReturnsRows() {
		res, err := conn.ExecContext(ctx, st.Text)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil {
			s.commandTag(st.Class, n)
		}
		return nil
	}
	rows, err := conn.QueryContext(ctx, st.Text)
	if err != nil {
		return err
	}
	n, err := format.Write(s.out, rows, s.opts)
	cerr := rows.Close()
	if err == nil {
		err = cerr
	}
	if err == nil {
		s.commandTag(st.Class, n) // INSERT/UPDATE/DELETE ... RETURNING
	}
	return err
}

// commandTag prints psql's command tag for a statement that changed rows:
// "INSERT 0 n", "UPDATE n" or "DELETE n". It goes with the results in the
// human modes and to stderr in the data modes, which it would corrupt.
func (s *shell) commandTag(c sqltext.Class, n int64) {
	var tag string
	switch c {
	case sqltext.Insert:
		tag = fmt.Sprintf("INSERT 0 %d", n)
	case sqltext.Update:
		tag = fmt.Sprintf("UPDATE %d", n)
	case sqltext.Delete:
		tag = fmt.Sprintf("DELETE %d", n)
	default:
		return
	}
	w := s.out
	switch s.opts.Mode {
	case format.ModeCSV, format.ModeTSV, format.ModeJSON, format.ModeJSONL:
		w = s.a.io.Stderr
	}
	fmt.Fprintln(w, tag)
}

// closeOutput ends an .output or .once redirection.
func (s *shell) closeOutput() error {
	s.out, s.outName, s.once = s.a.io.Stdout, "stdout", false
	if s.outFile == nil {
		return nil
	}
	err := s.outFile.Close()
	s.outFile = nil
	return err
}

// parseOnOff reads a setting's value as the meta-commands and the
// --safe-updates flag take it: on/off, yes/no, true/false or 1/0.
func parseOnOff(v string) (b, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "yes", "true", "1":
		return true, true
	case "off", "no", "false", "0":
		return false, true
	}
	return false, false
}

// onOffFlag is a boolean flag that takes the values parseOnOff reads.
type onOffFlag bool

func (f *onOffFlag) String() string   { return strconv.FormatBool(f != nil && bool(*f)) }
func (f *onOffFlag) IsBoolFlag() bool { return true }
func (f *onOffFlag) Set(v string) error {
	b, ok := parseOnOff(v)
	if !ok {
		return errors.New("give on or off (or true/false, yes/no, 1/0)")
	}
	*f = onOffFlag(b)
	return nil
}

// onOffVar defines an onOffFlag and returns a pointer to its value.
func onOffVar(fs *flag.FlagSet, name string, value bool, usage string) *bool {
	f := onOffFlag(value)
	fs.Var(&f, name, usage)
	return (*bool)(&f)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// meta runs a meta-command.
func (s *shell) meta(ctx context.Context, line string) error {
	name, args, arg := parseMeta(line)
	cmd := strings.ToLower(name)
	// setting handles an on|off setting: no argument shows it.
	setting := func(name string, v *bool) error {
		if len(args) == 0 {
			fmt.Fprintf(s.out, "%s: %s\n", strings.TrimPrefix(name, "."), onOff(*v))
			return nil
		}
		if len(args) != 1 {
			return fmt.Errorf("%s: give on or off", name)
		}
		b, ok := parseOnOff(args[0])
		if !ok {
			return fmt.Errorf("%s: give on or off, not %q", name, args[0])
		}
		*v = b
		return nil
	}
	switch cmd {
	case ".quit", ".exit", ".q":
		return errQuit
	case ".help", ".h":
		fmt.Fprint(s.out, metaHelp)
		fmt.Fprintln(s.out, "exit, quit, help and psql's \\q work too; a ';' ending a meta-command is ignored, and quotes")
		fmt.Fprintln(s.out, "keep an argument whole: .output 'my file.txt'")
		fmt.Fprintln(s.out, "SQL: SQLite's, over the tables of .tables; SHOW TABLES and DESCRIBE <table> work too.")
		return nil
	case ".mode":
		if len(args) == 0 {
			fmt.Fprintf(s.out, "current output mode: %s\n", s.modeName())
			return nil
		}
		if len(args) != 1 {
			return fmt.Errorf(".mode: give one mode, not %d words (.mode csv); the modes are %s", len(args), modeList())
		}
		m, err := format.ParseMode(args[0])
		if err != nil {
			return fmt.Errorf(".mode: %w", err)
		}
		s.opts.Mode = m
		return nil
	case ".headers", ".header":
		on := !s.opts.NoHeaders
		if err := setting(".headers", &on); err != nil {
			return err
		}
		s.opts.NoHeaders = !on
		return nil
	case ".nullvalue":
		if arg == "" && len(args) == 0 {
			fmt.Fprintf(s.out, "nullvalue: %q\n", s.nullText())
			return nil
		}
		v := arg
		s.opts.Null = &v
		return nil
	case ".timer":
		return setting(".timer", &s.timer)
	case ".safe-updates", ".safeupdates":
		if err := setting(".safe-updates", &s.safeUpdates); err != nil {
			return err
		}
		if len(args) > 0 && !s.guarded {
			fmt.Fprintln(s.out, "(the sandbox is never guarded)")
		}
		return nil
	case ".show":
		return s.show()
	case ".output", ".once":
		if err := s.closeOutput(); err != nil {
			return fmt.Errorf("%s: %w", cmd, err)
		}
		if arg == "" || arg == "stdout" {
			if cmd == ".once" {
				return errors.New(".once: give a file name")
			}
			return nil
		}
		f, err := os.Create(arg)
		if err != nil {
			return fmt.Errorf("%s: %w", cmd, err)
		}
		s.outFile, s.out, s.outName, s.once = f, f, arg, cmd == ".once"
		return nil
	case ".read":
		if arg == "" {
			return errors.New(".read: give a file name")
		}
		if s.depth >= maxReadDepth {
			return fmt.Errorf(".read %s: files read each other more than %d deep", arg, maxReadDepth)
		}
		f, err := os.Open(arg)
		if err != nil {
			return fmt.Errorf(".read: %w", err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			return fmt.Errorf(".read: %s is a directory: give a file of SQL statements", arg)
		}
		s.depth++
		err = s.runScript(ctx, f, arg)
		s.depth--
		if errors.Is(err, errQuit) {
			return nil
		}
		return err
	case ".tables":
		return s.listTables(ctx, arg)
	case ".schema":
		return s.showSchema(ctx, arg)
	}
	if strings.HasPrefix(name, `\`) {
		hint := ""
		if dot, ok := psqlCommands[name]; ok {
			hint = ": " + dot + " does that here"
		}
		return fmt.Errorf("unknown command %s (this shell's commands start with '.'%s): enter .help for the list", name, hint)
	}
	return fmt.Errorf("unknown command %s: enter .help for the list", name)
}

// psqlCommands are psql's backslash commands a psql user may type, and the
// meta-command that does the same here (\q and \? are taken as .quit and
// .help, see sqltext.MetaLine).
var psqlCommands = map[string]string{`\d`: ".schema", `\dt`: ".tables", `\o`: ".output", `\i`: ".read",
	`\timing`: ".timer", `\pset`: ".mode and .nullvalue", `\x`: ".mode line", `\a`: ".mode csv"}

// parseMeta splits a meta-command line into its name, its arguments and
// the rest of the line after the name as one argument (for file names and
// texts). Arguments are separated by white space; 'a b' and "a b" are one
// argument, in which a doubled quote stands for one. A ';' ending the line,
// as SQL statements end, is left out: ".mode csv;" is ".mode csv" (quote
// an argument that ends with ';').
func parseMeta(line string) (name string, args []string, rest string) {
	line = strings.TrimSpace(line)
	i := strings.IndexAny(line, " \t")
	if i < 0 {
		return strings.TrimRight(line, ";"), nil, ""
	}
	name, tail := line[:i], strings.TrimSpace(line[i:])
	quotedLast := false
	for j := 0; j < len(tail); {
		c := tail[j]
		switch {
		case c == ' ' || c == '\t':
			j++
		case c == '\'' || c == '"':
			var b strings.Builder
			k := j + 1
			for ; k < len(tail); k++ {
				if tail[k] == c {
					if k+1 < len(tail) && tail[k+1] == c {
						b.WriteByte(c)
						k++
						continue
					}
					break
				}
				b.WriteByte(tail[k])
			}
			args, quotedLast, j = append(args, b.String()), true, k+1
		default:
			k := j
			for k < len(tail) && tail[k] != ' ' && tail[k] != '\t' {
				k++
			}
			args, quotedLast, j = append(args, tail[j:k]), false, k
		}
	}
	if n := len(args); n > 0 && !quotedLast {
		if args[n-1] = strings.TrimRight(args[n-1], ";"); args[n-1] == "" {
			args = args[:n-1]
		}
		tail = strings.TrimSpace(strings.TrimRight(tail, ";"))
	}
	switch {
	case len(args) == 1:
		rest = args[0]
	case len(args) > 1:
		rest = tail
	}
	return name, args, rest
}

// nullText is the text shown for NULL in the current mode.
func (s *shell) nullText() string {
	if s.opts.Null != nil {
		return *s.opts.Null
	}
	m := s.opts.Mode
	if m == "" {
		m = format.ModeTable
	}
	return m.DefaultNull()
}

// show prints the settings (.show).
func (s *shell) show() error {
	safe := onOff(s.safeUpdates)
	if !s.guarded {
		safe += " (the sandbox is never guarded)"
	}
	width := "none"
	if s.opts.MaxColumnWidth > 0 {
		width = strconv.Itoa(s.opts.MaxColumnWidth)
	}
	for _, kv := range [][2]string{
		{"source", s.label},
		{"mode", s.modeName()},
		{"headers", onOff(!s.opts.NoHeaders)},
		{"nullvalue", strconv.Quote(s.nullText())},
		{"output", s.outName},
		{"timer", onOff(s.timer)},
		{"safe-updates", safe},
		{"max-width", width},
	} {
		fmt.Fprintf(s.out, "%12s: %s\n", kv[0], kv[1])
	}
	return nil
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

// timerLine is what .timer and --timer print after a statement.
// throttled is throttleNote's description of the throttled responses.
func timerLine(d time.Duration, requests int, throttled string) string {
	line := fmt.Sprintf("Run Time: %.3fs, Graph requests: %d", d.Seconds(), requests)
	if throttled != "" {
		line += " (" + throttled + ")"
	}
	return line
}
