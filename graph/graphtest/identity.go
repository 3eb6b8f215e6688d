package graphtest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The Microsoft identity platform's OAuth 2.0 endpoints, under
// /{tenant}/oauth2/v2.0/ (tenant: the tenant id, its domain, "organizations"
// or "common").

const (
	grantAuthCode     = "authorization_code"
	grantRefresh      = "refresh_token"
	grantDeviceCode   = "urn:ietf:params:oauth:grant-type:device_code"
	grantClientCreds  = "client_credentials"
	graphResource     = "https://graph.microsoft.com/"
	graphResourceGUID = "00000003-0000-0000-c000-000000000000/"
	codeLifetime      = 10 * time.Minute
	refreshIdleLimit  = 90 * 24 * time.Hour
)

// publicDefaultScopes are the public client's statically configured
// permissions, granted for the ".default" scope.
var publicDefaultScopes = []string{"User.Read", "Tasks.ReadWrite", "GroupMember.Read.All"}

type authCode struct {
	clientID    string
	redirectURI string
	challenge   string
	scopes      []string
	userID      string
	exp         time.Time
	used        bool
}

type refreshGrant struct {
	userID    string
	clientID  string
	scopes    []string
	epoch     int
	lastUsed  time.Time
	rotatedAt time.Time // zero while current
}

type deviceGrant struct {
	deviceCode string
	userCode   string
	clientID   string
	scopes     []string
	exp        time.Time
	polls      int
	lastPoll   time.Time
	approved   bool
	declined   bool
	userID     string
	redeemed   bool
}

type identityState struct {
	mu        sync.Mutex
	codes     map[string]*authCode
	refresh   map[string]*refreshGrant
	devices   map[string]*deviceGrant // by device_code
	userCodes map[string]*deviceGrant // by user_code
	counts    map[string]int
	epoch     int
}

func (st *identityState) init() {
	st.codes = map[string]*authCode{}
	st.refresh = map[string]*refreshGrant{}
	st.devices = map[string]*deviceGrant{}
	st.userCodes = map[string]*deviceGrant{}
	st.counts = map[string]int{}
}

// RevokeRefreshTokens revokes every refresh token issued so far: using one
// answers invalid_grant (AADSTS50173), as after a password reset.
func (s *Server) RevokeRefreshTokens() {
	s.idp.mu.Lock()
	s.idp.epoch++
	s.idp.mu.Unlock()
}

// TokenCount returns how many token responses the token endpoint issued for a
// grant type: "authorization_code", "refresh_token", "client_credentials" or
// "urn:ietf:params:oauth:grant-type:device_code" ("device_code" also works).
func (s *Server) TokenCount(grantType string) int {
	if grantType == "device_code" {
		grantType = grantDeviceCode
	}
	s.idp.mu.Lock()
	defer s.idp.mu.Unlock()
	return s.idp.counts[grantType]
}

// ApproveDeviceCode signs the test user in for a pending device code, as if
// they had entered userCode at the verification page. Otherwise codes
// auto-approve after the second poll.
func (s *Server) ApproveDeviceCode(userCode string) error {
	return s.decideDeviceCode(userCode, true, s.me.id)
}

// DeclineDeviceCode declines a pending device code: the next poll answers
// authorization_declined.
func (s *Server) DeclineDeviceCode(userCode string) error {
	return s.decideDeviceCode(userCode, false, "")
}

func (s *Server) decideDeviceCode(userCode string, approve bool, userID string) error {
	s.idp.mu.Lock()
	defer s.idp.mu.Unlock()
	g := s.idp.userCodes[strings.ToUpper(strings.TrimSpace(userCode))]
	if g == nil || g.redeemed || !s.now().Before(g.exp) {
		return errors.New("graphtest: no pending device code has that user code: request a new one from the devicecode endpoint")
	}
	if approve {
		g.approved, g.declined, g.userID = true, false, userID
	} else {
		g.declined, g.approved = true, false
	}
	return nil
}

// ---- routing ----

// identitySegments splits an identity path: tenant and endpoint.
func identitySegments(p string) (tenant, endpoint string, ok bool) {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	if len(segs) == 4 && segs[1] == "oauth2" && segs[2] == "v2.0" {
		return segs[0], segs[3], true
	}
	if len(segs) == 4 && segs[1] == "v2.0" && segs[2] == ".well-known" && segs[3] == "openid-configuration" {
		return segs[0], "openid-configuration", true
	}
	return "", "", false
}

