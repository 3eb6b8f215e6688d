package auth

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
	"github.com/plannersql/planner/internal/testkit"
	"github.com/zalando/go-keyring"
)

func TestMain(m *testing.M) {
	if os.Getenv("AUTH_REFRESH_HELPER") != "" {
		os.Exit(refreshHelper())
	}
	keyring.MockInit()
	os.Exit(m.Run())
}

// secrets collects every secret the emulator issued (seen on the wire) and
// every text the code under test produced, and checks at the end of the
// test that no text contains a secret.
type secrets struct {
	mu      sync.Mutex
	secrets []string
	outputs []string
}

func (s *secrets) addSecret(v string) {
	if len(v) < 8 {
		return
	}
	s.mu.Lock()
	s.secrets = append(s.secrets, v)
	s.mu.Unlock()
}

func (s *secrets) has(v string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.secrets {
		if x == v {
			return true
		}
	}
	return false
}

// show records text the user could see.
func (s *secrets) show(v ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range v {
		if x == nil {
			continue
		}
		for _, f := range []string{"%v", "%+v", "%#v", "%s", "%d", "%q"} {
			s.outputs = append(s.outputs, fmt.Sprintf(f, x))
		}
	}
}

func (s *secrets) check(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.secrets) == 0 {
		return
	}
	for _, out := range s.outputs {
		for _, sec := range s.secrets {
			if strings.Contains(out, sec) {
				t.Errorf("a secret issued by the emulator (%d bytes, starting %.6q) appears in output: %.200q", len(sec), sec, out)
			}
		}
	}
}

// env is one test's emulator and the settings that reach it.
type env struct {
	t   *testing.T
	srv *graphtest.Server
	clk *testkit.Clock
	sec *secrets
	hc  *http.Client
}

func newEnv(t *testing.T, opts ...graphtest.Option) *env {
	t.Helper()
	e := &env{t: t, clk: testkit.NewClock(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)), sec: &secrets{}}
	e.srv = graphtest.NewServer(t, append([]graphtest.Option{graphtest.WithClock(e.clk.Now)}, opts...)...)
	e.hc = &http.Client{Transport: testkit.IssuedSecrets{Add: e.sec.addSecret}}
	_, secret := e.srv.ConfidentialClient()
	e.sec.addSecret(secret)
	e.sec.addSecret(e.srv.Token())
	e.sec.addSecret(e.srv.AppToken())
	t.Cleanup(func() { e.sec.check(t) })
	return e
}

// settings are delegated settings for profile in a fresh memory store.
func (e *env) settings(profile string) Settings {
	return Settings{
		Profile:      profile,
		Tenant:       e.srv.TenantID(),
		ClientID:     e.srv.ClientID(),
		AuthorityURL: e.srv.AuthorityURL(),
		GraphURL:     e.srv.GraphURL(),
		Location:     fmt.Sprintf("memory://%s-%p", e.t.Name(), e), // fresh per emulator, even with -count
		HTTPClient:   e.hc,
		Now:          e.clk.Now,
		LoginTimeout: 10 * time.Second,
	}
}

// call GETs path of Graph with tok and returns the status.
func (e *env) call(path, tok string) int {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.GraphURL()+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// browserVisit is what the simulated browser saw.
type browserVisit struct {
	authURL string
	status  int    // of the loopback page
	body    string // of the loopback page
	err     error
}

// browser returns an OpenBrowser that plays the user's browser: it follows
// the authorize redirect to the loopback callback. tamper, when set, edits
// the callback URL before the visit; then the genuine callback follows
// when also is set.
func (e *env) browser(tamper func(u *url.URL), also bool) (func(string) error, chan browserVisit) {
	visits := make(chan browserVisit, 4)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) (int, string, error) {
		res, err := noFollow.Get(u)
		if err != nil {
			return 0, "", err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), nil
	}
	open := func(authURL string) error {
		go func() {
			res, err := noFollow.Get(authURL)
			if err != nil {
				visits <- browserVisit{authURL: authURL, err: err}
				return
			}
			res.Body.Close()
			loc, err := url.Parse(res.Header.Get("Location"))
			if err != nil || res.StatusCode != http.StatusFound {
				visits <- browserVisit{authURL: authURL, err: fmt.Errorf("authorize answered %d %v", res.StatusCode, err)}
				return
			}
			e.sec.addSecret(loc.Query().Get("code"))
			if tamper != nil {
				bad := *loc
				tamper(&bad)
				st, body, err := get(bad.String())
				visits <- browserVisit{authURL: authURL, status: st, body: body, err: err}
				if !also {
					return
				}
			}
			st, body, err := get(loc.String())
			visits <- browserVisit{authURL: authURL, status: st, body: body, err: err}
		}()
		return nil
	}
	return open, visits
}
