package graphtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plannersql/planner/internal/testkit"
)

// newFakeClock returns the settable clock of the identity tests.
func newFakeClock() *testkit.Clock {
	return testkit.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// postForm posts to an identity endpoint and decodes the JSON answer.
func postForm(t *testing.T, s *Server, path string, form url.Values, basic ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(basic[0], basic[1])
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("POST %s: %d, not JSON: %s", path, res.StatusCode, b)
	}
	return res.StatusCode, m
}

func pkcePair() (verifier, challenge string) {
	verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-extra-entropy"
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorize GETs the authorize endpoint (the browser's part) and returns the
// response without following the redirect.
func authorize(t *testing.T, s *Server, tenant string, q url.Values) *http.Response {
	t.Helper()
	res, err := noRedirect.Get(s.URL() + "/" + tenant + "/oauth2/v2.0/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func authQuery(s *Server, redirect, state, challenge, scope string) url.Values {
	return url.Values{
		"client_id": {s.ClientID()}, "response_type": {"code"}, "redirect_uri": {redirect},
		"scope": {scope}, "state": {state}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
}

const fullScope = "https://graph.microsoft.com/Tasks.ReadWrite https://graph.microsoft.com/User.Read offline_access openid profile"

// login runs the auth-code + PKCE flow and returns the token response.
func login(t *testing.T, s *Server, scope string) map[string]any {
	t.Helper()
	verifier, challenge := pkcePair()
	redirect := "http://127.0.0.1:49152/callback"
	res := authorize(t, s, "organizations", authQuery(s, redirect, "st-1", challenge, scope))
	loc, _ := url.Parse(res.Header.Get("Location"))
	code := loc.Query().Get("code")
	if res.StatusCode != 302 || code == "" {
		t.Fatalf("authorize: %d, error %q", res.StatusCode, loc.Query().Get("error"))
	}
	st, tok := postForm(t, s, "/organizations/oauth2/v2.0/token", url.Values{
		"grant_type": {"authorization_code"}, "client_id": {s.ClientID()}, "code": {code},
		"redirect_uri": {redirect}, "code_verifier": {verifier},
	})
	if st != 200 {
		t.Fatalf("token: %d %v", st, tok["error"])
	}
	return tok
}

func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkOAuthError checks the identity platform's error shape.
func checkOAuthError(t *testing.T, st int, body map[string]any, wantStatus int, wantErr string) {
	t.Helper()
	if st != wantStatus || body["error"] != wantErr {
		t.Fatalf("got %d %v, want %d %s", st, body["error"], wantStatus, wantErr)
	}
	if !strings.HasPrefix(str(body, "error_description"), "AADSTS") {
		t.Errorf("error_description %q", body["error_description"])
	}
	if codes, ok := body["error_codes"].([]any); !ok || len(codes) == 0 {
		t.Errorf("error_codes %v", body["error_codes"])
	}
	for _, k := range []string{"timestamp", "trace_id", "correlation_id"} {
		if str(body, k) == "" {
			t.Errorf("%s missing", k)
		}
	}
}

func TestAuthCodeWithPKCE(t *testing.T) {
	s := NewServer(t)
	verifier, challenge := pkcePair()
	redirect := "http://127.0.0.1:53123/callback"
	res := authorize(t, s, "organizations", authQuery(s, redirect, "xyz-state", challenge, fullScope))
	if res.StatusCode != 302 {
		t.Fatalf("authorize: %d", res.StatusCode)
	}
	loc, _ := url.Parse(res.Header.Get("Location"))
	if loc.Host != "127.0.0.1:53123" || loc.Path != "/callback" || loc.Query().Get("state") != "xyz-state" || loc.Query().Get("code") == "" {
		t.Fatalf("redirect to %s%s, state %q, error %q", loc.Host, loc.Path, loc.Query().Get("state"), loc.Query().Get("error"))
	}
	code := loc.Query().Get("code")
	exchange := func(verifier string) (int, map[string]any) {
		return postForm(t, s, "/organizations/oauth2/v2.0/token", url.Values{
			"grant_type": {"authorization_code"}, "client_id": {s.ClientID()}, "code": {code},
			"redirect_uri": {redirect}, "code_verifier": {verifier},
		})
	}
	st, body := exchange("the-wrong-verifier-the-wrong-verifier-the-wrong")
	checkOAuthError(t, st, body, 400, "invalid_grant")
	st, tok := exchange(verifier)
	if st != 200 {
		t.Fatalf("token: %d %v", st, tok["error"])
	}
	if tok["token_type"] != "Bearer" || tok["expires_in"] != 3600.0 || str(tok, "refresh_token") == "" || str(tok, "access_token") == "" {
		t.Errorf("token response %v", keys(tok))
	}
	if sc := str(tok, "scope"); !strings.Contains(sc, "https://graph.microsoft.com/Tasks.ReadWrite") || !strings.Contains(sc, "offline_access") {
		t.Errorf("scope %q", sc)
	}
	id := jwtClaims(t, str(tok, "id_token"))
	if id["tid"] != s.TenantID() || id["oid"] != s.Me().ID || id["preferred_username"] != s.Me().UserPrincipalName || id["aud"] != s.ClientID() {
		t.Errorf("id_token claims %v", id)
	}
	c := newClient(t, s, str(tok, "access_token"))
	if me := c.get("/me"); me["id"] != s.Me().ID {
		t.Errorf("/me with the issued token: %v", me)
	}
	c.list("/me/planner/tasks")
	// A code is redeemed once.
	st, body = exchange(verifier)
	checkOAuthError(t, st, body, 400, "invalid_grant")
	if s.TokenCount("authorization_code") != 1 {
		t.Errorf("TokenCount = %d", s.TokenCount("authorization_code"))
	}
	// Without offline_access there is no refresh token; without openid no id_token.
	tok = login(t, s, "Tasks.Read User.Read")
	if _, ok := tok["refresh_token"]; ok {
		t.Error("refresh_token issued without offline_access")
	}
	if _, ok := tok["id_token"]; ok {
		t.Error("id_token issued without openid")
	}
	// A token with Tasks.Read cannot write.
	ro := newClient(t, s, str(tok, "access_token"))
	pid := firstAccessiblePlan(t, ro)
	plan := ro.get("/planner/plans/" + pid)
	if r := ro.do("PATCH", "/planner/plans/"+pid, map[string]any{"title": "x"}, "If-Match", etagOf(plan)); r.status != 403 {
		t.Errorf("write with Tasks.Read: %d", r.status)
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestAuthorizeErrors(t *testing.T) {
	s := NewServer(t)
	_, challenge := pkcePair()
	good := func() url.Values { return authQuery(s, "http://localhost:8400/", "st", challenge, "Tasks.Read") }
	pageCases := map[string]func(url.Values){
		"https redirect":     func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") },
		"non-loopback http":  func(q url.Values) { q.Set("redirect_uri", "http://10.0.0.1:80/cb") },
		"IPv6 loopback":      func(q url.Values) { q.Set("redirect_uri", "http://[::1]:80/cb") },
		"missing redirect":   func(q url.Values) { q.Del("redirect_uri") },
		"unknown client":     func(q url.Values) { q.Set("client_id", "00000000-0000-4000-8000-000000000001") },
		"confidential (web)": func(q url.Values) { id, _ := s.ConfidentialClient(); q.Set("client_id", id) },
	}
	for name, mutate := range pageCases {
		q := good()
		mutate(q)
		res := authorize(t, s, "common", q)
		if res.StatusCode != 400 || res.Header.Get("Location") != "" {
			t.Errorf("%s: %d, redirected %v", name, res.StatusCode, res.Header.Get("Location") != "")
		}
	}
	redirectCases := map[string]struct {
		mutate func(url.Values)
		err    string
	}{
		"no PKCE":            {func(q url.Values) { q.Del("code_challenge") }, "invalid_request"},
		"plain PKCE":         {func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
		"implicit flow":      {func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
		"unknown scope":      {func(q url.Values) { q.Set("scope", "Mail.Send.Everything") }, "invalid_scope"},
		"no scope":           {func(q url.Values) { q.Del("scope") }, "invalid_request"},
		".default and more":  {func(q url.Values) { q.Set("scope", "https://graph.microsoft.com/.default Tasks.Read") }, "invalid_scope"},
		"fragment response":  {func(q url.Values) { q.Set("response_mode", "fragment") }, "invalid_request"},
		"short challenge":    {func(q url.Values) { q.Set("code_challenge", "abc") }, "invalid_request"},
		"foreign resource":   {func(q url.Values) { q.Set("scope", "https://outlook.office.com/Mail.Read") }, "invalid_scope"},
		"port is any port 1": {func(q url.Values) {}, ""},
	}
	for name, tc := range redirectCases {
		q := good()
		tc.mutate(q)
		res := authorize(t, s, "common", q)
		loc, _ := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != 302 || loc.Host != "localhost:8400" {
			t.Errorf("%s: %d to %q", name, res.StatusCode, loc.Host)
			continue
		}
		if got := loc.Query().Get("error"); got != tc.err {
			t.Errorf("%s: error=%q, want %q", name, got, tc.err)
		}
		if tc.err != "" && (loc.Query().Get("state") != "st" || !strings.HasPrefix(loc.Query().Get("error_description"), "AADSTS")) {
			t.Errorf("%s: state %q, error_description %q", name, loc.Query().Get("state"), loc.Query().Get("error_description"))
		}
	}
	// The port is ignored: any loopback port and path are accepted.
	for _, r := range []string{"http://127.0.0.1:1/", "http://localhost:65535/a/b", "http://127.0.0.1/cb"} {
		q := good()
		q.Set("redirect_uri", r)
		if res := authorize(t, s, "organizations", q); res.StatusCode != 302 {
			t.Errorf("redirect %s: %d", r, res.StatusCode)
		}
	}
	// login_hint picks another user of the tenant.
	other := s.Users()[3]
	q := good()
	q.Set("login_hint", other.UserPrincipalName)
	q.Set("redirect_uri", "http://127.0.0.1:9/cb")
	verifier, _ := pkcePair()
	loc, _ := url.Parse(authorize(t, s, "organizations", q).Header.Get("Location"))
	st, tok := postForm(t, s, "/organizations/oauth2/v2.0/token", url.Values{
		"grant_type": {"authorization_code"}, "client_id": {s.ClientID()}, "code": {loc.Query().Get("code")},
		"redirect_uri": {"http://127.0.0.1:9/cb"}, "code_verifier": {verifier},
	})
	if st != 200 || jwtClaims(t, str(tok, "access_token"))["oid"] != other.ID {
		t.Errorf("login_hint: %d %v", st, tok["error"])
	}
}

func TestTenantsInURLs(t *testing.T) {
	s := NewServer(t)
	_, challenge := pkcePair()
	q := authQuery(s, "http://127.0.0.1:5000/cb", "s", challenge, "Tasks.Read")
	for _, tenant := range []string{s.TenantID(), "organizations", "common", s.Domain(), strings.ToUpper(s.Domain())} {
		if res := authorize(t, s, tenant, q); res.StatusCode != 302 {
			t.Errorf("tenant %s: %d", tenant, res.StatusCode)
		}
	}
	for _, tenant := range []string{"consumers", "fabrikam.onmicrosoft.com", "00000000-0000-4000-8000-000000000009"} {
		st, body := postForm(t, s, "/"+tenant+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}})
		checkOAuthError(t, st, body, 400, "invalid_request")
	}
	res, err := http.Get(s.URL() + "/organizations/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var disc map[string]any
	_ = json.NewDecoder(res.Body).Decode(&disc)
	res.Body.Close()
	if !strings.HasSuffix(str(disc, "token_endpoint"), "/organizations/oauth2/v2.0/token") || str(disc, "device_authorization_endpoint") == "" {
		t.Errorf("discovery %v", disc)
	}
}

func refresh(t *testing.T, s *Server, rt string, extra ...string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {s.ClientID()}, "refresh_token": {rt}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return postForm(t, s, "/common/oauth2/v2.0/token", form)
}

func TestRefreshTokenRotation(t *testing.T) {
	s := NewServer(t)
	rt1 := str(login(t, s, fullScope), "refresh_token")
	st, tok := refresh(t, s, rt1)
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, tok["error"])
	}
	rt2 := str(tok, "refresh_token")
	if rt2 == "" || rt2 == rt1 {
		t.Fatal("rotation gives a new refresh token")
	}
	newClient(t, s, str(tok, "access_token")).get("/me")
	st, body := refresh(t, s, rt1)
	checkOAuthError(t, st, body, 400, "invalid_grant")
	st, tok = refresh(t, s, rt2)
	if st != 200 || str(tok, "refresh_token") == rt2 {
		t.Fatalf("second refresh: %d", st)
	}
	if s.TokenCount("refresh_token") != 2 {
		t.Errorf("TokenCount(refresh_token) = %d", s.TokenCount("refresh_token"))
	}
	// Asking for more than was consented fails; asking for less works.
	st, body = refresh(t, s, str(tok, "refresh_token"), "scope", "Group.ReadWrite.All")
	checkOAuthError(t, st, body, 400, "invalid_grant")
	if body["suberror"] != "consent_required" {
		t.Errorf("suberror %v", body["suberror"])
	}
	st, narrow := refresh(t, s, str(tok, "refresh_token"), "scope", "https://graph.microsoft.com/User.Read")
	if st != 200 || strings.Contains(str(narrow, "scope"), "Tasks") {
		t.Errorf("narrower refresh: %d scope %q", st, narrow["scope"])
	}
	// Garbage and another client's use fail.
	st, body = refresh(t, s, "not-a-token")
	checkOAuthError(t, st, body, 400, "invalid_grant")
	id, secret := s.ConfidentialClient()
	st, body = postForm(t, s, "/common/oauth2/v2.0/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {id}, "client_secret": {secret}, "refresh_token": {str(narrow, "refresh_token")}})
	checkOAuthError(t, st, body, 400, "unauthorized_client")
}

func TestRefreshGraceWindowAndNoRotation(t *testing.T) {
	clk := newFakeClock()
	s := NewServer(t, WithClock(clk.Now), WithRefreshTokenGrace(time.Minute))
	rt1 := str(login(t, s, fullScope), "refresh_token")
	if st, _ := refresh(t, s, rt1); st != 200 {
		t.Fatal("first refresh")
	}
	clk.Advance(30 * time.Second)
	if st, _ := refresh(t, s, rt1); st != 200 {
		t.Error("reuse within the grace window fails")
	}
	clk.Advance(2 * time.Minute)
	st, body := refresh(t, s, rt1)
	checkOAuthError(t, st, body, 400, "invalid_grant")

	s2 := NewServer(t, WithRefreshTokenRotation(false))
	rt := str(login(t, s2, fullScope), "refresh_token")
	for i := 0; i < 3; i++ {
		st, tok := refresh(t, s2, rt)
		if st != 200 || str(tok, "refresh_token") != rt {
			t.Fatalf("refresh %d without rotation: %d", i, st)
		}
	}
	// Idle refresh tokens expire after 90 days.
	clk2 := newFakeClock()
	s3 := NewServer(t, WithClock(clk2.Now))
	rt = str(login(t, s3, fullScope), "refresh_token")
	clk2.Advance(91 * 24 * time.Hour)
	st, body = refresh(t, s3, rt)
	checkOAuthError(t, st, body, 400, "invalid_grant")
}

func TestRevokeRefreshTokens(t *testing.T) {
	s := NewServer(t)
	rt := str(login(t, s, fullScope), "refresh_token")
	s.RevokeRefreshTokens()
	st, body := refresh(t, s, rt)
	checkOAuthError(t, st, body, 400, "invalid_grant")
	if codes := body["error_codes"].([]any); codes[0] != 50173.0 {
		t.Errorf("error_codes %v", codes)
	}
	// New sign-ins work again.
	rt = str(login(t, s, fullScope), "refresh_token")
	if st, _ := refresh(t, s, rt); st != 200 {
		t.Errorf("refresh after a new sign-in: %d", st)
	}
}

func deviceStart(t *testing.T, s *Server) map[string]any {
	t.Helper()
	st, dc := postForm(t, s, "/organizations/oauth2/v2.0/devicecode", url.Values{"client_id": {s.ClientID()}, "scope": {fullScope}})
	if st != 200 {
		t.Fatalf("devicecode: %d %v", st, dc)
	}
	return dc
}

func devicePoll(t *testing.T, s *Server, dc map[string]any) (int, map[string]any) {
	t.Helper()
	return postForm(t, s, "/organizations/oauth2/v2.0/token", url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {s.ClientID()}, "device_code": {str(dc, "device_code")},
	})
}

func TestDeviceCodeFlow(t *testing.T) {
	clk := newFakeClock()
	s := NewServer(t, WithClock(clk.Now))
	dc := deviceStart(t, s)
	uc := str(dc, "user_code")
	if len(uc) != 9 || str(dc, "device_code") == "" || dc["expires_in"] != 900.0 || dc["interval"] != 5.0 ||
		!strings.HasSuffix(str(dc, "verification_uri"), "/devicelogin") || !strings.Contains(str(dc, "message"), uc) {
		t.Fatalf("devicecode response: user code %q, fields %v", uc, keys(dc))
	}
	st, body := devicePoll(t, s, dc)
	checkOAuthError(t, st, body, 400, "authorization_pending")
	st, body = devicePoll(t, s, dc) // too fast
	checkOAuthError(t, st, body, 400, "slow_down")
	clk.Advance(5 * time.Second)
	st, body = devicePoll(t, s, dc)
	checkOAuthError(t, st, body, 400, "authorization_pending")
	clk.Advance(5 * time.Second)
	st, tok := devicePoll(t, s, dc) // auto-approved after the second poll
	if st != 200 || str(tok, "access_token") == "" || str(tok, "refresh_token") == "" {
		t.Fatalf("device token: %d %v", st, keys(tok))
	}
	newClient(t, s, str(tok, "access_token")).get("/me")
	clk.Advance(5 * time.Second)
	st, body = devicePoll(t, s, dc)
	checkOAuthError(t, st, body, 400, "invalid_grant")
	if s.TokenCount("device_code") != 1 || s.TokenCount("urn:ietf:params:oauth:grant-type:device_code") != 1 {
		t.Errorf("TokenCount(device_code) = %d", s.TokenCount("device_code"))
	}
}

func TestDeviceCodeApproveDeclineExpire(t *testing.T) {
	clk := newFakeClock()
	s := NewServer(t, WithClock(clk.Now), WithDeviceCode(2*time.Second, 10*time.Minute))
	dc := deviceStart(t, s)
	if dc["interval"] != 2.0 || dc["expires_in"] != 600.0 {
		t.Errorf("WithDeviceCode: %v %v", dc["interval"], dc["expires_in"])
	}
	if err := s.ApproveDeviceCode(strings.ToLower(str(dc, "user_code"))); err != nil {
		t.Fatal(err)
	}
	if st, tok := devicePoll(t, s, dc); st != 200 || str(tok, "access_token") == "" {
		t.Fatalf("approved poll: %d %v", st, tok["error"])
	}
	if err := s.ApproveDeviceCode(str(dc, "user_code")); err == nil {
		t.Error("approving a redeemed code works")
	}
	if err := s.ApproveDeviceCode("NOPE12345"); err == nil || strings.Contains(err.Error(), "NOPE") {
		t.Errorf("unknown user code: %v", err)
	}

	dc = deviceStart(t, s)
	if err := s.DeclineDeviceCode(str(dc, "user_code")); err != nil {
		t.Fatal(err)
	}
	st, body := devicePoll(t, s, dc)
	checkOAuthError(t, st, body, 400, "authorization_declined")

	dc = deviceStart(t, s)
	st, body = devicePoll(t, s, dc)
	checkOAuthError(t, st, body, 400, "authorization_pending")
	clk.Advance(11 * time.Minute)
	st, body = devicePoll(t, s, dc)
	checkOAuthError(t, st, body, 400, "expired_token")

	st, body = devicePoll(t, s, map[string]any{"device_code": "unknown"})
	checkOAuthError(t, st, body, 400, "bad_verification_code")

	// The verification page approves a code like a person would.
	dc = deviceStart(t, s)
	res, err := http.PostForm(s.URL()+"/devicelogin", url.Values{"user_code": {str(dc, "user_code")}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(page), "signed in") {
		t.Errorf("devicelogin: %d %s", res.StatusCode, page)
	}
	if st, _ := devicePoll(t, s, dc); st != 200 {
		t.Errorf("poll after the page approved: %d", st)
	}
	// Confidential clients do not use the device flow.
	id, _ := s.ConfidentialClient()
	st, body = postForm(t, s, "/organizations/oauth2/v2.0/devicecode", url.Values{"client_id": {id}, "scope": {"Tasks.Read"}})
	checkOAuthError(t, st, body, 400, "unauthorized_client")
	st, body = postForm(t, s, "/organizations/oauth2/v2.0/devicecode", url.Values{"client_id": {s.ClientID()}, "scope": {"Nope.Nope"}})
	checkOAuthError(t, st, body, 400, "invalid_scope")
}

func TestClientCredentials(t *testing.T) {
	s := NewServer(t)
	id, secret := s.ConfidentialClient()
	scope := "https://graph.microsoft.com/.default"
	st, tok := postForm(t, s, "/"+s.TenantID()+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "scope": {scope}})
	if st != 200 || tok["token_type"] != "Bearer" || str(tok, "access_token") == "" {
		t.Fatalf("client credentials: %d %v", st, tok["error"])
	}
	if _, ok := tok["refresh_token"]; ok {
		t.Error("client credentials issued a refresh token")
	}
	claims := jwtClaims(t, str(tok, "access_token"))
	if claims["idtyp"] != "app" || claims["tid"] != s.TenantID() {
		t.Errorf("claims idtyp %v tid %v", claims["idtyp"], claims["tid"])
	}
	app := newClient(t, s, str(tok, "access_token"))
	for _, g := range s.Groups() {
		if g.Unified {
			app.list("/groups/" + g.ID + "/planner/plans")
		}
	}
	if r := app.do("GET", "/me", nil); r.status != 400 {
		t.Errorf("/me app-only: %d", r.status)
	}
	// HTTP Basic client authentication works too.
	st, _ = postForm(t, s, "/organizations/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}, id, secret)
	if st != 200 {
		t.Errorf("Basic auth: %d", st)
	}
	cases := []struct {
		name   string
		form   url.Values
		status int
		err    string
	}{
		{"wrong secret", url.Values{"client_id": {id}, "client_secret": {"nope"}, "scope": {scope}}, 401, "invalid_client"},
		{"no secret", url.Values{"client_id": {id}, "scope": {scope}}, 401, "invalid_client"},
		{"user scope", url.Values{"client_id": {id}, "client_secret": {secret}, "scope": {"Tasks.Read"}}, 400, "invalid_scope"},
		{"unknown client", url.Values{"client_id": {"00000000-0000-4000-8000-00000000000a"}, "client_secret": {secret}, "scope": {scope}}, 400, "unauthorized_client"},
		{"public client", url.Values{"client_id": {s.ClientID()}, "scope": {scope}}, 401, "invalid_client"},
		{"no client id", url.Values{"client_secret": {secret}, "scope": {scope}}, 400, "invalid_request"},
	}
	for _, tc := range cases {
		tc.form.Set("grant_type", "client_credentials")
		st, body := postForm(t, s, "/organizations/oauth2/v2.0/token", tc.form)
		t.Run(tc.name, func(t *testing.T) { checkOAuthError(t, st, body, tc.status, tc.err) })
	}
	if s.TokenCount("client_credentials") != 2 {
		t.Errorf("TokenCount(client_credentials) = %d", s.TokenCount("client_credentials"))
	}
	st, body := postForm(t, s, "/organizations/oauth2/v2.0/token", url.Values{"grant_type": {"password"}, "client_id": {s.ClientID()}})
	checkOAuthError(t, st, body, 400, "unsupported_grant_type")
	// A public client must not present a secret.
	st, body = postForm(t, s, "/organizations/oauth2/v2.0/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {s.ClientID()}, "client_secret": {"x"}, "code": {"c"}})
	checkOAuthError(t, st, body, 401, "invalid_client")
}

func TestAccessTokensExpire(t *testing.T) {
	clk := newFakeClock()
	s := NewServer(t, WithClock(clk.Now), WithTokenTTL(10*time.Minute))
	tok := login(t, s, fullScope)
	if tok["expires_in"] != 600.0 {
		t.Errorf("expires_in %v", tok["expires_in"])
	}
	c := newClient(t, s, str(tok, "access_token"))
	c.get("/me")
	clk.Advance(9 * time.Minute)
	c.get("/me")
	clk.Advance(2 * time.Minute)
	r := c.do("GET", "/me", nil)
	if r.status != 401 || r.errCode(t) != "InvalidAuthenticationToken" || !strings.Contains(string(r.body), "Lifetime validation failed") {
		t.Errorf("expired token: %d %s", r.status, r.body)
	}
	// The test tokens do not expire.
	newClient(t, s, s.Token()).get("/me")
	newClient(t, s, s.AppToken()).get("/groups")
	// A refresh gets a working token again.
	st, fresh := refresh(t, s, str(tok, "refresh_token"))
	if st != 200 {
		t.Fatalf("refresh: %d", st)
	}
	newClient(t, s, str(fresh, "access_token")).get("/me")
}

func TestAuthorizationCodesExpire(t *testing.T) {
	clk := newFakeClock()
	s := NewServer(t, WithClock(clk.Now))
	verifier, challenge := pkcePair()
	redirect := "http://127.0.0.1:6000/cb"
	res := authorize(t, s, "organizations", authQuery(s, redirect, "s", challenge, "Tasks.Read"))
	loc, _ := url.Parse(res.Header.Get("Location"))
	clk.Advance(11 * time.Minute)
	st, body := postForm(t, s, "/organizations/oauth2/v2.0/token", url.Values{
		"grant_type": {"authorization_code"}, "client_id": {s.ClientID()}, "code": {loc.Query().Get("code")},
		"redirect_uri": {redirect}, "code_verifier": {verifier},
	})
	checkOAuthError(t, st, body, 400, "invalid_grant")
	// The redirect_uri of the redemption must be the one of the request.
	res = authorize(t, s, "organizations", authQuery(s, redirect, "s", challenge, "Tasks.Read"))
	loc, _ = url.Parse(res.Header.Get("Location"))
	st, body = postForm(t, s, "/organizations/oauth2/v2.0/token", url.Values{
		"grant_type": {"authorization_code"}, "client_id": {s.ClientID()}, "code": {loc.Query().Get("code")},
		"redirect_uri": {"http://127.0.0.1:6001/cb"}, "code_verifier": {verifier},
	})
	checkOAuthError(t, st, body, 400, "invalid_grant")
}
