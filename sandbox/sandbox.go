// Package sandbox provides the emulated demo tenant behind the planner
// driver's Sandbox=true: importing it registers the tenant with the driver,
// as importing a database/sql driver registers the driver.
//
//	import (
//		_ "github.com/plannersql/planner/driver"
//		_ "github.com/plannersql/planner/sandbox"
//	)
//
//	db, err := sql.Open("planner", "Sandbox=true")
//
// Each connector (each sql.DB) gets a tenant of its own, built from the
// same fixed demo data (graphtest.WithDemoTenant: four plans in three
// groups, with buckets, tasks, details, assignments, checklists and
// references) and served in process: no socket, no network, no sign-in.
// What a DB writes stays in its tenant until the DB is closed.
//
// The package is separate so that programs that never use the sandbox do
// not link the emulator (graph/graphtest) into the driver.
package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/plannersql/planner/driver"
	"github.com/plannersql/planner/graph/graphtest"
)

func init() { driver.RegisterSandbox(Open) }

// baseURL is the tenant's address; nothing listens there (requests are
// answered in process).
const baseURL = "http://sandbox.planner.invalid"

// Open returns a new emulated demo tenant, served in process. Close
// releases it. The driver calls it for each Sandbox=true connector.
func Open(context.Context) (*driver.SandboxTenant, error) {
	s, err := graphtest.New(graphtest.WithDemoTenant())
	if err != nil {
		return nil, fmt.Errorf("sandbox: build the demo tenant: %w", err)
	}
	return &driver.SandboxTenant{
		GraphURL:    baseURL + "/v1.0",
		HTTPClient:  &http.Client{Transport: handlerTransport{s.Handler()}},
		AccessToken: s.Token(),
		Close:       s.Close,
	}, nil
}

// handlerTransport answers requests by calling an http.Handler in process.
type handlerTransport struct{ h http.Handler }

// RoundTrip implements http.RoundTripper.
func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	in := req.Clone(req.Context())
	if in.Body == nil {
		in.Body = http.NoBody
	}
	in.RequestURI = req.URL.RequestURI()
	in.Host = req.URL.Host
	in.RemoteAddr = "127.0.0.1:1"
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, in)
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}
