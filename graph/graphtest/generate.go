package graphtest

import (
	"fmt"
	mrand "math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// GenSpec describes a deterministic generated tenant: the same spec gives
// byte-identical responses, ids included.
//
// The signed-in user (Me, the first user) is a member of every group that
// holds a plan, except the groups of the last HiddenPlans plans; of the extra
// groups (Groups > Plans) Me belongs to every other one. The tenant also has
// two security groups (Me is a member of one) and a directory role held by Me,
// so /me/memberOf returns non-Unified groups and non-group objects to filter.
// Every seventh plan is not "shared with" anyone, like plans /me/planner/plans
// is known to miss.
//
// Awkward adds, without changing Plans × TasksPerPlan: one extra plan with no
// buckets and no tasks, one extra empty bucket, titles and descriptions with
// quotes, emoji, RTL text and SQL-ish content, a 32 KB description, a task
// with 20 checklist items and 15 references, reference URLs that need key
// encoding, tasks with no bucket, unusual dates and the 25th label, and
// values other clients leave: tasks created, completed and assigned by an
// application alone, due dates with 1 or 3 fractional digits, assignment
// times with 3, reference keys keeping the URL's own %20 escapes, and
// checklist keys as the Planner apps write them (short numbers).
type GenSpec struct {
	Seed           int64
	Users          int  // default 8
	Groups         int  // default = Plans (one plan per group); extra groups get no plan, fewer groups share plans round-robin
	Plans          int  // plans (each in a Microsoft 365 group)
	TasksPerPlan   int  // tasks in every plan
	BucketsPerPlan int  // default 4
	Awkward        bool // include awkward data (quotes, emoji, RTL, long descriptions, empty plans, tasks with no bucket...)
	HiddenPlans    int  // the last HiddenPlans plans are in groups Me is not a member of (reachable app-only)
}

func (g *GenSpec) validate() error {
	switch {
	case g.Users < 0, g.Groups < 0, g.Plans < 0, g.TasksPerPlan < 0, g.BucketsPerPlan < 0, g.HiddenPlans < 0:
		return fmt.Errorf("gen spec %+v: counts must not be negative", *g)
	case g.HiddenPlans > g.Plans:
		return fmt.Errorf("gen spec: HiddenPlans %d is more than Plans %d", g.HiddenPlans, g.Plans)
	case g.BucketsPerPlan > 200:
		return fmt.Errorf("gen spec: BucketsPerPlan %d is over Planner's limit of 200", g.BucketsPerPlan)
	}
	if g.Users == 0 {
		g.Users = 8
	}
	if g.Groups == 0 {
		g.Groups = g.Plans
	}
	if g.BucketsPerPlan == 0 {
		g.BucketsPerPlan = 4
	}
	return nil
}

// plannerWebApp is the application id recorded in createdBy of generated
// objects, standing for the Planner web app.
const plannerWebApp = "09abbdfd-ed23-44ee-a2d9-a627aa1c90f3"

type builder struct {
	s     *Server
	rng   *mrand.Rand
	base  int64
	hints map[int][]string
	descs []string
}

func newBuilder(s *Server, seed uint64, base time.Time) *builder {
	rng := mrand.New(mrand.NewPCG(seed, 0x9e3779b97f4a7c15))
	b := &builder{s: s, rng: rng, base: base.UnixNano(), hints: map[int][]string{}}
	s.tenantID = guid(rng)
	s.domain = "contoso.onmicrosoft.com"
	s.publicClientID = guid(rng)
	s.confClientID = guid(rng)
	s.confSecret = "gT8Q~" + plannerID(rng) + plannerID(rng)[:12]
	s.rng = mrand.New(mrand.NewPCG(seed^0x5bd1e995, 0x27d4eb2f165667c5))
	return b
}

// spread returns n spread order hints, cached per n.
func (b *builder) spread(n int) []string {
	h, ok := b.hints[n]
	if !ok {
		h = spreadHints(n)
		b.hints[n] = h
	}
	return h
}

func (b *builder) daysAgo(maxDays int) stamp {
	return stampNS(b.base - b.rng.Int64N(int64(maxDays)*24*3600*1e7)*100)
}

func asciiFold(s string) string {
	repl := strings.NewReplacer("ë", "e", "é", "e", "è", "e", "ñ", "n", "Ñ", "N", "ú", "u", "ü", "u", "ö", "o", "ø", "o", "å", "a", "ä", "a", "ł", "l", "Ł", "L", "ç", "c")
	s = repl.Replace(s)
	var out strings.Builder
	for _, r := range s {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			out.WriteRune(unicode.ToLower(r))
		}
	}
	return out.String()
}

