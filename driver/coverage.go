package driver

import (
	"context"
	"iter"
	"slices"
	"strings"

	"github.com/plannersql/planner/graph"
)

// What scans cover, and the pushdown reads held to it.
//
// A pushdown read (WHERE col = X) must return exactly the rows the table's
// scan returns with col = X: SQL has one table, whatever plan SQLite picks.
// Graph, though, answers a read by id for objects a scan never lists: GET
// /groups/{id} any group of the tenant (a security group, a group the user
// is not a member of), GET /planner/plans/{id} a plan of a group outside the
// GroupId list, /users/{id}/planner/tasks tasks of deleted plans and of
// groups the user has left. So every pushdown read keeps only what the scan
// covers, decided as the scan decides it (session.groups, session.plans):
//
//   - GroupId lists the groups: the groups are those named; the plans those
//     of the named groups.
//   - PlanScope=me: the plans are those /me/planner/plans lists; the groups
//     are those of a signed-in user, as below.
//   - otherwise a signed-in user covers the Microsoft 365 groups they are a
//     member of and the plans of those groups; an application (or an
//     application's token, which /me refuses) every Microsoft 365 group and
//     its plans.
//
// Buckets, tasks and what hangs off them are covered when their plan is;
// what a scan cannot read (403, 404) it skips, and so does a lookup.
//
// The decisions cost as little as the mode allows. Without GroupId or
// PlanScope=me, Graph itself refuses a signed-in user the plans, buckets
// and tasks of groups they are not a member of, so a read through a plan's
// own endpoint that succeeds is covered (403 is no rows) and needs no
// further request; only a plan container that is not a group (a roster) is
// outside, and it is checked where the plan is at hand. With GroupId, the
// plan's group decides (the plan is read once per statement, with the IN
// list's plans in one $batch); with PlanScope=me, the statement's one
// listing of /me/planner/plans decides.

// scanRule is how the connection's scans discover groups and plans.
type scanRule uint8

const (
	byMembership  scanRule = iota // the account's groups (signed-in user or application)
	byGroupID                     // the groups the GroupId property names
	byPlanScopeMe                 // /me/planner/plans (plans); groups as byMembership
)

func (x *session) scanRule() scanRule {
	switch {
	case len(x.cfg.GroupIDs) > 0:
		return byGroupID
	case x.cfg.PlanScope == PlanScopeMe:
		return byPlanScopeMe
	}
	return byMembership
}

// namedGroup reports whether the GroupId property names the group id.
func (x *session) namedGroup(id string) bool {
	return slices.ContainsFunc(x.cfg.GroupIDs, func(g string) bool { return strings.EqualFold(g, id) })
}

// coveredGroup yields the group id when the Groups scan lists it (see
// session.groups), sending nothing for an id no group has: with GroupId, a named group, read as the scan reads it
// (an unreadable one is the scan's error); for an application, a
// Microsoft 365 group (GET /groups/{id}, one request); for a signed-in
// user, one of their Microsoft 365 groups, from the statement's one
// listing of /me/memberOf (which a second lookup replays).
func (x *session) coveredGroup(ctx context.Context, id string) iter.Seq2[*graph.Group, error] {
	return func(yield func(*graph.Group, error) bool) {
		if !isGUID(id) || guidKey(id) != id {
			// Group ids are GUIDs in lower case: no group has this one.
			return
		}
		if gs, listed := replay[graph.Group](x.sc, "groups", "group"); listed {
			for _, g := range gs {
				if g.ID == id {
					yield(g, nil)
					return
				}
			}
			return
		}
		switch {
		case x.scanRule() == byGroupID:
			if !x.namedGroup(id) {
				return
			}
			g, err := x.g.Groups.Get(ctx, id)
			if err != nil {
				yield(nil, unreadableGroup(id, "reading the group", err))
				return
			}
			if err := notUnified(id, g); err != nil {
				yield(nil, err)
				return
			}
			yield(g, nil)
		case x.appOnly():
			for g, err := range x.group(ctx, id) {
				if err != nil {
					yield(nil, err)
					return
				}
				if g.IsUnified() {
					yield(g, nil)
				}
			}
		default:
			// The whole listing (one request for most users), so that the
			// statement's other lookups replay it.
			var found *graph.Group
			for g, err := range x.allGroups(ctx) {
				if err != nil {
					yield(nil, err)
					return
				}
				if g.ID == id {
					found = g
				}
			}
			if found != nil {
				yield(found, nil)
			}
		}
	}
}

