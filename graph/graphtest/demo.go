package graphtest

import (
	"strconv"
	"strings"
	"time"
)

// The demo tenant: what `planner replicate --sandbox` and the shell show.

// demoBase is the demo tenant's fixed "today".
var demoBase = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

type demoTask struct {
	title      string
	bucket     int // -1: no bucket
	pct        int32
	prio       int32
	who        []int // user indexes
	labels     []int // 1-based category numbers
	start, due int   // days from demoBase; 0 = none
	desc       string
	check      []string    // "x " prefix: checked
	refs       [][3]string // URL, alias, type
	by         int         // creator
	// Written as other clients do, not as the API's rules would have it:
	viaApp   string // an application alone created (and completed) the task, assigned it, wrote its details
	dueAt    string // a due date-time as another client sent it (fractional digits kept)
	rawRefs  bool   // reference keys as another client sent them: the URL's own %20 escapes not re-encoded
	appKeys  bool   // checklist keys as the Planner apps write them (short numbers, not GUIDs)
	assigned string // when the assignments were made, as the service recorded them (3 fractional digits)
}

// Applications that write to the demo tenant besides the signed-in user.
const (
	powerAutomateApp = "7df0a125-d3be-4c96-aa54-591f83ff541c" // a flow creating tasks from form responses
	integrationApp   = "c0ffee00-5a1e-4e0b-9a7d-1f2e3d4c5b6a" // a monitoring integration closing tasks
)

type demoPlan struct {
	title   string
	group   int
	shared  bool
	buckets []string
	labels  []string
	tasks   []demoTask
}

var demoUsers = [][4]string{
	{"Adele", "Vance", "Product Marketing Manager", "18/2111"},
	{"Alex", "Wilber", "Marketing Assistant", "131/1104"},
	{"Megan", "Bowen", "Marketing Manager", "12/1110"},
	{"Lee", "Gu", "Director of Engineering", "23/3101"},
	{"Nestor", "Wilke", "Director of Operations", "36/1121"},
	{"Patti", "Fernandez", "President", "15/1102"},
	{"Lidia", "Holloway", "Product Manager", "20/1101"},
	{"Diego", "Siciliani", "HR Manager", "14/1108"},
	{"Zoë", "O'Brien-Ñúñez", "Localization Lead", "19/3123"},
}

var demoGroups = []struct {
	name, desc string
	members    []int
}{
	{"Marketing", "Campaigns, launches and the website.", []int{0, 1, 2, 5, 8}},
	{"Product Development", "Everything about the Contoso mobile app.", []int{0, 3, 4, 6, 8}},
	{"IT Operations", "Infrastructure, devices and facilities.", []int{0, 3, 4, 7}},
	{"Leadership Team", "Strategy and planning for the leadership team.", []int{2, 3, 4, 5, 7}},
}

const sp = "https://contoso.sharepoint.com/sites/"

