package console

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/plannersql/planner/driver"
	"github.com/plannersql/planner/internal/config"
)

// signInTimeout bounds a sign-in started from the page.
const signInTimeout = 15 * time.Minute

// Sign-in states.
const (
	signInStarting = "starting"
	signInBrowser  = "browser"     // open URL to sign in
	signInCode     = "device_code" // enter UserCode at VerificationURI
	signInDone     = "done"
	signInFailed   = "failed"
)

// signInView is also what a finished sign-in reports.

// signInFlow is a sign-in started from the page, as the API shows it. It
// holds what the user must do (a page to open, or a code to enter): those
// are meant to be shown, and are not secrets.
type signInFlow struct {
	Source          string      `json:"source"`
	State           string      `json:"state"`
	Version         int         `json:"version"` // grows with every change (for ?after=)
	URL             string      `json:"url,omitempty"`
	UserCode        string      `json:"user_code,omitempty"`
	VerificationURI string      `json:"verification_uri,omitempty"`
	Message         string      `json:"message,omitempty"`
	ExpiresAt       *time.Time  `json:"expires_at,omitempty"`
	SignIn          *signInView `json:"sign_in,omitempty"`
	Error           string      `json:"error,omitempty"`
	Notice          string      `json:"notice,omitempty"`
}

type signInEntry struct {
	flow    signInFlow
	changed chan struct{} // closed at every change
	cancel  context.CancelFunc
}

// signins holds the sign-ins in progress, one per source.
type signins struct {
	mu sync.Mutex
	m  map[string]*signInEntry
}

func newSignins() *signins { return &signins{m: map[string]*signInEntry{}} }

func (ss *signins) update(key string, e *signInEntry, f func(*signInFlow)) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	f(&e.flow)
	e.flow.Version++
	close(e.changed)
	e.changed = make(chan struct{})
}

// get returns the flow of source, waiting up to wait for a version after
// after.
func (ss *signins) get(ctx context.Context, source string, after int, wait time.Duration) (signInFlow, bool) {
	key := strings.ToLower(source)
	var timer <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timer = t.C
	}
	for {
		ss.mu.Lock()
		e, ok := ss.m[key]
		if !ok {
			ss.mu.Unlock()
			return signInFlow{}, false
		}
		flow, ch := e.flow, e.changed
		ss.mu.Unlock()
		if wait <= 0 || flow.Version > after || flow.State == signInDone || flow.State == signInFailed {
			return flow, true
		}
		select {
		case <-ch:
		case <-timer:
			return flow, true
		case <-ctx.Done():
			return flow, true
		}
	}
}

// signInInput starts a sign-in.
type signInInput struct {
	// DeviceCode signs a user in with a code entered on any device
	// instead of a browser on this machine (AzureAD profiles).
	DeviceCode bool `json:"device_code"`
}

