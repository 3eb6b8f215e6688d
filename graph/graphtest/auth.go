package graphtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Access tokens are JWT-shaped and signed with the emulator's random key, so
// only tokens this emulator issued are accepted.

type capability uint

const (
	permUserSelf capability = 1 << iota
	permUsersRead
	permMemberOf
	permGroupsRead
	permPlannerRead
	permPlannerWrite
	permRolesRead // directory roles' properties (memberOf lists them in full)
	permUnitsRead // administrative units' properties (likewise)
)

// delegatedScopes maps the delegated permissions the emulator knows (by
// lower-cased name) to their canonical name and capabilities.
var delegatedScopes = map[string]struct {
	name string
	caps capability
}{
	"openid":                      {"openid", 0},
	"profile":                     {"profile", 0},
	"email":                       {"email", 0},
	"offline_access":              {"offline_access", 0},
	"user.read":                   {"User.Read", permUserSelf | permMemberOf},
	"user.readbasic.all":          {"User.ReadBasic.All", permUserSelf | permUsersRead},
	"user.read.all":               {"User.Read.All", permUserSelf | permUsersRead},
	"groupmember.read.all":        {"GroupMember.Read.All", permMemberOf | permGroupsRead},
	"group.read.all":              {"Group.Read.All", permMemberOf | permGroupsRead | permPlannerRead},
	"group.readwrite.all":         {"Group.ReadWrite.All", permMemberOf | permGroupsRead | permPlannerRead | permPlannerWrite},
	"directory.read.all":          {"Directory.Read.All", permUserSelf | permUsersRead | permMemberOf | permGroupsRead | permRolesRead | permUnitsRead},
	"administrativeunit.read.all": {"AdministrativeUnit.Read.All", permUnitsRead},
	"tasks.read":                  {"Tasks.Read", permPlannerRead},
	"tasks.readwrite":             {"Tasks.ReadWrite", permPlannerRead | permPlannerWrite},
}

// appRoles maps application permissions to capabilities.
var appRoles = map[string]capability{
	"User.Read.All":               permUsersRead | permMemberOf,
	"GroupMember.Read.All":        permGroupsRead | permMemberOf,
	"Group.Read.All":              permGroupsRead | permMemberOf | permPlannerRead,
	"Group.ReadWrite.All":         permGroupsRead | permMemberOf | permPlannerRead | permPlannerWrite,
	"Directory.Read.All":          permUsersRead | permGroupsRead | permMemberOf | permRolesRead | permUnitsRead,
	"AdministrativeUnit.Read.All": permUnitsRead,
	"Tasks.Read.All":              permPlannerRead,
	"Tasks.ReadWrite.All":         permPlannerRead | permPlannerWrite,
}

// confidentialRoles are the application permissions granted to the
// confidential client (admin-consented).
var confidentialRoles = []string{"Group.Read.All", "Tasks.ReadWrite.All", "User.Read.All"}

// testTokenScopes are the delegated scopes of Token().
var testTokenScopes = []string{"Group.Read.All", "GroupMember.Read.All", "Tasks.ReadWrite", "User.Read", "User.ReadBasic.All"}

type principal struct {
	app      bool
	userID   string // delegated: the signed-in user
	clientID string
	caps     capability
	exp      int64 // Unix seconds
}

func (p *principal) can(c capability) bool { return p.caps&c == c }

// actor is the identitySet the service records for writes by p.
func (p *principal) actor() ident {
	if p.app {
		return ident{app: p.clientID}
	}
	return ident{user: p.userID, app: p.clientID}
}

type tokenClaims struct {
	Aud        string   `json:"aud"`
	Iss        string   `json:"iss"`
	Iat        int64    `json:"iat"`
	Nbf        int64    `json:"nbf"`
	Exp        int64    `json:"exp"`
	AppID      string   `json:"appid"`
	AppName    string   `json:"app_displayname,omitempty"`
	IDType     string   `json:"idtyp"`
	Name       string   `json:"name,omitempty"`
	OID        string   `json:"oid"`
	Scp        string   `json:"scp,omitempty"`
	Roles      []string `json:"roles,omitempty"`
	Sub        string   `json:"sub"`
	TID        string   `json:"tid"`
	UniqueName string   `json:"unique_name,omitempty"`
	UPN        string   `json:"upn,omitempty"`
	UTI        string   `json:"uti"`
	Ver        string   `json:"ver"`
}

