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
// Responses 429, 503 and 504 are retried. A Retry-After header (whole or
// fractional seconds, or an HTTP date) is honoured; otherwise the delay is a
// capped exponential backoff with full jitter. GET, and PATCH and DELETE
// carrying If-Match, are safe to repeat (a repeated conditional write that was
// applied answers 412), so they are also retried after a dropped connection or
// a truncated body. A POST is retried only when the service said it did not
// process it: a 429, or a 503 carrying Retry-After, or when the connection
// failed before the request was written. A $batch made only of safe requests
// is treated like a GET. A 401 is retried once with a token fetched again from
// the token source. Every wait respects the context.
package graph
