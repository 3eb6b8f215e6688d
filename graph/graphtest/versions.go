package graphtest

import (
	"net/http"
	"strings"
)

// Planner resource versioning (planner-overview, "Planner resource
// versioning"): "Planner allows changes to older versions of resources, if
// the intended change does not conflict with newer changes accepted by the
// Planner service on the same resource", and clients must handle 409 and
// 412. The emulator keeps, for each object written through the API, what its
// recent versions changed: a write whose If-Match names an older version of
// the object is applied when it touches nothing changed since (the same
// property, or the same key of an open type such as assignments or
// checklist), and is 409 Conflict when it does. An etag that is not a
// version the emulator can judge (never issued for the object, or older than
// the versions it keeps) is 412, as the overview says: "the etag value
// specified in the request no longer matches a version of the resource".

// maxHistory is how many recent versions of an object are kept.
const maxHistory = 64

type histKey struct {
	kind etagKind
	id   string
}

// change is what one version of an object changed: property names, and
// "property/key" for the keys of open types. No paths: a change the service
// made itself (a task's counts following its details), which conflicts with
// no client write.
type change struct {
	version uint64
	paths   []string
}

// history is an object's recent versions: base is the oldest version that
// can still be judged, log the changes after it, oldest first.
type history struct {
	base uint64
	log  []change
}

// everything is the paths of a DELETE: it conflicts with any client change.
var everything = []string{"*"}

// openTypes are the properties whose keys change independently.
var openTypes = map[string]bool{
	"assignments": true, "appliedCategories": true, "checklist": true, "references": true,
	"sharedWith": true, "categoryDescriptions": true, "orderHintsByAssignee": true,
}

// changePaths lists what a PATCH body changes.
func changePaths(body map[string]rawJSON) []string {
	var out []string
	for _, k := range sortedKeys(body) {
		if annotation(k) || k == "id" {
			continue
		}
		v := body[k]
		if m, ok := asObject(v); ok && openTypes[k] {
			for _, sub := range sortedKeys(m) {
				if !annotation(sub) {
					out = append(out, k+"/"+sub)
				}
			}
			continue
		}
		out = append(out, k)
	}
	return out
}

func pathsConflict(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == "*" || y == "*" || x == y || strings.HasPrefix(x, y+"/") || strings.HasPrefix(y, x+"/") {
				return true
			}
		}
	}
	return false
}

// recordChange notes that object (k, id) went from version prev to now,
// changing paths (caller holds s.mu for writing).
func (s *Server) recordChange(k etagKind, id string, prev, now uint64, paths []string) {
	if s.hist == nil {
		s.hist = map[histKey]*history{}
	}
	key := histKey{k, id}
	h := s.hist[key]
	if h == nil || (len(h.log) == 0 && h.base != prev) || (len(h.log) > 0 && h.log[len(h.log)-1].version != prev) {
		// No history, or versions it did not see: start again from prev.
		h = &history{base: prev}
		s.hist[key] = h
	}
	h.log = append(h.log, change{version: now, paths: paths})
	if len(h.log) > maxHistory {
		h.base = h.log[0].version
		h.log = append(h.log[:0], h.log[1:]...)
	}
}

// forget drops the histories of a deleted object.
func (s *Server) forget(id string, kinds ...etagKind) {
	for _, k := range kinds {
		delete(s.hist, histKey{k, id})
	}
}

func (s *Server) forgetTaskHistory(t *task) {
	s.forget(t.id, kindTask, kindTaskDetails, kindBucketBoard, kindProgressBoard, kindAssignedBoard)
}

// ifMatch checks the If-Match header of a PATCH or DELETE of object (k, id)
// at version current, and returns the version the client read: current, or
// an older one the emulator can judge (see conflict).
func (c *call) ifMatch(k etagKind, id string, current uint64) (uint64, *gResp) {
	h := c.req.header.Get("If-Match")
	if strings.TrimSpace(h) == "" {
		return 0, c.pfail(http.StatusPreconditionFailed, "The If-Match header must be specified for this kind of request.")
	}
	inner, ok := parseIfMatch(h, k)
	if !ok && otherKindEtag(h, k) {
		// Another kind of object's etag (a task's sent for its details):
		// 412 with Planner's code, as the service answers since 2026
		// (Softeria/ms-365-mcp-server#290); it answered 400 with an
		// empty code in 2019 (microsoft-graph-docs-contrib#7153).
		return 0, c.fail(http.StatusPreconditionFailed, "ErrorPreconditionFailed", "The If-Match header contains an invalid value.")
	}
	if !ok {
		return 0, c.pfail(http.StatusBadRequest, "The If-Match header contains an invalid value.")
	}
	if inner == etagValue(k, current) {
		return current, nil
	}
	stale := c.pfail(http.StatusPreconditionFailed, "The etag in If-Match no longer matches a version of the resource: read it again and retry with the new etag.")
	v, ok := etagVersion(k, inner)
	if !ok || v > current {
		return 0, stale
	}
	hist := c.s.hist[histKey{k, id}]
	if hist == nil {
		return 0, stale
	}
	if v == hist.base {
		return v, nil
	}
	for _, ch := range hist.log {
		if ch.version == v {
			return v, nil
		}
	}
	return 0, stale
}

// otherKindEtag reports whether h is one of the emulator's etags of another
// kind of object than k.
func otherKindEtag(h string, k etagKind) bool {
	for o := range etagKindNames {
		if etagKind(o) != k {
			if _, ok := parseIfMatch(h, etagKind(o)); ok {
				return true
			}
		}
	}
	return false
}

// conflict answers 409 when a write read at version read (older than current)
// touches paths that changed since.
func (c *call) conflict(k etagKind, id string, read, current uint64, paths []string) *gResp {
	if read == current {
		return nil
	}
	for _, ch := range c.s.hist[histKey{k, id}].log {
		if ch.version > read && pathsConflict(ch.paths, paths) {
			return c.pfail(http.StatusConflict, "The change conflicts with changes accepted since the etag in If-Match was read: read the resource again and resolve the conflicting changes.")
		}
	}
	return nil
}

// etagVersion decodes the version of one of the emulator's etag values of
// kind k (false for any other value).
func etagVersion(k etagKind, inner string) (uint64, bool) {
	p := etagPrefixes[k]
	if len(inner) != len(p)+12 || !strings.HasPrefix(inner, p) || !strings.HasSuffix(inner, "Jw==") {
		return 0, false
	}
	var v uint64
	for _, ch := range []byte(inner[len(p) : len(p)+8]) {
		d := strings.IndexByte(etagDigits, ch)
		if d < 0 {
			return 0, false
		}
		v = v*52 + uint64(d)
	}
	return v, true
}
