package driver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// TenantID returns the directory (tenant) id of the account the connector
// reads: the "tid" claim of its access token, signing in first if no
// connection has yet (as a connection would). The sandbox's is its emulated
// tenant's id, the same for every sandbox. It is "" with no error when the
// token does not say (a token that is not a JWT, as personal Microsoft
// accounts get). replicate records it to refuse copying one tenant over
// the rows of another (replicate.Options.SourceTenant).
func (c *Connector) TenantID(ctx context.Context) (string, error) {
	if _, err := c.graphClient(ctx); err != nil {
		return "", err
	}
	c.mu.Lock()
	ts := c.ts
	c.mu.Unlock()
	if ts == nil {
		return "", nil
	}
	tok, err := ts.Token()
	if err != nil {
		return "", fmt.Errorf("planner: read the tenant id from the access token: %w", err)
	}
	return tokenTenant(tok.AccessToken), nil
}

// tokenTenant returns the tid claim of a JWT access token, or "". The token
// is not verified: Graph verifies it; this only reads whom it names.
func tokenTenant(jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var claims struct {
		TID string `json:"tid"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.TID
}