var demoPlans = []demoPlan{
	{
		title: "Contoso X1 Launch", group: 0, shared: true,
		buckets: []string{"Backlog", "In progress", "Review", "Done"},
		labels:  []string{"Urgent", "Design", "Press", "Budget", "Blocked", "Partner"},
		tasks: []demoTask{
			{title: "Finalize launch date with leadership", bucket: 1, pct: 50, prio: 1, who: []int{0, 5}, labels: []int{1}, due: 3, by: 0,
				dueAt: "2026-11-05T09:30:00.5Z", assigned: "2026-10-21T08:12:44.956Z",
				desc:  "Leadership wants two options: Feb 9 or Feb 23. Bring the risk list.",
				check: []string{"x Collect constraints from Sales", "Draft two options", "Book 30 minutes with Patti"}},
			{title: "Write press release", bucket: 1, pct: 50, prio: 3, who: []int{2}, labels: []int{3}, start: -4, due: 10, by: 2,
				desc: "Use the new boilerplate. The quote from Patti must use the approved wording only.",
				refs: [][3]string{{sp + "Marketing/Shared%20Documents/X1%20launch%20plan.docx", "X1 launch plan", "Word"}}},
			{title: "Design hero images", bucket: 0, prio: 5, who: []int{1}, labels: []int{2}, due: 17, by: 2},
			{title: "Book launch venue", bucket: 3, pct: 100, prio: 5, who: []int{0}, due: -5, by: 0,
				check: []string{"x Shortlist three venues", "x Visit venues", "x Sign the contract"}},
			{title: "Brief the partner network", bucket: 0, prio: 5, labels: []int{6}, due: 24, by: 5, viaApp: powerAutomateApp},
			{title: "Prepare demo script", bucket: 2, pct: 50, prio: 3, who: []int{0, 1}, start: 1, due: 6, by: 0,
				desc: "Flow:\n1. Unboxing\n2. Pairing with the app\n3. The \"wow\" moment — live translation\n\nKeep it under 7 minutes."},
			{title: "Budget sign-off for paid media", bucket: 2, pct: 50, prio: 1, who: []int{5}, labels: []int{1, 4}, due: 2, by: 2,
				dueAt: "2026-11-04T17:00:00.125Z", rawRefs: true,
				refs: [][3]string{{sp + "Marketing/Shared%20Documents/Paid%20media%20budget.xlsx", "Paid media budget", "Excel"}}},
			{title: "Translate landing page (DE, FR, JA)", bucket: 0, prio: 5, who: []int{8}, due: 30, by: 2,
				desc:  "Japanese copy: 新しいContoso X1をご紹介します。 German and French go to the agency.",
				check: []string{"German", "French", "Japanese — 日本語"}},
			{title: "Order swag — T-shirts & stickers", bucket: 3, pct: 100, prio: 9, who: []int{1}, due: -12, by: 1},
			{title: `Review the "Why X1?" FAQ`, bucket: 2, pct: 50, prio: 5, who: []int{2, 0}, labels: []int{3}, due: 8, by: 2},
			{title: "Social media teaser posts 🚀", bucket: 1, pct: 50, prio: 5, who: []int{1}, start: -2, due: 12, by: 1, appKeys: true,
				check: []string{"x Teaser 1: silhouette", "x Teaser 2: sound", "Teaser 3: the color", "Teaser 4: countdown", "Launch post"}},
			{title: "Press kit: collect executive bios", bucket: 0, prio: 5, by: 2},
			{title: "Analyst briefing deck", bucket: 1, prio: 3, who: []int{0}, labels: []int{3, 5}, start: 1, due: 15, by: 0,
				desc: "Blocked: waiting for final pricing from Finance.",
				refs: [][3]string{{sp + "Marketing/Shared%20Documents/Analyst%20briefing.pptx", "Analyst briefing", "PowerPoint"}, {"https://www.contoso.com/x1", "Product page", "Other"}}},
			{title: "Launch retrospective", bucket: -1, prio: 9, due: 45, by: 5},
		},
	},
	{
		title: "Website Refresh", group: 0, shared: false,
		buckets: []string{"Ideas", "Design", "Build", "Launched ✅"},
		labels:  []string{"Content", "Design", "SEO", "Accessibility"},
		tasks: []demoTask{
			{title: "Audit current site analytics", bucket: 3, pct: 100, prio: 5, who: []int{2}, labels: []int{3}, due: -30, by: 2},
			{title: "New navigation wireframes", bucket: 1, pct: 50, prio: 3, who: []int{1}, labels: []int{2}, due: 9, by: 2,
				refs: [][3]string{{"https://www.figma.com/file/AbC123/Nav-wireframes?node-id=1%3A2", "Wireframes", "Other"}}},
			{title: "Rewrite the About page", bucket: 0, prio: 5, who: []int{0}, labels: []int{1}, by: 0,
				desc: "Make it shorter. Mention the company's founding story in two sentences, not ten."},
			{title: "Accessibility pass (WCAG 2.2 AA)", bucket: 2, prio: 1, who: []int{8, 1}, labels: []int{4}, start: 5, due: 20, by: 2,
				check: []string{"Color contrast", "Keyboard navigation", "Alt text", "Screen reader test", "Focus order"}},
			{title: "Migrate blog posts", bucket: 2, pct: 50, prio: 5, who: []int{1}, due: 14, by: 1},
			{title: "Cookie banner update", bucket: 3, pct: 100, prio: 3, who: []int{2}, due: -8, by: 2},
			{title: "Choose a new hero photo", bucket: 0, prio: 9, labels: []int{2}, by: 1},
			{title: "SEO: redirects for old URLs", bucket: 2, prio: 3, who: []int{0}, labels: []int{3}, due: 21, by: 0,
				desc: "Keep a 301 for every URL listed in the spreadsheet.",
				refs: [][3]string{{sp + "Marketing/Shared%20Documents/Redirect%20map.xlsx", "Redirect map", "Excel"}}},
			{title: "Page speed budget", bucket: 1, prio: 5, who: []int{1, 2}, due: 11, by: 2},
			{title: "Launch announcement email", bucket: 0, prio: 5, who: []int{0}, due: 35, by: 0},
		},
	},
	{
		title: "Mobile App 2.0", group: 1, shared: true,
		buckets: []string{"To do", "Sprint 14", "Sprint 15", "Blocked", "Done"},
		labels:  []string{"Bug", "Feature", "iOS", "Android", "Tech debt", "Needs design"},
		tasks: []demoTask{
			{title: "Offline mode for task lists", bucket: 1, pct: 50, prio: 3, who: []int{3, 6}, labels: []int{2}, start: -7, due: 7, by: 6,
				desc:  "Cache the last 500 tasks. Conflicts: last writer wins, but show a banner.",
				check: []string{"x Storage layer", "x Sync queue", "Conflict banner", "Tests on slow network"}},
			{title: "Fix crash when a title contains emoji 😅", bucket: 4, pct: 100, prio: 1, who: []int{3}, labels: []int{1, 3}, due: -3, by: 6},
			{title: "Dark mode", bucket: 2, prio: 5, who: []int{6}, labels: []int{2, 6}, due: 28, by: 6},
			{title: "دعم اللغة العربية (RTL layout)", bucket: 2, prio: 3, who: []int{8}, labels: []int{2}, due: 30, by: 6,
				desc: "Mirror the layout for Arabic and Hebrew. Test with: مرحبا بالعالم / שלום עולם"},
			{title: "Upgrade the networking library", bucket: 0, prio: 5, who: []int{3}, labels: []int{5}, by: 3},
			{title: "Push notification settings screen", bucket: 1, pct: 50, prio: 5, who: []int{6, 0}, labels: []int{2}, due: 5, by: 6},
			{title: "App Store screenshots", bucket: 0, prio: 5, who: []int{0}, labels: []int{3}, due: 40, by: 0,
				refs: [][3]string{{sp + "ProductDev/Shared%20Documents/Store%20listing.docx", "Store listing copy", "Word"}}},
			{title: "Android 15 edge-to-edge", bucket: 3, prio: 3, who: []int{4}, labels: []int{4}, due: -1, by: 3,
				desc: "Blocked on the design system update."},
			{title: "Accessibility labels for all buttons", bucket: 1, prio: 3, who: []int{8}, labels: []int{2}, due: 6, by: 6,
				check: []string{"Home", "Task detail", "Settings", "Sign-in"}},
			{title: "Crash-free sessions dashboard", bucket: 4, pct: 100, prio: 5, who: []int{4}, due: -15, by: 4, viaApp: integrationApp},
			{title: "Beta feedback triage", bucket: 1, pct: 50, prio: 5, who: []int{6}, start: -3, due: 4, by: 6},
			{title: "Remove the legacy sign-in code", bucket: 0, prio: 9, labels: []int{5}, by: 3},
			{title: "Tablet layout", bucket: 2, prio: 5, labels: []int{2, 6}, due: 35, by: 6},
			{title: "Release notes for 2.0", bucket: 0, prio: 5, who: []int{0}, due: 42, by: 0},
		},
	},
	{
		title: "Office Move — Building 7", group: 2, shared: true,
		buckets: []string{"Planning", "Facilities", "IT", "Done", "Parking lot"},
		labels:  []string{"Vendor", "Safety", "Network", "Furniture"},
		tasks: []demoTask{
			{title: "Confirm the move date", bucket: 3, pct: 100, prio: 1, who: []int{4}, due: -20, by: 4},
			{title: "Floor plan and seating chart", bucket: 0, pct: 50, prio: 3, who: []int{7, 0}, labels: []int{4}, due: 10, by: 4,
				rawRefs: true, assigned: "2026-10-12T14:03:09.1Z",
				refs: [][3]string{{sp + "ITOps/Shared%20Documents/Building%207%20floor%20plan.pdf", "Floor plan", "Other"}}},
			{title: "Network cabling and Wi-Fi survey", bucket: 2, prio: 1, who: []int{3}, labels: []int{3, 1}, start: 3, due: 14, by: 4},
			{title: "Order desks and chairs", bucket: 1, pct: 50, prio: 3, who: []int{4}, labels: []int{4, 1}, due: 12, by: 4, viaApp: powerAutomateApp,
				check: []string{"x Get three quotes", "Pick a vendor", "Place the order", "Schedule delivery"}},
			{title: "Badge access for all employees", bucket: 1, prio: 3, who: []int{7}, labels: []int{2}, due: 18, by: 7},
			{title: "Move the printers", bucket: 2, prio: 5, who: []int{3}, due: 21, by: 4},
			{title: "Fire safety walkthrough", bucket: 1, prio: 1, who: []int{4, 7}, labels: []int{2}, due: 20, by: 7,
				desc: "Required before anyone moves in. Fire marshal: +1 555 0100."},
			{title: "Pack-and-label instructions", bucket: 0, pct: 100, prio: 5, who: []int{0}, due: -2, by: 0,
				desc: "Label format: <floor>-<desk>, e.g. 3-114."},
			{title: "Farewell lunch in the old building 🍕", bucket: 0, prio: 9, due: 25, by: 7},
			{title: "Update the address everywhere", bucket: -1, prio: 5, who: []int{0}, due: 30, by: 0,
				check: []string{"Website footer", "Email signatures", "Invoices", "Google Business profile"}},
		},
	},
	{
		title: "FY27 Strategy (confidential)", group: 3, shared: true,
		buckets: []string{"Drafts", "Board review"},
		labels:  []string{"Board", "Finance"},
		tasks: []demoTask{
			{title: "Market sizing", bucket: 0, pct: 50, prio: 3, who: []int{2}, labels: []int{2}, due: 14, by: 5},
			{title: "Three-year revenue model", bucket: 0, prio: 1, who: []int{5}, labels: []int{2}, due: 21, by: 5},
			{title: "Org design options", bucket: 0, prio: 3, who: []int{7}, due: 28, by: 5},
			{title: "Board pre-read", bucket: 1, prio: 1, who: []int{5, 2}, labels: []int{1}, due: 35, by: 5},
			{title: "Offsite logistics", bucket: 1, pct: 100, prio: 5, who: []int{4}, due: -10, by: 4},
		},
	},
}