func (b *builder) addUser(given, sur, job, office string) *user {
	s := b.s
	local := asciiFold(given)
	if f := asciiFold(sur); f != "" {
		local += "." + f
	}
	if local == "" {
		local = fmt.Sprintf("user%d", len(s.users)+1)
	}
	upn := local + "@" + s.domain
	for n := 2; s.usersByUPN[upn] != nil; n++ {
		upn = fmt.Sprintf("%s%d@%s", local, n, s.domain)
	}
	u := &user{id: guid(b.rng), givenName: given, surname: sur, jobTitle: job, officeLocation: office, upn: upn, mail: upn}
	u.displayName = strings.TrimSpace(given + " " + sur)
	s.users = append(s.users, u)
	s.usersByID[u.id] = u
	s.usersByUPN[strings.ToLower(upn)] = u
	return u
}

func (b *builder) addGroup(name, desc string, unified bool, members []*user) *group {
	s := b.s
	nick := asciiFold(name)
	if nick == "" {
		nick = fmt.Sprintf("group%d", len(s.groups)+1)
	}
	g := &group{
		id: guid(b.rng), displayName: name, description: desc, mailNick: nick,
		visibility: "Private", unified: unified, created: b.daysAgo(700), members: map[string]bool{},
	}
	if len(s.groups)%3 == 1 {
		g.visibility = "Public"
	}
	for _, m := range members {
		g.members[m.id] = true
	}
	s.groups = append(s.groups, g)
	s.groupsByID[g.id] = g
	return g
}

func (b *builder) addRole(name, desc, template string, members ...*user) {
	r := &dirRole{id: guid(b.rng), displayName: name, description: desc, templateID: template, members: map[string]bool{}}
	for _, m := range members {
		r.members[m.id] = true
	}
	b.s.roles = append(b.s.roles, r)
}

// addUnit adds an administrative unit with the members given.
func (b *builder) addUnit(name, desc string, members ...*user) {
	u := &dirRole{id: guid(b.rng), displayName: name, description: desc, unit: true, members: map[string]bool{}}
	for _, m := range members {
		u.members[m.id] = true
	}
	b.s.roles = append(b.s.roles, u)
}

func (b *builder) newID() string {
	for {
		id := plannerID(b.rng)
		if b.s.plans[id] == nil && b.s.buckets[id] == nil && b.s.tasks[id] == nil {
			return id
		}
	}
}

func (b *builder) addPlan(g *group, title string, creator *user, shared bool) *plan {
	s := b.s
	p := &plan{
		seq: s.nextSeq(), id: b.newID(), title: title, group: g,
		createdBy: ident{user: creator.id, app: plannerWebApp}, created: b.daysAgo(400),
		etag: s.nextVersion(), detailsEtag: s.nextVersion(),
	}
	if shared {
		for m := range g.members {
			p.sharedWith = append(p.sharedWith, m)
		}
		sort.Strings(p.sharedWith)
	}
	s.addPlan(p)
	return p
}

func (b *builder) setLabel(p *plan, i int, name string) {
	p.categories[i] = name
	p.catSet |= 1 << i
}

