// Package graph is a client for the Microsoft Graph v1.0 Planner API and the
// few directory endpoints Planner needs (groups and users).
//
// A Client holds one service per resource (Groups, Users, Plans, Buckets,
// Tasks) and a $batch method. Every request goes through one transport layer
// that adds the bearer token, bounds concurrency, applies an optional rate
// limit, retries throttled and failed requests, turns error responses into
// *Error and reports each HTTP attempt to an optional hook.
//
// Lists are iterators (iter.Seq2[*T, error]) that follow @odata.nextLink
// verbatim until it is absent; breaking out of the loop stops fetching.
// Writes send the ETag they are given in If-Match, exactly, and ask for the
// written object with Prefer: return=representation; an Update returns
// (nil, nil) when the service answered 204 No Content.
//
// # Retries
//
// A Retry-After header (whole or fractional seconds, or an HTTP date) is
// honoured up to RetryPolicy.MaxRetryAfter (5 minutes): a response asking for
// a longer wait is not retried, and fails at once with a *RetryAfterError
// saying how long the service asked to wait. Otherwise the delay is a capped exponential backoff with full
// jitter (RetryPolicy). What is sent again depends on whether repeating the
// request could apply it twice:
//
//   - GET, and a $batch made only of GETs, are repeated after 429, 500, 502,
//     503 and 504, after a connection that is refused, reset or closed before
//     the whole response, and after a 2xx body that ends early (its JSON stops
//     short).
//   - PATCH and DELETE carrying If-Match (a repeat of an applied write answers
//     412) are repeated after 429, 503, 504 and a broken connection, not after
//     500 or 502.
//   - A POST is repeated only when the service said it did not process it —
//     a 503 carrying Retry-After, or a 429 that carries one — or when the
//     connection failed before the request was written.
//
// Items of a $batch that fail this way are not sent again one $batch call
// at a time: the client gathers the failed items of all its $batch calls
// made meanwhile (every listing, every caller) and sends them again
// together, 20 a call, after one shared wait — a backoff, or the
// Retry-After of throttled items, which are never sent before it ends.
// With 3 % of items failing, reading the details of 4,000 tasks costs its
// 200 calls plus about ceil(120/20) more, not one more per call that had a
// failed item. Reads and writes are never sent again in the same call, and
// items linked by DependsOn are sent again in a call of their own. A 401 is
// retried once with a token fetched again from the token source. Every wait
// respects the context. An error returned after retries says how many there
// were.
//
// # Graph unreachable
//
// The client counts failed attempts (no answer, or 500/502/503/504) in a row
// across all its requests. After BreakerPolicy.Failures of them over at least
// MinSpan — or, whatever their span, once a request has failed on every
// attempt its retries allow — it declares Graph unreachable: the request
// fails with an
// *UnreachableError (errors.Is ErrUnreachable), and so does every request of
// the client for Cooldown, without being sent; then one request probes. A
// run of many statements over one client (one connector of the driver) thus
// stops after a bounded number of requests instead of retrying each one.
//
// # Where the token goes
//
// The access token is only ever sent to the base URL's origin (scheme, host
// and port). A redirect or an @odata.nextLink to anywhere else fails with an
// *OriginError naming the host, and nothing is sent there.
package graph
