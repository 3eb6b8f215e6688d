package graph

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrInvalidID is the error (test with errors.Is) of a request that was not
// sent because an id for its path is not one Graph can have. The error is an
// *InvalidIDError.
var ErrInvalidID = errors.New("graph: invalid id")

// InvalidIDError is an id rejected before it reached a request path: Planner
// ids (plans, buckets, tasks) are 16 to 64 letters, digits, '-', '_' and
// '=' (28 as Graph issues them); group ids are GUIDs; a user is a GUID
// or a user principal name (name@domain). Nothing else — no '/', '?', '%',
// dot segments, spaces or control characters — can be placed in a path, so an
// id can never address another endpoint.
type InvalidIDError struct {
	Kind string // "plan", "bucket", "task", "group", "user"
	ID   string // the id as given
}

// Error implements error.
func (e *InvalidIDError) Error() string {
	id := e.ID
	if len(id) > 64 {
		id = id[:64] + "…"
	}
	var want string
	switch e.Kind {
	case "group":
		want = "a group id is a GUID such as 0f8fad5b-d9cb-469f-a165-70867728950e"
	case "user":
		want = "a user is a GUID or a user principal name such as adele@contoso.com"
	default:
		want = "a Planner id is 16 to 64 letters, digits, '-', '_' and '=', e.g. xqQg5FS2LkCp935s-FIFm2QAFkHM"
	}
	return fmt.Sprintf("graph: %q is not a valid %s id (%s); no request was sent", id, e.Kind, want)
}

// Is reports whether target is ErrInvalidID.
func (e *InvalidIDError) Is(target error) bool { return target == ErrInvalidID }

// idKind is the kind of object an id names, which decides its alphabet and
// the collection its path starts with.
type idKind int

const (
	kindPlan idKind = iota
	kindBucket
	kindTask
	kindGroup
	kindUser // a user's id or user principal name
)

var idKinds = [...]struct{ name, prefix string }{
	kindPlan:   {"plan", "/planner/plans/"},
	kindBucket: {"bucket", "/planner/buckets/"},
	kindTask:   {"task", "/planner/tasks/"},
	kindGroup:  {"group", "/groups/"},
	kindUser:   {"user", "/users/"},
}

// Bounds of ids: Graph's are 28 (Planner) or 36 (GUID) characters, user
// principal names up to 113. Planner ids shorter than 16 are refused so that
// no word (delta, $count, $ref…) can stand for one.
const (
	maxIDLen        = 256
	minPlannerIDLen = 16
	maxPlannerIDLen = 64
)

// validID checks id against its kind's alphabet.
func validID(k idKind, id string) error {
	ok := len(id) > 0 && len(id) <= maxIDLen
	switch k {
	case kindGroup:
		ok = ok && isGUID(id)
	case kindUser:
		ok = ok && (isGUID(id) || isUPN(id))
	default:
		ok = len(id) >= minPlannerIDLen && len(id) <= maxPlannerIDLen
		for i := 0; ok && i < len(id); i++ {
			ok = isPlannerIDChar(id[i])
		}
	}
	if !ok {
		return &InvalidIDError{Kind: idKinds[k].name, ID: id}
	}
	return nil
}

func isPlannerIDChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '='
}

// isGUID reports whether s is a GUID: 8-4-4-4-12 hex digits.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// isUPN reports whether s looks like a user principal name: name@domain with
// the characters Entra ID allows (guests' "#EXT#" included), no dot
// segments, and not starting with '$' (Graph's system segments).
func isUPN(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || s[0] == '$' || s[0] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte(".-_'+!#$&*=^`{|}~@", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// apiPath is a request path relative to the base URL, or the error that
// stopped it from being built. Every path holding an id is built by idPath.
type apiPath struct {
	s   string
	err error
}

// fixedPath is a path without ids.
func fixedPath(s string) apiPath { return apiPath{s: s} }

// idPath is the one place an id enters a request path: validated against its
// kind's alphabet, path-escaped, between the kind's collection and suffix.
func idPath(k idKind, id, suffix string) apiPath {
	if err := validID(k, id); err != nil {
		return apiPath{err: err}
	}
	return apiPath{s: idKinds[k].prefix + url.PathEscape(id) + suffix}
}

// collectionKinds are the path segments followed by an id.
var collectionKinds = map[string]idKind{"plans": kindPlan, "buckets": kindBucket, "tasks": kindTask, "groups": kindGroup, "users": kindUser}

// checkPath refuses a path (escaped, as sent) that could address something
// other than what it names: dot segments, escaped '/' or '\', '%' escapes
// that do not decode, spaces and control characters; with ids true, the
// segment after plans, buckets, tasks, groups and users must also be a valid
// id of that kind.
func checkPath(method, escaped string, ids bool) error {
	segs := strings.Split(escaped, "/")
	for i, seg := range segs {
		dec, err := url.PathUnescape(seg)
		bad := err != nil || dec == "." || dec == ".." || strings.ContainsAny(dec, "/\\")
		for j := 0; !bad && j < len(dec); j++ {
			bad = dec[j] <= ' ' || dec[j] == 0x7f
		}
		if bad {
			return fmt.Errorf("graph: %s %s: refusing a path with a dot segment, an escaped slash, a space or a control character (segment %q)", method, escaped, seg)
		}
		if ids && i > 0 && seg != "" {
			if k, ok := collectionKinds[strings.ToLower(segs[i-1])]; ok {
				if err := validID(k, dec); err != nil {
					return fmt.Errorf("graph: %s %s: %w", method, escaped, err)
				}
			}
		}
	}
	return nil
}

// batchURL turns a $batch request's URL into the relative form Graph takes,
// refusing another origin and unsafe paths: an absolute URL must be at the
// client's origin and under its base path.
func (c *Client) batchURL(method, raw string) (string, error) {
	if strings.ContainsRune(raw, '#') {
		return "", fmt.Errorf("graph: %s %s: refusing a $batch URL with '#' (escape it as %%23)", method, raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("graph: %s %s: the $batch URL does not parse: %w", method, raw, err)
	}
	if u.IsAbs() || u.Host != "" {
		if err := c.checkOrigin(method, c.basePath+"/$batch", "a $batch URL", u); err != nil {
			return "", err
		}
		rest, ok := strings.CutPrefix(u.EscapedPath(), c.basePath+"/")
		if !ok {
			return "", fmt.Errorf("graph: %s %s: a $batch URL must be under the base URL %s", method, u.EscapedPath(), c.baseStr)
		}
		u = &url.URL{Path: "/" + rest, RawPath: "/" + rest, RawQuery: u.RawQuery}
		u.Path, _ = url.PathUnescape(u.RawPath)
	}
	p := u.EscapedPath()
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if err := checkPath(method, p, true); err != nil {
		return "", err
	}
	for i := 0; i < len(u.RawQuery); i++ {
		if c := u.RawQuery[i]; c <= ' ' || c == 0x7f || c == '#' {
			return "", fmt.Errorf("graph: %s %s: refusing a query with a space, '#' or a control character", method, p)
		}
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p, nil
}
