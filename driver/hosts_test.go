package driver

import (
	"context"
	"crypto/tls"
	"database/sql"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestTokensOnlyToAllowedHosts: GraphURL and AuthorityURL must be https to
// Microsoft's hosts, or loopback; any https host with AllowCustomHosts. A
// loopback TLS server stands behind every host name (a dialer sends all
// there) and records what it receives: a refused URL gets nothing, an
// allowed one gets the request with its token.
func TestTokensOnlyToAllowedHosts(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	rec := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Host+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		http.Error(w, `{"error":{"code":"nope","message":"recording server"}}`, http.StatusForbidden)
	}))
	t.Cleanup(rec.Close)
	addr := rec.Listener.Addr().String()
	tr := rec.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	tr.DialTLSContext = nil
	tr.TLSClientConfig = &tls.Config{RootCAs: tr.TLSClientConfig.RootCAs, ServerName: "example.com"}
	hc := &http.Client{Transport: tr}
	const token = "access-token-for-the-recorder"
	seenN := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(seen)
	}

	tests := []struct {
		name    string
		cfg     Config
		wantErr string // "" allowed: a query reaches the recorder
	}{
		{"http to Microsoft Graph", Config{GraphURL: "http://graph.microsoft.com/v1.0"}, "GraphURL http://graph.microsoft.com/v1.0 uses http"},
		{"https to another host", Config{GraphURL: "https://example.com/v1.0"}, "GraphURL host example.com is not one of Microsoft's"},
		{"look-alike host", Config{GraphURL: "https://graph.microsoft.com.example.com/v1.0"}, "is not one of Microsoft's"},
		{"http elsewhere, even with the opt-in", Config{GraphURL: "http://example.com/v1.0", AllowCustomHosts: true}, "uses http"},
		{"AuthorityURL over http", Config{GraphURL: "https://graph.microsoft.com/v1.0", AuthorityURL: "http://login.microsoftonline.com",
			InitiateOAuth: OAuthRefresh, OAuthRefreshToken: "rt-for-the-recorder", OAuthClientID: "app"}, "AuthorityURL http://login.microsoftonline.com uses http"},
		{"AuthorityURL elsewhere", Config{GraphURL: "https://graph.microsoft.com/v1.0", AuthorityURL: "https://example.com",
			InitiateOAuth: OAuthRefresh, OAuthRefreshToken: "rt-for-the-recorder", OAuthClientID: "app"}, "set AllowCustomHosts=true"},
		{"opted in", Config{GraphURL: "https://example.com/v1.0", AllowCustomHosts: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := seenN()
			cfg := tt.cfg
			cfg.HTTPClient = hc
			if cfg.OAuthRefreshToken == "" {
				cfg.InitiateOAuth, cfg.OAuthAccessToken = OAuthOff, token
			}
			cn, err := NewConnector(&cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("NewConnector: %v, want %q", err, tt.wantErr)
				}
				if err != nil && strings.Contains(err.Error(), "rt-for-the-recorder") {
					t.Error("the error shows the refresh token")
				}
				if seenN() != before {
					t.Errorf("the recorder received %d requests", seenN()-before)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			db := sql.OpenDB(cn)
			defer db.Close()
			if err := db.QueryRow("SELECT count(*) FROM Plans").Scan(new(int)); err == nil {
				t.Error("the recording server answered a query")
			}
			mu.Lock()
			defer mu.Unlock()
			if len(seen) == before || !strings.HasPrefix(seen[before], "example.com /v1.0/") || !strings.HasSuffix(seen[before], "Bearer "+token) {
				t.Errorf("with AllowCustomHosts the request should reach example.com with its token; recorder saw %q", seen[before:])
			}
		})
	}
}