func (b *builder) addBucket(p *plan, name, hint string) *bucket {
	s := b.s
	bk := &bucket{seq: s.nextSeq(), id: b.newID(), name: name, orderHint: hint, plan: p, etag: s.nextVersion()}
	s.buckets[bk.id] = bk
	p.buckets = append(p.buckets, bk)
	return bk
}

// newTask starts a task; finish registers it.
func (b *builder) newTask(p *plan, bk *bucket, title string, creator *user, hint string) *task {
	return &task{
		plan: p, bucket: bk, title: title, priority: 5, created: b.daysAgo(120),
		createdBy: ident{user: creator.id, app: plannerWebApp}, descNull: true,
		orderHint: hint, bucketBoardHint: hint, progressBoardHint: hint, unassignedHint: hint,
	}
}

func (b *builder) finish(t *task) {
	s := b.s
	t.seq, t.id = s.nextSeq(), b.newID()
	t.etag, t.detailsEtag = s.nextVersion(), s.nextVersion()
	t.bucketBoardEtag, t.progressBoardEtag, t.assignedBoardEtag = s.nextVersion(), s.nextVersion(), s.nextVersion()
	sort.Slice(t.assignments, func(i, j int) bool { return t.assignments[i].user < t.assignments[j].user })
	sort.Slice(t.checklist, func(i, j int) bool { return t.checklist[i].key < t.checklist[j].key })
	sort.Slice(t.references, func(i, j int) bool { return t.references[i].key < t.references[j].key })
	s.addTask(t)
}

func (b *builder) assign(t *task, u *user, by *user) {
	if t.assigned(u.id) {
		return
	}
	t.assignments = append(t.assignments, assignment{user: u.id, by: ident{user: by.id, app: plannerWebApp}, at: t.created.add(time.Minute), hint: b.spread(8)[len(t.assignments)%8]})
}

func (b *builder) complete(t *task, by *user) {
	t.percent = 100
	t.completed = t.created.add(time.Duration(b.rng.Int64N(20*24*3600)) * time.Second)
	if base := stampNS(b.base); base.before(t.completed) {
		t.completed = base.add(-time.Hour)
	}
	t.completedBy = ident{user: by.id, app: plannerWebApp}
}

func (b *builder) checklistItem(t *task, title string, checked bool, hint string, by *user) {
	t.checklist = append(t.checklist, checklistItem{key: guid(b.rng), title: title, checked: checked, hint: hint, by: ident{user: by.id, app: plannerWebApp}, at: t.created.add(time.Hour)})
}

func (b *builder) reference(t *task, rawURL, alias, typ, prio string, by *user) {
	key := EncodeReferenceKey(rawURL)
	for _, r := range t.references {
		if r.key == key {
			return
		}
	}
	t.references = append(t.references, reference{key: key, alias: alias, typ: typ, priority: prio, by: ident{user: by.id, app: plannerWebApp}, at: t.created.add(2 * time.Hour)})
}

// day returns midnight UTC of base + d days.
func (b *builder) day(d int) stamp {
	t := time.Unix(0, b.base).UTC().Truncate(24 * time.Hour)
	return stampOf(t.AddDate(0, 0, d))
}

// ---- generated tenants ----

// genBase is the fixed "today" of generated tenants.
var genBase = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

