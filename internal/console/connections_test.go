package console

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plannersql/planner/driver"
	"github.com/plannersql/planner/graph/graphtest"
	"github.com/plannersql/planner/internal/config"
	"github.com/plannersql/planner/internal/testkit"
)

// connectorLog wraps Options.NewConnector: it records the connectors the
// console opens, and every token and code the identity platform issues
// (as secrets no response may show).
type connectorLog struct {
	e          *env
	mu         sync.Mutex
	connectors []*driver.Connector
}

func (cl *connectorLog) open(cfg *driver.Config) (*driver.Connector, error) {
	cfg.HTTPClient = &http.Client{Transport: testkit.IssuedSecrets{Add: func(v string) { cl.e.secret(v) }}}
	cn, err := driver.NewConnector(cfg)
	if err == nil {
		cl.mu.Lock()
		cl.connectors = append(cl.connectors, cn)
		cl.mu.Unlock()
	}
	return cn, err
}

func (cl *connectorLog) count() int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return len(cl.connectors)
}

func (cl *connectorLog) last() *driver.Connector {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.connectors[len(cl.connectors)-1]
}

func withConnectorLog(cl *connectorLog) envOption {
	return func(o *Options) { o.NewConnector = cl.open }
}

// TestSourceTestAndCatalog tests a source and reads its catalog: the
// console's test costs what the query costs, and the catalog no Graph
// request at all.
func TestSourceTestAndCatalog(t *testing.T) {
	cl := &connectorLog{}
	e := newEnv(t, jobsConfig, withConnectorLog(cl))
	cl.e = e
	s := e.session()

	// What "SELECT count(*) FROM Plans" costs on a fresh sandbox: groups,
	// then the plans of each group.
	ref, err := driver.NewConnector(&driver.Config{Sandbox: true})
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(ref)
	var plans int
	if err := db.QueryRow("SELECT count(*) FROM Plans").Scan(&plans); err != nil {
		t.Fatal(err)
	}
	floor := ref.Requests()
	db.Close()
	if floor != 4 { // 1 groups list + 3 groups' plans lists in the demo tenant
		t.Errorf("the reference query took %d requests, want the floor 4", floor)
	}
	for _, name := range []string{"sandbox", "demo"} {
		r := s.must(200, "POST", "/api/connections/sources/"+name+"/test", nil)
		if r.json["ok"] != true || r.json["plans"] != float64(plans) || r.json["requests"] != float64(floor) {
			t.Errorf("test of %s: %s (want %d plans in %d requests)", name, r.body, plans, floor)
		}
	}

	n := cl.count()
	c := s.must(200, "GET", "/api/connections/sources/demo/catalog", nil)
	if c.json["note"] != nil {
		t.Errorf("catalog note: %v", c.json["note"])
	}
	if got := cl.last().Requests(); got != 0 {
		t.Errorf("reading the catalog sent %d Graph requests, want 0", got)
	}
	tables, _ := c.json["tables"].([]any)
	var tasks map[string]any
	for _, x := range tables {
		m := x.(map[string]any)
		if strings.HasPrefix(m["name"].(string), "sys_") {
			t.Errorf("the catalog offers %s", m["name"])
		}
		if m["name"] == "Tasks" {
			tasks = m
		}
	}
	if tasks == nil || field(tasks, "columns", 0, "name") != "TaskId" || field(tasks, "columns", 0, "key") != true {
		t.Fatalf("catalog Tasks: %v", tasks)
	}
	// It is read once per source.
	s.must(200, "GET", "/api/connections/sources/demo/catalog", nil)
	if cl.count() != n+1 {
		t.Errorf("the catalog was read %d times", cl.count()-n)
	}
	if r := s.call("GET", "/api/connections/sources/nope/catalog", nil); r.status != 404 {
		t.Errorf("catalog of an unknown source: %d", r.status)
	}
}

