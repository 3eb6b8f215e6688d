package driver

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cli/browser"
	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/internal/auth"
	"github.com/plannersql/planner/schema"
	"golang.org/x/oauth2"
	"golang.org/x/time/rate"
	sqlite "modernc.org/sqlite"
)

// Connector opens connections of one configuration. All its connections
// share one Graph client (and so its concurrency limit, rate limit and
// request counters) and one sign-in. Use it with sql.OpenDB; database/sql
// closes it when the DB is closed.
type Connector struct {
	cfg    *Config // the effective configuration: profile applied, defaults filled in
	opts   connectorOptions
	sqlite *sqlite.Driver
	decls  []tableDecl // the tables each connection holds

	mu      sync.Mutex
	client  *graph.Client
	ts      oauth2.TokenSource
	pending *clientInit     // the first connection's sign-in, while it runs
	closers []func() error  // the sandbox tenant, the log file
	noticed map[string]bool // store notices already written to stderr

	states sync.Map // uint64 → *connState
	nextID atomic.Uint64

	requests  *graph.RequestCounter
	throttled atomic.Int64 // responses 429, 503 or 504 (each was retried or failed)
	thrRA     atomic.Int64 // of which retried after their Retry-After
	thrOwn    atomic.Int64 // of which retried after the client's backoff

	log       *slog.Logger // nil: nothing is logged
	verbosity int
	logFile   *os.File

	// Seams for tests: the clock and the wait between device code polls
	// of sign-in, stderr for the default prompts, the browser opener, and
	// a call made when a connection starts waiting for another's sign-in.
	now     func() time.Time
	wait    func(ctx context.Context, d time.Duration) error
	stderr  io.Writer
	open    func(url string) error
	waiting func()
}

// clientInit is a sign-in in progress: later connections wait for it.
type clientInit struct {
	done chan struct{}
	err  error
	// abandoned: the sign-in failed because the context of the connection
	// that ran it ended. A waiting connection whose own context is live
	// then signs in itself rather than fail with another's cancellation.
	abandoned bool
}

// ConnectorOption configures what a DSN cannot carry and a Config does not
// hold.
type ConnectorOption func(*connectorOptions)

type connectorOptions struct {
	hook      func(graph.RequestInfo)
	rateLimit rate.Limit
	burst     int
	graphOpts []graph.Option
	decls     []tableDecl // tests: tables other than the package's
}

// WithRequestHook calls h after every Graph HTTP request the connector sends.
func WithRequestHook(h func(graph.RequestInfo)) ConnectorOption {
	return func(o *connectorOptions) { o.hook = h }
}

// WithRateLimit limits the connector's Graph requests to r per second with the
// given burst.
func WithRateLimit(r rate.Limit, burst int) ConnectorOption {
	return func(o *connectorOptions) { o.rateLimit, o.burst = r, burst }
}

// WithGraphOptions adds options to the connector's Graph client, applied
// after those the configuration implies: for example graph.WithBreakerPolicy
// to change when Graph is declared unreachable, or graph.WithRetryPolicy
// (which then replaces MaxRetries).
func WithGraphOptions(opts ...graph.Option) ConnectorOption {
	return func(o *connectorOptions) { o.graphOpts = append(o.graphOpts, opts...) }
}

var _ driver.Connector = (*Connector)(nil)

// NewConnector returns a connector for cfg, which is copied. When
// cfg.Profile is set, the profile of the user's config file fills in the
// fields cfg leaves at their zero value (no file is read otherwise); then
// the defaults fill in the rest. The combination is checked here: a bad
// value, a GraphURL or AuthorityURL that breaks the host rule, Sandbox
// without package sandbox, or an OFF/Token scheme without a token is an
// error naming the property. No request is sent and no sign-in happens
// until the first connection.
func NewConnector(cfg *Config, opts ...ConnectorOption) (*Connector, error) {
	if cfg == nil {
		cfg = NewConfig()
	}
	cfg = cfg.Clone()
	if cfg.Profile != "" {
		path, err := profilePath()
		if err != nil {
			return nil, fmt.Errorf("planner: Profile=%s: %w", cfg.Profile, err)
		}
		if err := cfg.applyProfile(path); err != nil {
			return nil, err
		}
	}
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Connector{cfg: cfg, sqlite: &sqlite.Driver{}, requests: graph.NewRequestCounter(),
		now: time.Now, stderr: os.Stderr, open: browser.OpenURL}
	for _, o := range opts {
		o(&c.opts)
	}
	c.decls = tables
	if c.opts.decls != nil {
		c.decls = c.opts.decls
	}
	// DATETIME columns compare by time (datetime.go).
	if err := c.sqlite.RegisterCollationUtf8(schema.DateTimeCollation, compareDateTimes); err != nil {
		return nil, fmt.Errorf("planner: register the DATETIME collation: %w", err)
	}
	for _, d := range c.decls {
		t := d.schema()
		if err := c.sqlite.RegisterModule(moduleName(t), &module{cn: c, decl: d, t: t}); err != nil {
			return nil, fmt.Errorf("planner: register table %s: %w", t.Name, err)
		}
	}
	if err := c.openLog(); err != nil {
		return nil, err
	}
	if c.logFile != nil {
		c.closers = append(c.closers, c.logFile.Close)
	}
	return c, nil
}

