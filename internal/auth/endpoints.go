package auth

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/plannersql/planner/internal/redact"
)

// GraphHosts are the hosts of Microsoft Graph in the global cloud and the
// national clouds (US Government L4 and L5, China operated by 21Vianet):
// https://learn.microsoft.com/graph/deployments. Access tokens are sent to
// no other host unless AllowCustomHosts is set.
var GraphHosts = []string{
	"graph.microsoft.com",
	"graph.microsoft.us",
	"dod-graph.microsoft.us",
	"microsoftgraph.chinacloudapi.cn",
}

// LoginHosts are the Microsoft identity platform's hosts in the same clouds
// (login.microsoft.com and login.partner.microsoftonline.cn are aliases of
// the global and China authorities). Refresh tokens, client secrets and
// authorization codes are sent to no other host unless AllowCustomHosts is
// set.
var LoginHosts = []string{
	"login.microsoftonline.com",
	"login.microsoft.com",
	"login.microsoftonline.us",
	"login.chinacloudapi.cn",
	"login.partner.microsoftonline.cn",
}

// CheckGraphURL applies the rule for where access tokens may go to a
// GraphURL: https to one of GraphHosts, or to any host when allowCustom is
// set; http only to a loopback address (a local emulator). The error names
// the property and says how to opt in.
func CheckGraphURL(raw string, allowCustom bool) error {
	return checkEndpoint("GraphURL", raw, GraphHosts, allowCustom, "https://graph.microsoft.com/v1.0")
}

// CheckAuthorityURL is CheckGraphURL's rule for AuthorityURL and
// LoginHosts.
func CheckAuthorityURL(raw string, allowCustom bool) error {
	return checkEndpoint("AuthorityURL", raw, LoginHosts, allowCustom, DefaultAuthorityURL)
}

func checkEndpoint(prop, raw string, known []string, allowCustom bool, example string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		// Quoted without the password a URL of another scheme (or one
		// that does not parse) may carry.
		return fmt.Errorf("%s %q is not an https URL: use e.g. %s", prop, redact.URL(raw), example)
	}
	if u.User != nil {
		return fmt.Errorf("%s must not carry a user name or password: remove the part before @", prop)
	}
	if u.RawQuery != "" || u.ForceQuery || strings.Contains(raw, "#") {
		// Request paths are appended to the URL: after a '?' or '#' they
		// would land in its query or fragment.
		return fmt.Errorf("%s %s must not have a query or fragment (a '?' or '#'): use e.g. %s", prop, u.Redacted(), example)
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if IsLoopback(host) {
		return nil
	}
	if u.Scheme != "https" {
		return fmt.Errorf("%s %s uses http: tokens would cross the network unencrypted; use https "+
			"(http is accepted only for loopback addresses, such as a local emulator)", prop, u.Redacted())
	}
	if allowCustom || slices.Contains(known, host) {
		return nil
	}
	return fmt.Errorf("%s host %s is not one of Microsoft's (%s), so planner will not send it tokens; "+
		"if you trust it with them (a gateway or proxy of yours), set AllowCustomHosts=true", prop, host, strings.Join(known, ", "))
}

// IsLoopback reports whether host (a name or an address, without port) is
// this machine: localhost, 127.0.0.0/8 or ::1.
func IsLoopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sameAuthority reports whether two AuthorityURLs name the same identity
// platform: scheme, host and port (the default one of the scheme when
// none is written) and path, ignoring case of scheme and host and
// trailing slashes.
func sameAuthority(a, b string) bool {
	ua, err1 := url.Parse(strings.TrimRight(a, "/"))
	ub, err2 := url.Parse(strings.TrimRight(b, "/"))
	if err1 != nil || err2 != nil {
		return false
	}
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if strings.EqualFold(u.Scheme, "http") {
			return "80"
		}
		return "443"
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) &&
		strings.EqualFold(strings.TrimSuffix(ua.Hostname(), "."), strings.TrimSuffix(ub.Hostname(), ".")) &&
		port(ua) == port(ub) && ua.EscapedPath() == ub.EscapedPath()
}

// originOf returns u's scheme, host and port (the scheme's default port
// when none is written), lower case and without a trailing dot.
func originOf(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
		if strings.EqualFold(u.Scheme, "http") {
			port = "80"
		}
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	return strings.ToLower(u.Scheme) + "://" + net.JoinHostPort(host, port)
}

// guardRedirects returns a copy of hc that follows no redirect away from
// the origin of authority (its scheme, host and port), and otherwise hc's
// own policy: a 307 or 308 would post the refresh token, client secret,
// authorization code or device code to wherever Location names.
func guardRedirects(hc *http.Client, authority string) *http.Client {
	au, err := url.Parse(authority)
	if err != nil {
		return hc // normalize refused it already
	}
	origin := originOf(au)
	cp := *hc
	prev := hc.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if originOf(req.URL) != origin {
			return fmt.Errorf("auth: refusing to follow the identity platform's redirect to %s: it is not AuthorityURL's origin %s, "+
				"and sign-in secrets go nowhere else (check AuthorityURL)", req.URL.Host, origin)
		}
		if prev != nil {
			return prev(req, via)
		}
		if len(via) >= 10 {
			return errors.New("auth: stopped after 10 redirects")
		}
		return nil
	}
	return &cp
}

// validTenant reports whether t can name a tenant in the identity
// platform's endpoint paths: a GUID, a domain name, or organizations,
// common or consumers — dot-separated labels of letters, digits and inner
// '-'. Nothing else (no '/', '%', '?', dot segments) reaches the path, so
// a Tenant cannot post the sign-in's secrets to another endpoint of the
// authority.
func validTenant(t string) bool {
	if t == "" || len(t) > 253 {
		return false
	}
	for _, label := range strings.Split(t, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