// emulatorProfile is a user profile signing in at the emulator, keeping
// its sign-in in a file.
func emulatorProfile(srv *graphtest.Server, store, scheme string) map[string]string {
	return map[string]string{"AuthScheme": scheme, "Tenant": srv.TenantID(), "OAuthClientId": srv.ClientID(),
		"AuthorityURL": srv.AuthorityURL(), "GraphURL": srv.GraphURL(), "OAuthSettingsLocation": store}
}

// TestSignInFromThePage signs a profile in from the console, in the
// browser and with a device code, against the emulator's identity
// platform; the page shows who signed in, never a token.
func TestSignInFromThePage(t *testing.T) {
	srv := graphtest.NewServer(t, graphtest.WithDemoTenant(), graphtest.WithDeviceCode(time.Second, 15*time.Minute))
	cl := &connectorLog{}
	e := newEnv(t, "", withConnectorLog(cl))
	cl.e = e
	e.secret(srv.Token(), srv.AppToken())
	s := e.session()
	store := filepath.Join(e.dir, "tokens.json")
	s.must(201, "POST", "/api/connections/sources", map[string]any{"name": "contoso", "properties": emulatorProfile(srv, store, "AzureAD")})

	// Not signed in yet: the test says so, the catalog falls back.
	v := s.must(200, "GET", "/api/connections/sources/contoso", nil)
	if field(v.json, "sign_in", "signed_in") != false {
		t.Errorf("before sign-in: %s", v.body)
	}
	r := s.must(200, "POST", "/api/connections/sources/contoso/test", nil)
	if r.json["ok"] != false || !strings.Contains(r.json["error"].(string), "sign in") {
		t.Errorf("test before sign-in: %s", r.body)
	}
	if c := s.must(200, "GET", "/api/connections/sources/contoso/catalog", nil); !strings.Contains(fmt.Sprint(c.json["note"]), "could not be read") {
		t.Errorf("catalog before sign-in: note %v", c.json["note"])
	}

	// Browser flow: the page gets the sign-in address; opening it signs in.
	f := s.must(200, "POST", "/api/connections/sources/contoso/signin", nil)
	if f.json["state"] != signInBrowser || !strings.HasPrefix(f.json["url"].(string), srv.AuthorityURL()) {
		t.Fatalf("sign-in: %s", f.body)
	}
	// A second start returns the same flow.
	if again := s.must(200, "POST", "/api/connections/sources/contoso/signin", nil); again.json["url"] != f.json["url"] {
		t.Errorf("a second start began another flow")
	}
	res, err := http.Get(f.json["url"].(string)) // the user's browser: the emulator redirects to the loopback callback
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	done := s.must(200, "GET", fmt.Sprintf("/api/connections/sources/contoso/signin?wait=30&after=%v", f.json["version"]), nil)
	for done.json["state"] != signInDone && done.json["state"] != signInFailed {
		done = s.must(200, "GET", fmt.Sprintf("/api/connections/sources/contoso/signin?wait=30&after=%v", done.json["version"]), nil)
	}
	upn := srv.Me().UserPrincipalName
	if done.json["state"] != signInDone || field(done.json, "sign_in", "account") != upn {
		t.Fatalf("after the browser sign-in: %s", done.body)
	}
	v = s.must(200, "GET", "/api/connections", nil)
	src := field(v.json, "sources", 1)
	if field(src, "sign_in", "signed_in") != true || field(src, "sign_in", "account") != upn || field(src, "sign_in", "tenant_id") != srv.TenantID() ||
		field(src, "sign_in", "expiry") == nil || !strings.Contains(fmt.Sprint(field(src, "sign_in", "stored_in")), "tokens.json") {
		t.Errorf("connections after sign-in: %v", src)
	}
	r = s.must(200, "POST", "/api/connections/sources/contoso/test", nil)
	if r.json["ok"] != true || r.json["plans"] != 4.0 || field(r.json, "sign_in", "account") != upn {
		t.Errorf("test after sign-in: %s", r.body)
	}
	if c := s.must(200, "GET", "/api/connections/sources/contoso/catalog", nil); c.json["note"] != nil {
		t.Errorf("catalog after sign-in: note %v", c.json["note"])
	}
	if b := s.must(200, "GET", "/connections", nil).body; !strings.Contains(b, upn) {
		t.Error("the Connections page does not say who signed in")
	}
	// Sign out, then sign in with a device code shown in the page.
	if r := s.must(200, "POST", "/api/connections/sources/contoso/signout", nil); r.json["signed_out"] != true {
		t.Errorf("sign out: %s", r.body)
	}
	f = s.must(200, "POST", "/api/connections/sources/contoso/signin", map[string]bool{"device_code": true})
	if f.json["state"] != signInCode || f.json["user_code"] == "" || f.json["verification_uri"] == "" {
		t.Fatalf("device code sign-in: %s", f.body)
	}
	if b := s.must(200, "GET", "/connections", nil).body; strings.Contains(b, f.json["user_code"].(string)) {
		t.Log("(the user code is shown by the page's script, from the API)")
	}
	if err := srv.ApproveDeviceCode(f.json["user_code"].(string)); err != nil {
		t.Fatal(err)
	}
	done = s.must(200, "GET", fmt.Sprintf("/api/connections/sources/contoso/signin?wait=30&after=%v", f.json["version"]), nil)
	for done.json["state"] != signInDone && done.json["state"] != signInFailed {
		done = s.must(200, "GET", fmt.Sprintf("/api/connections/sources/contoso/signin?wait=30&after=%v", done.json["version"]), nil)
	}
	if done.json["state"] != signInDone || field(done.json, "sign_in", "account") != upn {
		t.Fatalf("after the device code: %s", done.body)
	}
	// A cancelled sign-in says so.
	s.must(200, "POST", "/api/connections/sources/contoso/signout", nil)
	f = s.must(200, "POST", "/api/connections/sources/contoso/signin", map[string]bool{"device_code": true})
	s.must(200, "DELETE", "/api/connections/sources/contoso/signin", nil)
	done = s.must(200, "GET", fmt.Sprintf("/api/connections/sources/contoso/signin?wait=30&after=%v", f.json["version"]), nil)
	if done.json["state"] != signInFailed || !strings.Contains(done.json["error"].(string), "cancelled") {
		t.Errorf("cancelled sign-in: %s", done.body)
	}
}

