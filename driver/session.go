package driver

import (
	"context"
	"errors"
	"iter"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/plannersql/planner/graph"
)

// session carries what one scan or one write transaction shares: the Graph
// client, the configuration, per-statement caches and the versions of objects
// this session wrote.
type session struct {
	cn  *Connector
	g   *graph.Client
	cfg *Config
	st  *connState

	sc *scope          // what the statement (or the run) has read
	bg context.Context // the statement's context: background reads use it, not a cursor's

	mu    sync.Mutex
	etags map[string]*written // object → versions we superseded and the current one
}

// written tracks an object this session wrote: rows read before the write
// carry an older ETag that is ours to replace.
type written struct {
	superseded map[string]bool
	current    string // "" when the write returned no body (refetch before reuse)
}

func (c *Connector) session(st *connState) *session {
	c.mu.Lock()
	g := c.client
	c.mu.Unlock()
	ctx := st.context()
	return &session{cn: c, g: g, cfg: c.cfg, st: st, sc: scopeOf(ctx), bg: ctx}
}

// fresh returns v with its ETag replaced by the one our own earlier write in
// this session produced, so that several rows of one object (checklist items
// of one task, say) can be written in one statement.
func (x *session) fresh(v version) version {
	x.mu.Lock()
	defer x.mu.Unlock()
	if w := x.etags[v.obj]; w != nil && w.superseded[v.etag] && w.current != "" {
		v.etag = w.current
	}
	return v
}

// freshRow is fresh for a row kept for a write.
func (x *session) freshRow(r rowRec) rowRec {
	r.etag = x.fresh(version{r.obj, r.etag}).etag
	return r
}

// stale reports whether v's ETag was superseded by a write of ours whose
// new ETag is unknown (the service answered 204).
func (x *session) stale(v version) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	w := x.etags[v.obj]
	return w != nil && w.superseded[v.etag] && w.current == ""
}

// wrote records that obj moved from version old to version now ("" if
// unknown); what the scope held of obj is now stale.
func (x *session) wrote(obj, old, now string) {
	x.sc.forget(obj)
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.etags == nil {
		x.etags = map[string]*written{}
	}
	v := x.etags[obj]
	if v == nil {
		v = &written{superseded: map[string]bool{}}
		x.etags[obj] = v
	}
	v.superseded[old] = true
	if v.current != "" {
		v.superseded[v.current] = true
	}
	v.current = now
}

// concurrency is the fan-out width for scans; a query with a small LIMIT
// fetches one plan at a time so it stops early.
func (x *session) concurrency(r scanReq) int {
	if r.limit >= 0 && r.limit <= 400 {
		return 1
	}
	return x.cfg.MaxConcurrency
}

// appOnly reports whether the connection signs in as an application.
func (x *session) appOnly() bool { return x.cfg.AuthScheme == AuthAzureServicePrincipal }

// groups yields the groups scans cover: the GroupId property's, or every group
// the account can reach. A group named in GroupId that cannot be read fails
// the scan with an error naming it (see unreadableGroup).
func (x *session) groups(ctx context.Context) iter.Seq2[*graph.Group, error] {
	return func(yield func(*graph.Group, error) bool) {
		if len(x.cfg.GroupIDs) > 0 {
			for _, id := range x.namedGroups() {
				g, err := x.g.Groups.Get(ctx, id)
				if err != nil {
					err = unreadableGroup(id, "reading the group", err)
				} else if err = notUnified(id, g); err != nil {
					g = nil
				}
				if !yield(g, err) || err != nil {
					return
				}
			}
			return
		}
		if x.appOnly() {
			for g, err := range x.appGroups(ctx) {
				if !yield(g, err) || err != nil {
					return
				}
			}
			return
		}
		first := true
		for g, err := range x.memberGroups(ctx) {
			// A token of an application cannot use /me: fall back to every group.
			if err != nil && first && isAppOnlyRefusal(err) {
				for g, err := range x.appGroups(ctx) {
					if !yield(g, err) || err != nil {
						return
					}
				}
				return
			}
			first = false
			if !yield(g, err) || err != nil {
				return
			}
		}
	}
}

// appGroups lists every Microsoft 365 group of the tenant, as an
// application's sign-in discovers them; a refusal names the application
// permission that is missing.
func (x *session) appGroups(ctx context.Context) iter.Seq2[*graph.Group, error] {
	return func(yield func(*graph.Group, error) bool) {
		for g, err := range x.g.Groups.List(ctx) {
			if err != nil {
				err = refusedListing(err, groupsRefused)
			}
			if !yield(g, err) || err != nil {
				return
			}
		}
	}
}

