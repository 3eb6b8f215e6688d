package console

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// replicaOf starts a second console on e's files, as a second process
// sharing the config file would be (its own locks, sessions and runs).
func replicaOf(t *testing.T, e *env) *env {
	t.Helper()
	r := &env{t: t, dir: e.dir, cfgPath: e.cfgPath, log: e.log, password: e.password, token: e.token}
	srv, err := New(e.srv.opts)
	if err != nil {
		t.Fatal(err)
	}
	r.srv = srv
	r.http = httptest.NewServer(srv)
	t.Cleanup(r.http.Close)
	r.secret(e.password, e.token)
	t.Cleanup(r.checkSecrets)
	return r
}

// TestReplicasEditTogether: two consoles on one config file save jobs and
// named destinations at the same time; no change is lost.
func TestReplicasEditTogether(t *testing.T) {
	a := newEnv(t, jobsConfig)
	b := replicaOf(t, a)
	clients := []*client{a.session(), b.session()}
	const n = 24
	var wg sync.WaitGroup
	for i := range n {
		c := clients[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r response
			if i%3 == 0 {
				r = c.call("POST", "/api/connections/destinations", map[string]any{"name": fmt.Sprintf("d%d", i), "url": fmt.Sprintf("sqlite:%s/d%d.db", a.dir, i)})
			} else {
				r = c.call("POST", "/api/jobs", map[string]any{"name": fmt.Sprintf("j%d", i), "source": "demo", "tables": []string{"Plans"},
					"destinations": []any{map[string]string{"url": "sqlite:" + a.dir + "/x.db"}}})
			}
			if r.status != 201 {
				t.Errorf("create %d: %d %.300s", i, r.status, r.body)
			}
		}()
	}
	wg.Wait()
	cfg := a.readConfig()
	if !strings.HasPrefix(cfg, strings.ReplaceAll(jobsConfig, "{{dir}}", a.dir)) {
		t.Errorf("the hand-written part changed:\n%s", cfg)
	}
	conns := clients[0].must(200, "GET", "/api/connections", nil)
	dests := fmt.Sprint(conns.json["destinations"])
	for i := range n {
		switch {
		case i%3 == 0 && !strings.Contains(dests, fmt.Sprintf("name:d%d ", i)):
			t.Errorf("destination d%d was lost", i)
		case i%3 != 0 && !strings.Contains(cfg, fmt.Sprintf("[jobs.j%d]", i)):
			t.Errorf("job j%d was lost", i)
		}
	}
}

// TestFirstSaveCreatesTheConfigDir: a console whose config file's directory
// does not exist yet (a new user) creates it on the first save, lock
// included.
func TestFirstSaveCreatesTheConfigDir(t *testing.T) {
	var nested string
	e := newEnv(t, "", func(o *Options) {
		nested = filepath.Join(filepath.Dir(o.ConfigPath), "new", "planner", "config.toml")
		o.ConfigPath = nested
	})
	s := e.session()
	s.must(201, "POST", "/api/connections/sources", map[string]any{"name": "p", "properties": map[string]string{"Sandbox": "true"}})
	if b, err := os.ReadFile(nested); err != nil || !strings.Contains(string(b), "[profiles.p]") {
		t.Errorf("%s: %q %v", nested, b, err)
	}
}
