// Package testkit holds the test helpers that several packages' tests
// share: a settable clock, a buffer safe for concurrent writers, and an
// HTTP transport that collects the secrets the identity platform issues
// (so that a test can check that none reaches an output). Only tests
// import it.
package testkit

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Clock is a clock that moves only when told to, safe for concurrent use:
// give its Now to the emulator (graphtest.WithClock) and to the code under
// test.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock set to t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Buffer is a bytes.Buffer safe for concurrent writers (a logger, a
// prompt) and readers. The zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// IssuedSecrets is an http.RoundTripper (over http.DefaultTransport) that
// passes to Add every access_token, refresh_token, id_token and device_code
// in the JSON answers of the identity platform (paths under /oauth2/v2.0/).
type IssuedSecrets struct {
	Add func(secret string)
}

// issuedKeys are the members of a token endpoint's answer that are secrets.
var issuedKeys = []string{"access_token", "refresh_token", "id_token", "device_code"}

// RoundTrip implements http.RoundTripper.
func (r IssuedSecrets) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !strings.Contains(req.URL.Path, "/oauth2/v2.0/") {
		return res, err
	}
	body, rerr := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return res, nil
	}
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		for _, k := range issuedKeys {
			if v, ok := m[k].(string); ok {
				r.Add(v)
			}
		}
	}
	return res, nil
}

// RefusedPort returns a loopback TCP port nothing listens on, for tests of
// refused connections: one the system just gave a listener and took back,
// not a fixed port that a test or service elsewhere may be using.
func RefusedPort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return port
}
