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
//	go srv.Serve(l) // srv.URL() is then "http://" + l.Addr().String()
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
// have their own); If-Match required on PATCH and DELETE (missing or stale:
// 412; malformed, or another kind of object's etag: 400); 204 after PATCH, or
// 200 with the object under Prefer: return=representation; 201 after POST;
// PATCH merges, open types merge per key and null deletes a key; @odata.type is
// mandatory on assignment, checklist and reference values; reference keys are
// the URL with % . : @ # percent-encoded; read-only properties, start after due,
// labels beyond category25 and order hints outside the documented grammar are
// 400; order hints "<prev> <next>!" are rewritten to short values that sort
// between the neighbours; Planner's limits answer 403 with their Maximum… codes
// (see Limits); deleting a bucket or plan deletes what it contains; Planner
// ignores $top, $filter, $orderby and $select on its lists. Errors use Graph's
// JSON shape, with Planner's empty "code", and every response carries
// request-id and client-request-id headers.
//
// Lists are paged (400 items by default) with an absolute @odata.nextLink
// carrying an opaque $skiptoken; follow it verbatim. Items keep their creation
// order, so paging stays consistent while objects are added or deleted.
//
// Access: delegated tokens reach the plans of groups the user is a member of
// (403 otherwise) and need Tasks.Read/Tasks.ReadWrite (or Group.*) for Planner
// and User.Read for /me; app-only tokens reach every group but /me answers 400.
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
//   - Any stale If-Match is 412 (Planner may accept an older etag when the
//     change does not conflict; the emulator is strict). If-Match: * is 400.
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
