// Package console is planner's web console and REST API: connections
// (source profiles and destinations, their sign-in and tests), replication
// jobs (edited into the config file the CLI reads), their runs and
// history, and alerts over SMTP and webhooks. It runs the jobs on their
// schedules in the same process, through the same run path as
// 'planner jobs serve'.
//
// The pages are html/template with the assets embedded (no CDN, no inline
// script or style: a strict Content-Security-Policy), and they use the
// JSON API under /api/, which scripts can call too (docs/api.md).
//
// Every request needs a login: a token printed when the console starts
// (as Jupyter does) or a configured password. Sessions are HttpOnly,
// SameSite=Strict cookies; every state-changing request carries the
// session's CSRF token in the X-CSRF-Token header and, from a browser, a
// same-origin Origin. Scripts may instead send the token as
// "Authorization: Bearer <token>". Secrets (client secrets, passwords,
// tokens, webhook URLs) are write-only: responses say only that one is
// set.
package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/plannersql/planner/driver"
	"github.com/plannersql/planner/internal/config"
	"github.com/plannersql/planner/internal/jobcheck"
	"github.com/plannersql/planner/internal/redact"
	"github.com/plannersql/planner/internal/schedule"
	"github.com/plannersql/planner/replicate"
)

//go:embed web/templates/*.html web/static/*
var webFS embed.FS

// RunFunc runs a job once into each of its destinations: the run path of
// 'planner jobs run' and 'planner jobs serve'. The error reports failed
// tables and destinations; configuration problems are
// schedule.Permanent. Locked tables are not failures.
type RunFunc func(ctx context.Context, job config.Job, rc RunContext) ([]DestinationResult, error)

// RunContext is what a run gets from the console besides the job.
type RunContext struct {
	// Logger receives the run's log (the console keeps it with the run).
	Logger *slog.Logger
	// Stop, when closed, asks the run to finish the table in flight and
	// skip the rest.
	Stop <-chan struct{}
	// Slot and Attempt identify a scheduled run: the slot it belongs to
	// (the same on every replica serving the config) and its attempt, from
	// 1. Both are zero for a run started from the console.
	Slot    time.Time
	Attempt int
}

// DestinationResult is one destination's outcome of a run.
type DestinationResult struct {
	Destination config.Destination
	Results     []replicate.Result // one per destination table
	Err         error              // the destination as a whole failed
	// Skipped says why the destination was not copied at all: another run
	// of the job was in progress there, or had done the slot (not a
	// failure).
	Skipped error
	// RunID identifies the run in the destination's history
	// (replicate.History), when it was recorded.
	RunID     string
	Requests  int // Graph requests sent for this destination
	Throttled int // of which the service throttled
}

// Options configure a console.
type Options struct {
	// ConfigPath is the config file holding profiles and jobs (required).
	// It need not exist yet: the console creates it (mode 0600) on the
	// first save.
	ConfigPath string
	// SettingsPath is the console's own settings file (alerts, named
	// destinations). Default: console.toml beside ConfigPath.
	SettingsPath string
	// StateDir keeps run records and logs. Default: console-runs beside
	// SettingsPath.
	StateDir string
	// Password, when set, logs in from the login page.
	Password string
	// Token, when set, logs in from the login page or the link printed at
	// start, and authenticates API scripts as a Bearer token.
	Token string
	// TLS says the console is served over HTTPS: cookies are Secure.
	TLS bool
	// Port names the session cookie, so consoles on several ports of one
	// host keep separate sessions.
	Port string
	// RunJob runs jobs (required to run them).
	RunJob RunFunc
	// Logger receives the console's log (default: discard).
	Logger *slog.Logger
	// Clock drives the schedules (default: the system clock).
	Clock schedule.Clock
	// Retry is the retry policy of failed scheduled runs.
	Retry schedule.RetryPolicy
	// ParseSchedule parses a job's schedule. Default: jobcheck.Schedule,
	// what 'planner jobs' accepts (a sandbox source may run more often).
	ParseSchedule func(job config.Job) (schedule.Schedule, error)
	// CheckJob checks a job of f (the config file as runs see it:
	// ${NAME} references expanded) before it is scheduled or run. It
	// returns the job's schedule, nil for a job run only on demand.
	// Default: jobcheck.CheckWith with ParseSchedule — the checks of
	// 'planner jobs list' and 'planner jobs serve', made by the same code.
	CheckJob func(f *config.File, job config.Job) (schedule.Schedule, error)
	// OnSchedulerEvent, when set, receives every event of the job
	// schedulers (see schedule.Options.OnEvent).
	OnSchedulerEvent func(schedule.Event)
	// NewConnector opens a source (default driver.NewConnector). The
	// console sets the sign-in hooks of cfg before calling it.
	NewConnector func(cfg *driver.Config) (*driver.Connector, error)
	// HTTPClient posts webhooks (default: a client with a 15 s timeout).
	HTTPClient *http.Client
	// BaseURL is the console's address as users reach it, for links in
	// alerts (default: none).
	BaseURL string
}