// TestServicePrincipalSource adds an app-only source whose client secret
// is write-only.
func TestServicePrincipalSource(t *testing.T) {
	srv := graphtest.NewServer(t, graphtest.WithDemoTenant())
	id, secret := srv.ConfidentialClient()
	cl := &connectorLog{}
	e := newEnv(t, "", withConnectorLog(cl))
	cl.e = e
	e.secret(secret)
	s := e.session()
	props := map[string]string{"AuthScheme": "AzureServicePrincipal", "Tenant": srv.TenantID(), "OAuthClientId": id, "OAuthClientSecret": secret,
		"AuthorityURL": srv.AuthorityURL(), "GraphURL": srv.GraphURL(), "OAuthSettingsLocation": "memory://"}
	v := s.must(201, "POST", "/api/connections/sources", map[string]any{"name": "app", "properties": props})
	var sec map[string]any
	for _, p := range v.json["properties"].([]any) {
		if field(p, "key") == "OAuthClientSecret" {
			sec = p.(map[string]any)
		}
	}
	if sec == nil || sec["set"] != true || sec["secret"] != true || sec["value"] != nil {
		t.Errorf("the secret property: %v", sec)
	}
	// The app signs in with the secret; the test reaches the plans.
	r := s.must(200, "POST", "/api/connections/sources/app/test", nil)
	if r.json["ok"] != true {
		t.Errorf("app-only test: %s", r.body)
	}
	// An update without the secret keeps it; clearing removes it.
	s.must(200, "PUT", "/api/connections/sources/app", map[string]any{"properties": map[string]string{"OAuthClientSecret": "", "MaxConcurrency": "2"}})
	f, err := config.LoadRaw(e.cfgPath, loadOptions())
	if err != nil {
		t.Fatal(err)
	}
	p, _ := f.Profile("app")
	if got, _ := p.Get("OAuthClientSecret"); got != secret {
		t.Error("an update without the secret lost it")
	}
	s.must(200, "PUT", "/api/connections/sources/app", map[string]any{"clear": []string{"OAuthClientSecret"}})
	f, _ = config.LoadRaw(e.cfgPath, loadOptions())
	p, _ = f.Profile("app")
	if _, ok := p.Get("OAuthClientSecret"); ok {
		t.Error("clear left the secret in the file")
	}
	// A secret from the environment stays a reference in the file.
	t.Setenv("APP_SECRET", secret)
	s.must(200, "PUT", "/api/connections/sources/app", map[string]any{"properties": map[string]string{"OAuthClientSecret": "${APP_SECRET}"}})
	if !strings.Contains(e.readConfig(), `OAuthClientSecret = "${APP_SECRET}"`) {
		t.Errorf("config:\n%s", e.readConfig())
	}
	if r := s.must(200, "POST", "/api/connections/sources/app/test", nil); r.json["ok"] != true {
		t.Errorf("test with the secret from the environment: %s", r.body)
	}
	if st, _ := os.Stat(e.cfgPath); st.Mode().Perm() != 0o600 {
		t.Errorf("config file mode %v, want 0600: it holds a secret", st.Mode().Perm())
	}
}