func (s *Server) isIdentityPath(p string) bool {
	_, _, ok := identitySegments(p)
	return ok
}

func (s *Server) knownTenant(t string) bool {
	return strings.EqualFold(t, s.tenantID) || strings.EqualFold(t, s.domain) ||
		strings.EqualFold(t, "organizations") || strings.EqualFold(t, "common")
}

// idCall carries one identity request.
type idCall struct {
	s       *Server
	r       *http.Request
	tenant  string
	traceID string
	corrID  string
}

func (s *Server) serveIdentity(w http.ResponseWriter, r *http.Request) {
	sleep(r, time.Duration(s.lat.Load()))
	if f, ok := s.faults.take(faultDrop, r.URL.Path, false); ok {
		endConn(w, f)
		return
	}
	tenant, endpoint, _ := identitySegments(r.URL.Path)
	ic := &idCall{s: s, r: r, tenant: tenant, traceID: randomGUID(), corrID: r.Header.Get("client-request-id")}
	if ic.corrID == "" {
		ic.corrID = randomGUID()
	}
	var resp *gResp
	if f, ok := s.faults.take(faultFail, r.URL.Path, false); ok {
		resp = ic.oauthError(f.status, "temporarily_unavailable", 90033, "A transient error has occurred (injected by graphtest). Please try again.")
	} else {
		resp = ic.route(endpoint)
	}
	resp.header.Set("x-ms-request-id", ic.traceID)
	resp.header.Set("Cache-Control", "no-store, no-cache")
	if f, ok := s.faults.take(faultTruncate, r.URL.Path, false); ok {
		writeCut(w, resp, f)
		return
	}
	writeResp(w, resp)
}

