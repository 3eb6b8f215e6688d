package graph

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"
)

// DefaultBaseURL is Microsoft Graph v1.0 in the global cloud. National
// clouds have their own (e.g. https://graph.microsoft.us/v1.0): see
// WithBaseURL.
const DefaultBaseURL = "https://graph.microsoft.com/v1.0"

// Defaults of the client's options.
const (
	DefaultMaxConcurrency = 8
	DefaultMaxRetries     = 6
	DefaultBaseDelay      = 500 * time.Millisecond
	DefaultMaxDelay       = 30 * time.Second
	DefaultMaxRetryAfter  = 5 * time.Minute
	DefaultTimeout        = 60 * time.Second
)

// Limits on the size of response bodies the client reads.
const (
	maxSuccessBody = 16 << 20
	maxErrorBody   = 1 << 20
)

// RetryPolicy says how often and how long the client retries throttled and
// failed requests. A zero BaseDelay, MaxDelay or MaxRetryAfter takes the
// default; MaxRetries 0 means no retries.
type RetryPolicy struct {
	MaxRetries int           // retries after the first attempt
	BaseDelay  time.Duration // first backoff ceiling (default 500ms), doubled per retry
	MaxDelay   time.Duration // backoff ceiling (default 30s); Retry-After is honoured as sent, up to MaxRetryAfter
	// MaxRetryAfter is the longest Retry-After the client waits (default
	// 5 minutes): a response asking for a longer wait is not retried, and
	// its error says how long the service asked to wait.
	MaxRetryAfter time.Duration
}

// RequestInfo describes one HTTP attempt, for WithRequestHook.
type RequestInfo struct {
	Method   string
	Path     string // URL path without host or query, e.g. "/v1.0/planner/tasks/abc"
	Endpoint string // template, e.g. "GET /planner/tasks/{id}" (see Endpoint)
	Status   int    // HTTP status; 0 when no response arrived
	Attempt  int    // 1 for the first attempt, 2 for the first retry…
	Duration time.Duration
	Err      error // transport error (no response), or nil
	// HasRetryAfter reports whether an error response carried a Retry-After
	// header the client could read.
	HasRetryAfter bool
	// Retry reports whether the client sends the request again, after
	// RetryIn; RetryAfter reports whether that wait is the response's
	// Retry-After (false: the client's own backoff).
	Retry      bool
	RetryIn    time.Duration
	RetryAfter bool
}

// Option configures a Client.
type Option func(*Client)

// WithBaseURL sets Graph's base URL including the version, e.g.
// "https://graph.microsoft.com/v1.0" (the default), a national cloud's, or
// the emulator's GraphURL().
func WithBaseURL(u string) Option {
	return func(c *Client) {
		if u != "" {
			c.baseStr = strings.TrimRight(u, "/")
		}
	}
}

// WithHTTPClient sets the HTTP client (default: a new client over
// http.DefaultTransport). Its Timeout, if any, applies in addition to
// WithTimeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithTokenSource sets where bearer tokens come from. Token is called for
// every attempt, so a refreshing source (oauth2.ReuseTokenSource) gives a
// fresh token after expiry; without a source, requests carry no token.
func WithTokenSource(ts oauth2.TokenSource) Option {
	return func(c *Client) { c.ts = ts }
}

// WithMaxConcurrency bounds the HTTP requests in flight across the whole
// client (default 8; n <= 0 keeps the default).
func WithMaxConcurrency(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.maxConc = n
		}
	}
}

// WithRateLimit limits the client to perSecond requests per second with bursts
// of burst (HTTP attempts, retries included). perSecond <= 0 removes the limit.
func WithRateLimit(perSecond rate.Limit, burst int) Option {
	return func(c *Client) {
		if perSecond <= 0 {
			c.limiter = nil
			return
		}
		c.limiter = rate.NewLimiter(perSecond, max(burst, 1))
	}
}

