package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// deviceAuth is the devicecode endpoint's answer.
type deviceAuth struct {
	DeviceCode      string `json:"device_code"`
	UserCode        string `json:"user_code"`
	VerificationURI string `json:"verification_uri"`
	VerificationURL string `json:"verification_url"` // older spelling
	ExpiresIn       any    `json:"expires_in"`
	Interval        any    `json:"interval"`
	Message         string `json:"message"`
}

// tokenResponse is a token endpoint answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    any    `json:"expires_in"`
	Scope        string `json:"scope"`
	IDToken      string `json:"id_token"`
}

// postForm posts form to endpoint and decodes a JSON answer into out; an
// error answer is an *OAuthError. Errors never include the form (it holds
// the device code).
func postForm(ctx context.Context, s *Settings, endpoint string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("auth: bad identity platform URL %q: %w", endpoint, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := s.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("auth: cannot reach the identity platform: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("auth: reading the identity platform's answer: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return &OAuthError{Code: e.Error, Description: e.Description, Status: res.StatusCode}
		}
		return fmt.Errorf("auth: the identity platform answered HTTP %d at %s: check AuthorityURL and Tenant", res.StatusCode, endpoint)
	}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "application/json" {
		return fmt.Errorf("auth: the identity platform answered %q instead of JSON at %s: check AuthorityURL", mt, endpoint)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("auth: the identity platform's answer at %s is not valid JSON: %w", endpoint, err)
	}
	return nil
}

// deviceLogin runs the device code flow: the user enters a code on another
// device while planner polls the token endpoint.
func deviceLogin(ctx context.Context, s *Settings) (*oauth2.Token, error) {
	if s.DeviceCodePrompt == nil {
		return nil, s.errorf("device code sign-in needs a terminal to show the code, and none was given")
	}
	if s.LoginTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.LoginTimeout)
		defer cancel()
	}
	form := url.Values{"client_id": {s.ClientID}, "scope": {strings.Join(s.Scopes, " ")}}
	var da deviceAuth
	if err := postForm(ctx, s, s.endpoint("devicecode"), form, &da); err != nil {
		return nil, tokenError(s, "starting device code sign-in", err)
	}
	if da.DeviceCode == "" || da.UserCode == "" {
		return nil, s.errorf("the devicecode endpoint answered without a device or user code: check AuthorityURL")
	}
	verify := da.VerificationURI
	if verify == "" {
		verify = da.VerificationURL
	}
	interval := time.Duration(expiresIn(da.Interval)) * time.Second
	if interval <= 0 {
		interval = 5 * time.Second
	}
	life := time.Duration(expiresIn(da.ExpiresIn)) * time.Second
	if life <= 0 {
		life = defaultDeviceTimeout
	}
	expiry := s.Now().Add(life)
	msg := strings.TrimSpace(da.Message)
	if msg == "" {
		msg = fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", verify, da.UserCode)
	}
	dc := DeviceCode{UserCode: da.UserCode, VerificationURI: verify, Message: msg, ExpiresAt: expiry, Interval: interval}
	if err := s.DeviceCodePrompt(ctx, dc); err != nil {
		return nil, s.errorf("showing the device code: %w", err)
	}

	again := "sign in again (" + s.signInAgain() + ")"
	poll := url.Values{
		"grant_type":  {"urn:ietf:params:oauth:grant-type:device_code"},
		"client_id":   {s.ClientID},
		"device_code": {da.DeviceCode},
	}
	for {
		if err := s.Wait(ctx, interval); err != nil {
			if ctx.Err() == context.DeadlineExceeded {
				return nil, s.errorf("no device code sign-in within %s: %s: %w", s.LoginTimeout, again, err)
			}
			return nil, s.errorf("device code sign-in abandoned: %w", err)
		}
		var tr tokenResponse
		err := postForm(ctx, s, s.endpoint("token"), poll, &tr)
		if err == nil {
			if tr.AccessToken == "" {
				return nil, s.errorf("the token endpoint answered without an access token: check AuthorityURL")
			}
			tok := (&oauth2.Token{
				AccessToken: tr.AccessToken, TokenType: tr.TokenType, RefreshToken: tr.RefreshToken,
				ExpiresIn: expiresIn(tr.ExpiresIn),
			}).WithExtra(map[string]any{"scope": tr.Scope, "id_token": tr.IDToken})
			setExpiry(s, tok)
			return tok, nil
		}
		oe, ok := err.(*OAuthError)
		if !ok {
			return nil, s.errorf("device code sign-in: %w", err)
		}
		switch oe.Code {
		case "authorization_pending":
		case "slow_down":
			interval += 5 * time.Second
		case "expired_token":
			return nil, s.errorf("the device code expired before the sign-in was completed: %s and enter the new code within %s: %w",
				again, life.Round(time.Second), oe)
		case "authorization_declined", "access_denied":
			return nil, s.errorf("the sign-in was declined on the verification page: %s to try again: %w", again, oe)
		default:
			return nil, tokenError(s, "device code sign-in", oe)
		}
		if !s.Now().Before(expiry) {
			return nil, s.errorf("the device code expired before the sign-in was completed: %s", again)
		}
	}
}