// Server is a console: an http.Handler plus the scheduler it runs.
type Server struct {
	opts   Options
	log    *slog.Logger
	auth   *authenticator
	mux    *http.ServeMux
	tmpl   map[string]*template.Template
	static fs.FS
	now    func() time.Time

	cfgMu sync.Mutex // serialises edits of the config and settings files in this process (lockEdits)

	scrubMu sync.RWMutex
	scrub_  *scrubber

	runs    *runManager
	signins *signins
	catalog catalogCache
	alerts  *alerter
}

// New returns a console for opts. Start runs its scheduler.
func New(opts Options) (*Server, error) {
	if opts.ConfigPath == "" {
		return nil, errors.New("console: no config file path given")
	}
	abs, err := filepath.Abs(opts.ConfigPath)
	if err != nil {
		return nil, fmt.Errorf("console: config path: %w", err)
	}
	opts.ConfigPath = abs
	if opts.SettingsPath == "" {
		opts.SettingsPath = filepath.Join(filepath.Dir(abs), SettingsFile)
	}
	if opts.StateDir == "" {
		opts.StateDir = filepath.Join(filepath.Dir(opts.SettingsPath), "console-runs")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = schedule.SystemClock()
	}
	if opts.NewConnector == nil {
		opts.NewConnector = func(cfg *driver.Config) (*driver.Connector, error) { return driver.NewConnector(cfg) }
	}
	if opts.ParseSchedule == nil {
		opts.ParseSchedule = jobcheck.Schedule
	}
	if opts.CheckJob == nil {
		parse := opts.ParseSchedule
		opts.CheckJob = func(f *config.File, j config.Job) (schedule.Schedule, error) { return jobcheck.CheckWith(f, j, parse) }
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if opts.Password == "" && opts.Token == "" {
		return nil, errors.New("console: neither a password nor a login token is set")
	}
	s := &Server{opts: opts, now: opts.Clock.Now}
	// Nothing the console logs (its own lines, the scheduler's, the runs')
	// may show a secret.
	s.log = slog.New(redact.Handler(opts.Logger.Handler(), s.scrub))
	s.auth = newAuthenticator(opts.Password, opts.Token, opts.TLS, opts.Port, s.now)
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	s.tmpl = tmpl
	s.static, _ = fs.Sub(webFS, "web/static")
	s.signins = newSignins()
	s.alerts = newAlerter(s)
	s.runs = newRunManager(s)
	if err := s.runs.load(); err != nil {
		s.log.Warn("run records could not all be read", "dir", opts.StateDir, "err", err)
	}
	s.refreshScrubber()
	s.routes()
	return s, nil
}

// Start runs the scheduler until ctx ends, then stops it gracefully (runs
// in flight finish their table). It returns when the scheduler has
// stopped.
func (s *Server) Start(ctx context.Context) error { return s.runs.serve(ctx) }

// ServeHTTP serves the console.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	if IsLoopback(s.listenHint(r)) && !loopbackHost(r.Host) {
		// A page of another site that resolved its name to 127.0.0.1
		// (DNS rebinding) must not reach the console.
		msg := "this console answers only at its loopback address: use http://127.0.0.1 or http://localhost with its port"
		if strings.HasPrefix(r.URL.Path, "/api/") {
			writeJSON(w, http.StatusMisdirectedRequest, errorBody{Error: msg})
		} else {
			http.Error(w, "planner console: "+msg, http.StatusMisdirectedRequest)
		}
		return
	}
	s.mux.ServeHTTP(w, r)
}

// listenHint returns the local address the request came in on.
func (s *Server) listenHint(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return a.String()
	}
	return "127.0.0.1:0"
}

// loadOptions are the config file's validation rules: the driver's
// connection properties.
func loadOptions() config.LoadOptions {
	return config.LoadOptions{ValidProperty: driver.IsProperty, PropertyNames: driver.PropertyNames()}
}

