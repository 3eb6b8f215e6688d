package graphtest

import (
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Server is an emulator of Microsoft Graph's Planner endpoints and of the
// Microsoft identity platform's OAuth endpoints. It is safe for concurrent
// requests and concurrent use of its methods.
type Server struct {
	// mu guards the tenant below.
	mu         sync.RWMutex
	tenantID   string
	domain     string
	me         *user
	users      []*user
	usersByID  map[string]*user
	usersByUPN map[string]*user // lower-cased UPN
	groups     []*group
	groupsByID map[string]*group
	roles      []*dirRole
	plans      map[string]*plan
	planList   []*plan // seq order
	buckets    map[string]*bucket
	tasks      map[string]*task
	taskList   []*task              // seq order; with WithTasksOfDeletedPlans also the orphaned tasks
	orphans    int                  // orphaned tasks in taskList
	seq        uint64               // creation sequence of plans, buckets, tasks
	version    uint64               // etag versions
	hist       map[histKey]*history // recent versions of objects written through the API
	rng        *mrand.Rand

	publicClientID string
	confClientID   string
	confSecret     string

	cfg    config
	now    func() time.Time
	key    []byte // signs access tokens and skip tokens
	page   atomic.Int64
	lat    atomic.Int64
	empty  atomic.Bool
	batchN atomic.Uint64

	faults faultState
	log    requestLog
	idp    identityState

	urlMu     sync.RWMutex
	url       string
	ts        *httptest.Server
	hs        *http.Server
	gate      *gate // the listener, when the server owns one
	closeOnce sync.Once
	closeErr  error

	tokenOnce sync.Once
	userTok   string
	appTok    string
}

// User is a user of the emulated tenant.
type User struct {
	ID                string
	DisplayName       string
	UserPrincipalName string
	Mail              string
}

// Group is a group of the emulated tenant.
type Group struct {
	ID          string
	DisplayName string
	Unified     bool     // a Microsoft 365 group (groupTypes contains "Unified"); false: a security group
	Members     []string // user ids, sorted
	PlanIDs     []string // the group's plans, in creation order
}

// Limits are the Planner service limits the emulator enforces: a write that
// would exceed one answers 403 with the limit's Maximum… error code
// (planner-overview, "403 Forbidden") and a message saying what to do. Zero
// fields take the documented value (learn.microsoft.com planner-limits;
// Microsoft may change them without notice, so clients should branch on the
// codes, not the numbers).
//
// A plan has two task limits: MaximumActiveTasksInProject counts its tasks
// that are not completed (percentComplete below 100) and is the one flows
// usually meet first; MaximumTasksInProject counts all of them. Creating an
// incomplete task, or reopening a completed one, checks the first;
// creating any task checks the second. The per-user limits count a user's
// tasks across the tenant: assigning a user checks the tasks assigned to
// them, and creating a task as a user (not as an application alone) checks
// the tasks that user created. A limit refuses the write that adds to a
// count at or over it: an object already over one (seeded, or under a limit
// lowered with WithLimits) still takes removals and changes of its other
// properties.
type Limits struct {
	TasksPerPlan          int // MaximumTasksInProject, default 9000
	ActiveTasksPerPlan    int // MaximumActiveTasksInProject (tasks not completed), default 3000
	BucketsPerPlan        int // MaximumBucketsInProject, default 200
	PlansPerGroup         int // MaximumProjectsOwnedByUser, default 400
	AssigneesPerTask      int // MaximumAssigneesInTasks, default 20
	ChecklistItemsPerTask int // MaximumChecklistItemsOnTask, default 20
	ReferencesPerTask     int // MaximumReferencesOnTask, default 15
	UsersSharedWithPlan   int // MaximumUsersSharedWithProject, default 100
	TasksAssignedToUser   int // MaximumTasksAssignedToUser, default 9000
	TasksCreatedByUser    int // MaximumTasksCreatedByUser, default 20000
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.TasksPerPlan, 9000)
	def(&l.ActiveTasksPerPlan, 3000)
	def(&l.TasksAssignedToUser, 9000)
	def(&l.TasksCreatedByUser, 20000)
	def(&l.BucketsPerPlan, 200)
	def(&l.PlansPerGroup, 400)
	def(&l.AssigneesPerTask, 20)
	def(&l.ChecklistItemsPerTask, 20)
	def(&l.ReferencesPerTask, 15)
	def(&l.UsersSharedWithPlan, 100)
	return l
}

