package replicate

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// hookCounter counts a hooked source's queries as its requests.
type hookCounter struct{ h *hooks }

func (c hookCounter) Requests() int  { return int(c.h.queries.Load()) }
func (c hookCounter) Throttled() int { return int(c.h.queries.Load() / 2) }

// otherSchema creates a schema (PostgreSQL, mixed case), database (MySQL)
// or attached file name (SQLite, non-ASCII) dropped at cleanup.
func otherSchema(t *testing.T, kind string, dst *sql.DB) string {
	t.Helper()
	switch kind {
	case "postgres":
		s := "Hist_" + randSuffix()
		pgSchema(t, pgAdmin(t), s)
		return s
	case "mysql":
		s := "hist_" + randSuffix()
		mysqlDatabase(t, mysqlAdmin(t), s)
		return s
	}
	return "Données"
}

// TestHistory records runs of jobs and manual runs into every dialect and
// reads them back through History: filters, paging, one run with its
// tables (in two schemas), counts, requests, errors and log.
func TestHistory(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		ctx := context.Background()
		hist, err := NewHistory(ctx, dst, HistoryOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Nothing recorded yet: an empty list, not an error.
		if l, err := hist.Runs(ctx, RunFilter{}); err != nil || l.Total != 0 || len(l.Runs) != 0 || l.Runs == nil {
			t.Fatalf("empty history: %+v, %v", l, err)
		}
		if _, err := hist.Run(ctx, "nope"); !errors.Is(err, ErrRunNotFound) {
			t.Fatalf("Run(unknown) on an empty history: %v", err)
		}

		_, path := sourceDB(t, tasksDDL)
		h := &hooks{match: "\x00"}
		src := openHooked(t, path, h)
		fillTasks(t, src, 0, 10)
		other := otherSchema(t, kind, dst)
		script := "REPLICATE Tasks; REPLICATE " + quoteFor("postgres", other) + ".Open SELECT * FROM Tasks WHERE PercentComplete < 50; REPLICATE Broken SELECT * FROM Nope"
		t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		clock := t0
		now := func() time.Time { return clock }
		base := Options{Now: now, Requests: hookCounter{h}, SourceName: "a"}

		o := base
		o.Job, o.Destination, o.RecordLog = "nightly", "sqlite:x.db (SourceName a)", true
		res := run(t, src, dst, script, o)
		if len(res) != 3 || res[0].Err != nil || res[1].Err != nil || res[2].Err == nil {
			t.Fatalf("first run: %+v", res)
		}
		jobRun := res[0].RunID
		clock = clock.Add(time.Hour)
		o = base // a manual run of the same scope
		run(t, src, dst, "REPLICATE Tasks", o)
		clock = clock.Add(time.Hour)
		o = base
		o.Job, o.TablePrefix = "nightly", "P_"
		run(t, src, dst, "REPLICATE Tasks", o)

		list := func(f RunFilter) []string {
			t.Helper()
			l, err := hist.Runs(ctx, f)
			if err != nil {
				t.Fatalf("Runs(%+v): %v", f, err)
			}
			var ids []string
			for _, r := range l.Runs {
				ids = append(ids, r.Job+"/"+r.TablePrefix+"/"+string(r.Status))
			}
			if f.Limit == 0 && l.Total != len(ids) {
				t.Fatalf("Runs(%+v): total %d, %d runs", f, l.Total, len(ids))
			}
			return ids
		}
		empty, prefix := "", "P_"
		for _, c := range []struct {
			f    RunFilter
			want string
		}{
			{RunFilter{}, "nightly/P_/ok //ok nightly//failed"},
			{RunFilter{Job: "nightly"}, "nightly/P_/ok nightly//failed"},
			{RunFilter{NoJob: true}, "//ok"},
			{RunFilter{Job: "nightly", TablePrefix: &empty}, "nightly//failed"},
			{RunFilter{TablePrefix: &prefix}, "nightly/P_/ok"},
			{RunFilter{SourceName: &empty}, ""},
			{RunFilter{Status: StatusFailed}, "nightly//failed"},
			{RunFilter{Destination: "sqlite:x.db (SourceName a)"}, "nightly//failed"},
			{RunFilter{Since: t0.Add(time.Hour)}, "nightly/P_/ok //ok"},
			{RunFilter{Until: t0.Add(time.Hour)}, "nightly//failed"},
			{RunFilter{Limit: 1, Offset: 1}, "//ok"},
		} {
			if got := strings.Join(list(c.f), " "); got != c.want {
				t.Errorf("Runs(%+v) = %q, want %q", c.f, got, c.want)
			}
		}

		rec, err := hist.Run(ctx, jobRun)
		if err != nil {
			t.Fatal(err)
		}
		if rec.ID != jobRun || rec.Job != "nightly" || rec.SourceName != "a" || rec.Destination != "sqlite:x.db (SourceName a)" ||
			rec.Status != StatusFailed || rec.Host != hostName() || rec.PID != os.Getpid() || !rec.Started.Equal(t0) || !rec.Ended.Equal(t0) {
			t.Fatalf("run record %+v", rec)
		}
		if rec.TableCount != 3 || rec.FailedCount != 1 || rec.Inserted != 20 || !strings.Contains(rec.Error, "1 of 3 tables failed; Broken (a): query the source:") {
			t.Fatalf("run totals %+v", rec)
		}
		if len(rec.Tables) != 3 {
			t.Fatalf("%d tables, want 3: %+v", len(rec.Tables), rec.Tables)
		}
		var tableReq int64
		for _, tr := range rec.Tables {
			tableReq += tr.Requests
			switch tr.Table {
			case "Tasks":
				if tr.Status != StatusOK || tr.Inserted != 10 || tr.Schema != "" || tr.SourceName != "a" || tr.Statement != "REPLICATE Tasks" || tr.Requests == 0 {
					t.Errorf("Tasks record %+v", tr)
				}
			case Name{Schema: other, Table: "Open"}.String():
				if tr.Status != StatusOK || tr.Inserted != 10 || tr.Schema != other {
					t.Errorf("Open record %+v", tr)
				}
			case "Broken":
				if tr.Status != StatusFailed || !strings.Contains(tr.Error, "Nope") {
					t.Errorf("Broken record %+v", tr)
				}
			default:
				t.Errorf("unexpected table record %+v", tr)
			}
		}
		if rec.Requests < tableReq || rec.Requests == 0 || rec.Throttled == 0 {
			t.Errorf("run requests %d (throttled %d), tables' %d", rec.Requests, rec.Throttled, tableReq)
		}
		if !strings.Contains(rec.Log, "replicate table ok") || !strings.Contains(rec.Log, "table=Broken") {
			t.Errorf("log:\n%s", rec.Log)
		}
		// The console serves records as JSON.
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		var back RunRecord
		if err := json.Unmarshal(b, &back); err != nil || back.ID != rec.ID || len(back.Tables) != 3 || !strings.Contains(string(b), `"status":"failed"`) {
			t.Fatalf("JSON %s: %v", b, err)
		}
		// A run made with Options.Schema is read with the same schema.
		o = base
		o.Schema = other
		res = run(t, src, dst, "REPLICATE Tasks", o)
		hs, err := NewHistory(ctx, dst, HistoryOptions{Schema: other})
		if err != nil {
			t.Fatal(err)
		}
		l, err := hs.Runs(ctx, RunFilter{})
		if err != nil || l.Total != 1 || l.Runs[0].ID != res[0].RunID {
			t.Fatalf("runs in schema %s: %+v, %v", other, l, err)
		}
		if r, err := hs.Run(ctx, res[0].RunID); err != nil || len(r.Tables) != 1 || r.Tables[0].Inserted != 10 {
			t.Fatalf("run in schema %s: %+v, %v", other, r, err)
		}
		// A schema that does not exist has an empty history.
		hn, _ := NewHistory(ctx, dst, HistoryOptions{Schema: "nope_" + randSuffix()})
		if l, err := hn.Runs(ctx, RunFilter{}); err != nil || l.Total != 0 {
			t.Fatalf("runs of a missing schema: %+v, %v", l, err)
		}
	})
}