func buildDemo(s *Server) {
	b := newBuilder(s, 2026, demoBase)
	users := make([]*user, len(demoUsers))
	for i, u := range demoUsers {
		users[i] = b.addUser(u[0], u[1], u[2], u[3])
	}
	s.me = users[0]
	groups := make([]*group, len(demoGroups))
	for i, g := range demoGroups {
		var members []*user
		for _, m := range g.members {
			members = append(members, users[m])
		}
		groups[i] = b.addGroup(g.name, g.desc, true, members)
	}
	b.addGroup("All Employees", "Security group for every employee.", false, users)
	b.addGroup("VPN Users", "Security group for remote network access.", false, []*user{users[3], users[4]})
	b.addRole("Global Reader", "Can read everything that a Global Administrator can, but not update anything.", "f2ef992c-3afb-46b9-b7cf-a126ee74c451", users[0])

	for _, dp := range demoPlans {
		g := groups[dp.group]
		p := b.addPlan(g, dp.title, users[dp.tasks[0].by], dp.shared)
		for i, l := range dp.labels {
			b.setLabel(p, i, l)
		}
		bh := b.spread(len(dp.buckets))
		buckets := make([]*bucket, len(dp.buckets))
		for i, name := range dp.buckets {
			buckets[i] = b.addBucket(p, name, bh[i])
		}
		th := b.spread(len(dp.tasks))
		for i, dt := range dp.tasks {
			var bk *bucket
			if dt.bucket >= 0 {
				bk = buckets[dt.bucket]
			}
			creator := users[dt.by]
			t := b.newTask(p, bk, dt.title, creator, th[i])
			if dt.viaApp != "" {
				t.createdBy = ident{app: dt.viaApp}
			}
			t.priority = dt.prio
			if dt.pct == 100 {
				b.complete(t, users[firstOr(dt.who, dt.by)])
				if dt.viaApp != "" {
					t.completedBy = ident{app: dt.viaApp}
				}
			} else {
				t.percent = dt.pct
			}
			if dt.start != 0 {
				t.start = b.day(dt.start)
			}
			if dt.due != 0 {
				t.due = b.day(dt.due)
			}
			if dt.dueAt != "" {
				t.due = mustTime(dt.dueAt)
			}
			for _, w := range dt.who {
				b.assign(t, users[w], creator)
			}
			for k := range t.assignments {
				if dt.viaApp != "" {
					t.assignments[k].by = ident{app: dt.viaApp}
				}
				if dt.assigned != "" {
					t.assignments[k].at = mustTime(dt.assigned)
				}
			}
			if len(dt.who) > 0 {
				t.assigneePriority = th[i]
			}
			for _, l := range dt.labels {
				t.categories |= 1 << (l - 1)
			}
			if dt.desc != "" {
				t.description, t.descNull = dt.desc, false
			}
			ch := b.spread(len(dt.check))
			for j, c := range dt.check {
				title, checked := strings.CutPrefix(c, "x ")
				b.checklistItem(t, title, checked || dt.pct == 100, ch[j], creator)
				it := &t.checklist[len(t.checklist)-1]
				if dt.appKeys {
					it.key = strconv.Itoa(20886 + 7919*j%60000) // as the Planner apps key items
				}
				if dt.viaApp != "" {
					it.by = ident{app: dt.viaApp}
				}
			}
			rh := b.spread(len(dt.refs))
			for j, r := range dt.refs {
				b.reference(t, r[0], r[1], r[2], rh[j], creator)
				ref := &t.references[len(t.references)-1]
				if dt.rawRefs {
					ref.key = rawReferenceKey(r[0])
				}
				if dt.viaApp != "" {
					ref.by = ident{app: dt.viaApp}
				}
			}
			if len(dt.check) > 0 && dt.desc == "" {
				t.previewType = 2 // checklist
			}
			b.finish(t)
		}
	}
	// Last, so that the other objects' ids do not change.
	b.addUnit("Head Office", "Administrative unit of the head office's users.", users[0])
}

// rawReferenceKey is the key another client wrote for rawURL: % . : @ #
// encoded as documented, except that the URL's own percent escapes (%20)
// are left as they are instead of becoming %2520.
func rawReferenceKey(rawURL string) string {
	return strings.NewReplacer(".", "%2E", ":", "%3A", "@", "%40", "#", "%23").Replace(rawURL)
}

// mustTime parses a date-time of the demo data, keeping its digits.
func mustTime(s string) stamp {
	st, ok := parseGraphTime(s)
	if !ok {
		panic("graphtest: bad demo date-time " + s)
	}
	return st
}

func firstOr(xs []int, def int) int {
	if len(xs) > 0 {
		return xs[0]
	}
	return def
}