// Option configures a Server.
type Option func(*config)

type config struct {
	spec        *GenSpec
	pageSize    int
	latency     time.Duration
	tokenTTL    time.Duration
	rotation    bool
	rtGrace     time.Duration
	clock       func() time.Time
	limits      Limits
	devInterval time.Duration
	devExpiry   time.Duration

	keepDeletedPlanTasks bool
	strictChecklistHints bool
}

// WithDemoTenant selects the small fixed demo tenant: three groups the
// signed-in user belongs to with four plans, a fourth group (with a plan) the
// user is not a member of, two security groups and a directory role. It is
// the default when no tenant option is given.
func WithDemoTenant() Option { return func(c *config) { c.spec = nil } }

// WithGenerated selects a deterministic tenant generated from spec.
func WithGenerated(spec GenSpec) Option {
	return func(c *config) { s := spec; c.spec = &s }
}

// WithPageSize sets the list page size (default 400, like Planner).
func WithPageSize(n int) Option { return func(c *config) { c.pageSize = n } }

// WithLatency adds d to every request.
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithTokenTTL sets the lifetime of access tokens issued through the OAuth
// endpoints (default 1h). Token and AppToken are not affected.
func WithTokenTTL(d time.Duration) Option { return func(c *config) { c.tokenTTL = d } }

// WithRefreshTokenRotation makes every refresh return a new refresh token and
// invalidates the one used (default true). With rotation off, refresh tokens
// stay valid until revoked or idle for 90 days.
func WithRefreshTokenRotation(on bool) Option { return func(c *config) { c.rotation = on } }

// WithRefreshTokenGrace lets a rotated-out refresh token be used again within
// d of its first use (default 0: never), for clients racing to refresh.
func WithRefreshTokenGrace(d time.Duration) Option { return func(c *config) { c.rtGrace = d } }

// WithClock replaces the emulator's clock (default time.Now). Token lifetimes,
// device-code polling and timestamps of writes follow it, so tests can expire
// tokens without sleeping.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithLimits overrides Planner's service limits, e.g. to reach
// MaximumTasksInProject with a few requests.
func WithLimits(l Limits) Option { return func(c *config) { c.limits = l } }

// WithTasksOfDeletedPlans models a behaviour of the service that users
// report (microsoft-graph-docs#8729, #8730, #800; docs-contrib#5039): after a
// plan is deleted, directly or with its group (DeleteGroup), the tasks that
// were assigned to users stay in /me/planner/tasks and
// /users/{id}/planner/tasks, with the planId (and bucketId) of the deleted
// plan. GET of such a task, its details or its plan answers 404, and no
// plan or bucket list returns it. By default tasks go with their plan.
func WithTasksOfDeletedPlans() Option { return func(c *config) { c.keepDeletedPlanTasks = true } }

// WithStrictChecklistOrderHints follows what users report of the service
// (microsoft-graph-docs-contrib#348) rather than its documentation: on
// checklist items, the documented order hints built from empty neighbours
// only, " !", " !!", " ! !" (any hint of spaces and '!' alone), are 400, so
// the first item of an empty checklist is placed by omitting its orderHint.
// Hints composed with an existing value ("<prev> <next>!") are accepted as
// everywhere else. By default such hints are accepted, as documented.
func WithStrictChecklistOrderHints() Option { return func(c *config) { c.strictChecklistHints = true } }

// WithDeviceCode sets the device-code flow's polling interval (whole seconds,
// at least 1; default 5s) and the codes' lifetime (default 15 minutes).
func WithDeviceCode(interval, expiresIn time.Duration) Option {
	return func(c *config) { c.devInterval, c.devExpiry = interval, expiresIn }
}

