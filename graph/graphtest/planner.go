package graphtest

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

type taskPart int

const (
	partDetails taskPart = iota
	partBucketBoard
	partProgressBoard
	partAssignedBoard
)

// ---- access ----

func (c *call) needRead() *gResp {
	if !c.who.can(permPlannerRead) {
		return c.forbidden()
	}
	return nil
}

func (c *call) needWrite() *gResp {
	if !c.who.can(permPlannerWrite) {
		return c.forbidden()
	}
	return nil
}

// member reports whether the caller may reach a group's plans: applications
// reach every group, users only the groups they are members of.
func (c *call) member(g *group) bool { return c.who.app || g.members[c.who.userID] }

// findPlan resolves a plan id for the caller (the caller holds s.mu).
func (c *call) findPlan(id string) (*plan, *gResp) {
	if !validPlannerID(id) {
		return nil, c.badID()
	}
	p := c.s.plans[id]
	if p == nil {
		return nil, c.notFound()
	}
	if !c.member(p.group) {
		return nil, c.forbidden()
	}
	return p, nil
}

func (c *call) findBucket(id string) (*bucket, *gResp) {
	if !validPlannerID(id) {
		return nil, c.badID()
	}
	b := c.s.buckets[id]
	if b == nil {
		return nil, c.notFound()
	}
	if !c.member(b.plan.group) {
		return nil, c.forbidden()
	}
	return b, nil
}

func (c *call) findTask(id string) (*task, *gResp) {
	if !validPlannerID(id) {
		return nil, c.badID()
	}
	t := c.s.tasks[id]
	if t == nil {
		return nil, c.notFound()
	}
	if !c.member(t.plan.group) {
		return nil, c.forbidden()
	}
	return t, nil
}

func (c *call) wantRepresentation() bool {
	for _, v := range c.req.header.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "return=representation") {
				return true
			}
		}
	}
	return false
}

// written answers a successful PATCH: 204, or 200 with the object when the
// client prefers return=representation.
func (c *call) written(render func(e *enc)) *gResp {
	if !c.wantRepresentation() {
		r := c.noContent()
		return r
	}
	e := &enc{}
	render(e)
	r := c.ok(http.StatusOK, e.b)
	r.header.Set("Preference-Applied", "return=representation")
	return r
}

func (c *call) invalid(err *badRequest) *gResp {
	code := err.code
	if code == "" {
		code = plannerCode(err.status)
	}
	return c.fail(err.status, code, err.msg)
}

// required returns body[key] as a string, or the service's 400 when it is
// missing, null or not a string; what names the object being created.
func (c *call) required(body map[string]rawJSON, key, what string) (string, *gResp) {
	v, ok := body[key]
	if !ok || isNull(v) {
		return "", c.pfail(http.StatusBadRequest, fmt.Sprintf("The property '%s' is required to create %s.", key, what))
	}
	s, err := reqString(key, v)
	if err != nil {
		return "", c.invalid(err)
	}
	return s, nil
}

func (c *call) expandDetails() (bool, *gResp) {
	v := c.q.Get("$expand")
	if v == "" {
		return false, nil
	}
	for _, f := range strings.Split(v, ",") {
		if strings.TrimSpace(f) == "details" {
			return true, nil
		}
	}
	return false, nil
}

// ---- plans ----

func (c *call) getPlan(id string) *gResp {
	if r := c.needRead(); r != nil {
		return r
	}
	s := c.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, r := c.findPlan(id)
	if r != nil {
		return r
	}
	e := &enc{}
	renderPlan(e, p, c.metadata("planner/plans/$entity"))
	return c.ok(http.StatusOK, e.b)
}

