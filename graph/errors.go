package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Error is an error response from Graph: an HTTP status with Graph's error
// JSON, or a failed item of a $batch. Planner often leaves Code empty; branch
// on StatusCode first (see IsNotFound and friends), then on Code.
type Error struct {
	StatusCode      int    // HTTP status, e.g. 404
	Code            string // error.code, often "" for Planner
	InnerCode       string // error.innerError.code, when present
	Message         string // error.message
	RequestID       string // request-id (header or innerError)
	ClientRequestID string // client-request-id (header or innerError)
	Date            string // innerError.date, or the Date header
	Method          string // the request's method
	Path            string // the request's path, without host or query
}

// Error describes the failure, naming the request and saying what to do next.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("graph: ")
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.Path)
	fmt.Fprintf(&b, ": %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		b.WriteString(" (")
		b.WriteString(e.Code)
		if e.InnerCode != "" {
			b.WriteByte('/')
			b.WriteString(e.InnerCode)
		}
		b.WriteByte(')')
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(strings.TrimSuffix(e.Message, "."))
	}
	if hint := e.hint(); hint != "" {
		b.WriteString("; ")
		b.WriteString(hint)
	}
	if e.RequestID != "" {
		b.WriteString(" [request-id ")
		b.WriteString(e.RequestID)
		b.WriteByte(']')
	}
	return b.String()
}

func (e *Error) hint() string {
	switch e.StatusCode {
	case http.StatusUnauthorized:
		return "sign in again (the access token is missing, expired or revoked)"
	case http.StatusForbidden:
		if h, ok := limitHints[e.Code]; ok {
			return "Planner's limit " + e.Code + " was reached: " + h
		}
		if strings.HasPrefix(e.Code, "Maximum") {
			return "a Planner limit was reached (see the 403 codes of learn.microsoft.com/graph/api/resources/planner-overview)"
		}
		return forbiddenHint(e.Method, e.Path)
	case http.StatusNotFound:
		return "check the id; the object may have been deleted"
	case http.StatusConflict, http.StatusPreconditionFailed:
		if e.StatusCode == http.StatusPreconditionFailed && strings.Contains(e.Message, "If-Match header contains an invalid value") {
			// Planner's answer to another object's ETag (a task's sent
			// for its details), not to a change.
			return "the ETag is another object's (a task's sent for its details, say): send the object's own ETag, read with it"
		}
		return "the object changed since it was read: read it again and retry with its new ETag"
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return "the service is busy: retry later or lower the concurrency"
	}
	return ""
}

// forbiddenHint says what a 403 that is no limit lacks, by the endpoint
// refused: the directory's endpoints need a directory permission (least
// privileged first, learn's permission tables), Planner's need Tasks.Read
// (Tasks.ReadWrite to write) and, for a user, membership of the plan's group.
func forbiddenHint(method, path string) string {
	p := strings.ToLower(path)
	if i := strings.Index(p, "?"); i >= 0 {
		p = p[:i]
	}
	for _, v := range []string{"/v1.0/", "/beta/"} {
		if strings.HasPrefix(p, v) {
			p = "/" + p[len(v):]
		}
	}
	segs := strings.Split(strings.Trim(p, "/"), "/")
	last := segs[len(segs)-1]
	switch {
	case (segs[0] == "planner" || slices.Contains(segs, "planner")) && method != "" && method != http.MethodGet:
		return "check that the account is a member of the plan's group and the sign-in has Tasks.ReadWrite or Group.ReadWrite.All, which writes need (Tasks.Read only reads; an application needs Tasks.ReadWrite.All)"
	case segs[0] == "planner" || slices.Contains(segs, "planner"):
		return "check that the account is a member of the plan's group and the sign-in has Tasks.Read (Tasks.ReadWrite to write) or Group.Read.All (Group.ReadWrite.All); an application reaches every group and needs Tasks.Read.All (Tasks.ReadWrite.All)"
	case segs[0] == "me" && last == "memberof":
		return "the sign-in lacks User.Read, which lists the user's groups: add it to the sign-in's scopes and sign in again"
	case last == "memberof":
		return "the sign-in lacks GroupMember.Read.All (or User.Read.All) to list another user's groups: add it and sign in again"
	case segs[0] == "groups":
		return "the sign-in lacks Group.Read.All or GroupMember.Read.All to read groups (an application needs one as an application permission, with admin consent): add one and sign in again"
	case segs[0] == "me":
		return "the sign-in lacks User.Read: add it to the sign-in's scopes and sign in again"
	case segs[0] == "users":
		return "the sign-in lacks User.ReadBasic.All or User.Read.All to read other users: add one and sign in again"
	}
	return "check that the sign-in has the permission this request needs"
}