// loadRaw loads the config file with ${NAME} references kept as written:
// what pages show and what edits compare against.
func (s *Server) loadRaw() (*config.File, error) {
	if _, err := os.Stat(s.opts.ConfigPath); errors.Is(err, fs.ErrNotExist) {
		return &config.File{Path: s.opts.ConfigPath}, nil
	}
	f, err := config.LoadRaw(s.opts.ConfigPath, loadOptions())
	if err != nil {
		return nil, errorf(http.StatusConflict, "%v (fix the file, then reload)", err)
	}
	return f, nil
}

// loadExpanded loads the config file as runs use it: references expanded.
func (s *Server) loadExpanded() (*config.File, error) {
	if _, err := os.Stat(s.opts.ConfigPath); errors.Is(err, fs.ErrNotExist) {
		return &config.File{Path: s.opts.ConfigPath}, nil
	}
	return config.Load(s.opts.ConfigPath, loadOptions())
}

func (s *Server) loadSettings() (*settings, error) {
	st, err := loadSettings(s.opts.SettingsPath)
	if err != nil {
		return nil, errorf(http.StatusConflict, "%v (fix the file, then reload)", err)
	}
	return st, nil
}

// refreshScrubber collects every secret the configuration holds, so that
// no error, log or page shows one.
func (s *Server) refreshScrubber() {
	secrets := []string{s.opts.Password, s.opts.Token}
	add := func(v string) {
		secrets = append(secrets, v)
		if x, err := expandEnv(v); err == nil {
			secrets = append(secrets, x)
		}
	}
	if f, err := s.loadRaw(); err == nil {
		for _, p := range f.Profiles() {
			for _, pr := range p.Properties {
				if isSecretProperty(pr.Key) {
					add(pr.Value)
				}
			}
		}
		for _, j := range f.Jobs() {
			for _, d := range j.Destinations {
				for _, sec := range urlSecrets(d.URL) {
					add(sec)
				}
				if x, err := expandEnv(d.URL); err == nil {
					secrets = append(secrets, urlSecrets(x)...)
				}
			}
		}
	}
	if st, err := loadSettings(s.opts.SettingsPath); err == nil {
		secrets = append(secrets, st.secrets()...)
	}
	sc := newScrubber(secrets)
	s.scrubMu.Lock()
	s.scrub_ = sc
	s.scrubMu.Unlock()
}

// scrub removes every known secret from text.
func (s *Server) scrub(text string) string {
	s.scrubMu.RLock()
	sc := s.scrub_
	s.scrubMu.RUnlock()
	return sc.scrub(text)
}

// scrubErr is scrub for an error's text.
func (s *Server) scrubErr(err error) string {
	if err == nil {
		return ""
	}
	return s.scrub(oneLine(err.Error()))
}

// parseSchedule parses the schedule spec of a job reading source, a
// profile of f (nil: the config file as it is now) or the sandbox.
func (s *Server) parseSchedule(f *config.File, source, spec string) (schedule.Schedule, error) {
	if f == nil && !config.IsSandbox(source) {
		f, _ = s.loadRaw() // a file that does not load has no sandbox profile
	}
	return s.opts.ParseSchedule(jobcheck.ForSchedule(f, config.Job{Source: source, Schedule: spec}))
}

// fileStamps identifies the current contents of the config and settings
// files (size and modification time).
func (s *Server) fileStamps() string {
	var b strings.Builder
	for _, p := range []string{s.opts.ConfigPath, s.opts.SettingsPath} {
		if st, err := os.Stat(p); err == nil {
			fmt.Fprintf(&b, "%d/%d;", st.Size(), st.ModTime().UnixNano())
		} else {
			b.WriteString("-;")
		}
	}
	return b.String()
}

// configChanged is called after every write of the config or settings
// file: it refreshes what depends on them.
func (s *Server) configChanged() {
	s.refreshScrubber()
	s.runs.reconcile()
}

// ConfigPath returns the config file the console edits.
func (s *Server) ConfigPath() string { return s.opts.ConfigPath }

// SettingsPath returns the console's settings file.
func (s *Server) SettingsPath() string { return s.opts.SettingsPath }

// cleanName checks a connection or job name typed by a user.
func cleanName(field, what, name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", fieldError(field, "give the %s a name", what)
	case len(name) > 64:
		return "", fieldError(field, "the %s name is longer than 64 characters", what)
	case strings.ContainsAny(name, "/\\\"'\x00\r\n\t") || strings.HasPrefix(name, "."):
		return "", fieldError(field, "the %s name %q may not hold quotes, slashes or control characters, nor start with a dot", what, name)
	}
	return name, nil
}