// TestHistoryErrors: only a missing history is empty; other failures are
// errors.
func TestHistoryErrors(t *testing.T) {
	t.Parallel()
	db, _ := sqliteDest(t)
	h, err := NewHistory(context.Background(), db, HistoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A runs table that is not one.
	mustExec(t, db, "CREATE TABLE "+RunsTable+" (X TEXT)")
	if _, err := h.Runs(context.Background(), RunFilter{}); err == nil {
		t.Fatal("a broken runs table read as empty")
	}
	db.Close()
	if _, err := h.Runs(context.Background(), RunFilter{}); err == nil {
		t.Fatal("a closed database read as empty")
	}
}

// TestHistoryUpgrade: a history table written by an earlier version (no
// RunId, Requests, Throttled) is upgraded in place and keeps its rows.
func TestHistoryUpgrade(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		d, err := newDialect(context.Background(), dst)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := historyColumns()
		defs := []string{quoteFor(kind, "Id") + " " + d.identityColumn()}
		for _, c := range cols[:12] {
			defs = append(defs, quoteFor(kind, c.name)+" "+d.columnType(c.typ, false, 0))
		}
		mustExec(t, dst, "CREATE TABLE "+quoteFor(kind, DefaultHistoryTable)+" ("+strings.Join(defs, ", ")+")")
		mustExec(t, dst, "INSERT INTO "+quoteFor(kind, DefaultHistoryTable)+" ("+quoteFor(kind, "TableName")+", "+quoteFor(kind, "Status")+") VALUES ('Old', 'ok')")
		src, _ := sourceDB(t, tasksDDL)
		fillTasks(t, src, 0, 3)
		r := runOK(t, src, dst, "REPLICATE Tasks", Options{})
		if n := scalar[int](t, dst, "SELECT COUNT(*) FROM "+quoteFor(kind, DefaultHistoryTable)); n != 2 {
			t.Fatalf("%d history rows, want the old one and the new one", n)
		}
		h, _ := NewHistory(context.Background(), dst, HistoryOptions{})
		if rec, err := h.Run(context.Background(), r.RunID); err != nil || len(rec.Tables) != 1 {
			t.Fatalf("%+v, %v", rec, err)
		}
	})
}

// TestHistoryPoolOfOne: History reads a run, with tables in two schemas,
// from a database limited to one connection (usual for SQLite) without
// waiting for a connection it holds itself.
func TestHistoryPoolOfOne(t *testing.T) {
	t.Parallel()
	dst, _ := sqliteDest(t)
	dst.SetMaxOpenConns(1)
	src, _ := sourceDB(t, tasksDDL)
	fillTasks(t, src, 0, 4)
	res := run(t, src, dst, `REPLICATE Tasks; REPLICATE "Données".Open SELECT * FROM Tasks`, Options{})
	if len(res) != 2 || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("run: %+v", res)
	}
	h, err := NewHistory(context.Background(), dst, HistoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A guard, not a measure: without the fix Run waits for itself until
	// the context ends.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rec, err := h.Run(ctx, res[0].RunID)
	if err != nil || len(rec.Tables) != 2 {
		t.Fatalf("Run on a pool of one: %d tables, %v", len(rec.Tables), err)
	}
	if l, err := h.Runs(ctx, RunFilter{}); err != nil || l.Total != 1 {
		t.Fatalf("Runs on a pool of one: %+v, %v", l, err)
	}
}
