package graph

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// retryClass says how freely a request may be sent again.
type retryClass int

const (
	// unsafe: a POST (or a $batch holding one) that the service may have
	// applied. Sent again only when the service said it did not process it
	// (429, or 503 with Retry-After) or when it was never written.
	unsafe retryClass = iota
	// conditional: PATCH, PUT or DELETE with If-Match (or a $batch of those
	// and reads). Repeating an applied write answers 412, so it is sent again
	// after 429, 503, 504 and a broken connection, not after 500 or 502.
	conditional
	// idempotent: GET or HEAD, or a $batch of only those. Sent again after
	// 429, 500, 502, 503, 504, a broken connection and a body that ends early.
	idempotent
)

// classOf is the retry class of one request.
func classOf(method string, ifMatch bool) retryClass {
	switch strings.ToUpper(method) {
	case http.MethodGet, http.MethodHead:
		return idempotent
	case http.MethodPatch, http.MethodDelete, http.MethodPut:
		if ifMatch {
			return conditional
		}
	}
	return unsafe
}

// request is one logical request; the transport may send it several times.
type request struct {
	method string
	url    string      // absolute
	header http.Header // extra headers (If-Match, Prefer, Content-Type)
	body   []byte      // nil: no body
	class  retryClass
	// decode, if not nil, decodes a 2xx body inside the retry loop, so that a
	// body that ends early is retried like a broken connection. It must
	// leave no partial result behind when it fails.
	decode func(body []byte) error
	// recycle says that once decode succeeded nothing refers to the body
	// (decode copied what it kept), so its buffer is reused.
	recycle bool
}

// response is a successful (2xx) response with its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// retryable decides whether a status may be retried (see retryClass).
func retryable(status int, class retryClass, hasRetryAfter bool) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return class != unsafe || hasRetryAfter
	case http.StatusGatewayTimeout:
		return class != unsafe
	case http.StatusInternalServerError, http.StatusBadGateway:
		return class == idempotent
	}
	return false
}

