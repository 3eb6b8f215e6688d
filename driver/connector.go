package driver

import (
	"context"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/schema"
	"golang.org/x/oauth2"
	"golang.org/x/time/rate"
	sqlite "modernc.org/sqlite"
)

// Connector opens connections of one configuration. All its connections
// share one Graph client (and so its concurrency limit, rate limit and
// request counters). Use it with sql.OpenDB.
type Connector struct {
	cfg    *Config
	opts   connectorOptions
	sqlite *sqlite.Driver

	mu     sync.Mutex
	client *graph.Client
	ts     oauth2.TokenSource
	closer func() error

	states sync.Map // uint64 → *connState
	nextID atomic.Uint64

	requests  *graph.RequestCounter
	throttled atomic.Int64 // responses 429, 503 or 504 (each was retried or failed)
	thrRA     atomic.Int64 // of which retried after their Retry-After
	thrOwn    atomic.Int64 // of which retried after the client's backoff
	logger    *slog.Logger
}

// ConnectorOption configures what a DSN cannot carry.
type ConnectorOption func(*connectorOptions)

type connectorOptions struct {
	logger    *slog.Logger
	hook      func(graph.RequestInfo)
	rateLimit rate.Limit
	burst     int
	graphOpts []graph.Option
}

// WithLogger sends the driver's diagnostics (per Verbosity) to l. Without it
// the driver logs nothing unless Verbosity > 0, and then to slog.Default().
func WithLogger(l *slog.Logger) ConnectorOption {
	return func(o *connectorOptions) { o.logger = l }
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

// NewConnector returns a connector for cfg. The configuration is copied. No
// request is sent and no sign-in happens until the first connection.
func NewConnector(cfg *Config, opts ...ConnectorOption) (*Connector, error) {
	if cfg == nil {
		cfg = NewConfig()
	}
	cfg = cfg.Clone()
	if cfg.Profile != "" {
		if err := applyProfile(cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Connector{cfg: cfg, sqlite: &sqlite.Driver{}, requests: graph.NewRequestCounter()}
	for _, o := range opts {
		o(&c.opts)
	}
	c.logger = c.opts.logger
	if c.logger == nil {
		if cfg.Verbosity > 0 {
			c.logger = slog.Default()
		} else {
			c.logger = slog.New(slog.DiscardHandler)
		}
	}
	for _, t := range schema.All() {
		impl := tableImpls[strings.ToLower(t.Name)]
		if impl == nil {
			return nil, fmt.Errorf("planner: internal error: table %s has no implementation", t.Name)
		}
		if err := c.sqlite.RegisterModule(moduleName(t), &module{cn: c, t: t, impl: impl}); err != nil {
			return nil, fmt.Errorf("planner: register table %s: %w", t.Name, err)
		}
	}
	return c, nil
}

func moduleName(t *schema.Table) string { return "planner_" + strings.ToLower(t.Name) }

// validate checks the combination of properties.
func (c *Config) validate() error {
	if c.Sandbox {
		return nil
	}
	if c.TokenSource != nil {
		return nil
	}
	if c.InitiateOAuth == OAuthOff || c.AuthScheme == AuthToken {
		if c.OAuthAccessToken == "" {
			return fmt.Errorf("planner: OAuthAccessToken is empty: with InitiateOAuth=OFF or AuthScheme=Token give OAuthAccessToken=<token>, or use InitiateOAuth=GETANDREFRESH to sign in")
		}
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

// Throttled returns how many of the connector's Graph requests were answered
// 429 Too Many Requests, 503 or 504: the service asked it to slow down.
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

// Close releases what the connector holds (the sandbox tenant, if any).
// database/sql calls it when the DB is closed.
func (c *Connector) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closer != nil {
		err := c.closer()
		c.closer = nil
		return err
	}
	return nil
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
	for _, t := range schema.All() {
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

// graphClient returns the connector's Graph client, signing in on first use.
func (c *Connector) graphClient(ctx context.Context) (*graph.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil {
		return c.client, nil
	}
	cfg := c.cfg
	baseURL := cfg.GraphURL
	httpClient := cfg.HTTPClient
	ts := cfg.TokenSource
	switch {
	case ts != nil:
	case cfg.Sandbox:
		sb, err := sandbox()
		if err != nil {
			return nil, err
		}
		baseURL = sb.graphURL
		if httpClient == nil {
			httpClient = sb.httpClient
		}
		ts = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: sb.token, TokenType: "Bearer"})
	case cfg.InitiateOAuth == OAuthOff || cfg.AuthScheme == AuthToken:
		ts = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: cfg.OAuthAccessToken, TokenType: "Bearer"})
	default:
		var err error
		ts, err = signIn(ctx, cfg, httpClient)
		if err != nil {
			return nil, err
		}
	}
	opts := []graph.Option{
		graph.WithBaseURL(baseURL),
		graph.WithTokenSource(ts),
		graph.WithMaxConcurrency(cfg.MaxConcurrency),
		graph.WithTimeout(cfg.Timeout),
		graph.WithRetryPolicy(graph.RetryPolicy{MaxRetries: cfg.MaxRetries}),
		graph.WithUserAgent("plannersql/planner"),
		graph.WithRequestHook(c.hook),
	}
	if httpClient != nil {
		opts = append(opts, graph.WithHTTPClient(httpClient))
	}
	if c.opts.rateLimit > 0 {
		opts = append(opts, graph.WithRateLimit(c.opts.rateLimit, max(c.opts.burst, 1)))
	}
	opts = append(opts, c.opts.graphOpts...)
	c.client = graph.NewClient(opts...)
	c.ts = ts
	return c.client, nil
}

// hook counts and logs every Graph request.
func (c *Connector) hook(ri graph.RequestInfo) {
	c.requests.Hook(ri)
	switch ri.Status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		c.throttled.Add(1)
		switch {
		case ri.Retry && ri.RetryAfter:
			c.thrRA.Add(1)
		case ri.Retry:
			c.thrOwn.Add(1)
		}
	}
	if c.cfg.Verbosity >= 2 {
		attrs := []any{"method", ri.Method, "path", ri.Path, "status", ri.Status, "attempt", ri.Attempt, "duration", ri.Duration}
		if ri.Err != nil {
			attrs = append(attrs, "error", ri.Err)
		}
		c.logger.Debug("planner: graph request", attrs...)
	}
	if c.opts.hook != nil {
		c.opts.hook(ri)
	}
}

// sandboxTenant is the process-wide emulated tenant behind Sandbox=true.
type sandboxTenant struct {
	graphURL   string
	token      string
	httpClient *http.Client
}

var (
	sandboxOnce sync.Once
	sandboxVal  *sandboxTenant
	sandboxErr  error
)