func generate(s *Server, spec GenSpec) {
	b := newBuilder(s, uint64(spec.Seed), genBase)
	rng := b.rng

	for i := 0; i < spec.Users; i++ {
		given := firstNames[i%len(firstNames)]
		sur := lastNames[(i+i/len(firstNames)*7)%len(lastNames)]
		if spec.Awkward {
			switch i {
			case 2:
				given, sur = "Zoë", "O'Brien-Ñúñez"
			case 4:
				given, sur = "李", "雷"
			}
		}
		b.addUser(given, sur, jobTitles[i%len(jobTitles)], offices[i%len(offices)])
	}
	s.me = s.users[0]

	hiddenFrom := spec.Plans - spec.HiddenPlans
	groupOf := func(planIdx int) int { return planIdx % spec.Groups }
	hiddenGroup := map[int]bool{}
	for pi := hiddenFrom; pi < spec.Plans; pi++ {
		hiddenGroup[groupOf(pi)] = true
	}
	groups := make([]*group, spec.Groups)
	for gi := 0; gi < spec.Groups; gi++ {
		var members []*user
		withMe := !hiddenGroup[gi]
		if gi >= spec.Plans && gi%2 == 1 {
			withMe = false
		}
		if withMe {
			members = append(members, s.me)
		}
		for ui := 1; ui < len(s.users); ui++ {
			if (ui+gi)%3 != 0 {
				members = append(members, s.users[ui])
			}
		}
		if len(members) == 0 && len(s.users) > 1 {
			members = append(members, s.users[1])
		}
		name := groupNames[gi%len(groupNames)]
		if gi >= len(groupNames) {
			name = fmt.Sprintf("%s %d", name, gi/len(groupNames)+1)
		}
		groups[gi] = b.addGroup(name, "Team site and plans of "+name+".", true, members)
	}
	var others []*user
	for _, u := range s.users[1:] {
		if len(others) < 2 {
			others = append(others, u)
		}
	}
	b.addGroup("All Employees", "Security group for every employee.", false, s.users)
	b.addGroup("Server Admins", "Security group for server administration.", false, others)
	b.addRole("Global Reader", "Can read everything that a Global Administrator can, but not update anything.", "f2ef992c-3afb-46b9-b7cf-a126ee74c451", s.me)

	descs := make([]string, 64)
	for i := range descs {
		n := 1 + i%3
		parts := make([]string, n)
		for j := range parts {
			parts[j] = descSentences[(i*5+j*3)%len(descSentences)]
		}
		descs[i] = strings.Join(parts, " ")
	}
	b.descs = descs
	long := longDescription()

	for pi := 0; pi < spec.Plans; pi++ {
		g := groups[groupOf(pi)]
		members := membersOf(s, g)
		title := planTitles[pi%len(planTitles)]
		if pi >= len(planTitles) {
			title = fmt.Sprintf("%s %d", title, pi/len(planTitles)+1)
		}
		if spec.Awkward {
			switch pi {
			case 1:
				title = `Marketing "Big Bets" 2026 🚀`
			case 2:
				title = "خطة المشروع — Project plan"
			}
		}
		p := b.addPlan(g, title, members[rng.IntN(len(members))], pi%7 != 6)
		nLabels := 3 + rng.IntN(4)
		for li := 0; li < nLabels; li++ {
			b.setLabel(p, li, labelNames[(pi+li)%len(labelNames)])
		}
		if spec.Awkward {
			b.setLabel(p, 24, "Label 25 ✨")
		}
		bhints := b.spread(spec.BucketsPerPlan)
		buckets := make([]*bucket, spec.BucketsPerPlan)
		for bi := range buckets {
			name := bucketNames[(bi+pi)%len(bucketNames)]
			if bi >= len(bucketNames) {
				name = fmt.Sprintf("Bucket %d", bi+1)
			}
			if spec.Awkward && pi == 0 && bi >= 1 && bi-1 < len(awkwardBuckets) {
				name = awkwardBuckets[bi-1]
			}
			buckets[bi] = b.addBucket(p, name, bhints[bi])
		}
		if spec.Awkward && pi == 0 {
			b.addBucket(p, "Empty bucket", hintAfter(bhints[len(bhints)-1]))
		}
		b.genTasks(p, buckets, members, spec, pi, long)
	}
	if spec.Awkward && len(groups) > 0 {
		g := groups[0]
		b.addPlan(g, "Empty plan (no buckets, no tasks)", membersOf(s, g)[0], true)
	}
	// Last, so that the other objects' ids do not change.
	b.addUnit("Head Office", "Administrative unit of the head office's users.", s.me)
}

