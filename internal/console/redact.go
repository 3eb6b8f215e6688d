package console

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/plannersql/planner/internal/redact"
)

// secretProperties are the connection properties whose values are secrets:
// write-only in the console (its pages and API say only that one is set).
var secretProperties = []string{"OAuthClientSecret", "OAuthAccessToken", "OAuthRefreshToken"}

func isSecretProperty(name string) bool {
	for _, s := range secretProperties {
		if strings.EqualFold(s, name) {
			return true
		}
	}
	return false
}

// mask stands for a secret in a URL shown to the user; a URL sent back with
// it keeps the stored secret.
const mask = "********"

// secretQueryParams are URL parameters holding secrets.
var secretQueryParams = []string{"password", "sslpassword", "passwd", "pwd"}

// displayURL returns a destination URL fit to show: a password written in
// it (in the user info or a password parameter) replaced by the mask. A
// ${NAME} reference is not a secret and is shown as written. hasSecret
// reports whether the URL holds a password of either kind.
func displayURL(raw string) (shown string, hasSecret bool) {
	u, back, err := parseWithRefs(raw)
	if err == nil {
		// url.Query drops the pairs it cannot decode, a password among them.
		_, err = url.ParseQuery(u.RawQuery)
	}
	if err != nil || u.Opaque != "" {
		// A URL that does not parse (a '%zz', a space, a '#' in the
		// password; a '%zz' in its query) or an opaque one (sqlite:PATH) is shown by the rule
		// of errors and logs, which needs no parse.
		shown := redact.URL(raw)
		return shown, shown != raw
	}
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			hasSecret = true
			if !isReference(back(p)) {
				u.User = url.UserPassword(u.User.Username(), mask)
			}
		}
	}
	q := u.Query()
	changed := false
	for k, vs := range q {
		if !isSecretParam(k) {
			continue
		}
		hasSecret = true
		for i, v := range vs {
			if !isReference(back(v)) {
				vs[i] = mask
				changed = true
			}
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return back(unescapeMask(u.String())), hasSecret
}

// parseWithRefs parses a URL that may hold ${NAME} references (which
// url.Parse refuses in a user info): each is swapped for a placeholder,
// and back returns a text with the references put back.
func parseWithRefs(raw string) (*url.URL, func(string) string, error) {
	var refs []string
	var b strings.Builder
	for i := 0; i < len(raw); {
		if strings.HasPrefix(raw[i:], "${") {
			if end := strings.IndexByte(raw[i:], '}'); end > 0 {
				fmt.Fprintf(&b, "PLANNERREF%dX", len(refs))
				refs = append(refs, raw[i:i+end+1])
				i += end + 1
				continue
			}
		}
		b.WriteByte(raw[i])
		i++
	}
	back := func(s string) string {
		for n := len(refs) - 1; n >= 0; n-- {
			s = strings.ReplaceAll(s, fmt.Sprintf("PLANNERREF%dX", n), refs[n])
		}
		return s
	}
	u, err := url.Parse(b.String())
	return u, back, err
}

func isSecretParam(k string) bool {
	for _, s := range secretQueryParams {
		if strings.EqualFold(s, k) {
			return true
		}
	}
	return false
}

func isReference(s string) bool {
	return strings.HasPrefix(s, "${") && strings.HasSuffix(s, "}") && strings.Count(s, "${") == 1
}

// unescapeMask undoes url's escaping of the mask and of ${NAME} references.
func unescapeMask(s string) string {
	s = strings.ReplaceAll(s, url.QueryEscape(mask), mask)
	s = strings.ReplaceAll(s, url.PathEscape(mask), mask)
	s = strings.ReplaceAll(s, "%24%7B", "${")
	s = strings.ReplaceAll(s, "$%7B", "${")
	s = strings.ReplaceAll(s, "%7D", "}")
	return s
}

// restoreURL returns the URL to store when the user sends next for a
// destination stored as old: a masked password is replaced by the stored
// one, as long as the URL still names the same scheme, user and host (a
// password is never carried to another server). ok is false when next
// holds the mask but cannot take the stored password.
func restoreURL(next, old string) (string, bool) {
	if !strings.Contains(next, mask) {
		return next, true
	}
	nu, nback, err1 := parseWithRefs(strings.ReplaceAll(next, mask, "MASKED"))
	ou, oback, err2 := parseWithRefs(old)
	if err1 != nil || err2 != nil || old == "" {
		return "", false
	}
	if !strings.EqualFold(nu.Scheme, ou.Scheme) || !strings.EqualFold(nu.Host, ou.Host) || nu.User.Username() != ou.User.Username() {
		return "", false
	}
	if p, ok := nu.User.Password(); ok && p == "MASKED" {
		op, ok := ou.User.Password()
		if !ok {
			return "", false
		}
		nu.User = url.UserPassword(nu.User.Username(), oback(op))
	}
	nq, oq := nu.Query(), ou.Query()
	changed := false
	for k, vs := range nq {
		for i, v := range vs {
			if v == "MASKED" {
				ov := oq[k]
				if i >= len(ov) {
					return "", false
				}
				vs[i] = oback(ov[i])
				changed = true
			}
		}
	}
	if changed {
		nu.RawQuery = nq.Encode()
	}
	return nback(unescapeMask(nu.String())), true
}

// urlSecrets returns the secrets a URL holds (its password and password
// parameters), for scrubbing: as redact.Secrets finds them — also in a URL
// that url.Parse rejects, and in the pieces and forms errors quote — and
// escaped.
func urlSecrets(raw string) []string {
	out := redact.Secrets(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return out
	}
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			out = append(out, p, url.PathEscape(p), url.QueryEscape(p))
		}
	}
	for k, vs := range u.Query() {
		if isSecretParam(k) {
			for _, v := range vs {
				out = append(out, v, url.QueryEscape(v))
			}
		}
	}
	return out
}

// webhookSecrets returns the parts of a webhook URL that may be its token:
// long path segments and query values (chat webhooks carry a token there).
func webhookSecrets(raw string) []string {
	out := urlSecrets(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return out
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if len(seg) >= 16 {
			out = append(out, seg)
		}
	}
	for _, vs := range u.Query() {
		for _, v := range vs {
			if len(v) >= 8 {
				out = append(out, v)
			}
		}
	}
	return out
}

// scrubber replaces known secret values in text with redact.Mask, as the
// CLI's redaction does.
type scrubber struct {
	secrets []string // longest first
}

func newScrubber(secrets []string) *scrubber {
	seen := map[string]bool{}
	var keep []string
	for _, s := range secrets {
		// Very short values would blank out ordinary words.
		if len(s) >= redact.MinSecretLen && !seen[s] && !isReference(s) {
			seen[s] = true
			keep = append(keep, s)
		}
	}
	sort.Slice(keep, func(i, j int) bool { return len(keep[i]) > len(keep[j]) })
	return &scrubber{secrets: keep}
}

func (sc *scrubber) scrub(s string) string {
	if sc == nil {
		return s
	}
	for _, sec := range sc.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, redact.Mask)
		}
	}
	return s
}