// TestDestinations covers named destinations: tests that create and drop
// a probe table, write-only passwords, and jobs following a destination's
// new URL.
func TestDestinations(t *testing.T) {
	e := newEnv(t, jobsConfig)
	s := e.session()
	db := "sqlite:" + e.dir + "/fresh.db"
	r := s.must(200, "POST", "/api/connections/destinations/test", map[string]string{"url": db})
	if r.json["ok"] != true || r.json["writable"] != true || r.json["kind"] != "sqlite" {
		t.Errorf("sqlite test: %s", r.body)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "fresh.db")); !os.IsNotExist(err) {
		t.Error("the test left the file it created")
	}
	r = s.must(200, "POST", "/api/connections/destinations/test", map[string]string{"url": "sqlite:" + e.dir + "/no/such/dir/x.db"})
	if r.json["ok"] != false || !strings.Contains(r.json["error"].(string), "does not exist") {
		t.Errorf("missing folder: %s", r.body)
	}
	// A job's own destination can be tested by its id.
	if r := s.must(200, "POST", "/api/connections/destinations/job:nightly:0/test", nil); r.json["ok"] != true {
		t.Errorf("test of a job's destination: %s", r.body)
	}
	for _, id := range []string{"job:nightly:5", "job:nope:0", "job:x", "nope"} {
		if r := s.call("POST", "/api/connections/destinations/"+id+"/test", nil); r.status != 404 {
			t.Errorf("test of %s: %d", id, r.status)
		}
	}

	// A named destination with a password: shown masked, kept on update.
	pw := "pg-pass-" + randomHex(4)
	e.secret(pw)
	pgURL := "postgres://planner:" + pw + "@db.example.com:5432/warehouse?sslmode=require"
	v := s.must(201, "POST", "/api/connections/destinations", map[string]string{"name": "wh", "url": pgURL})
	if v.json["url"] != "postgres://planner:********@db.example.com:5432/warehouse?sslmode=require" || v.json["password_set"] != true {
		t.Errorf("masked: %s", v.body)
	}
	s.must(200, "PUT", "/api/connections/destinations/wh", map[string]string{"url": "postgres://planner:********@db.example.com:5432/warehouse?sslmode=verify-full"})
	st, _ := loadSettings(e.srv.opts.SettingsPath)
	if st.Destinations["wh"] != "postgres://planner:"+pw+"@db.example.com:5432/warehouse?sslmode=verify-full" {
		t.Errorf("stored URL after a masked update: %q", st.Destinations["wh"])
	}
	if r := s.call("PUT", "/api/connections/destinations/wh", map[string]string{"url": "postgres://planner:********@evil.example.com/warehouse"}); r.status != 422 {
		t.Errorf("a masked password sent to another host: %d %s", r.status, r.body)
	}
	// A job writing to a named destination gets its URL; it follows the
	// destination when that changes.
	s.must(201, "POST", "/api/connections/destinations", map[string]string{"name": "local", "url": db})
	s.must(201, "POST", "/api/jobs", map[string]any{"name": "j", "source": "sandbox", "tables": []string{"Plans"},
		"destinations": []any{map[string]string{"destination": "local"}, map[string]string{"destination": "wh", "schema": "planner"}}})
	j := s.must(200, "GET", "/api/jobs/j", nil)
	if field(j.json, "destinations", 0, "destination") != "local" || field(j.json, "destinations", 1, "url") != "postgres://planner:********@db.example.com:5432/warehouse?sslmode=verify-full" {
		t.Errorf("job destinations: %v", j.json["destinations"])
	}
	moved := "sqlite:" + e.dir + "/moved.db"
	s.must(200, "PUT", "/api/connections/destinations/local", map[string]string{"url": moved})
	f, _ := config.LoadRaw(e.cfgPath, loadOptions())
	job, _ := f.Job("j")
	if job.Destinations[0].URL != moved || !strings.Contains(job.Destinations[1].URL, pw) {
		t.Errorf("job destinations after the move: %+v", job.Destinations)
	}
	conns := s.must(200, "GET", "/api/connections", nil)
	if n := len(conns.json["destinations"].([]any)); n != 3 { // wh, local, and nightly's own
		t.Errorf("%d destinations listed: %v", n, conns.json["destinations"])
	}
	s.must(200, "DELETE", "/api/connections/destinations/local", nil)
	if f, _ = config.LoadRaw(e.cfgPath, loadOptions()); func() string { j, _ := f.Job("j"); return j.Destinations[0].URL }() != moved {
		t.Error("deleting a destination changed its jobs")
	}
}