var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"HS256","kid":"graphtest"}`))

func (s *Server) signJWT(claims any) string {
	payload, _ := json.Marshal(claims)
	head := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(head))
	return head + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// issueAccessToken signs an access token. u is nil for app-only tokens.
func (s *Server) issueAccessToken(u *user, clientID string, scopes []string, roles []string, exp time.Time) string {
	now := s.now()
	c := tokenClaims{
		Aud: "https://graph.microsoft.com", Iss: "https://sts.windows.net/" + s.tenantID + "/",
		Iat: now.Unix(), Nbf: now.Unix() - 300, Exp: exp.Unix(),
		AppID: clientID, AppName: "graphtest", TID: s.tenantID, UTI: randomToken(22), Ver: "1.0",
	}
	if u != nil {
		c.IDType = "user"
		c.OID, c.Sub = u.id, u.id
		c.Name, c.UPN, c.UniqueName = u.displayName, u.upn, u.upn
		var graphScopes []string
		for _, sc := range scopes {
			if d, ok := delegatedScopes[strings.ToLower(sc)]; ok && d.caps != 0 {
				graphScopes = append(graphScopes, d.name)
			}
		}
		c.Scp = strings.Join(graphScopes, " ")
	} else {
		c.IDType = "app"
		c.OID, c.Sub = s.servicePrincipalID(clientID), s.servicePrincipalID(clientID)
		c.Roles = roles
	}
	return s.signJWT(c)
}

func (s *Server) servicePrincipalID(clientID string) string {
	sum := sha256.Sum256([]byte("sp:" + clientID))
	b := sum[:16]
	const hexd = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexd[c>>4], hexd[c&15])
	}
	return string(out)
}

// verifyAccessToken checks a bearer token's signature, tenant and lifetime.
func (s *Server) verifyAccessToken(tok string) (*principal, string) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, "IDX14100: JWT is not well formed, there are no dots (.). The token needs to be in JWS or JWE Compact Serialization Format."
	}
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return nil, "Access token validation failure. Invalid audience."
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, "Access token validation failure."
	}
	var c tokenClaims
	if err := json.Unmarshal(payload, &c); err != nil || c.TID != s.tenantID {
		return nil, "Access token validation failure."
	}
	if s.now().Unix() >= c.Exp {
		return nil, "Lifetime validation failed, the token is expired."
	}
	p := &principal{clientID: c.AppID, exp: c.Exp}
	if c.IDType == "app" {
		p.app = true
		for _, r := range c.Roles {
			p.caps |= appRoles[r]
		}
	} else {
		p.userID = c.OID
		for _, sc := range strings.Fields(c.Scp) {
			p.caps |= delegatedScopes[strings.ToLower(sc)].caps
		}
	}
	return p, ""
}

// authenticate resolves the bearer token (401 without a valid one).
func (c *call) authenticate() *gResp {
	h := c.req.header.Get("Authorization")
	unauthorized := func(msg string) *gResp {
		r := c.fail(http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
		r.header.Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
		return r
	}
	if h == "" {
		return unauthorized("Access token is empty.")
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return unauthorized("Access token is empty.")
	}
	p, msg := c.s.verifyAccessToken(strings.TrimSpace(tok))
	if p == nil {
		return unauthorized(msg)
	}
	if !p.app {
		c.s.mu.RLock()
		known := c.s.usersByID[p.userID] != nil
		c.s.mu.RUnlock()
		if !known {
			return unauthorized("Access token validation failure: the user does not exist in the tenant.")
		}
	}
	c.who = p
	return nil
}

// ---- test tokens ----

// farFuture is the expiry of the test tokens.
var farFuture = time.Date(2199, 1, 1, 0, 0, 0, 0, time.UTC)

func (s *Server) initTestTokens() {
	s.tokenOnce.Do(func() {
		s.userTok = s.issueAccessToken(s.me, s.publicClientID, testTokenScopes, nil, farFuture)
		s.appTok = s.issueAccessToken(nil, s.confClientID, nil, confidentialRoles, farFuture)
	})
}

// Token returns a valid delegated access token for the signed-in test user,
// valid until 2199, with the scopes Tasks.ReadWrite, User.Read,
// User.ReadBasic.All, GroupMember.Read.All and Group.Read.All.
func (s *Server) Token() string {
	s.initTestTokens()
	return s.userTok
}

// AppToken returns a valid app-only (client credentials) access token, valid
// until 2199, with the roles Tasks.ReadWrite.All, Group.Read.All and
// User.Read.All.
func (s *Server) AppToken() string {
	s.initTestTokens()
	return s.appTok
}

// TokenFor returns a long-lived delegated access token for the user with the
// given id and exactly the given scopes (e.g. "Tasks.Read"), or "" when the
// user does not exist.
func (s *Server) TokenFor(userID string, scopes ...string) string {
	s.mu.RLock()
	u := s.usersByID[strings.ToLower(userID)]
	s.mu.RUnlock()
	if u == nil {
		return ""
	}
	return s.issueAccessToken(u, s.publicClientID, scopes, nil, farFuture)
}

// AppTokenWithRoles returns a long-lived app-only access token with exactly
// the given application permissions (e.g. "Tasks.Read.All").
func (s *Server) AppTokenWithRoles(roles ...string) string {
	return s.issueAccessToken(nil, s.confClientID, nil, append([]string(nil), roles...), farFuture)
}