// NewServer starts an emulator on a loopback httptest server, closed with
// tb.Cleanup.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := New(opts...)
	if err != nil {
		tb.Fatalf("graphtest: %v", err)
	}
	ts := httptest.NewUnstartedServer(s.Handler())
	g := newGate(ts.Listener)
	ts.Listener = g
	ts.Start()
	s.urlMu.Lock()
	s.ts, s.gate = ts, g
	s.urlMu.Unlock()
	s.setURL(ts.URL)
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// New builds an emulator that is not yet serving (standalone use by the CLI:
// `planner sandbox serve`). Serve it with Serve, or mount Handler yourself.
func New(opts ...Option) (*Server, error) {
	cfg := config{pageSize: 400, tokenTTL: time.Hour, rotation: true}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.pageSize <= 0 {
		return nil, fmt.Errorf("page size %d: give a positive number", cfg.pageSize)
	}
	if cfg.tokenTTL <= 0 {
		return nil, fmt.Errorf("token TTL %v: give a positive duration", cfg.tokenTTL)
	}
	if cfg.devInterval <= 0 {
		cfg.devInterval = 5 * time.Second
	}
	if cfg.devInterval < time.Second {
		cfg.devInterval = time.Second
	}
	cfg.devInterval = cfg.devInterval.Round(time.Second)
	if cfg.devExpiry <= 0 {
		cfg.devExpiry = 15 * time.Minute
	}
	cfg.limits = cfg.limits.withDefaults()
	s := &Server{
		cfg:        cfg,
		now:        cfg.clock,
		usersByID:  map[string]*user{},
		usersByUPN: map[string]*user{},
		groupsByID: map[string]*group{},
		plans:      map[string]*plan{},
		buckets:    map[string]*bucket{},
		tasks:      map[string]*task{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.key = make([]byte, 32)
	if _, err := rand.Read(s.key); err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	s.page.Store(int64(cfg.pageSize))
	s.lat.Store(int64(cfg.latency))
	s.idp.init()
	if cfg.spec == nil {
		buildDemo(s)
	} else {
		if err := cfg.spec.validate(); err != nil {
			return nil, err
		}
		generate(s, *cfg.spec)
	}
	return s, nil
}

// Handler returns the emulator's HTTP handler: Graph under /v1.0, the
// identity platform under /{tenant}/oauth2/v2.0/, and /devicelogin.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Serve serves the emulator on l until Close; it sets URL() from the
// listener's address. It returns nil after Close.
func (s *Server) Serve(l net.Listener) error {
	hs, g, err := s.bind(l)
	if err != nil {
		return err
	}
	return serveHTTP(hs, g)
}

// Start serves the emulator on l in a new goroutine, like Serve, and returns
// once URL() is set. Serve's result arrives on the channel.
func (s *Server) Start(l net.Listener) (<-chan error, error) {
	hs, g, err := s.bind(l)
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- serveHTTP(hs, g) }()
	return done, nil
}

// bind makes l the server's listener (behind a gate, for OutageRefused) and
// sets URL().
func (s *Server) bind(l net.Listener) (*http.Server, net.Listener, error) {
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.urlMu.Lock()
	defer s.urlMu.Unlock()
	if s.hs != nil || s.ts != nil {
		return nil, nil, errors.New("graphtest: server is already serving")
	}
	s.hs = hs
	s.gate = newGate(l)
	s.url = "http://" + l.Addr().String()
	return hs, s.gate, nil
}

func serveHTTP(hs *http.Server, l net.Listener) error {
	err := hs.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops serving (NewServer or Serve). It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.urlMu.RLock()
		ts, hs := s.ts, s.hs
		s.urlMu.RUnlock()
		if ts != nil {
			ts.CloseClientConnections()
			ts.Close()
		}
		if hs != nil {
			s.closeErr = hs.Close()
		}
	})
	return s.closeErr
}

func (s *Server) setURL(u string) {
	s.urlMu.Lock()
	s.url = u
	s.urlMu.Unlock()
}

// URL returns the emulator's root URL, e.g. "http://127.0.0.1:41234" (empty
// before NewServer or Serve).
func (s *Server) URL() string {
	s.urlMu.RLock()
	defer s.urlMu.RUnlock()
	return s.url
}

// GraphURL returns URL() + "/v1.0", the base URL for a Graph client.
func (s *Server) GraphURL() string { return s.URL() + "/v1.0" }

// AuthorityURL returns the identity platform's root: its endpoints are
// {AuthorityURL}/{tenant}/oauth2/v2.0/{authorize,token,devicecode}.
func (s *Server) AuthorityURL() string { return s.URL() }

// TenantID returns the emulated tenant's id (a GUID). URLs also accept
// "organizations", "common" and the tenant's domain (Domain).
func (s *Server) TenantID() string { return s.tenantID }

// Domain returns the tenant's domain, e.g. "contoso.onmicrosoft.com".
func (s *Server) Domain() string { return s.domain }

// ClientID returns the registered public client's id (auth code + PKCE,
// device code, refresh token).
func (s *Server) ClientID() string { return s.publicClientID }

