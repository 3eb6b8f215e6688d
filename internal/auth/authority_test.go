package auth

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingServer is a loopback HTTP server that records every request it
// receives (method, path and body) and answers each with an OAuth error.
type recordingServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newRecordingServer(t *testing.T) *recordingServer {
	r := &recordingServer{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.seen = append(r.seen, req.Method+" "+req.URL.String()+" "+string(b))
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"invalid_request","error_description":"recording server"}`)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recordingServer) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// TestRefreshTokenOnlyToIssuingAuthority: a sign-in stored from one
// authority is never presented to another (nor with another app): REFRESH
// says to sign in again and sends nothing; GETANDREFRESH signs in again at
// the new authority without sending the old refresh token.
func TestRefreshTokenOnlyToIssuingAuthority(t *testing.T) {
	e := newEnv(t)
	file := filepath.Join(t.TempDir(), "tokens.json")
	s := e.settings("prod")
	s.Location = file
	s = e.login(s)
	rt := stored(t, s).RefreshToken

	other := newRecordingServer(t)
	tests := []struct {
		name    string
		edit    func(s *Settings)
		prompt  bool   // GETANDREFRESH with a device code prompt
		wantErr string // for REFRESH
	}{
		{"another authority, REFRESH", func(s *Settings) { s.AuthorityURL = other.URL }, false, "was issued by " + e.srv.AuthorityURL() + ", not by AuthorityURL " + other.URL},
		{"same host, another port", func(s *Settings) {
			u := strings.Split(e.srv.AuthorityURL(), ":")
			s.AuthorityURL = strings.Join(u[:2], ":") + ":1"
		}, false, "not by AuthorityURL"},
		{"another app, REFRESH", func(s *Settings) { s.ClientID = "99999999-0000-0000-0000-000000000000" }, false, "was issued to the app " + e.srv.ClientID()},
		{"another authority, GETANDREFRESH signs in there", func(s *Settings) { s.AuthorityURL = other.URL }, true, "recording server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s2 := s
			s2.InitiateOAuth = InitiateRefresh
			tt.edit(&s2)
			if tt.prompt {
				s2.InitiateOAuth = InitiateGetAndRefresh
				s2.AuthScheme = SchemeDeviceCode
				s2.DeviceCodePrompt = func(context.Context, DeviceCode) error { return nil }
				s2.Wait = func(context.Context, time.Duration) error { return nil }
			}
			before := e.srv.TokenCount("refresh_token")
			_, err := TokenSource(context.Background(), s2)
			e.sec.show(err)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if !tt.prompt {
				if !errors.Is(err, ErrNoSignIn) || !strings.Contains(err.Error(), "sign in again") {
					t.Errorf("err = %v, want a SignInError saying to sign in again", err)
				}
				if n := len(other.requests()); n != 0 {
					t.Errorf("REFRESH sent %d requests to the other authority", n)
				}
			}
			if n := e.srv.TokenCount("refresh_token"); n != before {
				t.Errorf("the issuing authority saw %d refreshes", n-before)
			}
			for _, r := range other.requests() {
				if strings.Contains(r, rt) || strings.Contains(r, "refresh_token") {
					t.Errorf("the other authority received the refresh token: %.120s", r)
				}
			}
		})
	}
	// The stored sign-in is intact and still works where it was issued.
	if got := stored(t, s).RefreshToken; got != rt {
		t.Error("the stored refresh token changed")
	}
	s.InitiateOAuth = InitiateRefresh
	if _, err := TokenSource(context.Background(), s); err != nil {
		t.Errorf("at the issuing authority: %v", err)
	}
}

// TestEndpointRule: AuthorityURL (and GraphURL, for the driver) are https
// to Microsoft's hosts, any https host with AllowCustomHosts, or loopback.
func TestEndpointRule(t *testing.T) {
	tests := []struct {
		url     string
		custom  bool
		wantErr string // "" accepted
	}{
		{"https://login.microsoftonline.com", false, ""},
		{"https://LOGIN.microsoftonline.us/", false, ""},
		{"https://login.chinacloudapi.cn", false, ""},
		{"http://127.0.0.1:8400", false, ""},
		{"http://localhost:8400", false, ""},
		{"http://[::1]:8400", false, ""},
		{"http://127.9.9.9", false, ""},
		{"http://login.microsoftonline.com", false, "uses http"},
		{"http://login.example.com", true, "uses http"},
		{"http://10.0.0.1:8400", true, "uses http"},
		{"https://login.example.com", false, "AllowCustomHosts=true"},
		{"https://login.microsoftonline.com.evil.example", false, "is not one of Microsoft's"},
		{"https://login.example.com", true, ""},
		{"https://user:pw@login.microsoftonline.com", false, "user name or password"},
		{"login.microsoftonline.com", false, "not an https URL"},
		{"ftp://login.microsoftonline.com", false, "not an https URL"},
		{"ftp://user:pw@login.microsoftonline.com", false, "not an https URL"},
		{"https://user:pw@login microsoftonline.com", false, "not an https URL"},
		{"https://login.microsoftonline.com?x=@evil.example", false, "must not have a query or fragment"},
		{"https://login.microsoftonline.com/#", false, "must not have a query or fragment"},
		{"https://login.microsoftonline.com/?", false, "must not have a query or fragment"},
		{"HTTPS://LOGIN.MICROSOFTONLINE.COM.:443/", false, ""},
		{"http://localhost.:8400", false, ""},
		{"http://[::ffff:127.0.0.1]:8400", false, ""},
		{"http://127.1:8400", false, "uses http"},
		{"http://0x7f000001:8400", false, "uses http"},
		{"http://sub.localhost:8400", false, "uses http"},
		{"https://login.microsoftonline.com@evil.example", false, "user name or password"},
		{"https://evil.example#@login.microsoftonline.com", false, "must not have a query or fragment"},
	}
	for _, tt := range tests {
		err := CheckAuthorityURL(tt.url, tt.custom)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s (custom %v): %v", tt.url, tt.custom, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s (custom %v): err %v, want %q", tt.url, tt.custom, err, tt.wantErr)
		case err != nil && strings.Contains(err.Error(), "pw"):
			t.Errorf("%s: the error shows the password: %v", tt.url, err)
		}
	}
	if err := CheckGraphURL("https://graph.microsoft.us/v1.0", false); err != nil {
		t.Error(err)
	}
	if err := CheckGraphURL("https://login.microsoftonline.com/v1.0", false); err == nil {
		t.Error("a login host accepted as GraphURL")
	}
}

// TestAuthorityRuleRefusesBeforeSending: an AuthorityURL that breaks the
// rule sends nothing — the recording server behind it (reached through a
// dialer that sends every host there) sees no request.
func TestAuthorityRuleRefusesBeforeSending(t *testing.T) {
	e := newEnv(t)
	rec := newRecordingServer(t)
	addr := rec.Listener.Addr().String()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}
	for _, authority := range []string{"http://login.microsoftonline.com", "http://login.example.com", "https://login.example.com"} {
		s := e.settings("p")
		s.AuthorityURL, s.HTTPClient = authority, hc
		s.InitiateOAuth, s.RefreshToken = InitiateRefresh, "given-refresh-token-value"
		_, err := TokenSource(context.Background(), s)
		if err == nil || !strings.Contains(err.Error(), "AuthorityURL") {
			t.Errorf("%s: err %v", authority, err)
		}
	}
	if got := rec.requests(); len(got) != 0 {
		t.Errorf("the refused authorities received %d requests: %q", len(got), got)
	}
	// Sanity: the same client does reach the recorder for an allowed one.
	s := e.settings("p")
	s.AuthorityURL, s.HTTPClient, s.AllowCustomHosts = "http://127.0.0.1:1", hc, false
	s.InitiateOAuth, s.RefreshToken = InitiateRefresh, "given-refresh-token-value"
	if _, err := TokenSource(context.Background(), s); err == nil {
		t.Error("the recording server signed in")
	}
	if len(rec.requests()) != 1 {
		t.Errorf("the recorder saw %d requests, want 1: the test would be blind", len(rec.requests()))
	}
}

// TestIdentityRedirectsNotFollowed: an identity endpoint that redirects
// (301, 302, 307, 308) to another origin — another host or port — is not
// followed: a 307 or 308 would post the refresh token, client secret or
// device code there again. The sign-in fails naming the redirect, and the
// recording server at the other origin sees nothing.
func TestIdentityRedirectsNotFollowed(t *testing.T) {
	e := newEnv(t)
	other := newRecordingServer(t)
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+r.URL.Path, code)
		}))
		t.Cleanup(redirector.Close)
		for _, flow := range []string{"refresh", "device code", "service principal"} {
			s := e.settings("p")
			s.AuthorityURL = redirector.URL
			switch flow {
			case "refresh":
				s.InitiateOAuth, s.RefreshToken = InitiateRefresh, "given-refresh-token-value"
				s.Location = filepath.Join(t.TempDir(), "tokens.json")
			case "device code":
				s.AuthScheme = SchemeDeviceCode
				s.Location = filepath.Join(t.TempDir(), "tokens.json")
				s.DeviceCodePrompt = func(context.Context, DeviceCode) error { return nil }
				s.Wait = func(context.Context, time.Duration) error { return nil }
			case "service principal":
				s.AuthScheme, s.ClientSecret = SchemeServicePrincipal, "client-secret-value"
			}
			ts, err := TokenSource(context.Background(), s)
			if err == nil {
				_, err = ts.Token()
			}
			if err == nil || !strings.Contains(err.Error(), "redirect") {
				t.Errorf("%d, %s: err = %v, want one naming the redirect", code, flow, err)
			}
		}
	}
	if got := other.requests(); len(got) != 0 {
		t.Errorf("the redirect target received %d requests: %q", len(got), got)
	}
}

// TestTenantInPath: a Tenant that is no directory id or domain — one that
// would change the endpoint's path — is refused before anything is sent.
func TestTenantInPath(t *testing.T) {
	e := newEnv(t)
	rec := newRecordingServer(t)
	for _, tenant := range []string{"../../x", "..", "a/b", "a%2Fb", "a?b", "a#b", "a b", "contoso..com", "-x", "x.", "tenant\x00"} {
		s := e.settings("p")
		s.AuthorityURL, s.Tenant = rec.URL, tenant
		s.AuthScheme, s.ClientSecret = SchemeServicePrincipal, "client-secret-value"
		_, err := TokenSource(context.Background(), s)
		if err == nil || !strings.Contains(err.Error(), "is not a directory (tenant) id or domain") {
			t.Errorf("Tenant %q: err = %v", tenant, err)
		}
	}
	if got := rec.requests(); len(got) != 0 {
		t.Errorf("the authority received %d requests: %q", len(got), got)
	}
	for _, tenant := range []string{"organizations", "common", "consumers", "contoso.onmicrosoft.com", "0f8fad5b-d9cb-469f-a165-70867728950e", " Contoso.COM "} {
		if !validTenant(strings.TrimSpace(tenant)) {
			t.Errorf("validTenant(%q) = false", tenant)
		}
	}
}