func moduleName(t *schema.Table) string { return "planner_" + strings.ToLower(t.Name) }

// validate checks the combination of properties of a normalized Config.
func (c *Config) validate() error {
	if c.Sandbox {
		_, err := sandboxOpener()
		return err
	}
	if err := auth.CheckGraphURL(c.GraphURL, c.AllowCustomHosts); err != nil {
		return fmt.Errorf("planner: %w", err)
	}
	if c.TokenSource != nil {
		return nil
	}
	if c.usesToken() {
		switch {
		case c.OAuthAccessToken != "":
		case c.AuthScheme == AuthToken:
			return fmt.Errorf("planner: OAuthAccessToken is empty: AuthScheme=Token uses the token given; give OAuthAccessToken=<token>, or choose AuthScheme=AzureAD or DeviceCode to sign in")
		default:
			return fmt.Errorf("planner: OAuthAccessToken is empty: InitiateOAuth=OFF uses the token given; give OAuthAccessToken=<token>, or use InitiateOAuth=GETANDREFRESH to sign in")
		}
		return nil
	}
	if err := auth.CheckAuthorityURL(c.AuthorityURL, c.AllowCustomHosts); err != nil {
		return fmt.Errorf("planner: %w", err)
	}
	return nil
}

// Driver implements driver.Connector.
func (c *Connector) Driver() driver.Driver { return &Driver{} }

// Config returns a copy of the connector's configuration.
func (c *Connector) Config() *Config { return c.cfg.Clone() }

// Requests returns how many Graph HTTP requests the connector has sent
// (retries and $batch calls count one each).
func (c *Connector) Requests() int { return c.requests.Total() }

// Throttled returns how many of the connector's Graph requests, and items of
// its $batch requests, were answered 429 Too Many Requests, 503 or 504: the
// service asked it to slow down.
// Throttling says what became of them.
func (c *Connector) Throttled() int { return int(c.throttled.Load()) }

// Throttling counts the responses 429, 503 and 504 a connector received and
// what the client did next. Retried after Retry-After, retried after a
// backoff and not retried add up to Throttled.
type Throttling struct {
	Throttled  int // responses 429, 503 or 504
	RetryAfter int // retried after the wait the response's Retry-After asked for
	Backoff    int // retried after the client's own backoff: the response had no Retry-After
}

// NotRetried is how many throttled requests were not sent again (MaxRetries
// was spent, or a write the service may have applied).
func (t Throttling) NotRetried() int { return t.Throttled - t.RetryAfter - t.Backoff }

// Sub returns t minus u: what happened between two readings.
func (t Throttling) Sub(u Throttling) Throttling {
	return Throttling{t.Throttled - u.Throttled, t.RetryAfter - u.RetryAfter, t.Backoff - u.Backoff}
}

// Throttling returns the connector's throttled responses so far.
func (c *Connector) Throttling() Throttling {
	return Throttling{int(c.throttled.Load()), int(c.thrRA.Load()), int(c.thrOwn.Load())}
}

// RequestCounts returns the connector's Graph requests per endpoint, such as
// "GET /planner/plans/{id}/tasks".
func (c *Connector) RequestCounts() map[string]int { return c.requests.Counts() }

// Close releases what the connector holds: its sandbox tenant, if any,
// and its log file. database/sql calls it when the DB is closed.
func (c *Connector) Close() error {
	c.mu.Lock()
	closers := c.closers
	c.closers = nil
	c.mu.Unlock()
	var errs []error
	for i := len(closers) - 1; i >= 0; i-- {
		errs = append(errs, closers[i]())
	}
	return errors.Join(errs...)
}

// Connect opens a connection: an in-memory SQLite database whose temp schema
// holds one virtual table per planner table. The first connection signs in.
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) {
	if _, err := c.graphClient(ctx); err != nil {
		return nil, err
	}
	sc, err := c.sqlite.Open(":memory:")
	if err != nil {
		return nil, fmt.Errorf("planner: open SQLite: %w", err)
	}
	st := &connState{id: c.nextID.Add(1), cn: c}
	c.states.Store(st.id, st)
	ex := sc.(driver.ExecerContext)
	for _, d := range c.decls {
		t := d.schema()
		q := fmt.Sprintf("CREATE VIRTUAL TABLE temp.%s USING %s(conn=%d)", schema.QuoteIdent(t.Name), moduleName(t), st.id)
		if _, err := ex.ExecContext(ctx, q, nil); err != nil {
			sc.Close()
			c.dropState(st.id)
			return nil, fmt.Errorf("planner: create table %s: %w", t.Name, err)
		}
	}
	return &conn{sc: sc, st: st}, nil
}