// ConfidentialClient returns a registered confidential client (client
// credentials grant, application permissions Tasks.ReadWrite.All,
// Group.Read.All and User.Read.All).
func (s *Server) ConfidentialClient() (id, secret string) { return s.confClientID, s.confSecret }

// Me returns the signed-in test user.
func (s *Server) Me() User { return exportUser(s.me) }

func exportUser(u *user) User {
	return User{ID: u.id, DisplayName: u.displayName, UserPrincipalName: u.upn, Mail: u.mail}
}

// ---- runtime knobs ----

// SetLatency sets the delay added to every request.
func (s *Server) SetLatency(d time.Duration) { s.lat.Store(int64(d)) }

// SetPageSize sets the list page size (n <= 0 restores 400).
func (s *Server) SetPageSize(n int) {
	if n <= 0 {
		n = 400
	}
	s.page.Store(int64(n))
}

// EmptyPages makes list responses include an empty page after the first
// page (with a nextLink when more items follow), as Graph may.
func (s *Server) EmptyPages(on bool) { s.empty.Store(on) }

// ---- data access (snapshots) ----

// Users returns the tenant's users; Me is first.
func (s *Server) Users() []User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]User, len(s.users))
	for i, u := range s.users {
		out[i] = exportUser(u)
	}
	return out
}

// Groups returns the tenant's groups (Microsoft 365 and security groups),
// sorted by id.
func (s *Server) Groups() []Group {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Group, 0, len(s.groups))
	for _, g := range s.groups {
		og := Group{ID: g.id, DisplayName: g.displayName, Unified: g.unified}
		for m := range g.members {
			og.Members = append(og.Members, m)
		}
		sort.Strings(og.Members)
		for _, p := range g.plans {
			og.PlanIDs = append(og.PlanIDs, p.id)
		}
		out = append(out, og)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// GroupIDs returns the ids of every group (Microsoft 365 and security), sorted.
func (s *Server) GroupIDs() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, len(s.groups))
	for i, g := range s.groups {
		out[i] = g.id
	}
	sort.Strings(out)
	return out
}

// PlanIDs returns the ids of every plan, sorted.
func (s *Server) PlanIDs() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, len(s.planList))
	for i, p := range s.planList {
		out[i] = p.id
	}
	sort.Strings(out)
	return out
}

// BucketIDs returns the ids of a plan's buckets, sorted (nil for an unknown plan).
func (s *Server) BucketIDs(planID string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.plans[planID]
	if p == nil {
		return nil
	}
	out := make([]string, len(p.buckets))
	for i, b := range p.buckets {
		out[i] = b.id
	}
	sort.Strings(out)
	return out
}

// TaskIDs returns the ids of a plan's tasks, sorted (nil for an unknown plan).
func (s *Server) TaskIDs(planID string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.plans[planID]
	if p == nil {
		return nil
	}
	out := make([]string, len(p.tasks))
	for i, t := range p.tasks {
		out[i] = t.id
	}
	sort.Strings(out)
	return out
}

// TaskCount returns the number of tasks in the tenant.
func (s *Server) TaskCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.taskList) - s.orphans
}

// ---- internal helpers ----

// nowStamp is the emulator's clock as a service-made date-time.
func (s *Server) nowStamp() stamp { return stampOf(s.now()) }

func (s *Server) nextVersion() uint64 { s.version++; return s.version }

func (s *Server) nextSeq() uint64 { s.seq++; return s.seq }

// newPlannerID returns an unused 28-character id (caller holds mu).
func (s *Server) newPlannerID() string {
	for {
		id := plannerID(s.rng)
		if s.plans[id] == nil && s.buckets[id] == nil && s.tasks[id] == nil {
			return id
		}
	}
}

func randomGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	r := mrand.New(mrand.NewPCG(uint64(b[0])|uint64(b[1])<<8|uint64(b[2])<<16|uint64(b[3])<<24|uint64(b[4])<<32|uint64(b[5])<<40|uint64(b[6])<<48|uint64(b[7])<<56,
		uint64(b[8])|uint64(b[9])<<8|uint64(b[10])<<16|uint64(b[11])<<24|uint64(b[12])<<32|uint64(b[13])<<40|uint64(b[14])<<48|uint64(b[15])<<56))
	return guid(r)
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	out := make([]byte, n)
	for i, c := range b {
		out[i] = idAlphabet[c&63]
	}
	return string(out)
}
