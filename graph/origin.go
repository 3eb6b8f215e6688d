package graph

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// OriginError is a request the client refused to send because its URL is
// not at the configured Graph origin (the scheme, host and port of the base
// URL): a redirect, an @odata.nextLink or a $batch URL pointing elsewhere.
// The access token is only ever sent to that origin, so nothing was sent to
// Host.
type OriginError struct {
	Method string // the request that led there
	Path   string // its path, without host or query
	What   string // "a redirect", "an @odata.nextLink", "a URL"
	Host   string // the host (and port) the URL named, or a description
	Origin string // the configured Graph origin
}

// Error implements error.
func (e *OriginError) Error() string {
	return fmt.Sprintf("graph: %s %s: refusing to follow %s to %s: it is not the configured Graph origin %s, and the access token goes nowhere else (check GraphURL)",
		e.Method, e.Path, e.What, e.Host, e.Origin)
}

// originOf returns u's origin as scheme://host:port, lower case, with the
// scheme's default port made explicit.
func originOf(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// hostOf names u's host for a message.
func hostOf(u *url.URL) string {
	if u == nil || u.Host == "" {
		return "a URL without a host"
	}
	return u.Host
}

// checkOrigin returns an *OriginError when u is not at the client's origin.
func (c *Client) checkOrigin(method, path, what string, u *url.URL) error {
	if u.IsAbs() && originOf(u) == c.origin {
		return nil
	}
	return &OriginError{Method: method, Path: path, What: what, Host: hostOf(u), Origin: c.origin}
}

// guardRedirects returns a copy of hc that refuses redirects away from the
// client's origin (Go's client would forward the Authorization header to the
// same host name on another port) and otherwise applies hc's own policy.
func (c *Client) guardRedirects(hc *http.Client) *http.Client {
	cp := *hc
	prev := hc.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		first := via[0]
		if err := c.checkOrigin(first.Method, first.URL.Path, "a redirect", req.URL); err != nil {
			return err
		}
		if prev != nil {
			return prev(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &cp
}