func membersOf(s *Server, g *group) []*user {
	var out []*user
	for _, u := range s.users {
		if g.members[u.id] {
			out = append(out, u)
		}
	}
	if len(out) == 0 {
		out = s.users[:1]
	}
	return out
}

func longDescription() string {
	para := "This paragraph repeats to make a very long description (32 KB) that tests how clients page, store and display large text fields: quotes \"like these\", emoji 🚀, and RTL text مرحبا.\n"
	var sb strings.Builder
	for sb.Len() < 32*1024 {
		sb.WriteString(para)
	}
	return sb.String()[:32*1024-2] + "✓"
}

func (b *builder) genTasks(p *plan, buckets []*bucket, members []*user, spec GenSpec, pi int, long string) {
	s, rng := b.s, b.rng
	n := spec.TasksPerPlan
	hints := b.spread(n)
	perm := rng.Perm(n)
	me := s.me
	meMember := p.group.members[me.id]
	for i := 0; i < n; i++ {
		creator := members[rng.IntN(len(members))]
		title := taskVerbs[rng.IntN(len(taskVerbs))] + " " + taskObjects[rng.IntN(len(taskObjects))]
		awkward := spec.Awkward && i%37 == 5
		if awkward {
			title = awkwardTitles[(i/37+pi)%len(awkwardTitles)]
		}
		if spec.Awkward && pi == 0 && i == 9 {
			title = strings.Repeat("Long title ", 23) + "en" // 255 characters, Planner's maximum
		}
		var bk *bucket
		if len(buckets) > 0 {
			bk = buckets[rng.IntN(len(buckets))]
		}
		if spec.Awkward && rng.IntN(50) == 0 {
			bk = nil
		}
		hint := hints[perm[i]]
		t := b.newTask(p, bk, title, creator, hint)

		switch r := rng.IntN(100); {
		case r < 25:
			b.complete(t, members[rng.IntN(len(members))])
		case r < 55:
			t.percent = 50
		}
		t.priority = [...]int32{1, 3, 5, 5, 5, 9}[rng.IntN(6)]
		if rng.IntN(2) == 0 {
			t.start = b.day(rng.IntN(60) - 30)
		}
		if rng.IntN(10) < 7 {
			from := b.day(-20)
			if !t.start.isNull() {
				from = t.start
			}
			t.due = from.add(time.Duration(1+rng.IntN(30)) * 24 * time.Hour)
		}
		if spec.Awkward {
			switch i {
			case 3:
				t.start, t.due = b.day(2), b.day(2)
			case 5:
				t.start, t.due = stamp{}, stampOf(time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC))
			case 7:
				t.start, t.due = stampOf(time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)), stampOf(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
			}
		}
		// Assignments: a fifth of the tasks are unassigned.
		if rng.IntN(5) != 0 {
			t.assignments = make([]assignment, 0, 4)
			if meMember && rng.IntN(10) < 3 {
				b.assign(t, me, creator)
			}
			k := 1 + rng.IntN(3)
			for j := 0; j < k && len(t.assignments) < len(members); j++ {
				b.assign(t, members[rng.IntN(len(members))], creator)
			}
			if len(t.assignments) > 0 {
				t.assigneePriority = hint
			}
		}
		for c := rng.IntN(4); c > 0; c-- {
			t.categories |= 1 << rng.IntN(6)
		}
		if spec.Awkward && i%11 == 0 {
			t.categories |= 1 << 24
		}
		if rng.IntN(20) == 0 {
			t.conversation = "AAQkA" + plannerID(rng)
		}
		// Details.
		switch r := rng.IntN(100); {
		case r < 40:
		case r < 97:
			t.description, t.descNull = b.descs[rng.IntN(len(b.descs))], false
		default:
			t.description, t.descNull = "", false
		}
		if awkward {
			t.description, t.descNull = awkwardDescriptions[(i/37)%len(awkwardDescriptions)], false
		}
		if r := rng.IntN(10); r < 2 {
			t.previewType = uint8(1 + rng.IntN(4))
		}
		nCheck := 0
		switch r := rng.IntN(100); {
		case r < 50:
		case r < 85:
			nCheck = 1 + rng.IntN(5)
		case r < 98:
			nCheck = 6 + rng.IntN(7)
		default:
			nCheck = 20
		}
		nRefs := 0
		switch r := rng.IntN(100); {
		case r < 70:
		case r < 95:
			nRefs = 1 + rng.IntN(2)
		default:
			nRefs = 3 + rng.IntN(3)
		}
		if spec.Awkward && pi == 0 && i == 0 {
			t.description, t.descNull = long, false
			nCheck, nRefs = 20, 15
		}
		if nCheck > 0 {
			t.checklist = make([]checklistItem, 0, nCheck)
		}
		if nRefs > 0 {
			t.references = make([]reference, 0, nRefs)
		}
		ch := b.spread(nCheck)
		for j := 0; j < nCheck; j++ {
			title := checklistTitles[(j+i)%len(checklistTitles)]
			if spec.Awkward && pi == 0 && i == 0 && j < len(awkwardTitles) {
				title = awkwardTitles[j]
			}
			b.checklistItem(t, title, t.percent == 100 || rng.IntN(5) < 2, ch[j], members[rng.IntN(len(members))])
		}
		rh := b.spread(nRefs)
		for j := 0; j < nRefs; j++ {
			var u, alias, typ string
			if spec.Awkward && (awkward || (pi == 0 && i == 0)) && j < len(awkwardURLs) {
				u, alias, typ = awkwardURLs[j], "Awkward link "+fmt.Sprint(j+1), "Other"
			} else {
				d := refDocs[(j+i)%len(refDocs)]
				site := strings.ReplaceAll(refSites[(j+pi)%len(refSites)], " ", "%20")
				u = fmt.Sprintf("https://contoso.sharepoint.com/sites/%s/Shared%%20Documents/%s%%20%d.%s", site, strings.ReplaceAll(d.name, " ", "%20"), j+1, d.ext)
				alias, typ = fmt.Sprintf("%s %d", d.name, j+1), d.typ
			}
			b.reference(t, u, alias, typ, rh[j], members[rng.IntN(len(members))])
		}
		if spec.Awkward {
			otherClients(t, i)
		}
		b.finish(t)
	}
}

