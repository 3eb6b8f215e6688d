package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plannersql/planner/internal/tokenstore"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// cachingSource hands out its token until ExpiryMargin before expiry, then
// calls fetch (one caller at a time).
type cachingSource struct {
	now    func() time.Time
	margin time.Duration
	fetch  func() (*oauth2.Token, error)

	mu  sync.Mutex
	tok *oauth2.Token
}

// Token returns a token valid for at least the margin, fetching a new one
// when needed. The token returned carries no refresh token.
func (c *cachingSource) Token() (*oauth2.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok == nil || c.tok.AccessToken == "" || (!c.tok.Expiry.IsZero() && !c.now().Add(c.margin).Before(c.tok.Expiry)) {
		tok, err := c.fetch()
		if err != nil {
			return nil, err
		}
		c.tok = &oauth2.Token{AccessToken: tok.AccessToken, TokenType: tok.Type(), Expiry: tok.Expiry, ExpiresIn: tok.ExpiresIn}
	}
	t := *c.tok
	return &t, nil
}

// setExpiry recomputes tok.Expiry from expires_in with the settings' clock
// (golang.org/x/oauth2 uses the real one).
func setExpiry(s *Settings, tok *oauth2.Token) {
	if tok.ExpiresIn <= 0 {
		tok.ExpiresIn = expiresIn(tok.Extra("expires_in")) // clientcredentials leaves ExpiresIn unset
	}
	if tok.ExpiresIn > 0 {
		tok.Expiry = s.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
}

// appSource is the client credentials token source of AzureServicePrincipal.
func appSource(ctx context.Context, s *Settings) oauth2.TokenSource {
	cc := &clientcredentials.Config{
		ClientID:     s.ClientID,
		ClientSecret: s.ClientSecret,
		TokenURL:     s.endpoint("token"),
		Scopes:       []string{s.appScope()},
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	hctx := s.httpCtx(ctx, true)
	return &cachingSource{now: s.Now, margin: s.ExpiryMargin, fetch: func() (*oauth2.Token, error) {
		tok, err := cc.Token(hctx)
		if err != nil {
			return nil, tokenError(s, "app sign-in (client credentials)", err)
		}
		setExpiry(s, tok)
		return tok, nil
	}}
}

// userSource refreshes a delegated sign-in kept in a store.
type userSource struct {
	s     *Settings
	cfg   *oauth2.Config
	store tokenstore.Store
	ctx   context.Context

	// guarded by cachingSource.mu (fetch runs under it)
	rt  string
	rec tokenstore.Record
}

// newUserSource returns the caching source of a delegated sign-in whose
// refresh token is rt (rec: its stored metadata, may be nil; tok: a fresh
// token to start with, may be nil).
func newUserSource(ctx context.Context, s *Settings, store tokenstore.Store, rec *tokenstore.Record, rt string, tok *oauth2.Token) *cachingSource {
	u := &userSource{s: s, cfg: s.oauthConfig(""), store: store, ctx: s.httpCtx(ctx, true), rt: rt}
	if rec != nil {
		u.rec = *rec
	}
	c := &cachingSource{now: s.Now, margin: s.ExpiryMargin, fetch: u.refresh}
	if tok != nil {
		c.tok = &oauth2.Token{AccessToken: tok.AccessToken, TokenType: tok.Type(), Expiry: tok.Expiry, ExpiresIn: tok.ExpiresIn}
	}
	return c
}

// refresh re-reads the stored record under the profile's cross-process
// lock (another connection or process may have rotated the refresh token),
// refreshes, and saves the new refresh token before releasing the lock.
func (u *userSource) refresh() (*oauth2.Token, error) {
	lctx, cancel := context.WithTimeout(u.ctx, DefaultLockTimeout)
	unlock, err := u.store.Lock(lctx)
	cancel()
	if err != nil {
		return nil, u.s.errorf("%w", err)
	}
	defer unlock()
	rec, err := loadRecord(u.store)
	if err != nil {
		return nil, u.s.errorf("%w", err)
	}
	// Another connection or process may have rotated the refresh token;
	// a record from another authority or app (the profile was changed
	// meanwhile) is never presented here.
	if rec != nil && rec.RefreshToken != "" && u.s.issuedElsewhere(rec) == "" {
		u.rt, u.rec = rec.RefreshToken, *rec
	}
	if u.rt == "" {
		return nil, u.s.signInError(false, "", nil)
	}
	tok, err := u.cfg.TokenSource(u.ctx, &oauth2.Token{RefreshToken: u.rt}).Token()
	if err != nil {
		return nil, tokenError(u.s, "refreshing the sign-in", err)
	}
	setExpiry(u.s, tok)
	if tok.RefreshToken == "" {
		tok.RefreshToken = u.rt
	}
	u.rt = tok.RefreshToken
	next := recordFrom(u.s, &u.rec, tok)
	if err := u.store.Save(next); err != nil {
		return nil, u.s.errorf("the sign-in was refreshed but could not be saved, so it would be lost: %w", err)
	}
	u.rec = *next
	return tok, nil
}

// recordFrom is the record to store after tok was issued: prev's metadata
// updated with tok's refresh token, scopes, expiry and id_token claims.
func recordFrom(s *Settings, prev *tokenstore.Record, tok *oauth2.Token) *tokenstore.Record {
	var r tokenstore.Record
	if prev != nil {
		r = *prev
	}
	r.RefreshToken = tok.RefreshToken
	r.ClientID = s.ClientID
	r.Authority = s.AuthorityURL
	r.Expiry = tok.Expiry
	r.Saved = s.Now().UTC()
	if sc, ok := tok.Extra("scope").(string); ok && sc != "" {
		r.Scopes = strings.Fields(sc)
	}
	if id, ok := tok.Extra("id_token").(string); ok && id != "" {
		if c, err := parseIDToken(id); err == nil {
			if c.PreferredUsername != "" {
				r.Account = c.PreferredUsername
			} else if c.UPN != "" {
				r.Account = c.UPN
			}
			if c.Name != "" {
				r.Name = c.Name
			}
			if c.TID != "" {
				r.TenantID = c.TID
			}
		}
	}
	return &r
}

// idClaims are the id_token claims planner shows.
type idClaims struct {
	PreferredUsername string `json:"preferred_username"`
	UPN               string `json:"upn"`
	Name              string `json:"name"`
	TID               string `json:"tid"`
	OID               string `json:"oid"`
}

// parseIDToken reads an id_token's claims for display. Its signature is not
// checked: the token came straight from the token endpoint over TLS
// (OpenID Connect Core §3.1.3.7) and is used for nothing but display.
func parseIDToken(tok string) (*idClaims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) < 2 {
		return nil, errors.New("auth: the id_token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, fmt.Errorf("auth: the id_token's payload is not base64url: %w", err)
	}
	var c idClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("auth: the id_token's claims are not JSON: %w", err)
	}
	return &c, nil
}

// OAuthError is an error answer of the identity platform (the token or
// devicecode endpoint).
type OAuthError struct {
	Code        string // e.g. invalid_grant
	Description string // "AADSTSnnnnn: ..."; never holds a token
	Status      int    // HTTP status
}

// Error names the code and the description.
func (e *OAuthError) Error() string {
	if e.Description == "" {
		return fmt.Sprintf("auth: the identity platform answered %s (HTTP %d)", e.Code, e.Status)
	}
	return fmt.Sprintf("auth: the identity platform answered %s: %s", e.Code, e.Description)
}

// tokenError turns a token endpoint failure into the error to report.
func tokenError(s *Settings, doing string, err error) error {
	code, desc, status := "", "", 0
	var re *oauth2.RetrieveError
	var oe *OAuthError
	switch {
	case errors.As(err, &re):
		code, desc = re.ErrorCode, re.ErrorDescription
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		if code != "" {
			// RetrieveError's own text may carry the response body: keep
			// only the parsed fields.
			err = &OAuthError{Code: code, Description: desc, Status: status}
		} else {
			return s.errorf("%s failed with HTTP %d from the identity platform: check AuthorityURL and Tenant", doing, status)
		}
	case errors.As(err, &oe):
		code = oe.Code
	}
	switch code {
	case "":
		return s.errorf("%s: %w", doing, err)
	case "invalid_grant", "interaction_required", "consent_required":
		return s.signInError(true, "", err)
	case "invalid_client", "unauthorized_client":
		return s.errorf("%s: the identity platform refused the app: check OAuthClientId (and OAuthClientSecret for AzureServicePrincipal), "+
			"and that the app allows public client flows for AzureAD and DeviceCode: %w", doing, err)
	case "invalid_scope":
		return s.errorf("%s: a scope was refused: check Scope: %w", doing, err)
	case "invalid_request":
		return s.errorf("%s: check Tenant and AuthorityURL: %w", doing, err)
	}
	return s.errorf("%s: %w", doing, err)
}

// expiresIn reads an expires_in value (a number or a numeric string).
func expiresIn(v any) int64 {
	switch x := v.(type) {
	case float64:
		return int64(x)
	case json.Number:
		n, _ := x.Int64()
		return n
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}