func (c *Connector) state(id uint64) *connState {
	v, ok := c.states.Load(id)
	if !ok {
		return nil
	}
	return v.(*connState)
}

func (c *Connector) dropState(id uint64) { c.states.Delete(id) }

// graphClient returns the connector's Graph client, signing in on first
// use. Connections made while the first one signs in wait for it (or for
// their context), so that one process signs in once. When that sign-in is
// abandoned because the first connection's context ended, a waiting
// connection signs in itself instead of failing with that cancellation.
func (c *Connector) graphClient(ctx context.Context) (*graph.Client, error) {
	for {
		c.mu.Lock()
		if c.client != nil {
			g := c.client
			c.mu.Unlock()
			return g, nil
		}
		if p := c.pending; p != nil {
			c.mu.Unlock()
			if c.waiting != nil {
				c.waiting()
			}
			select {
			case <-p.done:
				if p.err != nil && !(p.abandoned && ctx.Err() == nil) {
					return nil, p.err
				}
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		p := &clientInit{done: make(chan struct{})}
		c.pending = p
		c.mu.Unlock()

		g, ts, closer, err := c.newClient(ctx)
		c.mu.Lock()
		if err == nil {
			c.client, c.ts = g, ts
			if closer != nil {
				c.closers = append(c.closers, closer)
			}
		}
		c.pending, p.err = nil, err
		p.abandoned = err != nil && ctx.Err() != nil
		close(p.done)
		c.mu.Unlock()
		return g, err
	}
}

// newClient signs in (or opens the sandbox) and builds the Graph client.
func (c *Connector) newClient(ctx context.Context) (*graph.Client, oauth2.TokenSource, func() error, error) {
	cfg := c.cfg
	baseURL := cfg.GraphURL
	httpClient := cfg.HTTPClient
	ts := cfg.TokenSource
	var closer func() error
	switch {
	case cfg.Sandbox:
		open, err := sandboxOpener()
		if err != nil {
			return nil, nil, nil, err
		}
		sb, err := open(ctx)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("planner: open the sandbox tenant: %w", err)
		}
		baseURL, httpClient, closer = sb.GraphURL, sb.HTTPClient, sb.Close
		ts = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: sb.AccessToken, TokenType: "Bearer"})
	case ts != nil:
	case cfg.usesToken():
		ts = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: cfg.OAuthAccessToken, TokenType: "Bearer"})
	default:
		var err error
		if ts, err = c.signIn(ctx); err != nil {
			return nil, nil, nil, err
		}
	}
	if c.logging(logBodies) {
		if httpClient == nil {
			httpClient = &http.Client{}
		}
		httpClient = c.loggingClient(httpClient, "")
	}
	opts := []graph.Option{
		graph.WithBaseURL(baseURL),
		graph.WithTokenSource(ts),
		graph.WithMaxConcurrency(cfg.MaxConcurrency),
		graph.WithTimeout(cfg.Timeout),
		graph.WithRetryPolicy(graph.RetryPolicy{MaxRetries: max(cfg.MaxRetries, 0)}),
		graph.WithUserAgent("plannersql/planner"),
		graph.WithRequestHook(c.hook),
		graph.WithBatchItemHook(c.countThrottled),
	}
	if httpClient != nil {
		opts = append(opts, graph.WithHTTPClient(httpClient))
	}
	if c.opts.rateLimit > 0 {
		opts = append(opts, graph.WithRateLimit(c.opts.rateLimit, max(c.opts.burst, 1)))
	}
	opts = append(opts, c.opts.graphOpts...)
	return graph.NewClient(opts...), ts, closer, nil
}

// hook counts and logs every Graph request.
func (c *Connector) hook(ri graph.RequestInfo) {
	c.requests.Hook(ri)
	c.countThrottled(ri)
	c.logRequest(ri)
	if c.opts.hook != nil {
		c.opts.hook(ri)
	}
}

// countThrottled counts a throttled answer: a request's, or a $batch
// item's (which its $batch's 200 hides from the request hook).
func (c *Connector) countThrottled(ri graph.RequestInfo) {
	if throttled(ri.Status) {
		c.throttled.Add(1)
		switch {
		case ri.Retry && ri.RetryAfter:
			c.thrRA.Add(1)
		case ri.Retry:
			c.thrOwn.Add(1)
		}
	}
}
