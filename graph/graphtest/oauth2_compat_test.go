package graphtest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// The rest of the project signs in with golang.org/x/oauth2: the emulator
// must work with it as it is configured for Microsoft Entra.

func oauthConfig(s *Server, style oauth2.AuthStyle) *oauth2.Config {
	base := s.AuthorityURL() + "/organizations/oauth2/v2.0"
	return &oauth2.Config{
		ClientID:    s.ClientID(),
		Endpoint:    oauth2.Endpoint{AuthURL: base + "/authorize", TokenURL: base + "/token", DeviceAuthURL: base + "/devicecode", AuthStyle: style},
		RedirectURL: "http://127.0.0.1:40123/callback",
		Scopes:      []string{"offline_access", "openid", "https://graph.microsoft.com/Tasks.ReadWrite", "https://graph.microsoft.com/User.Read"},
	}
}

func TestXOAuth2AuthCodeAndRefresh(t *testing.T) {
	s := NewServer(t)
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInParams, oauth2.AuthStyleAutoDetect} {
		cfg := oauthConfig(s, style)
		verifier := oauth2.GenerateVerifier()
		authURL := cfg.AuthCodeURL("state-123", oauth2.S256ChallengeOption(verifier))
		res, err := noRedirect.Get(authURL)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, _ := url.Parse(res.Header.Get("Location"))
		if loc.Query().Get("state") != "state-123" {
			t.Fatalf("state %q", loc.Query().Get("state"))
		}
		ctx := context.Background()
		tok, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("style %d: Exchange: %v", style, err)
		}
		if tok.RefreshToken == "" || tok.Extra("id_token") == nil || tok.Expiry.Before(time.Now().Add(50*time.Minute)) {
			t.Errorf("token: refresh token %v, id_token %v, expiry %v", tok.RefreshToken != "", tok.Extra("id_token") != nil, tok.Expiry)
		}
		// Force a refresh through the TokenSource.
		tok.Expiry = time.Now().Add(-time.Minute)
		ts := cfg.TokenSource(ctx, tok)
		fresh, err := ts.Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if fresh.RefreshToken == tok.RefreshToken || fresh.AccessToken == tok.AccessToken {
			t.Error("refresh did not rotate")
		}
		hc := oauth2.NewClient(ctx, ts)
		res, err = hc.Get(s.GraphURL() + "/me")
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("GET /me through oauth2 client: %v %v", err, res)
		}
		res.Body.Close()
		// A wrong verifier surfaces as invalid_grant.
		res, _ = noRedirect.Get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
		res.Body.Close()
		loc, _ = url.Parse(res.Header.Get("Location"))
		_, err = cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Errorf("wrong verifier: %v", err)
		}
	}
}

func TestXOAuth2DeviceAndClientCredentials(t *testing.T) {
	s := NewServer(t, WithDeviceCode(time.Second, time.Minute))
	cfg := oauthConfig(s, oauth2.AuthStyleInParams)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatalf("DeviceAuth: %v", err)
	}
	if da.UserCode == "" || da.VerificationURI == "" || da.Interval != 1 {
		t.Fatalf("device auth: user code %q, uri %q, interval %d", da.UserCode, da.VerificationURI, da.Interval)
	}
	if err := s.ApproveDeviceCode(da.UserCode); err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("DeviceAccessToken: %v", err)
	}

	id, secret := s.ConfidentialClient()
	cc := &clientcredentials.Config{
		ClientID: id, ClientSecret: secret,
		TokenURL: s.AuthorityURL() + "/" + s.TenantID() + "/oauth2/v2.0/token",
		Scopes:   []string{"https://graph.microsoft.com/.default"},
	}
	appTok, err := cc.Token(ctx)
	if err != nil || appTok.AccessToken == "" || appTok.RefreshToken != "" {
		t.Fatalf("client credentials: %v (access token %v, refresh token %v)", err, appTok != nil && appTok.AccessToken != "", appTok != nil && appTok.RefreshToken != "")
	}
	res, err := cc.Client(ctx).Get(s.GraphURL() + "/groups")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET /groups app-only: %v %v", err, res)
	}
	res.Body.Close()
	cc.ClientSecret = "wrong"
	if _, err := cc.Token(ctx); err == nil {
		t.Error("a wrong secret was accepted")
	}
}
