// Package cli implements the planner command: the SQL shell, one-off queries,
// REPLICATE into SQLite, PostgreSQL or MySQL, scheduled replication jobs,
// sign-in management, a standalone sandbox (the Graph emulator) and the web
// console (package internal/console).
//
// cmd/planner is a thin main around Main. Every command parses its own flags
// (one flag.FlagSet each, flags may come before or after the arguments),
// prints its help with examples for --help, and fails with one line on
// stderr and a non-zero exit status (see the Exit constants).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"

	"golang.org/x/term"

	"github.com/plannersql/planner/internal/config"
	"github.com/plannersql/planner/internal/redact"
)

// Exit statuses of the planner command.
const (
	ExitOK          = 0   // success
	ExitError       = 1   // the command failed; stderr says why
	ExitUsage       = 2   // bad command line: unknown command or flag, missing argument
	ExitSkipped     = 3   // replicate or jobs run: a run was skipped, another run into its destination was in progress (nothing failed)
	ExitInterrupted = 130 // stopped by SIGINT/SIGTERM (replicate: after finishing the table in flight)
)

// IO is what a command reads from and writes to. Terminal flags decide
// whether the shell prompts and whether progress is shown.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// StdinTerminal, StdoutTerminal and StderrTerminal report whether the
	// streams are terminals.
	StdinTerminal, StdoutTerminal, StderrTerminal bool
}

// StdIO returns the process's standard streams, with terminal detection.
func StdIO() IO {
	return IO{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		StdinTerminal:  term.IsTerminal(int(os.Stdin.Fd())),
		StdoutTerminal: term.IsTerminal(int(os.Stdout.Fd())),
		StderrTerminal: term.IsTerminal(int(os.Stderr.Fd())),
	}
}

// exitError carries an exit status with the error to print.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErrorf returns an error that exits with ExitUsage.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// withCode wraps err with an exit status.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// command is one planner subcommand (or group of subcommands).
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, a *app, args []string) error
}

// app is the state shared by the commands of one invocation.
type app struct {
	io   IO
	help map[*flag.FlagSet]func() // --help printers of the flag sets
	// secrets are the passwords of URLs the command was given (--to,
	// destinations of the config file): never printed.
	secrets *redact.Set

	// openURL opens the sign-in page (nil: driver.OpenBrowser); tests
	// replace it.
	openURL func(url string) error

	mu      sync.Mutex
	noticed map[string]bool // sign-in notices already printed
}

func commands() []command {
	return []command{
		{"shell", "interactive SQL shell (reads statements from stdin when it is not a terminal)", runShell},
		{"query", "run one SQL statement and print its result", runQuery},
		{"replicate", "copy Planner tables into SQLite, PostgreSQL or MySQL", runReplicate},
		{"jobs", "list, run, schedule and inspect the replication jobs of the config file", runJobs},
		{"auth", "sign a profile in or out, show its sign-in", runAuth},
		{"sandbox", "serve the Graph emulator on a local port", runSandbox},
		{"console", "serve the web console and REST API, and run the jobs on their schedules", runConsole},
		{"help", "show help for a command", nil},
	}
}

const mainUsage = `planner — SQL over Microsoft Planner.

Usage:
  planner <command> [flags] [arguments]

Commands:
%s
Connection (shell, query, replicate):
  --sandbox          an in-process demo tenant: no network, no sign-in
  --profile NAME     a profile of the config file (%s)
  --dsn DSN          a connection string: Key=Value;Key2=Value2
                     (with none of these, $PLANNER_DSN is used)
  -v, -vv, -vvv      log statements, + Graph requests, + bodies (secrets
                     redacted) to stderr; or --verbosity N

Examples:
  planner replicate --sandbox                 # copy the demo tenant into ./planner.db
  planner shell --sandbox
  planner query --sandbox --format csv 'SELECT Title, PercentComplete FROM Tasks'
  echo 'SELECT count(*) FROM Tasks;' | planner shell --profile prod
  planner jobs serve --log-format json

Run 'planner <command> --help' for a command's flags and examples.
Exit status: 0 ok, 1 error, 2 usage error, 3 skipped (another run into the
destination was in progress), 130 interrupted.
`

func printMainUsage(w io.Writer) {
	var b strings.Builder
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, mainUsage, b.String(), "$PLANNER_CONFIG or ~/.config/planner/config.toml")
}

// Main runs the planner command with args (without the program name) and
// returns the exit status. Errors are printed to stdio.Stderr as one line.
func Main(args []string, stdio IO) int {
	return MainContext(context.Background(), args, stdio)
}

// MainContext is Main with a context; cancelling it stops the command as an
// interrupt would.
func MainContext(ctx context.Context, args []string, stdio IO) int {
	a := &app{io: stdio, secrets: &redact.Set{}}
	err := a.dispatch(ctx, args)
	return report(stdio.Stderr, a.secrets.Error(err))
}

// report prints err as one line and returns its exit status.
func report(w io.Writer, err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	var se *silentError
	if errors.As(err, &se) {
		return se.code
	}
	code := ExitError
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	for _, line := range errorLines(err) {
		fmt.Fprintln(w, "planner: "+cleanMessage(line))
	}
	if names := unsetVars(err); len(names) > 0 {
		fmt.Fprintf(w, "planner: set %s in the environment planner runs in (export %s=...), or edit the config file so that it does not need %s\n",
			strings.Join(names, ", "), names[0], map[bool]string{true: "it", false: "them"}[len(names) == 1])
	}
	return code
}

