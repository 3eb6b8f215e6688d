package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// request is one logical request; the transport may send it several times.
type request struct {
	method string
	url    string      // absolute
	header http.Header // extra headers (If-Match, Prefer, Content-Type)
	body   []byte      // nil: no body
	// safe marks a request that may be repeated even after the service may
	// have applied it (GET; PATCH/DELETE with If-Match; a $batch of those).
	safe bool
}

// response is a successful (2xx) response with its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// retryable decides whether a status may be retried: 429, 503 and 504 for a
// safe request; for an unsafe one (a POST) only 429 and 503 that carry
// Retry-After, the service's word that it did not process the request.
func retryable(status int, safe, hasRetryAfter bool) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return safe || hasRetryAfter
	case http.StatusGatewayTimeout:
		return safe
	}
	return false
}

// do sends r, retrying as the package documentation describes, and returns
// the 2xx response or an error (*Error for an error response).
func (c *Client) do(ctx context.Context, r *request) (*response, error) {
	u, err := url.Parse(r.url)
	if err != nil {
		return nil, fmt.Errorf("graph: %s: malformed URL: %w", r.method, err)
	}
	path := u.Path
	rid := NewChecklistItemID() // a GUID for client-request-id, the same on every attempt
	retries, authRetried := 0, false
	for attempt := 1; ; attempt++ {
		res, wrote, err := c.attempt(ctx, r, path, rid, attempt)
		var final error
		var delay time.Duration
		retry := false
		switch {
		case err != nil:
			var te *tokenError
			if errors.As(err, &te) || ctx.Err() != nil {
				return nil, err
			}
			final = err
			retry = r.safe || !wrote
		case res.status < 300:
			return res, nil
		default:
			apiErr := newError(r.method, path, res.status, res.header, res.body)
			final = apiErr
			if res.status == http.StatusUnauthorized && !authRetried && c.ts != nil {
				// Once: the token source may hand out a fresh token.
				authRetried = true
				continue
			}
			ra, hasRA := parseRetryAfter(res.header.Get("Retry-After"), c.now())
			if retryable(res.status, r.safe, hasRA) {
				retry = true
				if hasRA {
					delay = ra
				}
			}
		}
		if !retry || retries >= c.retry.MaxRetries {
			return nil, final
		}
		retries++
		if delay == 0 {
			delay = c.backoff(retries)
		}
		if err := c.sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("graph: %s %s: cancelled while waiting %v to retry (%w): %w", r.method, path, delay.Round(time.Millisecond), final, err)
		}
	}
}

// tokenError is a failure to get a token: not retried by the transport.
type tokenError struct{ err error }

func (e *tokenError) Error() string { return e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

// attempt sends r once. wrote reports whether the request may have reached
// the service (it was written to the connection).
func (c *Client) attempt(ctx context.Context, r *request, path, rid string, n int) (res *response, wrote bool, err error) {
	if err := c.waitRateLimit(ctx); err != nil {
		return nil, false, fmt.Errorf("graph: %s %s: waiting for the rate limit: %w", r.method, path, err)
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, false, fmt.Errorf("graph: %s %s: %w", r.method, path, ctx.Err())
	}
	defer func() { <-c.sem }()

	var auth string
	if c.ts != nil {
		tok, err := c.ts.Token()
		if err != nil {
			return nil, false, &tokenError{fmt.Errorf("graph: %s %s: get an access token: %w", r.method, path, err)}
		}
		auth = tok.Type() + " " + tok.AccessToken
	}

	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var written atomic.Bool
	defer func() { wrote = written.Load() }()
	trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { written.Store(true) }}
	actx = httptrace.WithClientTrace(actx, trace)
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(actx, r.method, r.url, body)
	if err != nil {
		return nil, false, fmt.Errorf("graph: %s %s: %w", r.method, path, err)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("client-request-id", rid)
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if r.body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}

	start := c.now()
	info := RequestInfo{Method: r.method, Path: path, Endpoint: c.endpoint(r.method, path), Attempt: n}
	resp, err := c.hc.Do(req)
	if err != nil {
		err = c.transportError(ctx, r.method, path, err)
		info.Duration, info.Err = c.now().Sub(start), err
		c.report(info)
		return nil, false, err
	}
	limit := int64(maxSuccessBody)
	if resp.StatusCode >= 300 {
		limit = maxErrorBody
	}
	b, err := readBody(resp, limit)
	resp.Body.Close()
	info.Status = resp.StatusCode
	if err != nil {
		err = c.transportError(ctx, r.method, path, err)
		info.Duration, info.Err = c.now().Sub(start), err
		c.report(info)
		return nil, false, err
	}
	info.Duration = c.now().Sub(start)
	c.report(info)
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, false, nil
}

func (c *Client) report(info RequestInfo) {
	if c.hook != nil {
		c.hook(info)
	}
}

// endpoint templates a full URL path.
func (c *Client) endpoint(method, path string) string {
	if c.basePath != "" {
		if rest, ok := strings.CutPrefix(path, c.basePath); ok {
			path = rest
		}
	}
	return Endpoint(method, path)
}

// transportError names the request without its host or query (a *url.Error
// would print the whole URL) and keeps the cause; the caller's own
// cancellation is reported as such.
func (c *Client) transportError(ctx context.Context, method, path string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("graph: %s %s: %w", method, path, ctx.Err())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("graph: %s %s: no complete answer within %v (raise the timeout if the service is slow): %w", method, path, c.timeout, err)
	}
	return fmt.Errorf("graph: %s %s: %w", method, path, err)
}

// errBodyTooLarge is returned for a body beyond the client's limits.
var errBodyTooLarge = errors.New("response body too large")

// readBody reads the whole body, up to limit bytes, allocating once when the
// length is known.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: %d bytes (limit %d)", errBodyTooLarge, resp.ContentLength, limit)
	}
	if resp.ContentLength >= 0 {
		b := make([]byte, resp.ContentLength)
		if _, err := io.ReadFull(resp.Body, b); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("read the response body: %w", err)
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read the response body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", errBodyTooLarge, limit)
	}
	return b, nil
}

// parseRetryAfter reads Retry-After: whole or fractional seconds, or an HTTP
// date. ok is false when the header is absent or unreadable.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f < 0 || f > 24*3600 {
			return 0, false
		}
		return time.Duration(f * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// backoff is the delay before retry n (1-based) without Retry-After: full
// jitter over a ceiling that doubles from BaseDelay up to MaxDelay.
func (c *Client) backoff(n int) time.Duration {
	ceiling := c.retry.MaxDelay
	if n < 40 {
		if d := c.retry.BaseDelay << (n - 1); d > 0 && d < ceiling {
			ceiling = d
		}
	}
	return c.jitter(ceiling)
}

func fullJitter(ceiling time.Duration) time.Duration {
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling) + 1
}

// waitRateLimit waits for the rate limiter's next slot (with the client's
// clock and sleep, so tests can follow the schedule without waiting).
func (c *Client) waitRateLimit(ctx context.Context) error {
	if c.limiter == nil {
		return nil
	}
	now := c.now()
	res := c.limiter.ReserveN(now, 1)
	if !res.OK() {
		return fmt.Errorf("the rate limit's burst is below one request")
	}
	d := res.DelayFrom(now)
	if dl, ok := ctx.Deadline(); ok && now.Add(d).After(dl) {
		res.CancelAt(now)
		return fmt.Errorf("the next slot is in %s, after the context's deadline: %w", d, context.DeadlineExceeded)
	}
	if err := c.sleep(ctx, d); err != nil {
		res.CancelAt(c.now())
		return err
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
