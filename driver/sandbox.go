package driver

import (
	"context"
	"errors"
	"net/http"
	"sync"
)

// SandboxTenant is an emulated tenant a Sandbox=true connector reads and
// writes: a Graph base URL, the HTTP client that reaches it (typically
// served in process), an access token it accepts, and Close to release it.
// Package github.com/plannersql/planner/sandbox provides one.
type SandboxTenant struct {
	GraphURL    string
	HTTPClient  *http.Client
	AccessToken string
	Close       func() error
}

var (
	sandboxMu   sync.Mutex
	sandboxOpen func(ctx context.Context) (*SandboxTenant, error)
)

// RegisterSandbox makes Sandbox=true connect to the tenants open returns:
// each connector (each sql.DB) opens one of its own when its first
// connection is made and closes it with the connector, so sandboxes of
// different DBs never see each other's writes. Package sandbox calls it
// when imported; like sql.Register, it panics if open is nil or when
// called twice.
func RegisterSandbox(open func(ctx context.Context) (*SandboxTenant, error)) {
	sandboxMu.Lock()
	defer sandboxMu.Unlock()
	if open == nil {
		panic("planner: RegisterSandbox of a nil function")
	}
	if sandboxOpen != nil {
		panic("planner: RegisterSandbox called twice")
	}
	sandboxOpen = open
}

// errNoSandbox is the error of Sandbox=true without package sandbox.
var errNoSandbox = errors.New(`planner: Sandbox=true needs the sandbox package: add import _ "github.com/plannersql/planner/sandbox" to the program`)

// sandboxOpener returns the registered sandbox, or errNoSandbox.
func sandboxOpener() (func(ctx context.Context) (*SandboxTenant, error), error) {
	sandboxMu.Lock()
	defer sandboxMu.Unlock()
	if sandboxOpen == nil {
		return nil, errNoSandbox
	}
	return sandboxOpen, nil
}