// limitHints says, for each of Planner's limit codes (planner-overview,
// "403 Forbidden"), what frees room. "Project" means plan in these codes.
var limitHints = map[string]string{
	"MaximumActiveTasksInProject":   "the plan has the most tasks that are not completed it can hold; complete or delete some of its tasks, or use another plan",
	"MaximumTasksInProject":         "the plan has the most tasks it can hold, completed ones included; delete some of its tasks or use another plan",
	"MaximumTasksAssignedToUser":    "the assignee has the most tasks a user can be assigned; unassign them from other tasks (or delete those), or assign someone else",
	"MaximumTasksCreatedByUser":     "the signed-in user created the most tasks a user can; delete tasks they created, or create the task as another user",
	"MaximumBucketsInProject":       "the plan has the most buckets it can hold; delete some of its buckets or use another plan",
	"MaximumProjectsOwnedByUser":    "the group contains the most plans it can; delete one of its plans or use another group",
	"MaximumProjectsSharedWithUser": "the user is shared on the most plans a user can be; remove them from other plans' sharedWith",
	"MaximumUsersSharedWithProject": "the plan is shared with the most users it can be; remove users from its sharedWith",
	"MaximumReferencesOnTask":       "the task has the most references it can hold; remove some of them first",
	"MaximumChecklistItemsOnTask":   "the task has the most checklist items it can hold; remove some of them first",
	"MaximumAssigneesInTasks":       "the task has the most assignees it can hold; unassign someone first",
	"MaximumPlannerPlans":           "the group already contains a plan, and a group can contain only one; use another group",
}

// graphErrorBody is Graph's error JSON, decoded leniently.
type graphErrorBody struct {
	Error struct {
		Code       string          `json:"code"`
		Message    string          `json:"message"`
		InnerError json.RawMessage `json:"innerError"`
	} `json:"error"`
}

type graphInnerError struct {
	Code            string `json:"code"`
	Date            string `json:"date"`
	RequestID       string `json:"request-id"`
	RequestID2      string `json:"requestId"`
	ClientRequestID string `json:"client-request-id"`
}

// newError is the one place a response becomes an *Error: status, headers
// and body of a top-level response or a $batch item.
func newError(method, path string, status int, h http.Header, body []byte) *Error {
	e := &Error{StatusCode: status, Method: method, Path: path}
	var ge graphErrorBody
	if len(body) > 0 && json.Unmarshal(body, &ge) == nil {
		e.Code = ge.Error.Code
		e.Message = ge.Error.Message
		var in graphInnerError
		if len(ge.Error.InnerError) > 0 && json.Unmarshal(ge.Error.InnerError, &in) == nil {
			e.InnerCode = in.Code
			e.Date = in.Date
			e.RequestID = cmpOr(in.RequestID, in.RequestID2)
			e.ClientRequestID = in.ClientRequestID
		}
	} else if len(body) > 0 && !json.Valid(body) {
		// Not Graph's JSON (a proxy's page, say): keep a short, printable excerpt.
		e.Message = excerpt(body, 200)
	}
	if h != nil {
		e.RequestID = cmpOr(h.Get("request-id"), e.RequestID)
		e.ClientRequestID = cmpOr(h.Get("client-request-id"), e.ClientRequestID)
		e.Date = cmpOr(e.Date, h.Get("Date"))
	}
	return e
}

func excerpt(b []byte, n int) string {
	s := strings.ToValidUTF8(string(b[:min(len(b), n)]), "")
	s = strings.Join(strings.Fields(s), " ")
	if len(b) > n {
		s += "…"
	}
	return s
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func hasStatus(err error, codes ...int) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	for _, c := range codes {
		if e.StatusCode == c {
			return true
		}
	}
	return false
}

// IsNotFound reports whether err is a Graph 404 Not Found.
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsPreconditionFailed reports whether err is a Graph 412 Precondition
// Failed: the If-Match ETag is stale; read the object again.
func IsPreconditionFailed(err error) bool { return hasStatus(err, http.StatusPreconditionFailed) }

// IsConflict reports whether err is a Graph 409 Conflict.
func IsConflict(err error) bool { return hasStatus(err, http.StatusConflict) }

// IsForbidden reports whether err is a Graph 403 Forbidden (no access, or a
// Planner limit; see Error.Code).
func IsForbidden(err error) bool { return hasStatus(err, http.StatusForbidden) }

// IsUnauthorized reports whether err is a Graph 401 Unauthorized.
func IsUnauthorized(err error) bool { return hasStatus(err, http.StatusUnauthorized) }

// IsThrottled reports whether err is a Graph 429 Too Many Requests (after the
// client's retries ran out).
func IsThrottled(err error) bool { return hasStatus(err, http.StatusTooManyRequests) }
