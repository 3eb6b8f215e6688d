package console

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/plannersql/planner/driver"
	"github.com/plannersql/planner/replicate"
	"github.com/plannersql/planner/replicate/dest"
)

// TestHistory reads a job's runs from its destinations through
// replicate.History: the runs this console made and a run by another
// process, each with its tables, counts, Graph requests and log; not the
// runs of another source sharing the database.
func TestHistory(t *testing.T) {
	e := newEnv(t, jobsConfig, func(o *Options) { o.RunJob = realRun })
	s := e.session()
	for range 2 {
		id := s.must(202, "POST", "/api/jobs/nightly/run", nil).json["id"].(string)
		if d := s.finished(id); d.json["status"] != statusOK || field(d.json, "destinations", 0, "run_id") == "" {
			t.Fatalf("run: %s", d.body)
		}
	}
	// Another process copies into the same table under another SourceName,
	// and one runs the job by hand (planner jobs run): only the latter is
	// the job's.
	cn, _ := driver.NewConnector(&driver.Config{Sandbox: true})
	src := sql.OpenDB(cn)
	defer src.Close()
	dst, err := dest.Open(context.Background(), "sqlite:"+e.dir+"/out.db")
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := replicate.Run(context.Background(), src, dst, "REPLICATE Plans;", replicate.Options{Job: "nightly", SourceName: "other"}); err != nil {
		t.Fatal(err)
	}
	if _, err := replicate.Run(context.Background(), src, dst, "REPLICATE Tasks;", replicate.Options{Job: "nightly", RecordLog: true}); err != nil {
		t.Fatal(err)
	}

	h := s.must(200, "GET", "/api/jobs/nightly/history", nil)
	d0 := field(h.json, "destinations", 0)
	runs, _ := field(d0, "runs").([]any)
	if len(runs) != 3 || field(d0, "total") != 3.0 || field(d0, "error") != nil {
		t.Fatalf("history: %s", h.body)
	}
	first, last := runs[2], runs[0]
	if field(first, "inserted") != 48.0 || field(first, "tables") != 1.0 || field(first, "requests").(float64) == 0 || field(first, "color") != statusOK {
		t.Errorf("the first run: %v", first)
	}
	if field(runs[1], "inserted") != 0.0 || field(runs[1], "unchanged") != 48.0 {
		t.Errorf("the second run: %v", runs[1])
	}
	// One run, with its tables and log.
	r := s.must(200, "GET", "/api/jobs/nightly/history/0/"+field(first, "id").(string), nil)
	if field(r.json, "table_runs", 0, "table") != "Tasks" || field(r.json, "table_runs", 0, "inserted") != 48.0 ||
		!strings.Contains(r.json["log"].(string), "Tasks") {
		t.Errorf("run detail: %s", r.body)
	}
	page := s.must(200, "GET", "/jobs/nightly/history/0/"+field(first, "id").(string), nil).body
	for _, want := range []string{`id="history-tables"`, "Tasks", `id="run-log"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the run page lacks %s", want)
		}
	}
	// Paging, and what is not found.
	if p := s.must(200, "GET", "/api/jobs/nightly/history?limit=1&offset=1", nil); field(p.json, "destinations", 0, "runs", 0, "id") != field(runs[1], "id") {
		t.Errorf("page 2: %s", p.body)
	}
	for path, want := range map[string]int{
		"/api/jobs/nightly/history?limit=x":                         400,
		"/api/jobs/nightly/history/7/" + field(last, "id").(string): 404,
		"/api/jobs/nightly/history/0/0123":                          404,
		"/api/jobs/nope/history":                                    404,
	} {
		if r := s.call("GET", path, nil); r.status != want {
			t.Errorf("GET %s: %d, want %d", path, r.status, want)
		}
	}
	// The jobs list's last run is the latest recorded.
	j := s.must(200, "GET", "/api/jobs/nightly", nil)
	if field(j.json, "last_run", "id") != field(last, "id") || j.json["status"] != statusOK {
		t.Errorf("last run %v, status %v; want %v", field(j.json, "last_run", "id"), j.json["status"], field(last, "id"))
	}
	// A destination that cannot be read says so, for that destination only.
	if err := writeConfigWithBadDest(e); err != nil {
		t.Fatal(err)
	}
	h = s.must(200, "GET", "/api/jobs/nightly/history", nil)
	if field(h.json, "destinations", 0, "error") != nil || !strings.Contains(field(h.json, "destinations", 1, "error").(string), "cannot be read") {
		t.Errorf("history with an unreachable destination: %s", h.body)
	}
}

// writeConfigWithBadDest adds an unreachable PostgreSQL destination to the
// nightly job.
func writeConfigWithBadDest(e *env) error {
	s := e.session()
	r := s.call("PUT", "/api/jobs/nightly", map[string]any{"source": "demo", "schedule": "every 1 day at 02:00", "tables": []string{"Tasks"},
		"destinations": []any{map[string]string{"url": "sqlite:" + e.dir + "/out.db"}, map[string]string{"url": "postgres://u@127.0.0.1:1/db?connect_timeout=2"}}})
	if r.status != 200 {
		return &apiError{message: r.body}
	}
	return nil
}