func (ic *idCall) route(endpoint string) *gResp {
	if strings.EqualFold(ic.tenant, "consumers") {
		return ic.oauthError(400, "invalid_request", 9002331, "Application is configured for use by Microsoft Entra users only: use the 'organizations' endpoint or the tenant's id.")
	}
	if !ic.s.knownTenant(ic.tenant) {
		return ic.oauthError(400, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", ic.tenant))
	}
	switch endpoint {
	case "authorize":
		if ic.r.Method != http.MethodGet && ic.r.Method != http.MethodPost {
			return ic.plain(http.StatusMethodNotAllowed, "method not allowed")
		}
		return ic.authorize()
	case "token":
		if ic.r.Method != http.MethodPost {
			return ic.oauthError(400, "invalid_request", 900561, "The endpoint only accepts POST requests.")
		}
		return ic.token()
	case "devicecode":
		if ic.r.Method != http.MethodPost {
			return ic.oauthError(400, "invalid_request", 900561, "The endpoint only accepts POST requests.")
		}
		return ic.deviceCode()
	case "openid-configuration":
		return ic.discovery()
	case "logout":
		return ic.plain(http.StatusOK, "signed out")
	}
	return ic.plain(http.StatusNotFound, "unknown identity endpoint")
}

func (ic *idCall) plain(status int, msg string) *gResp {
	return &gResp{status: status, header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, body: []byte(msg + "\n")}
}

// page is an HTML error page (the identity platform shows one instead of
// redirecting when the redirect_uri cannot be trusted).
func (ic *idCall) page(status int, aadsts int, msg string) *gResp {
	body := fmt.Sprintf("<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body><h1>Sorry, but we’re having trouble signing you in.</h1><p>AADSTS%d: %s</p><p>Trace ID: %s<br>Correlation ID: %s</p></body></html>\n",
		aadsts, html.EscapeString(msg), ic.traceID, ic.corrID)
	return &gResp{status: status, header: http.Header{"Content-Type": {"text/html; charset=utf-8"}}, body: []byte(body)}
}

func (ic *idCall) timestamp() string { return ic.s.now().UTC().Format("2006-01-02 15:04:05Z") }

func (ic *idCall) describe(aadsts int, msg string) string {
	return fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", aadsts, msg, ic.traceID, ic.corrID, ic.timestamp())
}

// oauthError is the token endpoint's error JSON.
func (ic *idCall) oauthError(status int, code string, aadsts int, msg string, extra ...string) *gResp {
	m := map[string]any{
		"error":             code,
		"error_description": ic.describe(aadsts, msg),
		"error_codes":       []int{aadsts},
		"timestamp":         ic.timestamp(),
		"trace_id":          ic.traceID,
		"correlation_id":    ic.corrID,
		"error_uri":         fmt.Sprintf("%s/error?code=%d", origin(ic.r), aadsts),
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	b, _ := json.Marshal(m)
	return &gResp{status: status, header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}, body: b}
}

func (ic *idCall) jsonResp(v any) *gResp {
	b, _ := json.Marshal(v)
	return &gResp{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json; charset=utf-8"}, "Pragma": {"no-cache"}}, body: b}
}

func (ic *idCall) discovery() *gResp {
	base := origin(ic.r) + "/" + ic.tenant
	return ic.jsonResp(map[string]any{
		"issuer":                                "https://login.microsoftonline.com/" + ic.s.tenantID + "/v2.0",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"code_challenge_methods_supported":      []string{"S256"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"none"},
		"tenant_region_scope":                   "EU",
	})
}

// ---- scopes ----

type scopeErr struct {
	code   string
	aadsts int
	msg    string
}

// scopes is resolveScopes for the token endpoint.
func (ic *idCall) scopes(raw string) ([]string, *gResp) {
	sc, err := resolveScopes(raw)
	if err != nil {
		return nil, ic.oauthError(400, err.code, err.aadsts, err.msg)
	}
	return sc, nil
}

// resolveScopes validates a scope parameter for a delegated flow and returns
// the granted scopes (canonical names; User.Read is always consented).
func resolveScopes(raw string) ([]string, *scopeErr) {
	var out []string
	add := func(sc string) {
		for _, o := range out {
			if o == sc {
				return
			}
		}
		out = append(out, sc)
	}
	hasDefault, hasGraph := false, false
	for _, f := range strings.Fields(raw) {
		name := f
		lower := strings.ToLower(f)
		switch {
		case strings.HasPrefix(lower, graphResource):
			name = f[len(graphResource):]
		case strings.HasPrefix(lower, graphResourceGUID):
			name = f[len(graphResourceGUID):]
		}
		if name == ".default" {
			hasDefault = true
			continue
		}
		d, ok := delegatedScopes[strings.ToLower(name)]
		if !ok || strings.Contains(name, "/") {
			return nil, &scopeErr{"invalid_scope", 70011, fmt.Sprintf("The provided value for the input parameter 'scope' is not valid. The scope '%s' is not valid.", f)}
		}
		if d.caps != 0 {
			hasGraph = true
		}
		add(d.name)
	}
	if hasDefault && hasGraph {
		return nil, &scopeErr{"invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid: '.default' cannot be combined with other scopes of the same resource."}
	}
	if hasDefault {
		for _, sc := range publicDefaultScopes {
			add(sc)
		}
	}
	if len(out) == 0 {
		return nil, &scopeErr{"invalid_request", 900144, "The request body must contain the following parameter: 'scope'."}
	}
	add("User.Read")
	return out, nil
}

func hasScope(scopes []string, name string) bool {
	for _, s := range scopes {
		if s == name {
			return true
		}
	}
	return false
}

// scopeString renders granted scopes like the token endpoint: Graph scopes
// as full URLs, OpenID scopes bare.
func scopeString(scopes []string) string {
	var parts []string
	for _, s := range scopes {
		if delegatedScopes[strings.ToLower(s)].caps != 0 {
			parts = append(parts, graphResource+s)
		}
	}
	for _, s := range scopes {
		if delegatedScopes[strings.ToLower(s)].caps == 0 {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " ")
}

// ---- authorize ----

func loopbackRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Fragment != "" {
		return false
	}
	host := u.Hostname()
	if host != "127.0.0.1" && host != "localhost" {
		return false
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return false
		}
	}
	return true
}

func (ic *idCall) authorize() *gResp {
	s := ic.s
	if err := ic.r.ParseForm(); err != nil {
		return ic.page(400, 900144, "The request could not be parsed.")
	}
	q := ic.r.Form
	clientID := q.Get("client_id")
	if clientID == "" {
		return ic.page(400, 900144, "The request body must contain the following parameter: 'client_id'.")
	}
	if clientID != s.publicClientID && clientID != s.confClientID {
		return ic.page(400, 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, s.domain))
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" || clientID != s.publicClientID || !loopbackRedirect(redirect) {
		return ic.page(400, 50011, fmt.Sprintf("The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Register http://localhost or http://127.0.0.1 (any port) as a Mobile and desktop redirect URI.", redirect, clientID))
	}
	state := q.Get("state")
	fail := func(code string, aadsts int, msg string) *gResp {
		v := url.Values{}
		v.Set("error", code)
		v.Set("error_description", ic.describe(aadsts, msg))
		v.Set("error_uri", fmt.Sprintf("%s/error?code=%d", origin(ic.r), aadsts))
		if state != "" {
			v.Set("state", state)
		}
		return redirectTo(redirect, v)
	}
	if rt := q.Get("response_type"); rt != "code" {
		return fail("unsupported_response_type", 700054, fmt.Sprintf("response_type '%s' is not enabled for the application: use 'code'.", rt))
	}
	if rm := q.Get("response_mode"); rm != "" && rm != "query" {
		return fail("invalid_request", 900144, fmt.Sprintf("The response_mode '%s' is not supported by the emulator: use 'query'.", rm))
	}
	scopes, serr := resolveScopes(q.Get("scope"))
	if serr != nil {
		return fail(serr.code, serr.aadsts, serr.msg)
	}
	challenge := q.Get("code_challenge")
	if challenge == "" {
		return fail("invalid_request", 9002325, "Proof Key for Code Exchange is required: send code_challenge and code_challenge_method=S256.")
	}
	if m := q.Get("code_challenge_method"); m != "S256" {
		return fail("invalid_request", 50125, fmt.Sprintf("The code_challenge_method '%s' is not supported: use S256.", m))
	}
	if len(challenge) != 43 {
		return fail("invalid_request", 50126, "The code_challenge must be the 43-character base64url SHA-256 of the code_verifier.")
	}
	u := s.me
	if hint := q.Get("login_hint"); hint != "" {
		s.mu.RLock()
		if hu := s.usersByUPN[strings.ToLower(hint)]; hu != nil {
			u = hu
		}
		s.mu.RUnlock()
	}
	code := "1.AQ" + randomToken(150)
	s.idp.mu.Lock()
	s.idp.codes[code] = &authCode{clientID: clientID, redirectURI: redirect, challenge: challenge, scopes: scopes, userID: u.id, exp: s.now().Add(codeLifetime)}
	s.idp.mu.Unlock()
	v := url.Values{}
	v.Set("code", code)
	if state != "" {
		v.Set("state", state)
	}
	v.Set("session_state", randomGUID())
	return redirectTo(redirect, v)
}