// planCovered reports whether scans cover the plan id. read says that the
// caller reads (or read) the plan's objects through the plan's own
// endpoints, where Graph enforces membership: without GroupId or
// PlanScope=me that settles it (what Graph refuses is no rows).
// Otherwise the plan's group (GroupId: the plan is read, from the
// statement's scope when it holds it) or the /me/planner/plans listing
// (PlanScope=me) decides. Decisions are kept in the scope.
func (x *session) planCovered(ctx context.Context, id string, read bool) (bool, error) {
	if ok, known := x.sc.coverage(id); known {
		return ok, nil
	}
	rule := x.scanRule()
	if rule == byMembership && read {
		return true, nil
	}
	var ok bool
	switch rule {
	case byPlanScopeMe:
		for p, err := range x.allPlans(ctx, x.cfg.MaxConcurrency) {
			if err != nil {
				return false, err
			}
			ok = ok || p.ID == id
		}
	default:
		// The plan, with those of the other tasks and buckets the statement
		// holds (an IN list's, a nested loop's) in one $batch.
		if _, held := x.sc.get("plan:" + id); !held {
			if err := x.coverPlans(ctx, append([]string{id}, x.sc.plansUndecided()...)); err != nil {
				return false, err
			}
		}
		for p, err := range x.plan(ctx, id) {
			if err != nil {
				return false, err
			}
			if ok, err = x.planIn(ctx, p); err != nil {
				return false, err
			}
		}
	}
	x.sc.cover(id, ok)
	return ok, nil
}

// planIn reports whether scans cover the plan p, read by id: with GroupId,
// when its group is named; with PlanScope=me, when /me/planner/plans lists
// it; otherwise when it is a group's plan (a roster's plans are not
// discovered through groups).
func (x *session) planIn(ctx context.Context, p *graph.Plan) (bool, error) {
	switch x.scanRule() {
	case byGroupID:
		ok := x.namedGroup(planGroupID(p))
		x.sc.cover(p.ID, ok)
		return ok, nil
	case byPlanScopeMe:
		return x.planCovered(ctx, p.ID, false)
	}
	return planGroupID(p) != "", nil
}

// coverPlans decides, in as few requests as the mode allows, whether scans
// cover each of the plans ids not yet decided: the plans are read 20 per
// $batch (GroupId, and plans a signed-in user's or application's own
// listing did not vouch for), or /me/planner/plans is listed once. One
// plan alone is left to planCovered's GET.
func (x *session) coverPlans(ctx context.Context, ids []string) error {
	var need []string
	for _, id := range ids {
		if _, known := x.sc.coverage(id); known || slices.Contains(need, id) {
			continue
		}
		if _, held := x.sc.get("plan:" + id); held {
			continue
		}
		need = append(need, id)
	}
	if len(need) <= 1 && x.scanRule() != byPlanScopeMe {
		return nil
	}
	if len(need) == 0 {
		return nil
	}
	if x.scanRule() == byPlanScopeMe {
		_, err := x.planCovered(ctx, need[0], false)
		return err
	}
	i := 0
	for p, err := range x.g.Plans.ListByID(ctx, need) {
		id := need[min(i, len(need)-1)]
		i++
		switch {
		case err != nil && x.absent(err):
			x.sc.put("plan:"+id, gone{})
		case err != nil:
			return err
		default:
			x.sc.put("plan:"+id, p)
		}
	}
	return nil
}

// coveredPlan yields the plan id when scans cover it: with PlanScope=me
// from the statement's listing of /me/planner/plans (which also holds
// plans of groups the user is not a member of, that GET refuses);
// otherwise GET /planner/plans/{id}, kept when planIn says so.
func (x *session) coveredPlan(ctx context.Context, id string) iter.Seq2[*graph.Plan, error] {
	return func(yield func(*graph.Plan, error) bool) {
		if x.scanRule() == byPlanScopeMe {
			var found *graph.Plan
			for p, err := range x.allPlans(ctx, x.cfg.MaxConcurrency) {
				if err != nil {
					yield(nil, err)
					return
				}
				if p.ID == id {
					found = p
				}
			}
			if found != nil {
				yield(found, nil)
			}
			return
		}
		for p, err := range x.plan(ctx, id) {
			if err != nil {
				yield(nil, err)
				return
			}
			ok, err := x.planIn(ctx, p)
			if err != nil {
				yield(nil, err)
				return
			}
			if ok {
				yield(p, nil)
			}
		}
	}
}

// coveredPlanWithDetails yields the plan id with its details (see
// planWithDetails) when scans cover the plan.
func (x *session) coveredPlanWithDetails(ctx context.Context, id string) iter.Seq2[*planWithDetails, error] {
	if x.scanRule() == byPlanScopeMe {
		return ifCovered(ctx, x, id, func() iter.Seq2[*planWithDetails, error] { return x.planWithDetails(ctx, id) })
	}
	return func(yield func(*planWithDetails, error) bool) {
		for pd, err := range x.planWithDetails(ctx, id) {
			if err != nil {
				yield(nil, err)
				return
			}
			ok, err := x.planIn(ctx, pd.p)
			if err != nil {
				yield(nil, err)
				return
			}
			if ok {
				yield(pd, nil)
			}
		}
	}
}