// WithRetryPolicy sets the retry policy (default: 6 retries, 500ms base
// delay, 30s cap, Retry-After waited up to 5 minutes).
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *Client) {
		c.retry = RetryPolicy{
			MaxRetries:    max(p.MaxRetries, 0),
			BaseDelay:     cmp0(p.BaseDelay, DefaultBaseDelay),
			MaxDelay:      cmp0(p.MaxDelay, DefaultMaxDelay),
			MaxRetryAfter: cmp0(p.MaxRetryAfter, DefaultMaxRetryAfter),
		}
	}
}

// WithTimeout bounds each HTTP attempt, reading the body included (default
// 60s; d <= 0 keeps the default).
func WithTimeout(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// WithRequestHook calls h after every HTTP attempt (a $batch is one attempt).
// h may be called from several goroutines at once.
func WithRequestHook(h func(RequestInfo)) Option {
	return func(c *Client) { c.hook = h }
}

// WithBatchItemHook calls h for every $batch item answered with an error
// status (4xx or 5xx), on each attempt, with what became of it: Method and
// Path are the item's, Attempt its attempt (1 for its first $batch), and
// HasRetryAfter, Retry, RetryIn and RetryAfter as for WithRequestHook. Items
// are not HTTP requests: WithRequestHook sees their $batch calls, this hook
// their throttled or failed items, which the $batch's 200 hides. h may be
// called from several goroutines at once.
func WithBatchItemHook(h func(RequestInfo)) Option {
	return func(c *Client) { c.itemHook = h }
}

func cmp0(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Client is a Microsoft Graph Planner client. It is safe for concurrent use.
type Client struct {
	Groups  *GroupsService  // directory groups
	Users   *UsersService   // directory users and /me
	Plans   *PlansService   // plannerPlan and plannerPlanDetails
	Buckets *BucketsService // plannerBucket
	Tasks   *TasksService   // plannerTask, its details and board formats

	baseStr   string // base URL without a trailing slash
	basePath  string // its path, e.g. "/v1.0"
	origin    string // its origin, scheme://host:port in lower case: the only place the token goes
	host      string // its host (and port, if given), for messages
	hc        *http.Client
	ts        oauth2.TokenSource
	maxConc   int
	sem       chan struct{}
	limiter   *rate.Limiter
	retry     RetryPolicy
	timeout   time.Duration
	userAgent string
	hook      func(RequestInfo)
	itemHook  func(RequestInfo) // WithBatchItemHook
	breaker   breaker
	pool      retryPool // failed $batch items waiting to be sent again

	// Injectable for tests.
	sleep  func(ctx context.Context, d time.Duration) error
	now    func() time.Time
	jitter func(ceiling time.Duration) time.Duration
}

// NewClient returns a client configured by opts.
func NewClient(opts ...Option) *Client {
	c := &Client{
		baseStr: DefaultBaseURL,
		hc:      &http.Client{},
		maxConc: DefaultMaxConcurrency,
		retry:   RetryPolicy{MaxRetries: DefaultMaxRetries, BaseDelay: DefaultBaseDelay, MaxDelay: DefaultMaxDelay, MaxRetryAfter: DefaultMaxRetryAfter},
		timeout: DefaultTimeout,
		sleep:   sleepCtx,
		now:     time.Now,
		jitter:  fullJitter,
	}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	if u, err := url.Parse(c.baseStr); err == nil {
		c.basePath = strings.TrimRight(u.Path, "/")
		c.origin = originOf(u)
		c.host = u.Host
	}
	if c.breaker.policy == (BreakerPolicy{}) {
		c.breaker.policy = BreakerPolicy{}.withDefaults()
	}
	c.hc = c.guardRedirects(c.hc)
	c.sem = make(chan struct{}, c.maxConc)
	c.Groups = &GroupsService{c}
	c.Users = &UsersService{c}
	c.Plans = &PlansService{c}
	c.Buckets = &BucketsService{c}
	c.Tasks = &TasksService{c}
	return c
}

// BaseURL returns the base URL requests are sent to.
func (c *Client) BaseURL() string { return c.baseStr }