func redirectTo(redirect string, v url.Values) *gResp {
	u, _ := url.Parse(redirect)
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return &gResp{status: http.StatusFound, header: http.Header{"Location": {u.String()}, "Content-Type": {"text/html; charset=utf-8"}}}
}

// ---- token ----

// clientCredentials returns the client id and secret from the form or HTTP
// Basic authentication.
func (ic *idCall) clientCredentials() (id, secret string, basic bool) {
	if u, p, ok := ic.r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(u)
		secret, _ = url.QueryUnescape(p)
		basic = true
	}
	if f := ic.r.PostForm.Get("client_id"); f != "" {
		id = f
	}
	if f := ic.r.PostForm.Get("client_secret"); f != "" {
		secret = f
	}
	return id, secret, basic
}

func (ic *idCall) token() *gResp {
	s := ic.s
	if err := ic.r.ParseForm(); err != nil {
		return ic.oauthError(400, "invalid_request", 900144, "The request body must be application/x-www-form-urlencoded.")
	}
	form := ic.r.PostForm
	grant := form.Get("grant_type")
	clientID, secret, _ := ic.clientCredentials()
	if grant == "" {
		return ic.oauthError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
	}
	if clientID == "" {
		return ic.oauthError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
	}
	if clientID != s.publicClientID && clientID != s.confClientID {
		return ic.oauthError(400, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant.", clientID, s.domain))
	}
	switch grant {
	case grantClientCreds:
		return ic.clientCredentialsGrant(clientID, secret)
	case grantAuthCode, grantRefresh, grantDeviceCode:
	default:
		return ic.oauthError(400, "unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s'.", grant))
	}
	if clientID == s.confClientID {
		return ic.oauthError(400, "unauthorized_client", 700051, "The confidential client is registered for the client credentials grant only: use the public client for delegated sign-in.")
	}
	if secret != "" {
		return ic.oauthError(401, "invalid_client", 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
	}
	switch grant {
	case grantAuthCode:
		return ic.authCodeGrant(clientID)
	case grantRefresh:
		return ic.refreshGrant(clientID)
	default:
		return ic.deviceCodeGrant(clientID)
	}
}

func (ic *idCall) clientCredentialsGrant(clientID, secret string) *gResp {
	s := ic.s
	if clientID != s.confClientID {
		return ic.oauthError(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	}
	if secret == "" {
		return ic.oauthError(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(s.confSecret)) != 1 {
		return ic.oauthError(401, "invalid_client", 7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID))
	}
	scope := strings.TrimSpace(ic.r.PostForm.Get("scope"))
	if !strings.EqualFold(scope, graphResource+".default") && !strings.EqualFold(scope, graphResourceGUID+".default") {
		return ic.oauthError(400, "invalid_scope", 1002012, fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope))
	}
	exp := s.now().Add(s.cfg.tokenTTL)
	at := s.issueAccessToken(nil, clientID, nil, confidentialRoles, exp)
	ic.count(grantClientCreds)
	return ic.jsonResp(map[string]any{
		"token_type":     "Bearer",
		"expires_in":     int(s.cfg.tokenTTL.Seconds()),
		"ext_expires_in": int(s.cfg.tokenTTL.Seconds()),
		"access_token":   at,
	})
}

func (ic *idCall) count(grant string) {
	ic.s.idp.mu.Lock()
	ic.s.idp.counts[grant]++
	ic.s.idp.mu.Unlock()
}

// issueUserTokens builds the token response of the delegated grants. The
// caller holds s.idp.mu.
func (ic *idCall) issueUserTokens(userID, clientID string, scopes []string, grant string, refresh string) *gResp {
	s := ic.s
	s.mu.RLock()
	u := s.usersByID[userID]
	s.mu.RUnlock()
	if u == nil {
		return ic.oauthError(400, "invalid_grant", 50034, "The user account does not exist in the directory.")
	}
	now := s.now()
	exp := now.Add(s.cfg.tokenTTL)
	resp := map[string]any{
		"token_type":     "Bearer",
		"scope":          scopeString(scopes),
		"expires_in":     int(s.cfg.tokenTTL.Seconds()),
		"ext_expires_in": int(s.cfg.tokenTTL.Seconds()),
		"access_token":   s.issueAccessToken(u, clientID, scopes, nil, exp),
	}
	if hasScope(scopes, "offline_access") {
		if refresh == "" {
			refresh = "1.AQ" + randomToken(300)
			s.idp.refresh[refresh] = &refreshGrant{userID: userID, clientID: clientID, scopes: scopes, epoch: s.idp.epoch, lastUsed: now}
		}
		resp["refresh_token"] = refresh
	}
	if hasScope(scopes, "openid") {
		resp["id_token"] = s.idToken(u, clientID, exp)
	}
	s.idp.counts[grant]++
	return ic.jsonResp(resp)
}

// idToken is an unsigned JWT with the identity claims clients read.
func (s *Server) idToken(u *user, clientID string, exp time.Time) string {
	now := s.now()
	claims := map[string]any{
		"aud": clientID, "iss": "https://login.microsoftonline.com/" + s.tenantID + "/v2.0",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": exp.Unix(),
		"name": u.displayName, "oid": u.id, "preferred_username": u.upn,
		"sub": u.id, "tid": s.tenantID, "ver": "2.0",
	}
	head := base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"none"}`))
	payload, _ := json.Marshal(claims)
	return head + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
}

func (ic *idCall) authCodeGrant(clientID string) *gResp {
	s := ic.s
	form := ic.r.PostForm
	code := form.Get("code")
	if code == "" {
		return ic.oauthError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'code'.")
	}
	s.idp.mu.Lock()
	defer s.idp.mu.Unlock()
	ac := s.idp.codes[code]
	switch {
	case ac == nil:
		return ic.oauthError(400, "invalid_grant", 9002313, "Invalid request. The provided authorization code is malformed or was not issued by this authority.")
	case ac.used:
		return ic.oauthError(400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
	case !s.now().Before(ac.exp):
		return ic.oauthError(400, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	case ac.clientID != clientID:
		return ic.oauthError(400, "invalid_grant", 70000, "The provided authorization code was issued to a different client.")
	case form.Get("redirect_uri") != ac.redirectURI:
		return ic.oauthError(400, "invalid_grant", 50011, "The redirect_uri in the token request does not match the redirect_uri used to acquire the authorization code.")
	}
	verifier := form.Get("code_verifier")
	sum := sha256.Sum256([]byte(verifier))
	if verifier == "" || base64.RawURLEncoding.EncodeToString(sum[:]) != ac.challenge {
		return ic.oauthError(400, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
	}
	ac.used = true
	scopes := ac.scopes
	if sc := form.Get("scope"); sc != "" {
		req, errResp := ic.scopes(sc)
		if errResp != nil {
			return errResp
		}
		for _, r := range req {
			if !hasScope(ac.scopes, r) {
				return ic.oauthError(400, "invalid_grant", 65001, fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s' for the scope '%s'. Send an interactive authorization request for this user and resource.", clientID, r), "suberror", "consent_required")
			}
		}
		scopes = req
	}
	return ic.issueUserTokens(ac.userID, clientID, scopes, grantAuthCode, "")
}

func (ic *idCall) refreshGrant(clientID string) *gResp {
	s := ic.s
	form := ic.r.PostForm
	rt := form.Get("refresh_token")
	if rt == "" {
		return ic.oauthError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'refresh_token'.")
	}
	s.idp.mu.Lock()
	defer s.idp.mu.Unlock()
	g := s.idp.refresh[rt]
	now := s.now()
	switch {
	case g == nil:
		return ic.oauthError(400, "invalid_grant", 9002313, "Invalid request. The refresh token is malformed or was not issued by this authority.")
	case g.epoch != s.idp.epoch:
		return ic.oauthError(400, "invalid_grant", 50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.", "suberror", "bad_token")
	case g.clientID != clientID:
		return ic.oauthError(400, "invalid_grant", 70000, "The provided refresh token was issued to a different client.")
	case !g.rotatedAt.IsZero() && now.Sub(g.rotatedAt) > s.cfg.rtGrace:
		return ic.oauthError(400, "invalid_grant", 70008, "The provided refresh token has already been used and was replaced by a newer one: use the refresh token of the latest token response.")
	case now.Sub(g.lastUsed) > refreshIdleLimit:
		return ic.oauthError(400, "invalid_grant", 700082, "The refresh token has expired due to inactivity. The token was issued more than 90 days ago and was inactive.")
	}
	scopes := g.scopes
	if sc := form.Get("scope"); sc != "" {
		req, errResp := ic.scopes(sc)
		if errResp != nil {
			return errResp
		}
		for _, r := range req {
			if !hasScope(g.scopes, r) {
				return ic.oauthError(400, "invalid_grant", 65001, fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s' for the scope '%s'. Send an interactive authorization request for this user and resource.", clientID, r), "suberror", "consent_required")
			}
		}
		// The refresh token keeps its original grant.
		if !hasScope(req, "offline_access") {
			req = append(req, "offline_access")
		}
		scopes = req
	}
	if s.cfg.rotation {
		if g.rotatedAt.IsZero() {
			g.rotatedAt = now
		}
		next := "1.AQ" + randomToken(300)
		s.idp.refresh[next] = &refreshGrant{userID: g.userID, clientID: clientID, scopes: g.scopes, epoch: g.epoch, lastUsed: now}
		return ic.issueUserTokens(g.userID, clientID, scopes, grantRefresh, next)
	}
	g.lastUsed = now
	return ic.issueUserTokens(g.userID, clientID, scopes, grantRefresh, rt)
}

// ---- device code ----

const userCodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

func (ic *idCall) deviceCode() *gResp {
	s := ic.s
	if err := ic.r.ParseForm(); err != nil {
		return ic.oauthError(400, "invalid_request", 900144, "The request body must be application/x-www-form-urlencoded.")
	}
	clientID, secret, _ := ic.clientCredentials()
	if clientID == "" {
		return ic.oauthError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
	}
	if clientID != s.publicClientID && clientID != s.confClientID {
		return ic.oauthError(400, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, s.domain))
	}
	if clientID != s.publicClientID {
		return ic.oauthError(400, "unauthorized_client", 7000218, "The device code flow is enabled only for public clients: use the public client's id.")
	}
	if secret != "" {
		return ic.oauthError(401, "invalid_client", 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
	}
	scopes, errResp := ic.scopes(ic.r.PostForm.Get("scope"))
	if errResp != nil {
		return errResp
	}
	raw := randomToken(9)
	userCode := make([]byte, 9)
	for i := range userCode {
		userCode[i] = userCodeAlphabet[strings.IndexByte(idAlphabet, raw[i])%len(userCodeAlphabet)]
	}
	g := &deviceGrant{
		deviceCode: "DAQABAAEAAA" + randomToken(140), userCode: string(userCode),
		clientID: clientID, scopes: scopes, exp: s.now().Add(s.cfg.devExpiry),
	}
	s.idp.mu.Lock()
	s.idp.devices[g.deviceCode] = g
	s.idp.userCodes[g.userCode] = g
	s.idp.mu.Unlock()
	verify := origin(ic.r) + "/devicelogin"
	return ic.jsonResp(map[string]any{
		"user_code":        g.userCode,
		"device_code":      g.deviceCode,
		"verification_uri": verify,
		"expires_in":       int(s.cfg.devExpiry.Seconds()),
		"interval":         int(s.cfg.devInterval.Seconds()),
		"message":          fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", verify, g.userCode),
	})
}

func (ic *idCall) deviceCodeGrant(clientID string) *gResp {
	s := ic.s
	dc := ic.r.PostForm.Get("device_code")
	if dc == "" {
		return ic.oauthError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'device_code'.")
	}
	s.idp.mu.Lock()
	defer s.idp.mu.Unlock()
	g := s.idp.devices[dc]
	now := s.now()
	switch {
	case g == nil || g.clientID != clientID:
		return ic.oauthError(400, "bad_verification_code", 70019, "The provided value for the input parameter 'device_code' is not valid.")
	case g.redeemed:
		return ic.oauthError(400, "invalid_grant", 54005, "The device code was already redeemed: start a new device code flow.")
	case !now.Before(g.exp):
		return ic.oauthError(400, "expired_token", 70020, "The provided value for the input parameter 'device_code' is not valid. This device code has expired.")
	case g.declined:
		return ic.oauthError(400, "authorization_declined", 70022, "The user declined the sign-in request.")
	}
	// Polling faster than the interval (with a quarter of slack for network
	// jitter) answers slow_down.
	if !g.lastPoll.IsZero() && now.Sub(g.lastPoll) < s.cfg.devInterval*3/4 {
		g.lastPoll = now
		return ic.oauthError(400, "slow_down", 70016, "OAuth 2.0 device flow error: polling too frequently. Increase the polling interval by 5 seconds.")
	}
	g.lastPoll = now
	g.polls++
	if !g.approved && g.polls > 2 {
		g.approved, g.userID = true, s.me.id
	}
	if !g.approved {
		return ic.oauthError(400, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
	}
	g.redeemed = true
	delete(s.idp.userCodes, g.userCode)
	return ic.issueUserTokens(g.userID, clientID, g.scopes, grantDeviceCode, "")
}

// serveDeviceLogin is the verification page: a form that approves a user
// code for the test user (for people trying the sandbox in a browser).
func (s *Server) serveDeviceLogin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	msg := ""
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err == nil {
			if err := s.ApproveDeviceCode(r.PostForm.Get("user_code")); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				msg = "That code is not valid or has expired. Check the code and try again."
			} else {
				_, _ = io.WriteString(w, "<!DOCTYPE html><html><head><title>Signed in</title></head><body><h1>You have signed in</h1><p>Signed in as "+html.EscapeString(s.me.upn)+". You can close this window and return to the application.</p></body></html>\n")
				return
			}
		}
	}
	_, _ = io.WriteString(w, `<!DOCTYPE html><html><head><title>Enter code</title></head><body><h1>Enter code</h1><p>`+html.EscapeString(msg)+
		`</p><form method="post" action="/devicelogin"><input name="user_code" autocomplete="off" autofocus><button type="submit">Next</button></form><p>graphtest signs you in as `+
		html.EscapeString(s.me.upn)+`.</p></body></html>`+"\n")
}
