package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"golang.org/x/oauth2"
)

// callback parses CallbackURL: the redirect URI's host and path and the
// port to listen on (0: any). Default http://127.0.0.1:<any>/.
func callback(raw string) (host string, port int, path string, err error) {
	if raw == "" {
		return "127.0.0.1", 0, "/", nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || (u.Hostname() != "localhost" && u.Hostname() != "127.0.0.1") || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", 0, "", fmt.Errorf("auth: CallbackURL %q must be a loopback http URL such as http://localhost:8400/ or http://127.0.0.1/ (no port: a random one)", raw)
	}
	if p := u.Port(); p != "" {
		port, err = strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 {
			return "", 0, "", fmt.Errorf("auth: CallbackURL %q has a bad port: use 1-65535, or none for a random one", raw)
		}
	}
	path = u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return u.Hostname(), port, path, nil
}

// randomState returns an unguessable OAuth state value.
func randomState() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

const (
	pageDone = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>planner: signed in</title></head>` +
		`<body style="font-family:sans-serif"><h1>You are signed in to planner</h1><p>You can close this tab and return to the terminal.</p></body></html>`
	pageRefusedFmt = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>planner: sign-in refused</title></head>` +
		`<body style="font-family:sans-serif"><h1>planner did not accept this sign-in</h1><p>%s</p></body></html>`
)

type callbackResult struct {
	code string
	err  error
}

// browserLogin runs the authorization code flow with PKCE: a one-shot
// loopback listener on 127.0.0.1 receives the redirect. The page is shown
// with s.OpenBrowser; when it fails, the sign-in ends at once (nobody
// could reach the page, so waiting would hang).
func browserLogin(ctx context.Context, s *Settings) (*oauth2.Token, error) {
	host, port, path, err := callback(s.CallbackURL)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, s.errorf("cannot listen for the sign-in redirect on 127.0.0.1:%d: %w; choose another port in CallbackURL or leave it empty", port, err)
	}
	defer ln.Close()
	port = ln.Addr().(*net.TCPAddr).Port
	redirect := (&url.URL{Scheme: "http", Host: net.JoinHostPort(host, strconv.Itoa(port)), Path: path}).String()
	if u, err := url.Parse(redirect); err == nil {
		path = u.Path // the handler matches the decoded path
	}

	state, verifier := randomState(), oauth2.GenerateVerifier()
	cfg := s.oauthConfig(redirect)
	authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("response_mode", "query"))

	results := make(chan callbackResult, 1)
	deliver := func(r callbackResult) {
		select {
		case results <- r:
		default: // one result is enough
		}
	}
	refuse := func(w http.ResponseWriter, status int, msg string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, pageRefusedFmt, html.EscapeString(msg))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if r.URL.Path != path || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
			// Not the answer to this sign-in (a stale tab, or a forged
			// request): refuse it and keep waiting for the real one.
			refuse(w, http.StatusBadRequest, "This page does not answer the sign-in planner is waiting for (the state does not match). "+
				"Close this tab and use the sign-in page planner opened or printed.")
			return
		}
		if e := q.Get("error"); e != "" {
			refuse(w, http.StatusBadRequest, "The identity platform refused the sign-in: "+e+". See the terminal.")
			deliver(callbackResult{err: &OAuthError{Code: e, Description: q.Get("error_description"), Status: http.StatusFound}})
			return
		}
		code := q.Get("code")
		if code == "" {
			refuse(w, http.StatusBadRequest, "The redirect carries no authorization code.")
			deliver(callbackResult{err: errors.New("auth: the sign-in redirect carried no authorization code")})
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprint(w, pageDone)
		deliver(callbackResult{code: code})
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-served
	}()

	if err := s.OpenBrowser(authURL); err != nil {
		return nil, s.errorf("cannot show the sign-in page in a browser: %w; "+
			"use AuthScheme=DeviceCode to sign in with a code on any device", err)
	}

	timeout := s.LoginTimeout
	if timeout <= 0 {
		timeout = DefaultLoginTimeout
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var res callbackResult
	select {
	case res = <-results:
	case <-timer.C:
		return nil, s.errorf("no sign-in within %s (the browser never came back to %s): sign in again (%s), "+
			"and check that nothing blocks 127.0.0.1 (or use AuthScheme=DeviceCode)", timeout, redirect, s.signInAgain())
	case <-ctx.Done():
		return nil, s.errorf("sign-in abandoned: %w", ctx.Err())
	}
	if res.err != nil {
		var oe *OAuthError
		if errors.As(res.err, &oe) && (oe.Code == "access_denied" || oe.Code == "consent_required" || oe.Code == "interaction_required") {
			return nil, s.errorf("the sign-in was refused in the browser: to try again, %s: %w", s.signInAgain(), res.err)
		}
		return nil, s.errorf("browser sign-in failed: %w", res.err)
	}
	tok, err := cfg.Exchange(s.httpCtx(ctx, false), res.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, tokenError(s, "redeeming the authorization code", err)
	}
	setExpiry(s, tok)
	return tok, nil
}