// TestDestinationServers tests PostgreSQL and MariaDB destinations: a
// writable one, and a PostgreSQL role that may connect but not create.
func TestDestinationServers(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:5432", "127.0.0.1:3306"} {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("no database at %s: %v", addr, err)
			}
			t.Skipf("no database at %s", addr)
		}
		c.Close()
	}
	e := newEnv(t, "")
	s := e.session()
	pw := "pg-any-" + randomHex(4) // trust authentication ignores it; it must not show
	e.secret(pw)
	for _, u := range []string{"postgres://postgres:" + pw + "@127.0.0.1:5432/test?sslmode=disable", "mysql://root@127.0.0.1:3306/test"} {
		r := s.must(200, "POST", "/api/connections/destinations/test", map[string]string{"url": u})
		if r.json["ok"] != true || r.json["writable"] != true {
			t.Errorf("test of %s: %s", destKind(u), r.body)
		}
	}
	admin, err := sql.Open("pgx", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	role := "planner_console_ro_" + randomHex(4)
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE ROLE "+role+" LOGIN"); err != nil {
		t.Fatal(err)
	}
	defer admin.ExecContext(ctx, "DROP ROLE "+role)
	// PostgreSQL 15 and later give PUBLIC no CREATE on schema public.
	var canCreate bool
	if err := admin.QueryRowContext(ctx, "SELECT has_schema_privilege($1, 'public', 'CREATE')", role).Scan(&canCreate); err != nil {
		t.Fatal(err)
	}
	if canCreate {
		t.Skip("this PostgreSQL lets every role create tables in public: no read-only role to test")
	}
	r := s.must(200, "POST", "/api/connections/destinations/test", map[string]string{"url": "postgres://" + role + "@127.0.0.1:5432/test?sslmode=disable"})
	if r.json["ok"] != false || r.json["reachable"] != true || r.json["writable"] != false || !strings.Contains(r.json["error"].(string), "cannot create a table") {
		t.Errorf("read-only role: %s", r.body)
	}
}
