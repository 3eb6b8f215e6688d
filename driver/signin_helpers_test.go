package driver

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
	"github.com/plannersql/planner/internal/testkit"
	"github.com/plannersql/planner/internal/tokenstore"
)

// signinEnv is an emulated tenant with its identity endpoints, a fake
// clock, a token file, and a record of every secret the identity platform
// issued and of every text the driver produced; at the end of the test no
// text may contain a secret.
type signinEnv struct {
	t     *testing.T
	srv   *graphtest.Server
	clk   *testkit.Clock
	store string
	out   testkit.Buffer // stderr, prompts and the log

	mu      sync.Mutex
	secrets []string
	texts   []string
	waits   []time.Duration
	prompts int
	// advance returns how far the clock moves on the n-th device code
	// wait (0-based) of d; nil: d.
	advance func(n int, d time.Duration) time.Duration
}

func newSigninEnv(t *testing.T, opts ...graphtest.Option) *signinEnv {
	t.Helper()
	e := &signinEnv{t: t, clk: testkit.NewClock(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))}
	e.srv = graphtest.NewServer(t, append([]graphtest.Option{graphtest.WithClock(e.clk.Now)}, opts...)...)
	e.store = filepath.Join(t.TempDir(), "tokens.json")
	_, secret := e.srv.ConfidentialClient()
	e.addSecret(secret)
	e.addSecret(e.srv.Token())
	t.Cleanup(e.check)
	return e
}

func (e *signinEnv) addSecret(v string) {
	if len(v) >= 8 {
		e.mu.Lock()
		e.secrets = append(e.secrets, v)
		e.mu.Unlock()
	}
}

// show records texts a user could see (errors, statuses, DSNs).
func (e *signinEnv) show(v ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, x := range v {
		if x != nil {
			e.texts = append(e.texts, fmt.Sprintf("%v", x), fmt.Sprintf("%+v", x))
		}
	}
}

// check fails the test when any output holds an issued secret.
func (e *signinEnv) check() {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	texts := append([]string{e.out.String()}, e.texts...)
	for _, sec := range e.secrets {
		for _, out := range texts {
			if strings.Contains(out, sec) {
				e.t.Errorf("a secret issued by the emulator (%d bytes, starting %.6q) appears in output: %.300q", len(sec), sec, out)
			}
		}
	}
}

// issued returns how many secrets the recorder saw (to make sure the leak
// check is not blind).
func (e *signinEnv) issued() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.secrets)
}

// config is a delegated configuration for the emulator, keeping its
// sign-in in the test's token file and logging everything (Verbosity 3)
// into the test's output, so that redaction is checked on every flow.
func (e *signinEnv) config(scheme AuthScheme) *Config {
	return &Config{
		AuthScheme:            scheme,
		Tenant:                e.srv.TenantID(),
		OAuthClientID:         e.srv.ClientID(),
		AuthorityURL:          e.srv.AuthorityURL(),
		GraphURL:              e.srv.GraphURL(),
		OAuthSettingsLocation: e.store,
		HTTPClient:            &http.Client{Transport: testkit.IssuedSecrets{Add: e.addSecret}},
		Logger:                slog.New(slog.NewTextHandler(&e.out, nil)),
		Verbosity:             3,
	}
}

// connector returns a connector for cfg with the test's clock, device
// code wait and stderr.
func (e *signinEnv) connector(cfg *Config) *Connector {
	e.t.Helper()
	e.show(cfg.String(), cfg.FormatDSN())
	cn, err := NewConnector(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	cn.now, cn.stderr, cn.wait = e.clk.Now, &e.out, e.wait
	cn.open = func(string) error { e.t.Error("the real browser opener was called"); return nil }
	return cn
}

// db opens a DB on a connector for cfg.
func (e *signinEnv) db(cfg *Config) (*sql.DB, *Connector) {
	cn := e.connector(cfg)
	db := sql.OpenDB(cn)
	e.t.Cleanup(func() { db.Close() })
	return db, cn
}

// wait is the device code wait: it records d and moves the clock.
func (e *signinEnv) wait(ctx context.Context, d time.Duration) error {
	e.mu.Lock()
	n := len(e.waits)
	e.waits = append(e.waits, d)
	adv := e.advance
	e.mu.Unlock()
	if adv != nil {
		d = adv(n, d)
	}
	e.clk.Advance(d)
	return ctx.Err()
}

// prompt is a DeviceCodePrompt hook that counts prompts and writes the
// message to the test's output.
func (e *signinEnv) prompt(_ context.Context, dc DeviceCode) error {
	e.mu.Lock()
	e.prompts++
	e.mu.Unlock()
	if dc.UserCode == "" || !strings.Contains(dc.Message, dc.UserCode) || !strings.Contains(dc.Message, dc.VerificationURI) {
		e.t.Errorf("device code %+v lacks the code or the URL", dc)
	}
	fmt.Fprintln(&e.out, "hook:", dc.Message)
	return nil
}

// plans returns how many plans a query through db counts, or the error.
func (e *signinEnv) plans(db *sql.DB) (int, error) {
	var n int
	err := db.QueryRow("SELECT count(*) FROM Plans").Scan(&n)
	e.show(err)
	return n, err
}

// stored returns the sign-in saved in the token file.
func (e *signinEnv) stored() *tokenstore.Record {
	e.t.Helper()
	st, _, err := tokenstore.Open(e.store, tokenstore.DefaultProfile)
	if err != nil {
		e.t.Fatal(err)
	}
	rec, err := st.Load()
	if err != nil {
		e.t.Fatalf("stored sign-in: %v", err)
	}
	return rec
}

// browserVisit is what the simulated browser saw at the loopback callback.
type browserVisit struct {
	authURL string
	status  int
	err     error
}

// browser returns an opener that plays the user's browser: it follows the
// authorize redirect to the loopback callback. tamper, when set, edits the
// callback URL of a first visit; the genuine callback follows.
func (e *signinEnv) browser(tamper func(u *url.URL)) (func(string) error, chan browserVisit) {
	visits := make(chan browserVisit, 4)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) (int, error) {
		res, err := noFollow.Get(u)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, nil
	}
	open := func(authURL string) error {
		e.mu.Lock()
		e.prompts++
		e.mu.Unlock()
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
			e.addSecret(loc.Query().Get("code"))
			if tamper != nil {
				bad := *loc
				tamper(&bad)
				st, err := get(bad.String())
				visits <- browserVisit{authURL: authURL, status: st, err: err}
			}
			st, err := get(loc.String())
			visits <- browserVisit{authURL: authURL, status: st, err: err}
		}()
		return nil
	}
	return open, visits
}