// coveredPlansOfGroup yields the plans of the group id that scans cover:
// with GroupId, the plans of a named group (an unreadable one is the scan's
// error, unreadableGroup); with PlanScope=me, those of the group that
// /me/planner/plans lists; otherwise the group's plans (GET
// /groups/{id}/planner/plans; a group the user is not a member of is no
// rows, as in a scan).
func (x *session) coveredPlansOfGroup(ctx context.Context, id string) iter.Seq2[*graph.Plan, error] {
	if !isGUID(id) || guidKey(id) != id {
		// Graph's group ids are lower-case GUIDs: no plan's GroupId is this.
		return func(func(*graph.Plan, error) bool) {}
	}
	switch x.scanRule() {
	case byGroupID:
		if !x.namedGroup(id) {
			return func(func(*graph.Plan, error) bool) {}
		}
		return listed(ctx, x.sc, "plans:group:"+id, "plan", true, planID, func(ctx context.Context) iter.Seq2[*graph.Plan, error] {
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
	case byPlanScopeMe:
		return func(yield func(*graph.Plan, error) bool) {
			for p, err := range x.allPlans(ctx, x.cfg.MaxConcurrency) {
				if err != nil {
					yield(nil, err)
					return
				}
				if planGroupID(p) == id && !yield(p, nil) {
					return
				}
			}
		}
	}
	return x.plansOfGroup(ctx, id)
}

// covered yields the rows of seq whose plan (planOf) scans cover; read is
// planCovered's. Rows of one plan follow one another, so a plan is decided
// once per run of its rows.
func covered[T any](ctx context.Context, x *session, seq iter.Seq2[*T, error], planOf func(*T) string, read bool) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		last, ok := "", false
		for r, err := range seq {
			if err != nil {
				yield(nil, err)
				return
			}
			if p := planOf(r); p != last || last == "" {
				if ok, err = x.planCovered(ctx, p, read); err != nil {
					yield(nil, err)
					return
				}
				last = p
			}
			if ok && !yield(r, nil) {
				return
			}
		}
	}
}

// coveredTasksOfUser yields the tasks of the user's task list (GET
// /users/{id}/planner/tasks) whose plan scans cover: the list also holds
// tasks of deleted plans and of groups the user has left, which no scan
// lists. The plans are decided a page of tasks at a time (coverPlans).
func (x *session) coveredTasksOfUser(ctx context.Context, userID string) iter.Seq2[*graph.Task, error] {
	if !isGUID(userID) || guidKey(userID) != userID {
		// Assignments are keyed by lower-case GUIDs: no row's UserId is
		// this (a user principal name, another form of a GUID).
		return func(func(*graph.Task, error) bool) {}
	}
	if x.sc.userLookup(userID) {
		// The second user a nested loop asks for: the tasks of every plan
		// scans cover, read once for the statement, hold every user's
		// (those of the user's list that scans do not cover are left out
		// below anyway).
		// Read to the end before yielding, so that the listings are whole
		// in the scope (an EXISTS stops at its first row) and the next
		// user's lookup replays them.
		return func(yield func(*graph.Task, error) bool) {
			var mine []*graph.Task
			for t, err := range x.allTasks(ctx, x.concurrency(scanReq{limit: -1})) {
				if err != nil {
					yield(nil, err)
					return
				}
				if _, ok := t.Assignments[userID]; ok {
					mine = append(mine, t)
				}
			}
			for _, t := range mine {
				if !yield(t, nil) {
					return
				}
			}
		}
	}
	return chunked(ctx, x.tasksOfUser(ctx, userID), 400, func(ctx context.Context, ts []*graph.Task) iter.Seq2[*graph.Task, error] {
		return func(yield func(*graph.Task, error) bool) {
			ids := make([]string, len(ts))
			for i, t := range ts {
				ids[i] = t.PlanID
			}
			if err := x.coverPlans(ctx, ids); err != nil {
				yield(nil, err)
				return
			}
			for t, err := range covered(ctx, x, values(ts), func(t *graph.Task) string { return t.PlanID }, false) {
				if !yield(t, err) || err != nil {
					return
				}
			}
		}
	})
}

// ifCovered yields the rows of seq() when scans cover the plan id (see
// planCovered; read is true: seq reads through the plan's own endpoints),
// and nothing, sending no request, when they do not.
func ifCovered[T any](ctx context.Context, x *session, id string, seq func() iter.Seq2[*T, error]) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		ok, err := x.planCovered(ctx, id, true)
		if err != nil {
			yield(nil, err)
			return
		}
		if !ok {
			return
		}
		for r, err := range seq() {
			if !yield(r, err) || err != nil {
				return
			}
		}
	}
}

// values yields the elements of s with no error.
func values[T any](s []*T) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		for _, v := range s {
			if !yield(v, nil) {
				return
			}
		}
	}
}