// failureStatus reports whether a status says Graph is failing, for the
// breaker (throttling and 4xx show it is there).
func failureStatus(status int) bool {
	switch status {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// do sends r, retrying as the package documentation describes, and returns
// the 2xx response or an error (*Error for an error response, wrapped with
// the number of retries when there were some).
func (c *Client) do(ctx context.Context, r *request) (*response, error) {
	u, err := url.Parse(r.url)
	if err != nil {
		return nil, fmt.Errorf("graph: %s: malformed URL: %w", r.method, err)
	}
	path := u.Path
	if err := c.checkOrigin(r.method, path, "a URL", u); err != nil {
		return nil, err // the token goes to the configured origin only
	}
	if err := checkPath(r.method, u.EscapedPath(), false); err != nil {
		return nil, err
	}
	rid := NewChecklistItemID() // a GUID for client-request-id, the same on every attempt
	retries, authRetried := 0, false
	allFailed := true // every attempt so far got no answer, or 500/502/503/504
	for attempt := 1; ; attempt++ {
		res, info, wrote, err := c.attempt(ctx, r, path, rid, attempt)
		if ue := (*UnreachableError)(nil); errors.As(err, &ue) && info.Method == "" {
			return nil, withRetries(ue, retries) // not sent
		}
		if err == nil && res.status < 300 && r.decode != nil {
			derr := r.decode(res.body)
			if derr == nil && r.recycle {
				putBody(res.body)
				res.body = nil
			}
			if derr != nil {
				if !endedEarly(derr) {
					c.breaker.record(c.now(), outcomeAnswered, nil)
					c.report(info)
					return nil, decodeError(r.method, path, derr)
				}
				err = fmt.Errorf("graph: %s %s: the response body ended early: its JSON stops after %d bytes (the connection was closed before the whole response): %w", r.method, path, len(res.body), io.ErrUnexpectedEOF)
				info.Err = err
				if r.class != idempotent {
					// A write's answer: the write was applied; do not repeat it.
					c.breaker.record(c.now(), outcomeFailed, err)
					c.report(info)
					return nil, withRetries(err, retries)
				}
			}
		}
		var final error
		var delay time.Duration
		retry, fromRA := false, false
		o := outcomeAnswered
		switch {
		case err != nil:
			var te *tokenError
			if errors.As(err, &te) || ctx.Err() != nil || isPermanent(err) {
				c.breaker.record(c.now(), outcomeNone, nil)
				if info.Method != "" {
					c.report(info)
				}
				return nil, withRetries(err, retries)
			}
			o, final = outcomeFailed, err
			retry = r.class != unsafe || !wrote
		case res.status < 300:
			c.breaker.record(c.now(), outcomeAnswered, nil)
			c.report(info)
			return res, nil
		default:
			final = newError(r.method, path, res.status, res.header, res.body)
			if failureStatus(res.status) {
				o = outcomeFailed
			}
			if res.status == http.StatusUnauthorized && !authRetried && c.ts != nil {
				// Once, at once: the token source may hand out a fresh token.
				authRetried = true
				c.breaker.record(c.now(), o, final)
				info.Retry = true
				c.report(info)
				continue
			}
			ra, hasRA := parseRetryAfter(res.header.Get("Retry-After"), c.now())
			if retryable(res.status, r.class, hasRA) {
				retry = true
				if hasRA {
					delay, fromRA = ra, true // honoured as sent, 0 included
				}
				if hasRA && ra > c.retry.MaxRetryAfter {
					retry, final = false, &RetryAfterError{Err: final, Wait: ra, Max: c.retry.MaxRetryAfter}
				}
			}
		}
		c.breaker.record(c.now(), o, final)
		allFailed = allFailed && o == outcomeFailed
		if retry && retries >= c.retry.MaxRetries {
			retry = false
			if allFailed && retries > 0 {
				// Every attempt its retries allowed failed: the outage
				// outlasted a whole retry schedule, however short.
				c.breaker.ranOut(c.now())
			}
		}
		if retry && !fromRA {
			delay = c.backoff(retries + 1)
		}
		info.Retry, info.RetryIn, info.RetryAfter = retry, delay, retry && fromRA
		c.report(info)
		if !retry {
			if ue := c.breaker.open(r.method, path, c.host); ue != nil && o == outcomeFailed {
				return nil, withRetries(ue, retries)
			}
			return nil, withRetries(final, retries)
		}
		if ue := c.breaker.open(r.method, path, c.host); ue != nil {
			return nil, withRetries(ue, retries)
		}
		retries++
		if err := c.sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("graph: %s %s: cancelled while waiting %v to retry (%w): %w", r.method, path, delay.Round(time.Millisecond), final, err)
		}
	}
}

// RetryAfterError is a throttled or unavailable response that was not
// retried because its Retry-After asked for a longer wait than the client's
// RetryPolicy.MaxRetryAfter. It wraps the response's *Error.
type RetryAfterError struct {
	Err  error         // the response's error (*Error)
	Wait time.Duration // what Retry-After asked for
	Max  time.Duration // RetryPolicy.MaxRetryAfter
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%s; not retried: the service asked to wait %s (Retry-After), longer than the %s this client waits (RetryPolicy.MaxRetryAfter): run again after that", e.Err, e.Wait.Round(time.Second), e.Max)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// retriedError is a request's final error after retries.
type retriedError struct {
	err     error
	retries int
}

func (e *retriedError) Error() string {
	if e.retries == 1 {
		return e.err.Error() + "; retried once"
	}
	return fmt.Sprintf("%s; retried %d times", e.err, e.retries)
}

func (e *retriedError) Unwrap() error { return e.err }

// withRetries says how often a request was retried before failing with err.
func withRetries(err error, retries int) error {
	if retries == 0 || err == nil {
		return err
	}
	return &retriedError{err, retries}
}

// endedEarly reports whether a decoding error is the input's early end
// (decodeInto reports it as io.ErrUnexpectedEOF, wrapped).
func endedEarly(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF)
}

// isPermanent reports whether a transport error cannot be cured by sending
// the request again: a certificate the client does not trust, a body beyond
// the client's limits, an address the client refuses to send the token to.
func isPermanent(err error) bool {
	var (
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		hn x509.HostnameError
		ci x509.CertificateInvalidError
		oe *OriginError
	)
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) ||
		errors.As(err, &oe) || errors.Is(err, errBodyTooLarge)
}

// tokenError is a failure before sending that sending again would not cure
// (no token, no rate-limit slot before the deadline): not retried by the
// transport, and nothing about Graph's reachability.
type tokenError struct{ err error }

