// Package graphtest is a stateful emulator of Microsoft Graph's Planner
// endpoints and of the Microsoft identity platform's OAuth 2.0 endpoints. It
// stands in for Microsoft's service in tests, benchmarks and the CLI's
// sandbox, so it behaves like the service rather than like any client.
//
// # Using it in tests
//
//	func TestSomething(t *testing.T) {
//		srv := graphtest.NewServer(t) // the demo tenant; closed by t.Cleanup
//		req, _ := http.NewRequest("GET", srv.GraphURL()+"/me/planner/tasks", nil)
//		req.Header.Set("Authorization", "Bearer "+srv.Token())
//		res, err := http.DefaultClient.Do(req)
//		// ...
//		if n := srv.Count("GET /me/planner/tasks"); n != 1 { /* ... */ }
//	}
//
// A larger, deterministic tenant and some faults:
//
//	srv := graphtest.NewServer(t,
//		graphtest.WithGenerated(graphtest.GenSpec{Seed: 1, Plans: 100, TasksPerPlan: 1000}),
//		graphtest.WithPageSize(400))
//	srv.Throttle(graphtest.Throttle{Match: "/details", EveryN: 5, RetryAfter: "1"})
//	srv.FailNext(2, 503, "/planner/plans/")
//	srv.Inject(graphtest.Fault{Kind: graphtest.FaultStatus, Status: 502, Fraction: 0.01})
//	srv.Inject(graphtest.Fault{Kind: graphtest.FaultTruncate, Fraction: 0.01})
//	srv.SetOutage(graphtest.OutageRefused) // Graph down: connections refused
//
// For `planner sandbox serve`, build it with New and serve it on a listener:
//
//	srv, err := graphtest.New()
//	l, err := net.Listen("tcp", "127.0.0.1:0")
//	done, err := srv.Start(l) // returns once srv.URL() is "http://" + l.Addr().String()
//
// # Graph (under /v1.0)
//
// /me, /me/memberOf, /users, /users/{id|upn}, /users/{id}/memberOf, /groups
// ($filter=groupTypes/any(c:c eq 'Unified'), $select, $top), /groups/{id},
// /groups/{id}/planner/plans, /me/planner/plans and /users/{id}/planner/plans
// (plans whose details' sharedWith names the user), /me/planner/tasks and
// /users/{id}/planner/tasks (assigned tasks), /planner/plans (POST; GET only
// with $filter=owner eq '{groupId}'), /planner/plans/{id} (GET PATCH DELETE)
// and its /details (GET PATCH), /buckets and /tasks, /planner/buckets (POST),
// /planner/buckets/{id} (GET PATCH DELETE) and its /tasks, /planner/tasks
// (POST), /planner/tasks/{id} (GET PATCH DELETE) and its /details,
// /bucketTaskBoardFormat, /progressTaskBoardFormat and
// /assignedToTaskBoardFormat (GET PATCH), and /$batch.
//
// The service's rules are enforced: server-generated 28-character ids (GUIDs
// for users and groups); a new W/"…" etag on every write of an object
// (ordinal-greater is newer; a task, its details and its board formats each
// have their own); If-Match required on PATCH and DELETE, and judged as the
// Planner overview says ("Planner allows changes to older versions of
// resources, if the intended change does not conflict with newer changes"):
// the current etag or an older one whose write touches nothing changed since
// (another property, another key of an open type such as assignments or
// checklist) is applied; an older one whose write touches what changed
// since, or a DELETE after any change, is 409 Conflict; a missing etag, or
// one that is not a recent version of the object (the last 64 are kept), or
// another kind of object's (a task's sent for its details: 412
// ErrorPreconditionFailed "The If-Match header contains an invalid value.",
// as the service answers now), is 412; a malformed etag is 400; 204 after
// PATCH, or 200 with the object under Prefer: return=representation; 201
// after POST;
// PATCH merges, open types merge per key and null deletes a key; @odata.type is
// mandatory on assignment, checklist and reference values; new reference keys
// are the URL with % . : @ # percent-encoded and new checklist keys GUIDs,
// while keys are stored exactly as sent and an existing key (see Seeding)
// can always be updated or removed; read-only properties, start after due,
// labels beyond category25 and order hints outside the documented grammar are
// 400; order hints "<prev> <next>!" are rewritten to short values that sort
// between the neighbours; Planner's limits answer 403 with their Maximum… codes
// (see Limits); deleting a bucket or plan deletes what it contains; Planner
// ignores $top, $filter, $orderby and $select on its lists; plans carry
// container and not the deprecated owner, as v1.0 returns them. Errors use
// Graph's JSON shape and every response carries request-id and
// client-request-id headers.
//
// $batch takes up to 20 requests with unique (case-insensitive) ids and
// answers them in another order than sent. dependsOn follows what Graph
// enforces beyond its documentation: a batch is fully parallel (no
// dependsOn) or fully sequential (each request after the first depends on
// the one before it), else 400 "Batch should be either fully sequential or
// fully parallel"; a dependsOn naming a later request is 400 "Invalid
// dependency for request Id"; a request whose dependency failed is 424.
//
// Lists are paged (400 items by default) with an absolute @odata.nextLink
// carrying an opaque $skiptoken; follow it verbatim. Items keep their creation
// order, so paging stays consistent while objects are added or deleted.
//
// Access: delegated tokens reach the plans of groups the user is a member of
// (403 otherwise) and need Tasks.Read/Tasks.ReadWrite (or Group.*) for Planner
// and User.Read for /me; app-only tokens reach every group but /me answers 400.
// What a token may read follows its scopes (TokenFor issues one with exactly
// the scopes given, and the OAuth endpoints issue the scopes requested): with
// least-privilege scopes such as "User.Read Tasks.ReadWrite", without
// Group.Read.All, GroupMember.Read.All or Directory.Read.All, /me/memberOf and
// /users/{id}/memberOf list groups with @odata.type and id only and every
// other property null (groupTypes too), as Graph returns "limited
// information for inaccessible member objects"; directory roles likewise
// without Directory.Read.All, and administrative units (the tenants have
// one, with the signed-in user) without AdministrativeUnit.Read.All or
// Directory.Read.All. GET /groups/{id} needs one of those
// permissions (403 Authorization_RequestDenied); a group that does not exist
// (or was deleted, see DeleteGroup) is 404 Request_ResourceNotFound, and its
// /planner/plans 404; a group the user is not a member of is readable with
// them, but its plans, and each plan, bucket and task in them, answer 403.
//
// # What real tenants do
//
// Beyond the documented happy path, the emulator reproduces what clients of
// real tenants meet (the points of the project's issue 12):
//
//   - Least-privilege sign-ins: a token without Group.Read.All,
//     GroupMember.Read.All or Directory.Read.All (TokenFor(me, "User.Read",
//     "Tasks.ReadWrite"), or the OAuth endpoints asked for those scopes) gets
//     /me/memberOf groups with id and @odata.type only (see Access).
//   - Groups a client names but cannot read: a group the user is not a
//     member of (the demo tenant has one; GenSpec.HiddenPlans) answers 403
//     for its plans; DeleteGroup makes a group and its plans 404.
//   - Tasks of deleted plans in users' task lists: WithTasksOfDeletedPlans.
//   - Limits: WithLimits with small values reaches each Maximum… code,
//     MaximumActiveTasksInProject (tasks not completed) as well as
//     MaximumTasksInProject and the per-user limits (see Limits).
//   - $batch dependsOn that is neither fully parallel nor fully sequential,
//     or that names a later request: always refused, as Graph does.
//   - Checklist order hints " !", " !!", " ! !" refused as reported:
//     WithStrictChecklistOrderHints.
//   - Writes with an older etag: applied, or 409 when they conflict (always;
//     see the rules above); another kind of object's etag (a task's for its
//     details) 412 ErrorPreconditionFailed.
//   - Directory objects that are no group in /memberOf: a directory role
//     and an administrative unit, limited like groups (see Access).
//   - Values other clients wrote (reference keys beyond the documented
//     encoding, non-GUID checklist keys, any fractional digits, objects
//     written by an application alone): see Seeding; the demo tenant and
//     awkward generated tenants (GenSpec.Awkward) contain some.
//
// # Seeding
//
// The service stores what its clients send, and other clients (older apps,
// scripts, the Planner apps themselves) leave values that the documented
// rules of the API refuse from a Graph client: reference keys with more than
// % . : @ # encoded (e.g. "Shared%20Documents") or none at all, checklist
// keys that are not GUIDs ("20886"), date-times with any number of
// fractional digits, objects written by an application alone. SeedReference,
// SeedChecklistItem and SeedTask store such values verbatim, never
// normalising a key, and give the object a new etag as the other client's
// write did; DeleteGroup deletes a group with its plans.
//
// # Identity platform (under /{tenant}/oauth2/v2.0/)
//
// {tenant} is TenantID(), Domain(), "organizations" or "common". authorize
// (response_type=code, PKCE S256 required, loopback redirect URIs on any port,
// state echoed, the test user signed in without a prompt, or the user named by
// login_hint), token (authorization_code with code_verifier,
// refresh_token, device_code, client_credentials) and devicecode, with the
// identity platform's error JSON (error, error_description "AADSTSnnnnn: …",
// error_codes, timestamp, trace_id, correlation_id). /devicelogin is a small
// verification page for people trying the sandbox in a browser.
//
// Decisions where Microsoft's documentation is silent:
//   - Every error names a code. Planner often sends an empty "code"; the
//     emulator sends one of Graph's documented basic codes instead
//     (invalidRequest, accessDenied, itemNotFound, resourceModified, …), or
//     Planner's Maximum… codes for limits.
//   - Refresh tokens rotate by default: a used refresh token is rejected
//     (invalid_grant, AADSTS70008) unless reused within WithRefreshTokenGrace
//     (default 0). Idle refresh tokens expire after 90 days (AADSTS700082);
//     RevokeRefreshTokens revokes all (AADSTS50173).
//   - invalid_client answers HTTP 401, as the identity platform does; other
//     errors answer 400.
//   - Device codes answer authorization_pending for the first two polls and are
//     then approved for the test user (or at once with ApproveDeviceCode);
//     polling within three quarters of the interval answers slow_down.
//   - Delegated tokens always include User.Read (consented by default); the
//     public client's ".default" means User.Read, Tasks.ReadWrite and
//     GroupMember.Read.All.
//   - A write with an older etag conflicts when it names a property (or an
//     open type's key) that changed since; a DELETE conflicts with any change
//     but the service's own (a task's counts following its details). Writes
//     to the whole of an open type (null) conflict with a change of any of
//     its keys. If-Match: * is 400.
//   - Changing a task's or bucket's planId is 400; new tasks without an
//     orderHint go to the top of the plan, new buckets to the end.
//   - Faults: a match is a substring of the request path; an empty match covers
//     every Graph request. Throttle, FailNext and Inject with FaultStatus
//     (500, 502, 503, 504…) apply to $batch sub-requests and spare the
//     envelope unless their match is in its path; drops, resets and
//     truncations (DropNext, TruncateNext, Inject with FaultDrop, FaultReset,
//     FaultTruncate or FaultTruncateUnsized) apply to top-level requests.
//     A rule fires on every EveryN-th matching request, on a seeded Fraction of
//     them, or on each one when neither is set, until Count. Rules with a
//     non-empty match also reach the identity endpoints (a status answers
//     temporarily_unavailable there); Throttle is for Graph only. SetOutage
//     takes the whole service down: every Graph request answering 503, or its
//     connection closed or reset, or — OutageRefused — the listener closed so
//     that connections are refused. Latency is added once per HTTP request,
//     identity included.
package graphtest