// unsetVars returns the environment variables, in order and once each, that
// err reports as referred to by the config file but not set.
func unsetVars(err error) []string {
	var names []string
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
			return
		case *config.UnsetVarError:
			if !slices.Contains(names, e.Name) {
				names = append(names, e.Name)
			}
			return
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
			return
		}
		walk(errors.Unwrap(err))
	}
	walk(err)
	return names
}

// errorLines returns the lines an error is reported on: one, or one per
// error joined by errors.Join (several problems of a config file, several
// invalid jobs), each with the context wrapped around the joined errors.
func errorLines(err error) []string {
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		return []string{err.Error()}
	}
	inner := joined.(error).Error()
	full := err.Error()
	i := strings.Index(full, inner)
	if i < 0 { // a wrapper that rewrites the text (drivers do): keep it whole
		return []string{full}
	}
	prefix, suffix := full[:i], full[i+len(inner):]
	var lines []string
	for _, e := range joined.Unwrap() {
		if e != nil {
			lines = append(lines, errorLines(withText(prefix+e.Error()+suffix, e))...)
		}
	}
	return lines
}

// withText is an error with the given text that unwraps to err.
func withText(text string, err error) error { return &textError{text, err} }

type textError struct {
	text string
	err  error
}

func (e *textError) Error() string { return e.text }
func (e *textError) Unwrap() error { return e.err }

// oneLine folds a message onto one line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(strings.NewReplacer("\r", " ", "\n", " ").Replace(s)), " ")
}

func (a *app) dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		printMainUsage(a.io.Stderr)
		return usageErrorf("no command given: run 'planner help'")
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if name == "help" && len(args) > 1 {
			return a.dispatch(ctx, []string{args[1], "--help"})
		}
		printMainUsage(a.io.Stdout)
		return nil
	case "-version", "--version", "version":
		fmt.Fprintln(a.io.Stdout, "planner", version())
		return nil
	}
	for _, c := range commands() {
		if c.name == name && c.run != nil {
			return c.run(ctx, a, args[1:])
		}
	}
	names := make([]string, 0, len(commands()))
	for _, c := range commands() {
		names = append(names, c.name)
	}
	sort.Strings(names)
	return usageErrorf("unknown command %q: the commands are %s (run 'planner help')", name, strings.Join(names, ", "))
}

// newFlagSet returns a flag set whose help text is usage (with %s replaced
// by the flag defaults), printed to stdout by parseFlags on --help.
func (a *app) newFlagSet(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if a.help == nil {
		a.help = map[*flag.FlagSet]func(){}
	}
	a.help[fs] = func() {
		var b strings.Builder
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		fmt.Fprintf(a.io.Stdout, usage, b.String())
	}
	return fs
}

// parseFlags parses args with fs, allowing flags after positional
// arguments ("--" ends the flags). An argument that starts with '-' but
// cannot be a flag, because what would be its name holds white space or
// starts with '-' (SQL that begins with a "--" comment), is a positional
// argument. Errors exit with ExitUsage.
func (a *app) parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos, tail []string
	for i, arg := range args {
		if arg == "--" {
			args, tail = args[:i], args[i+1:]
			break
		}
	}
	for {
		run, rest := args, []string(nil)
		if j := notFlagIndex(fs, args); j >= 0 {
			run, rest = args[:j], args[j:]
		}
		for {
			if err := fs.Parse(run); err != nil {
				if errors.Is(err, flag.ErrHelp) {
					a.printHelp(fs)
					return nil, err
				}
				return nil, usageErrorf("%s: %v (run 'planner %s --help')", fs.Name(), err, fs.Name())
			}
			run = fs.Args()
			if len(run) == 0 {
				break
			}
			pos = append(pos, run[0])
			run = run[1:]
		}
		if len(rest) == 0 {
			return append(pos, tail...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// notFlagIndex returns the index of the first argument that starts with '-'
// but is no flag (see parseFlags), skipping the values of flags; -1 when
// there is none.
func notFlagIndex(fs *flag.FlagSet, args []string) int {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if len(arg) < 2 || arg[0] != '-' {
			continue
		}
		name, _, inline := strings.Cut(strings.TrimPrefix(arg[1:], "-"), "=")
		if strings.HasPrefix(name, "-") || strings.ContainsAny(name, " \t\r\n") {
			return i
		}
		if inline {
			continue
		}
		if f := fs.Lookup(name); f != nil {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
				i++ // the flag's value
			}
		}
	}
	return -1
}

// version returns the module version recorded in the binary.
func version() string {
	if v := buildVersion(); v != "" {
		return v
	}
	return "(devel)"
}

// isFlagSet reports whether the flag name was given on the command line.
func isFlagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// printHelp prints a flag set's help.
func (a *app) printHelp(fs *flag.FlagSet) {
	if h := a.help[fs]; h != nil {
		h()
	}
}

// cleanMessage folds a message onto one line and drops the "planner: "
// prefixes that wrapped errors of the driver carry.
func cleanMessage(s string) string {
	s = oneLine(s)
	s = strings.ReplaceAll(s, ": planner: ", ": ")
	for _, p := range []string{"replicate", "config", "schedule", "auth", "graph", "jobs serve"} {
		s = strings.ReplaceAll(s, p+": "+p+": ", p+": ")
	}
	return strings.TrimPrefix(s, "planner: ")
}

// fileFlag is a flag naming a file: given, it may not be empty, since an
// empty name would silently mean the default file ($PLANNER_CONFIG or the
// user config dir) rather than the one the user meant to name.
type fileFlag struct{ path *string }

func (f fileFlag) String() string {
	if f.path == nil {
		return ""
	}
	return *f.path
}

func (f fileFlag) Set(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("give a file name (leave the flag out for the default file)")
	}
	*f.path = s
	return nil
}