func (c *call) createPlan() *gResp {
	if r := c.needWrite(); r != nil {
		return r
	}
	body, r := c.readJSONObject()
	if r != nil {
		return r
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()

	title, r := c.required(body, "title", "a plan")
	if r != nil {
		return r
	}
	groupID := ""
	if v, ok := body["container"]; ok && !isNull(v) {
		m, ok := asObject(v)
		if !ok {
			return c.pfail(http.StatusBadRequest, "The value of 'container' must be a plannerPlanContainer object.")
		}
		if cv, ok := m["containerId"]; ok && !isNull(cv) {
			groupID, _ = asString(cv)
			if tv, ok := m["type"]; ok {
				typ, _ := asString(tv)
				if typ != "group" {
					return c.pfail(http.StatusBadRequest, fmt.Sprintf("The container type '%s' is not supported: use 'group'.", typ))
				}
			} else {
				return c.pfail(http.StatusBadRequest, "The container needs a 'type' with its 'containerId'.")
			}
		}
		if uv, ok := m["url"]; ok && !isNull(uv) {
			u, _ := asString(uv)
			gid := ""
			for _, prefix := range []string{"https://graph.microsoft.com/v1.0/groups/", "https://graph.microsoft.com/beta/groups/"} {
				if strings.HasPrefix(strings.ToLower(u), prefix) {
					gid = u[len(prefix):]
				}
			}
			if gid == "" || (groupID != "" && !strings.EqualFold(gid, groupID)) {
				return c.pfail(http.StatusBadRequest, fmt.Sprintf("The container url '%s' is not a group's canonical URL.", u))
			}
			groupID = gid
		}
	} else if v, ok := body["owner"]; ok && !isNull(v) {
		groupID, _ = asString(v)
	}
	if groupID == "" {
		return c.pfail(http.StatusBadRequest, "The property 'container' is required to create a plan.")
	}
	for _, k := range sortedKeys(body) {
		switch k {
		case "id", "createdBy", "createdDateTime":
			return c.invalid(readOnly(k))
		}
	}
	if !validGUID(groupID) {
		return c.pfail(http.StatusBadRequest, fmt.Sprintf("The container id '%s' is not a group id.", groupID))
	}
	g := s.groupsByID[strings.ToLower(groupID)]
	if g == nil {
		return c.notFound()
	}
	if !g.unified {
		return c.pfail(http.StatusBadRequest, "The container must be a Microsoft 365 group: security groups cannot contain plans.")
	}
	if !c.member(g) {
		return c.forbidden()
	}
	if len(g.plans) >= s.cfg.limits.PlansPerGroup {
		return c.fail(http.StatusForbidden, "MaximumProjectsOwnedByUser", fmt.Sprintf("The group already contains %d plans.", len(g.plans)))
	}
	p := &plan{
		seq: s.nextSeq(), id: s.newPlannerID(), title: title, group: g,
		createdBy: c.who.actor(), created: s.nowStamp(),
		etag: s.nextVersion(), detailsEtag: s.nextVersion(),
	}
	if !c.who.app {
		p.sharedWith = []string{c.who.userID}
	}
	s.addPlan(p)
	e := &enc{}
	renderPlan(e, p, c.metadata("planner/plans/$entity"))
	return c.ok(http.StatusCreated, e.b)
}

func (s *Server) addPlan(p *plan) {
	s.plans[p.id] = p
	s.planList = append(s.planList, p)
	p.group.plans = append(p.group.plans, p)
}

func (c *call) patchPlan(id string) *gResp {
	if r := c.needWrite(); r != nil {
		return r
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	p, r := c.findPlan(id)
	if r != nil {
		return r
	}
	read, r := c.ifMatch(kindPlan, p.id, p.etag)
	if r != nil {
		return r
	}
	body, r := c.readJSONObject()
	if r != nil {
		return r
	}
	paths := changePaths(body)
	if r := c.conflict(kindPlan, p.id, read, p.etag, paths); r != nil {
		return r
	}
	title := p.title
	for _, k := range sortedKeys(body) {
		v := body[k]
		if annotation(k) {
			continue
		}
		switch k {
		case "title":
			if isNull(v) {
				return c.pfail(http.StatusBadRequest, "The property 'title' cannot be null.")
			}
			t, err := reqString(k, v)
			if err != nil {
				return c.invalid(err)
			}
			title = t
		case "id":
			if str, ok := asString(v); !ok || str != p.id {
				return c.invalid(readOnly(k))
			}
		case "owner", "container", "createdBy", "createdDateTime":
			return c.pfail(http.StatusBadRequest, fmt.Sprintf("The property '%s' is set when the plan is created and cannot be updated.", k))
		}
	}
	p.title = title
	prev := p.etag
	p.etag = s.nextVersion()
	s.recordChange(kindPlan, p.id, prev, p.etag, paths)
	return c.written(func(e *enc) { renderPlan(e, p, c.metadata("planner/plans/$entity")) })
}

func (c *call) deletePlan(id string) *gResp {
	if r := c.needWrite(); r != nil {
		return r
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	p, r := c.findPlan(id)
	if r != nil {
		return r
	}
	read, r := c.ifMatch(kindPlan, p.id, p.etag)
	if r != nil {
		return r
	}
	if r := c.conflict(kindPlan, p.id, read, p.etag, everything); r != nil {
		return r
	}
	s.removePlan(p)
	return c.noContent()
}

func (s *Server) removePlan(p *plan) {
	s.forget(p.id, kindPlan, kindPlanDetails)
	for _, b := range p.buckets {
		s.forget(b.id, kindBucket)
	}
	for _, t := range p.tasks {
		s.forgetTaskHistory(t)
		t.deleted = true
		delete(s.tasks, t.id)
		if s.cfg.keepDeletedPlanTasks {
			// Users' task lists keep it (see WithTasksOfDeletedPlans).
			t.orphaned = true
			s.orphans++
		}
	}
	if len(p.tasks) > 0 && !s.cfg.keepDeletedPlanTasks {
		kept := s.taskList[:0]
		for _, t := range s.taskList {
			if !t.deleted {
				kept = append(kept, t)
			}
		}
		clear(s.taskList[len(kept):])
		s.taskList = kept
	}
	for _, b := range p.buckets {
		b.deleted = true
		delete(s.buckets, b.id)
	}
	p.deleted = true
	delete(s.plans, p.id)
	s.planList = removeBySeq(s.planList, p.seq, func(x *plan) uint64 { return x.seq })
	g := p.group
	for i, gp := range g.plans {
		if gp == p {
			g.plans = removeAt(g.plans, i)
			break
		}
	}
	p.tasks, p.buckets = nil, nil
}

func removeBySeq[T any](s []T, seq uint64, key func(T) uint64) []T {
	i := sort.Search(len(s), func(i int) bool { return key(s[i]) >= seq })
	if i < len(s) && key(s[i]) == seq {
		return removeAt(s, i)
	}
	return s
}

func (c *call) getPlanDetails(id string) *gResp {
	if r := c.needRead(); r != nil {
		return r
	}
	s := c.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, r := c.findPlan(id)
	if r != nil {
		return r
	}
	e := &enc{}
	renderPlanDetails(e, p, c.metadata("planner/plans('"+p.id+"')/details/$entity"))
	return c.ok(http.StatusOK, e.b)
}

func (c *call) patchPlanDetails(id string) *gResp {
	if r := c.needWrite(); r != nil {
		return r
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	p, r := c.findPlan(id)
	if r != nil {
		return r
	}
	read, r := c.ifMatch(kindPlanDetails, p.id, p.detailsEtag)
	if r != nil {
		return r
	}
	body, r := c.readJSONObject()
	if r != nil {
		return r
	}
	paths := changePaths(body)
	if r := c.conflict(kindPlanDetails, p.id, read, p.detailsEtag, paths); r != nil {
		return r
	}
	shared := append([]string(nil), p.sharedWith...)
	cats, catSet := p.categories, p.catSet
	for _, k := range sortedKeys(body) {
		v := body[k]
		if annotation(k) {
			continue
		}
		switch k {
		case "sharedWith":
			if isNull(v) {
				shared = nil
				continue
			}
			m, ok := asObject(v)
			if !ok {
				return c.pfail(http.StatusBadRequest, "The value of 'sharedWith' must be an object such as {\"<userId>\": true}.")
			}
			for _, uid := range sortedKeys(m) {
				if annotation(uid) {
					continue
				}
				if !validGUID(uid) {
					return c.pfail(http.StatusBadRequest, fmt.Sprintf("The sharedWith key '%s' is not a user id.", uid))
				}
				uv := m[uid]
				on := false
				if !isNull(uv) {
					b, ok := asBool(uv)
					if !ok {
						return c.pfail(http.StatusBadRequest, fmt.Sprintf("The value of sharedWith.%s must be true, false or null.", uid))
					}
					on = b
				}
				if on {
					shared = sortedInsertString(shared, strings.ToLower(uid))
				} else {
					shared = sortedRemoveString(shared, strings.ToLower(uid))
				}
			}
		case "categoryDescriptions":
			if isNull(v) {
				cats, catSet = [25]string{}, 0
				continue
			}
			m, ok := asObject(v)
			if !ok {
				return c.pfail(http.StatusBadRequest, "The value of 'categoryDescriptions' must be an object such as {\"category1\": \"Name\"}.")
			}
			for _, ck := range sortedKeys(m) {
				if annotation(ck) {
					continue
				}
				i, ok := categoryIndex(ck)
				if !ok {
					return c.pfail(http.StatusBadRequest, fmt.Sprintf("'%s' is not a category: use category1 … category25.", ck))
				}
				str, null, err := optString(ck, m[ck])
				if err != nil {
					return c.invalid(err)
				}
				if null {
					cats[i], catSet = "", catSet&^(1<<i)
				} else {
					cats[i], catSet = str, catSet|1<<i
				}
			}
		case "id":
			if str, ok := asString(v); !ok || str != p.id {
				return c.invalid(readOnly(k))
			}
		}
	}
	if len(shared) > max(s.cfg.limits.UsersSharedWithPlan, len(p.sharedWith)) { // only what a write adds
		return c.fail(http.StatusForbidden, "MaximumUsersSharedWithProject", fmt.Sprintf("The plan is shared with more than %d users.", s.cfg.limits.UsersSharedWithPlan))
	}
	p.sharedWith, p.categories, p.catSet = shared, cats, catSet
	prev := p.detailsEtag
	p.detailsEtag = s.nextVersion()
	s.recordChange(kindPlanDetails, p.id, prev, p.detailsEtag, paths)
	return c.written(func(e *enc) {
		renderPlanDetails(e, p, c.metadata("planner/plans('"+p.id+"')/details/$entity"))
	})
}

func (c *call) listPlanBuckets(id string) *gResp {
	if r := c.needRead(); r != nil {
		return r
	}
	s := c.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, r := c.findPlan(id)
	if r != nil {
		return r
	}
	return c.page(c.metadata("planner/plans('"+p.id+"')/buckets"), c.plannerPageSize(), lister{
		n:      len(p.buckets),
		key:    func(i int) uint64 { return p.buckets[i].seq },
		render: func(e *enc, i int) { renderBucket(e, p.buckets[i], "") },
	})
}

func (c *call) listPlanTasks(id string) *gResp {
	if r := c.needRead(); r != nil {
		return r
	}
	s := c.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, r := c.findPlan(id)
	if r != nil {
		return r
	}
	// $expand=details is reported not to work on plan task lists: ignored.
	return c.page(c.metadata("planner/plans('"+p.id+"')/tasks"), c.plannerPageSize(), lister{
		n:      len(p.tasks),
		key:    func(i int) uint64 { return p.tasks[i].seq },
		render: func(e *enc, i int) { renderTask(e, p.tasks[i], "", false) },
	})
}

func (c *call) listGroupPlans(gid string) *gResp {
	c.planner = true
	if r := c.needRead(); r != nil {
		return r
	}
	s := c.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !validGUID(gid) {
		return c.pfail(http.StatusBadRequest, fmt.Sprintf("The group id '%s' is not valid.", gid))
	}
	g := s.groupsByID[strings.ToLower(gid)]
	if g == nil {
		return c.notFound()
	}
	if !c.member(g) {
		return c.forbidden()
	}
	return c.page(c.metadata("Collection(microsoft.graph.plannerPlan)"), c.plannerPageSize(), lister{
		n:      len(g.plans),
		key:    func(i int) uint64 { return g.plans[i].seq },
		render: func(e *enc, i int) { renderPlan(e, g.plans[i], "") },
	})
}

// ---- /me and /users/{id} planner lists ----

func (c *call) plannerUser(id string) (*user, *gResp) {
	if !validGUID(id) && !strings.Contains(id, "@") {
		return nil, c.pfail(http.StatusBadRequest, fmt.Sprintf("The user id '%s' is not valid.", id))
	}
	u := c.s.usersByID[strings.ToLower(id)]
	if u == nil {
		u = c.s.usersByUPN[strings.ToLower(id)]
	}
	if u == nil {
		return nil, c.notFound()
	}
	return u, nil
}

func (c *call) userPlans(id string) *gResp {
	if r := c.needRead(); r != nil {
		return r
	}
	if c.who.app {
		// No application permission exists for plans shared with a user.
		return c.forbidden()
	}
	s := c.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, r := c.plannerUser(id)
	if r != nil {
		return r
	}
	self := u.id == c.who.userID
	return c.page(c.metadata("Collection(microsoft.graph.plannerPlan)"), c.plannerPageSize(), lister{
		n:   len(s.planList),
		key: func(i int) uint64 { return s.planList[i].seq },
		match: func(i int) bool {
			p := s.planList[i]
			i2 := sort.SearchStrings(p.sharedWith, u.id)
			if i2 >= len(p.sharedWith) || p.sharedWith[i2] != u.id {
				return false
			}
			return self || c.member(p.group)
		},
		render: func(e *enc, i int) { renderPlan(e, s.planList[i], "") },
	})
}

func (c *call) userTasks(id string) *gResp {
	if r := c.needRead(); r != nil {
		return r
	}
	expand, r := c.expandDetails()
	if r != nil {
		return r
	}
	s := c.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, r := c.plannerUser(id)
	if r != nil {
		return r
	}
	self := !c.who.app && u.id == c.who.userID
	return c.page(c.metadata("Collection(microsoft.graph.plannerTask)"), c.plannerPageSize(), lister{
		n:   len(s.taskList),
		key: func(i int) uint64 { return s.taskList[i].seq },
		match: func(i int) bool {
			t := s.taskList[i]
			return t.assigned(u.id) && (self || c.member(t.plan.group)) && (!t.deleted || t.orphaned)
		},
		render: func(e *enc, i int) { renderTask(e, s.taskList[i], "", expand) },
	})
}

// ---- buckets ----

func (c *call) getBucket(id string) *gResp {
	if r := c.needRead(); r != nil {
		return r
	}
	s := c.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, r := c.findBucket(id)
	if r != nil {
		return r
	}
	e := &enc{}
	renderBucket(e, b, c.metadata("planner/buckets/$entity"))
	return c.ok(http.StatusOK, e.b)
}

func (c *call) createBucket() *gResp {
	if r := c.needWrite(); r != nil {
		return r
	}
	body, r := c.readJSONObject()
	if r != nil {
		return r
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	name, r := c.required(body, "name", "a bucket")
	if r != nil {
		return r
	}
	pid, r := c.required(body, "planId", "a bucket")
	if r != nil {
		return r
	}
	p, r := c.findPlan(pid)
	if r != nil {
		return r
	}
	for _, k := range sortedKeys(body) {
		switch k {
		case "id":
			return c.invalid(readOnly(k))
		}
	}
	if len(p.buckets) >= s.cfg.limits.BucketsPerPlan {
		return c.fail(http.StatusForbidden, "MaximumBucketsInProject", fmt.Sprintf("The plan already has %d buckets.", len(p.buckets)))
	}
	hint := ""
	if v, ok := body["orderHint"]; ok && !isNull(v) {
		h, err := hintValue("orderHint", v)
		if err != nil {
			return c.invalid(err)
		}
		hint = h
	} else {
		last := ""
		for _, b := range p.buckets {
			if b.orderHint > last {
				last = b.orderHint
			}
		}
		hint = hintAfter(last)
	}
	b := &bucket{seq: s.nextSeq(), id: s.newPlannerID(), name: name, orderHint: hint, plan: p, etag: s.nextVersion()}
	s.buckets[b.id] = b
	p.buckets = append(p.buckets, b)
	e := &enc{}
	renderBucket(e, b, c.metadata("planner/buckets/$entity"))
	return c.ok(http.StatusCreated, e.b)
}

func (c *call) patchBucket(id string) *gResp {
	if r := c.needWrite(); r != nil {
		return r
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	b, r := c.findBucket(id)
	if r != nil {
		return r
	}
	read, r := c.ifMatch(kindBucket, b.id, b.etag)
	if r != nil {
		return r
	}
	body, r := c.readJSONObject()
	if r != nil {
		return r
	}
	paths := changePaths(body)
	if r := c.conflict(kindBucket, b.id, read, b.etag, paths); r != nil {
		return r
	}
	name, hint := b.name, b.orderHint
	for _, k := range sortedKeys(body) {
		v := body[k]
		if annotation(k) {
			continue
		}
		switch k {
		case "name":
			if isNull(v) {
				return c.pfail(http.StatusBadRequest, "The property 'name' cannot be null.")
			}
			n, err := reqString(k, v)
			if err != nil {
				return c.invalid(err)
			}
			name = n
		case "orderHint":
			h, err := hintValue(k, v)
			if err != nil {
				return c.invalid(err)
			}
			hint = h
		case "planId":
			if str, ok := asString(v); !ok || str != b.plan.id {
				return c.pfail(http.StatusBadRequest, "The property 'planId' cannot be changed: a bucket stays in its plan.")
			}
		case "id":
			if str, ok := asString(v); !ok || str != b.id {
				return c.invalid(readOnly(k))
			}
		}
	}
	b.name, b.orderHint = name, hint
	prev := b.etag
	b.etag = s.nextVersion()
	s.recordChange(kindBucket, b.id, prev, b.etag, paths)
	return c.written(func(e *enc) { renderBucket(e, b, c.metadata("planner/buckets/$entity")) })
}

func (c *call) deleteBucket(id string) *gResp {
	if r := c.needWrite(); r != nil {
		return r
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	b, r := c.findBucket(id)
	if r != nil {
		return r
	}
	read, r := c.ifMatch(kindBucket, b.id, b.etag)
	if r != nil {
		return r
	}
	if r := c.conflict(kindBucket, b.id, read, b.etag, everything); r != nil {
		return r
	}
	p := b.plan
	var doomed []*task
	kept := p.tasks[:0]
	for _, t := range p.tasks {
		if t.bucket == b {
			doomed = append(doomed, t)
		} else {
			kept = append(kept, t)
		}
	}
	clear(p.tasks[len(kept):])
	p.tasks = kept
	for _, t := range doomed {
		s.forgetTask(t)
	}
	b.deleted = true
	s.forget(b.id, kindBucket)
	delete(s.buckets, b.id)
	p.buckets = removeBySeq(p.buckets, b.seq, func(x *bucket) uint64 { return x.seq })
	return c.noContent()
}

func (c *call) listBucketTasks(id string) *gResp {
	if r := c.needRead(); r != nil {
		return r
	}
	s := c.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, r := c.findBucket(id)
	if r != nil {
		return r
	}
	p := b.plan
	return c.page(c.metadata("planner/buckets('"+b.id+"')/tasks"), c.plannerPageSize(), lister{
		n:      len(p.tasks),
		key:    func(i int) uint64 { return p.tasks[i].seq },
		match:  func(i int) bool { return p.tasks[i].bucket == b },
		render: func(e *enc, i int) { renderTask(e, p.tasks[i], "", false) },
	})
}

// ---- tasks ----

func (c *call) getTask(id string) *gResp {
	if r := c.needRead(); r != nil {
		return r
	}
	expand, r := c.expandDetails()
	if r != nil {
		return r
	}
	s := c.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, r := c.findTask(id)
	if r != nil {
		return r
	}
	e := &enc{}
	renderTask(e, t, c.metadata("planner/tasks/$entity"), expand)
	return c.ok(http.StatusOK, e.b)
}

func (c *call) createTask() *gResp {
	if r := c.needWrite(); r != nil {
		return r
	}
	body, r := c.readJSONObject()
	if r != nil {
		return r
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	pid, r := c.required(body, "planId", "a task")
	if r != nil {
		return r
	}
	p, r := c.findPlan(pid)
	if r != nil {
		return r
	}
	if tv, ok := body["title"]; !ok || isNull(tv) {
		return c.pfail(http.StatusBadRequest, "The property 'title' is required to create a task.")
	}
	if len(p.tasks) >= s.cfg.limits.TasksPerPlan {
		return c.fail(http.StatusForbidden, "MaximumTasksInProject", fmt.Sprintf("The maximum number of Tasks in a Plan limit has been exceeded (%d).", s.cfg.limits.TasksPerPlan))
	}
	if actor := c.who.actor(); actor.user != "" {
		if n := s.tasksCreatedBy(actor.user); n >= s.cfg.limits.TasksCreatedByUser {
			return c.fail(http.StatusForbidden, "MaximumTasksCreatedByUser", fmt.Sprintf("The maximum number of Tasks created by a user limit has been exceeded (%d).", n))
		}
	}
	now := s.nowStamp()
	t := &task{
		plan: p, priority: 5, created: now, createdBy: c.who.actor(), descNull: true,
	}
	first, firstBucket, firstProgress, firstUnassigned := "", "", "", ""
	for _, o := range p.tasks {
		if first == "" || o.orderHint < first {
			first = o.orderHint
		}
		if firstBucket == "" || o.bucketBoardHint < firstBucket {
			firstBucket = o.bucketBoardHint
		}
		if firstProgress == "" || o.progressBoardHint < firstProgress {
			firstProgress = o.progressBoardHint
		}
		if firstUnassigned == "" || o.unassignedHint < firstUnassigned {
			firstUnassigned = o.unassignedHint
		}
	}
	// New tasks go to the top of the lists, as in Planner.
	t.orderHint = hintBefore(first)
	t.bucketBoardHint = hintBefore(firstBucket)
	t.progressBoardHint = hintBefore(firstProgress)
	t.unassignedHint = hintBefore(firstUnassigned)
	if err := c.applyTaskFields(t, body, true); err != nil {
		return c.invalid(err)
	}
	if t.percent >= 100 {
		t.completed, t.completedBy = now, c.who.actor()
	} else if r := c.checkActiveTasks(p); r != nil {
		return r
	}
	t.seq, t.id = s.nextSeq(), s.newPlannerID()
	t.etag, t.detailsEtag = s.nextVersion(), s.nextVersion()
	t.bucketBoardEtag, t.progressBoardEtag, t.assignedBoardEtag = s.nextVersion(), s.nextVersion(), s.nextVersion()
	s.addTask(t)
	e := &enc{}
	renderTask(e, t, c.metadata("planner/tasks/$entity"), false)
	return c.ok(http.StatusCreated, e.b)
}

// checkActiveTasks answers MaximumActiveTasksInProject when plan p cannot
// take one more task that is not completed.
func (c *call) checkActiveTasks(p *plan) *gResp {
	active := 0
	for _, o := range p.tasks {
		if o.percent < 100 {
			active++
		}
	}
	if lim := c.s.cfg.limits.ActiveTasksPerPlan; active >= lim {
		return c.fail(http.StatusForbidden, "MaximumActiveTasksInProject", fmt.Sprintf("The maximum number of Tasks that aren't completed in a Plan limit has been exceeded (%d).", lim))
	}
	return nil
}

// tasksCreatedBy counts the tasks of the tenant a user created.
func (s *Server) tasksCreatedBy(userID string) int {
	n := 0
	for _, t := range s.taskList {
		if !t.deleted && t.createdBy.user == userID {
			n++
		}
	}
	return n
}

// tasksAssignedTo counts the tasks of the tenant assigned to a user.
func (s *Server) tasksAssignedTo(userID string) int {
	n := 0
	for _, t := range s.taskList {
		if !t.deleted && t.assigned(userID) {
			n++
		}
	}
	return n
}

func (s *Server) addTask(t *task) {
	s.tasks[t.id] = t
	s.taskList = append(s.taskList, t)
	t.plan.tasks = append(t.plan.tasks, t)
}

// forgetTask removes a task from the tenant's indexes (not from its plan).
func (s *Server) forgetTask(t *task) {
	s.forgetTaskHistory(t)
	t.deleted = true
	delete(s.tasks, t.id)
	s.taskList = removeBySeq(s.taskList, t.seq, func(x *task) uint64 { return x.seq })
}

func (c *call) patchTask(id string) *gResp {
	if r := c.needWrite(); r != nil {
		return r
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	t, r := c.findTask(id)
	if r != nil {
		return r
	}
	read, r := c.ifMatch(kindTask, t.id, t.etag)
	if r != nil {
		return r
	}
	body, r := c.readJSONObject()
	if r != nil {
		return r
	}
	paths := changePaths(body)
	if r := c.conflict(kindTask, t.id, read, t.etag, paths); r != nil {
		return r
	}
	cl := t.clone()
	if err := c.applyTaskFields(cl, body, false); err != nil {
		return c.invalid(err)
	}
	switch {
	case cl.percent >= 100 && t.percent < 100:
		cl.completed, cl.completedBy = s.nowStamp(), c.who.actor()
	case cl.percent < 100:
		if t.percent >= 100 {
			// Reopening a task makes it active again.
			if r := c.checkActiveTasks(t.plan); r != nil {
				return r
			}
		}
		cl.completed, cl.completedBy = stamp{}, ident{}
	}
	cl.etag = s.nextVersion()
	s.recordChange(kindTask, t.id, t.etag, cl.etag, paths)
	*t = *cl
	return c.written(func(e *enc) { renderTask(e, t, c.metadata("planner/tasks/$entity"), false) })
}

func (c *call) deleteTask(id string) *gResp {
	if r := c.needWrite(); r != nil {
		return r
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	t, r := c.findTask(id)
	if r != nil {
		return r
	}
	read, r := c.ifMatch(kindTask, t.id, t.etag)
	if r != nil {
		return r
	}
	if r := c.conflict(kindTask, t.id, read, t.etag, everything); r != nil {
		return r
	}
	p := t.plan
	p.tasks = removeBySeq(p.tasks, t.seq, func(x *task) uint64 { return x.seq })
	s.forgetTask(t)
	return c.noContent()
}

func partContext(c *call, t *task, part taskPart) string {
	names := [...]string{"details", "bucketTaskBoardFormat", "progressTaskBoardFormat", "assignedToTaskBoardFormat"}
	return c.metadata("planner/tasks('" + t.id + "')/" + names[part] + "/$entity")
}

func renderPart(e *enc, t *task, part taskPart, ctx string) {
	switch part {
	case partDetails:
		renderTaskDetails(e, t, ctx)
	case partBucketBoard:
		renderBucketBoard(e, t, ctx)
	case partProgressBoard:
		renderProgressBoard(e, t, ctx)
	case partAssignedBoard:
		renderAssignedBoard(e, t, ctx)
	}
}

func (c *call) getTaskPart(id string, part taskPart) *gResp {
	if r := c.needRead(); r != nil {
		return r
	}
	s := c.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, r := c.findTask(id)
	if r != nil {
		return r
	}
	e := &enc{}
	renderPart(e, t, part, partContext(c, t, part))
	return c.ok(http.StatusOK, e.b)
}

func (c *call) patchTaskPart(id string, part taskPart) *gResp {
	if r := c.needWrite(); r != nil {
		return r
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	t, r := c.findTask(id)
	if r != nil {
		return r
	}
	kinds := [...]etagKind{kindTaskDetails, kindBucketBoard, kindProgressBoard, kindAssignedBoard}
	versions := [...]uint64{t.detailsEtag, t.bucketBoardEtag, t.progressBoardEtag, t.assignedBoardEtag}
	read, r := c.ifMatch(kinds[part], t.id, versions[part])
	if r != nil {
		return r
	}
	body, r := c.readJSONObject()
	if r != nil {
		return r
	}
	paths := changePaths(body)
	if r := c.conflict(kinds[part], t.id, read, versions[part], paths); r != nil {
		return r
	}
	cl := t.clone()
	var err *badRequest
	switch part {
	case partDetails:
		err = c.applyDetails(cl, body)
	case partBucketBoard, partProgressBoard:
		err = applyBoardHint(cl, body, part)
	case partAssignedBoard:
		err = applyAssignedBoard(cl, body)
	}
	if err != nil {
		return c.invalid(err)
	}
	switch part {
	case partDetails:
		cl.detailsEtag = s.nextVersion()
		// The task's own server-maintained fields follow its details.
		if cl.hasDescription() != t.hasDescription() || cl.previewType != t.previewType ||
			len(cl.checklist) != len(t.checklist) || cl.activeChecklist() != t.activeChecklist() ||
			len(cl.references) != len(t.references) {
			cl.etag = s.nextVersion()
			s.recordChange(kindTask, t.id, t.etag, cl.etag, nil)
		}
	case partBucketBoard:
		cl.bucketBoardEtag = s.nextVersion()
	case partProgressBoard:
		cl.progressBoardEtag = s.nextVersion()
	case partAssignedBoard:
		cl.assignedBoardEtag = s.nextVersion()
	}
	s.recordChange(kinds[part], t.id, versions[part], [...]uint64{cl.detailsEtag, cl.bucketBoardEtag, cl.progressBoardEtag, cl.assignedBoardEtag}[part], paths)
	*t = *cl
	return c.written(func(e *enc) { renderPart(e, t, part, partContext(c, t, part)) })
}

func applyBoardHint(t *task, body map[string]rawJSON, part taskPart) *badRequest {
	for _, k := range sortedKeys(body) {
		v := body[k]
		if annotation(k) {
			continue
		}
		switch k {
		case "orderHint":
			h, err := hintValue(k, v)
			if err != nil {
				return err
			}
			if part == partBucketBoard {
				t.bucketBoardHint = h
			} else {
				t.progressBoardHint = h
			}
		case "id":
			if str, ok := asString(v); !ok || str != t.id {
				return readOnly(k)
			}
		}
	}
	return nil
}

func applyAssignedBoard(t *task, body map[string]rawJSON) *badRequest {
	for _, k := range sortedKeys(body) {
		v := body[k]
		if annotation(k) {
			continue
		}
		switch k {
		case "unassignedOrderHint":
			h, err := hintValue(k, v)
			if err != nil {
				return err
			}
			t.unassignedHint = h
		case "orderHintsByAssignee":
			if isNull(v) {
				t.hintsByAssignee = nil
				continue
			}
			m, ok := asObject(v)
			if !ok {
				return bad("The value of 'orderHintsByAssignee' must be an object keyed by user id.")
			}
			for _, uid := range sortedKeys(m) {
				if annotation(uid) {
					continue
				}
				if !validGUID(uid) {
					return bad("The orderHintsByAssignee key '%s' is not a user id.", uid)
				}
				key := strings.ToLower(uid)
				i := findKV(t.hintsByAssignee, key)
				if isNull(m[uid]) {
					if i >= 0 {
						t.hintsByAssignee = removeAt(t.hintsByAssignee, i)
					}
					continue
				}
				h, err := hintValue("orderHintsByAssignee."+uid, m[uid])
				if err != nil {
					return err
				}
				if i >= 0 {
					t.hintsByAssignee[i].v = h
				} else {
					t.hintsByAssignee = insertAt(t.hintsByAssignee, -1-i, kv{k: key, v: h})
				}
			}
		case "id":
			if str, ok := asString(v); !ok || str != t.id {
				return readOnly(k)
			}
		}
	}
	return nil
}
