package driver

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/plannersql/planner/graph/graphtest"
)

// sandbox returns the process-wide emulated demo tenant behind Sandbox=true.
// It is served in process: requests go straight to the emulator's handler,
// with no socket and no network.
func sandbox() (*sandboxTenant, error) {
	sandboxOnce.Do(func() {
		s, err := graphtest.New(graphtest.WithDemoTenant())
		if err != nil {
			sandboxErr = fmt.Errorf("planner: start the sandbox tenant: %w", err)
			return
		}
		sandboxVal = &sandboxTenant{
			graphURL:   sandboxBase + "/v1.0",
			token:      s.Token(),
			httpClient: &http.Client{Transport: handlerTransport{s.Handler()}},
		}
	})
	return sandboxVal, sandboxErr
}

// sandboxBase is the sandbox tenant's address; nothing listens there.
const sandboxBase = "http://sandbox.planner.invalid"

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
