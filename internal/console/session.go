package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/plannersql/planner/internal/auth"
)

// Session lifetimes: a session ends after sessionIdle without a request,
// and sessionMax after it began.
const (
	sessionIdle = 12 * time.Hour
	sessionMax  = 7 * 24 * time.Hour
)

// Login throttling: after loginFailures failed logins from one address
// within loginWindow, that address is refused until the window has passed.
const (
	loginFailures = 10
	loginWindow   = 5 * time.Minute
)

// csrfHeader carries the session's CSRF token on state-changing requests.
const csrfHeader = "X-CSRF-Token"

// contentSecurityPolicy allows only the console's own scripts, styles and
// requests: no inline script or style, no other origin, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// authenticator holds the login secrets and the sessions.
type authenticator struct {
	password   string // configured password ("" when none)
	token      string // login token ("" when none)
	secure     bool   // cookies are Secure (served over TLS)
	cookieName string
	now        func() time.Time

	mu       sync.Mutex
	sessions map[string]*session // by SHA-256 of the session id
	failures map[string][]time.Time
}

type session struct {
	csrf          string
	created, seen time.Time
}

func newAuthenticator(password, token string, secure bool, port string, now func() time.Time) *authenticator {
	name := "planner_console"
	if port != "" {
		// Cookies are per host, not per port: two consoles on one
		// machine keep separate sessions.
		name += "_" + port
	}
	if secure {
		name = "__Host-" + name
	}
	return &authenticator{password: password, token: token, secure: secure, cookieName: name, now: now,
		sessions: map[string]*session{}, failures: map[string][]time.Time{}}
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("console: no randomness: %v", err))
	}
	return hex.EncodeToString(b)
}

// NewToken returns a fresh login token: 24 random bytes in hex.
func NewToken() string { return randomHex(24) }

func hashID(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

func equalSecret(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// check reports whether secret is the password or the token.
func (a *authenticator) check(secret string) bool {
	ok := equalSecret(secret, a.password)
	ok = equalSecret(secret, a.token) || ok
	return ok
}

// throttled reports whether addr has failed too often recently.
func (a *authenticator) throttled(addr string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.recentFailures(addr)) >= loginFailures
}

func (a *authenticator) recentFailures(addr string) []time.Time {
	cut := a.now().Add(-loginWindow)
	var keep []time.Time
	for _, t := range a.failures[addr] {
		if t.After(cut) {
			keep = append(keep, t)
		}
	}
	if len(keep) == 0 {
		delete(a.failures, addr)
	} else {
		a.failures[addr] = keep
	}
	return keep
}

func (a *authenticator) fail(addr string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failures[addr] = append(a.recentFailures(addr), a.now())
}

// login checks secret from addr and starts a session: it returns the
// session id and its CSRF token.
func (a *authenticator) login(addr, secret string) (id, csrf string, err *apiError) {
	if a.throttled(addr) {
		return "", "", errorf(http.StatusTooManyRequests, "too many failed logins from this address: wait %s and try again", loginWindow)
	}
	if !a.check(secret) {
		a.fail(addr)
		return "", "", errorf(http.StatusUnauthorized, "wrong password or token: %s", a.hint())
	}
	id, csrf = randomHex(32), randomHex(32)
	now := a.now()
	a.mu.Lock()
	for k, s := range a.sessions { // drop expired sessions
		if a.expired(s, now) {
			delete(a.sessions, k)
		}
	}
	a.sessions[hashID(id)] = &session{csrf: csrf, created: now, seen: now}
	a.mu.Unlock()
	return id, csrf, nil
}

// hint says where the login secret comes from.
func (a *authenticator) hint() string {
	switch {
	case a.password != "" && a.token != "":
		return "give the console password, or the login token ($PLANNER_CONSOLE_TOKEN where it is set, else the one 'planner console' printed when it started)"
	case a.password != "":
		return "give the console password ($PLANNER_CONSOLE_PASSWORD or --password-file)"
	}
	return "use the link with the login token that 'planner console' printed when it started, or the token in $PLANNER_CONSOLE_TOKEN when that is set"
}

func (a *authenticator) expired(s *session, now time.Time) bool {
	return now.Sub(s.seen) > sessionIdle || now.Sub(s.created) > sessionMax
}

// session returns the live session of id, refreshing its idle time.
func (a *authenticator) session(id string) (*session, bool) {
	if id == "" {
		return nil, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	k := hashID(id)
	s, ok := a.sessions[k]
	if !ok {
		return nil, false
	}
	now := a.now()
	if a.expired(s, now) {
		delete(a.sessions, k)
		return nil, false
	}
	s.seen = now
	return s, true
}

func (a *authenticator) logout(id string) {
	a.mu.Lock()
	delete(a.sessions, hashID(id))
	a.mu.Unlock()
}

func (a *authenticator) cookie(id string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: a.cookieName, Value: id, Path: "/", HttpOnly: true, Secure: a.secure,
		SameSite: http.SameSiteStrictMode, MaxAge: maxAge}
}

// principal is how a request is authenticated.
type principal struct {
	bearer bool     // Authorization: Bearer <token>
	sess   *session // a cookie session
	id     string   // the session id
}

// authenticate returns the request's principal, or false.
func (a *authenticator) authenticate(r *http.Request) (principal, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") && a.token != "" && equalSecret(strings.TrimSpace(tok), a.token) {
			return principal{bearer: true}, true
		}
		return principal{}, false
	}
	c, err := r.Cookie(a.cookieName)
	if err != nil {
		return principal{}, false
	}
	s, ok := a.session(c.Value)
	if !ok {
		return principal{}, false
	}
	return principal{sess: s, id: c.Value}, true
}

// safeMethod reports whether m changes nothing.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// sameOrigin checks that a browser sent the request from the console's own
// pages: Origin (or, without it, Sec-Fetch-Site) must say so. Requests
// without either header come from programs, which CSRF cannot drive.
func sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		return err == nil && o != "null" && strings.EqualFold(u.Host, r.Host)
	}
	if sf := r.Header.Get("Sec-Fetch-Site"); sf != "" {
		return sf == "same-origin" || sf == "none"
	}
	return true
}

// clientAddr is the request's remote IP (for login throttling).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loopbackHost reports whether a Host header names this machine's
// loopback interface.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return auth.IsLoopback(host)
}

// IsLoopback reports whether addr (host:port) listens on loopback only.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && auth.IsLoopback(host)
}

// securityHeaders sets the headers of every response.
func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}
