package driver

import (
	"context"
	"testing"

	"github.com/plannersql/planner/graph/graphtest"
)

// TestTenantID: the connector names its tenant from the access token, with
// no Graph request; a token that is not a JWT names none.
func TestTenantID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, graphtest.WithGenerated(graphtest.GenSpec{Seed: 5, Plans: 1, TasksPerPlan: 1}))
	got, err := e.cn.TenantID(context.Background())
	if err != nil || got != e.srv.TenantID() || got == "" {
		t.Fatalf("TenantID = %q, %v; want %q", got, err, e.srv.TenantID())
	}
	if n := e.cn.Requests(); n != 0 {
		t.Errorf("TenantID made %d Graph requests", n)
	}
	opaque := newEnv(t, func(c *Config) { c.OAuthAccessToken = "EwBwA8l6BAAU-opaque" })
	if got, err := opaque.cn.TenantID(context.Background()); err != nil || got != "" {
		t.Fatalf("opaque token: %q, %v", got, err)
	}
	for tok, want := range map[string]string{"a.b": "", "x.eyJ0aWQiOiJ0MSJ9.y": "t1", "x.%%%.y": ""} {
		if got := tokenTenant(tok); got != want {
			t.Errorf("tokenTenant(%q) = %q, want %q", tok, got, want)
		}
	}
}