// otherClients makes some tasks of awkward tenants look as other clients
// leave them (without drawing from the generator's random source, so the
// rest of the tenant is unchanged): created, completed and assigned by an
// application alone, with its details written by it; due dates with 1 or 3
// fractional digits; assignment times with 3; reference keys that keep the
// URL's own percent escapes (%20, not %2520); checklist keys as the Planner
// apps write them (short numbers).
func otherClients(t *task, i int) {
	if i%13 == 4 {
		by := ident{app: powerAutomateApp}
		t.createdBy = by
		if t.percent == 100 {
			t.completedBy = by
		}
		for k := range t.assignments {
			t.assignments[k].by = by
		}
		for k := range t.checklist {
			t.checklist[k].by = by
		}
		for k := range t.references {
			t.references[k].by = by
		}
	}
	switch i {
	case 11:
		t.start, t.due = stamp{}, t.created.add(9*24*time.Hour+500*time.Millisecond).withDigits(1)
	case 13:
		t.start, t.due = stamp{}, t.created.add(6*24*time.Hour+125*time.Millisecond).withDigits(3)
	}
	if i%2 == 0 {
		for k := range t.assignments {
			t.assignments[k].at = t.assignments[k].at.withDigits(3)
		}
	}
	if i%17 == 3 {
		for k := range t.references {
			t.references[k].key = strings.ReplaceAll(t.references[k].key, "%25", "%")
		}
	}
	if i%19 == 7 {
		for j := range t.checklist {
			t.checklist[j].key = strconv.Itoa(10000 + (i*7919+j*14729)%90000)
		}
	}
}