func (e *tokenError) Error() string { return e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

// attempt sends r once. wrote reports whether the request may have reached
// the service (it was written to the connection). info describes the attempt
// for the hook (its Method is empty when nothing was sent); the caller
// completes and reports it.
func (c *Client) attempt(ctx context.Context, r *request, path, rid string, n int) (res *response, info RequestInfo, wrote bool, err error) {
	if err := c.waitRateLimit(ctx); err != nil {
		return nil, info, false, &tokenError{fmt.Errorf("graph: %s %s: waiting for the rate limit: %w", r.method, path, err)}
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, info, false, fmt.Errorf("graph: %s %s: %w", r.method, path, ctx.Err())
	}
	defer func() { <-c.sem }()
	// Checked once a slot is ours: requests queued behind the ones that
	// found Graph unreachable are not sent.
	if ue := c.breaker.allow(c.now(), r.method, path, c.host); ue != nil {
		return nil, info, false, ue
	}

	var auth string
	if c.ts != nil {
		tok, err := c.ts.Token()
		if err != nil {
			return nil, info, false, &tokenError{fmt.Errorf("graph: %s %s: get an access token: %w", r.method, path, err)}
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
		return nil, info, false, fmt.Errorf("graph: %s %s: %w", r.method, path, err)
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
	info = RequestInfo{Method: r.method, Path: path, Endpoint: c.endpoint(r.method, path), Attempt: n}
	resp, err := c.hc.Do(req)
	if err != nil {
		err = c.transportError(ctx, r.method, path, err, false)
		info.Duration, info.Err = c.now().Sub(start), err
		return nil, info, false, err
	}
	limit := int64(maxSuccessBody)
	if resp.StatusCode >= 300 {
		limit = maxErrorBody
	}
	b, err := readBody(resp, limit, r.recycle && resp.StatusCode < 300)
	resp.Body.Close()
	info.Status = resp.StatusCode
	if err != nil {
		err = c.transportError(ctx, r.method, path, err, true)
		info.Duration, info.Err = c.now().Sub(start), err
		return nil, info, false, err
	}
	info.Duration = c.now().Sub(start)
	if resp.StatusCode >= 300 {
		_, info.HasRetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, info, false, nil
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

// transportError says what happened to a request that got no whole response,
// naming it without its host or query (a *url.Error would print the whole
// URL) and keeping the cause; the caller's own cancellation is reported as
// such. inBody is true when the status and headers had arrived.
func (c *Client) transportError(ctx context.Context, method, path string, err error, inBody bool) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *OriginError
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("graph: %s %s: %w", method, path, ctx.Err())
	case errors.As(err, &oe):
		return err
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("graph: %s %s: no complete answer within %v (raise the timeout if the service is slow): %w", method, path, c.timeout, err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("graph: %s %s: connection refused by %s: nothing answers there (check GraphURL, the network and any proxy): %w", method, path, c.host, err)
	case errors.Is(err, syscall.ECONNRESET) && inBody:
		return fmt.Errorf("graph: %s %s: connection reset by the server in the middle of the response: %w", method, path, err)
	case errors.Is(err, syscall.ECONNRESET):
		return fmt.Errorf("graph: %s %s: connection reset by the server before a response: %w", method, path, err)
	case errors.Is(err, errBodyCut):
		return fmt.Errorf("graph: %s %s: %w", method, path, err)
	case inBody && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)):
		return fmt.Errorf("graph: %s %s: the connection was closed in the middle of the response (%w)", method, path, err)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("graph: %s %s: connection closed by the server before a response (%w)", method, path, err)
	}
	return fmt.Errorf("graph: %s %s: %w", method, path, err)
}

// errBodyTooLarge is returned for a body beyond the client's limits.
var errBodyTooLarge = errors.New("response body too large")

// errBodyCut marks a body shorter than its Content-Length.
var errBodyCut = errors.New("the response body ended early")

// bodyBufs recycles the buffers of bodies that were decoded into copies
// (list pages: about 800 KB for 400 tasks).
var bodyBufs sync.Pool

func getBody(n int64) []byte {
	if p, ok := bodyBufs.Get().(*[]byte); ok && int64(cap(*p)) >= n {
		return (*p)[:n]
	}
	return make([]byte, n)
}

func putBody(b []byte) {
	if cap(b) >= 4<<10 && cap(b) <= maxSuccessBody {
		bodyBufs.Put(&b)
	}
}

// readBody reads the whole body, up to limit bytes, allocating once when the
// length is known (from bodyBufs when pooled).
func readBody(resp *http.Response, limit int64, pooled bool) ([]byte, error) {
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: %d bytes (limit %d)", errBodyTooLarge, resp.ContentLength, limit)
	}
	if resp.ContentLength >= 0 {
		var b []byte
		if pooled {
			b = getBody(resp.ContentLength)
		} else {
			b = make([]byte, resp.ContentLength)
		}
		n, err := io.ReadFull(resp.Body, b)
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, fmt.Errorf("%w after %d of %d bytes (the connection was closed): %w", errBodyCut, n, resp.ContentLength, io.ErrUnexpectedEOF)
			}
			return nil, fmt.Errorf("read the response body: %w", err)
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w after %d bytes (the connection was closed): %w", errBodyCut, len(b), err)
		}
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
		if f < 0 || f != f {
			return 0, false
		}
		// Beyond any wait a client honours (RetryPolicy.MaxRetryAfter),
		// and short of time.Duration's overflow.
		return time.Duration(min(f, 100*365*24*3600) * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// backoff is the delay before retry n (1-based) without Retry-After: full
// jitter over a ceiling that doubles from BaseDelay up to MaxDelay.
func (c *Client) backoff(n int) time.Duration {
	return c.jitter(c.backoffCeiling(n))
}

// backoffCeiling is the most retry n (1-based) waits without Retry-After.
func (c *Client) backoffCeiling(n int) time.Duration {
	ceiling := c.retry.MaxDelay
	if n < 40 {
		if d := c.retry.BaseDelay << (n - 1); d > 0 && d < ceiling {
			ceiling = d
		}
	}
	return ceiling
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