// startSignIn starts signing source in, unless a sign-in of it is already
// waiting for the user, which it returns.
func (s *Server) startSignIn(source string, in signInInput) (signInFlow, error) {
	if config.IsSandbox(source) {
		return signInFlow{}, errorf(http.StatusBadRequest, "the sandbox needs no sign-in")
	}
	if err := s.sourceExists(source); err != nil {
		return signInFlow{}, err
	}
	if s.isSandbox(source) {
		return signInFlow{}, errorf(http.StatusBadRequest, "source %s is the sandbox, which needs no sign-in", source)
	}
	key := strings.ToLower(source)
	ss := s.signins
	ss.mu.Lock()
	if e, ok := ss.m[key]; ok && (e.flow.State == signInStarting || e.flow.State == signInBrowser || e.flow.State == signInCode) {
		flow := e.flow
		ss.mu.Unlock()
		return flow, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), signInTimeout)
	e := &signInEntry{flow: signInFlow{Source: source, State: signInStarting, Version: 1}, changed: make(chan struct{}), cancel: cancel}
	ss.m[key] = e
	ss.mu.Unlock()

	cfg := sourceConfig(source)
	cfg.OpenBrowser = func(url string) error {
		ss.update(key, e, func(f *signInFlow) { f.State, f.URL = signInBrowser, url })
		return nil
	}
	cfg.DeviceCodePrompt = func(_ context.Context, dc driver.DeviceCode) error {
		ss.update(key, e, func(f *signInFlow) {
			f.State, f.UserCode, f.VerificationURI, f.Message = signInCode, dc.UserCode, dc.VerificationURI, oneLine(dc.Message)
			f.ExpiresAt = optTime(dc.ExpiresAt)
		})
		return nil
	}
	cfg.Notify = func(msg string) {
		ss.update(key, e, func(f *signInFlow) { f.Notice = oneLine(strings.TrimPrefix(msg, "planner: ")) })
	}
	fail := func(err error) {
		msg := s.scrubErr(err)
		ss.update(key, e, func(f *signInFlow) { f.State, f.Error = signInFailed, msg })
	}
	cn, err := s.opts.NewConnector(cfg)
	if err != nil {
		cancel()
		fail(err)
		flow, _ := ss.get(context.Background(), source, 0, 0)
		return flow, nil
	}
	if in.DeviceCode {
		eff := cn.Config()
		switch eff.AuthScheme {
		case driver.AuthAzureAD, driver.AuthDeviceCode:
			cn.Close()
			eff.AuthScheme = driver.AuthDeviceCode
			if cn, err = s.opts.NewConnector(eff); err != nil {
				cancel()
				fail(err)
				flow, _ := ss.get(context.Background(), source, 0, 0)
				return flow, nil
			}
		default:
			cn.Close()
			cancel()
			ss.mu.Lock()
			delete(ss.m, key)
			ss.mu.Unlock()
			return signInFlow{}, fieldError("device_code", "a device code signs a user in, but source %s uses AuthScheme=%s", source, eff.AuthScheme)
		}
	}
	go func() {
		defer cancel()
		defer cn.Close()
		st, err := cn.SignIn(ctx)
		if err != nil {
			if errors.Is(ctx.Err(), context.Canceled) {
				err = errors.New("sign-in cancelled")
			}
			fail(err)
			return
		}
		s.catalog.forget(source)
		ss.update(key, e, func(f *signInFlow) {
			f.State = signInDone
			f.URL, f.UserCode = "", ""
			f.SignIn = &signInView{SignedIn: st.SignedIn, Account: st.Account, Name: st.Name, TenantID: st.TenantID,
				Expiry: optTime(st.Expiry), Saved: optTime(st.Saved), StoredIn: st.StoredIn, Notice: st.Notice}
		})
	}()
	flow, _ := ss.get(context.Background(), source, 1, 10*time.Second)
	return flow, nil
}

// cancelSignIn stops a sign-in in progress.
func (s *Server) cancelSignIn(source string) bool {
	s.signins.mu.Lock()
	e, ok := s.signins.m[strings.ToLower(source)]
	s.signins.mu.Unlock()
	if ok {
		e.cancel()
	}
	return ok
}

// signOut forgets the stored sign-in of source.
func (s *Server) signOut(ctx context.Context, source string) (bool, error) {
	if config.IsSandbox(source) {
		return false, errorf(http.StatusBadRequest, "the sandbox needs no sign-in")
	}
	if err := s.sourceExists(source); err != nil {
		return false, err
	}
	if s.isSandbox(source) {
		return false, errorf(http.StatusBadRequest, "source %s is the sandbox, which needs no sign-in", source)
	}
	cfg := sourceConfig(source)
	refuseHooks(cfg)
	cn, err := s.opts.NewConnector(cfg)
	if err != nil {
		return false, errorf(http.StatusConflict, "%s", s.scrubErr(err))
	}
	defer cn.Close()
	had, err := cn.SignOut(ctx)
	if err != nil {
		return false, errorf(http.StatusConflict, "%s", s.scrubErr(err))
	}
	s.catalog.forget(source)
	return had, nil
}

// isSandbox reports whether source opens the sandbox (the built-in one, or
// a profile with Sandbox = true).
func (s *Server) isSandbox(source string) bool {
	if config.IsSandbox(source) {
		return true
	}
	cfg := sourceConfig(source)
	refuseHooks(cfg)
	cn, err := s.opts.NewConnector(cfg)
	if err != nil {
		return false
	}
	defer cn.Close()
	return cn.Config().Sandbox
}