// namedGroups returns the groups GroupId names, each once, in the order
// given (the configuration holds them in Graph's form, so two forms of one
// GUID are one group): a group named twice would give every row of its
// plans twice.
func (x *session) namedGroups() []string {
	var out []string
	for _, id := range x.cfg.GroupIDs {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func isAppOnlyRefusal(err error) bool {
	var ge *graph.Error
	return errors.As(err, &ge) && ge.StatusCode == 400
}

// plans yields every plan scans cover, concurrently across groups, in a
// stable order. The plans of a group named in GroupId are listed without
// reading the group itself (Tasks.Read is enough for them), and a group
// whose plans cannot be read fails the scan with an error naming it.
func (x *session) plans(ctx context.Context, width int) iter.Seq2[*graph.Plan, error] {
	if len(x.cfg.GroupIDs) > 0 {
		named := func(ctx context.Context) iter.Seq2[string, error] {
			return func(yield func(string, error) bool) {
				for _, id := range x.namedGroups() {
					if !yield(id, nil) {
						return
					}
				}
			}
		}
		return fanout(ctx, named, width, 64, func(ctx context.Context, id string) iter.Seq2[*graph.Plan, error] {
			return func(yield func(*graph.Plan, error) bool) {
				for p, err := range x.g.Plans.ListByGroup(ctx, id) {
					if err != nil {
						err = unreadableGroup(id, "listing its plans", err)
					}
					if !yield(p, err) || err != nil {
						return
					}
				}
			}
		})
	}
	if x.cfg.PlanScope == PlanScopeMe {
		return func(yield func(*graph.Plan, error) bool) {
			for p, err := range x.g.Plans.ListMine(ctx) {
				if err != nil {
					err = planScopeMeRefused(err)
				}
				if !yield(p, err) || err != nil {
					return
				}
			}
		}
	}
	// A group gone or refused during the scan is skipped (skipGone); but
	// discovery yields only groups the sign-in reaches (a member's, or any
	// for an application), so when Graph refuses the plans of every one of
	// them, the sign-in lacks a Planner permission: say so rather than
	// return no rows.
	var listed, refused atomic.Int64
	var refusal atomic.Pointer[error]
	all := fanout(ctx, x.allGroups, width, 64, func(ctx context.Context, g *graph.Group) iter.Seq2[*graph.Plan, error] {
		return func(yield func(*graph.Plan, error) bool) {
			for p, err := range x.g.Plans.ListByGroup(ctx, g.ID) {
				if err != nil && graph.IsForbidden(err) {
					refused.Add(1)
					refusal.CompareAndSwap(nil, &err)
					return
				}
				if err != nil && graph.IsNotFound(err) {
					return
				}
				if !yield(p, err) || err != nil {
					return
				}
			}
			listed.Add(1)
		}
	})
	return func(yield func(*graph.Plan, error) bool) {
		for p, err := range all {
			if !yield(p, err) || err != nil {
				return
			}
		}
		if n := refused.Load(); n > 0 && listed.Load() == 0 {
			yield(nil, noPlannerPermission(n, *refusal.Load()))
		}
	}
}

// planIDs yields the ids of the plans scans cover.
func (x *session) planIDs(ctx context.Context, width int) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for p, err := range x.allPlans(ctx, width) {
			id := ""
			if p != nil {
				id = p.ID
			}
			if !yield(id, err) || err != nil {
				return
			}
		}
	}
}

// skipGone ends a listing quietly when its parent is gone or out of reach
// (404 or 403): during a scan a plan or group may vanish, or be one the
// account cannot read, and that must not fail the whole scan.
func skipGone[T any](seq iter.Seq2[T, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for v, err := range seq {
			if err != nil && (graph.IsNotFound(err) || graph.IsForbidden(err)) {
				return
			}
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}

// notFound reports whether a lookup's error means the object is not there:
// a 404, or an id no Graph object can have (which was never sent).
func notFound(err error) bool { return graph.IsNotFound(err) || errors.Is(err, graph.ErrInvalidID) }

// absent reports whether a Planner read's error means the object is not
// there for this account: not found (notFound), or refused (403: a plan,
// bucket or task of a group the signed-in user is not a member of), which
// a scan skips too (skipGone), so a lookup has no row for it either.
//
// An application reaches every group, so for an application's sign-in
// (AuthScheme=AzureServicePrincipal) a 403 is no question of membership but
// a missing permission: the error is the statement's, naming it.
func (x *session) absent(err error) bool {
	return notFound(err) || (graph.IsForbidden(err) && !x.appOnly())
}

// notFoundEmpty turns a 404 or 403 (or an impossible id) of a pushed-down
// listing into no rows, as a scan skips a listing it cannot read.
func notFoundEmpty[T any](x *session, seq iter.Seq2[T, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for v, err := range seq {
			if err != nil && x.absent(err) {
				return
			}
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}
