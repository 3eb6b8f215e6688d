package replicate

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/graph/graphtest"
)

// tenantCounter is a RequestCounter that names its tenant, as the planner
// driver's connector does.
type tenantCounter struct{ tenant string }

func (tenantCounter) Requests() int                              { return 0 }
func (tenantCounter) Throttled() int                             { return 0 }
func (c tenantCounter) TenantID(context.Context) (string, error) { return c.tenant, nil }

// TestTenantGuard: a table filled from one tenant is not mirrored over by
// another tenant's source with the same SourceName (or none); a prefix,
// a SourceName or DropTable are the ways out, and an unknown tenant is not
// checked.
func TestTenantGuard(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		src, _ := sourceDB(t, "CREATE TABLE T (Id INTEGER PRIMARY KEY, V TEXT)", "INSERT INTO T VALUES (1, 'a'), (2, 'b')")
		runOK(t, src, dst, "REPLICATE T", Options{SourceTenant: "tenant-a"})
		wantCounts(t, runOK(t, src, dst, "REPLICATE T", Options{Requests: tenantCounter{"TENANT-A"}}), counts{Unchanged: 2})

		res := run(t, src, dst, "REPLICATE T", Options{Requests: tenantCounter{"tenant-b"}})
		err := res[0].Err
		if err == nil {
			t.Fatal("tenant b replaced tenant a's rows")
		}
		for _, w := range []string{"tenant tenant-a", "tenant tenant-b", "with no SourceName", "SourceName='...'", "prefix", "DropTable"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not say %q", err, w)
			}
		}
		// An unknown tenant is not checked.
		wantCounts(t, runOK(t, src, dst, "REPLICATE T", Options{}), counts{Unchanged: 2})
		// Ways out.
		runOK(t, src, dst, "REPLICATE T", Options{SourceTenant: "tenant-b", TablePrefix: "B_"})
		runOK(t, src, dst, "REPLICATE T2 WITH SourceName='b' SELECT * FROM T", Options{SourceTenant: "tenant-b"})
		runOK(t, src, dst, "REPLICATE T WITH DropTable", Options{SourceTenant: "tenant-b"})
		if res := run(t, src, dst, "REPLICATE T", Options{SourceTenant: "tenant-a"}); res[0].Err == nil {
			t.Fatal("after DropTable the table is tenant b's; tenant a was accepted")
		}
		// A SourceName shared by two tenants is refused too.
		if res := run(t, src, dst, "REPLICATE T2 WITH SourceName='b' SELECT * FROM T", Options{SourceTenant: "tenant-c"}); res[0].Err == nil ||
			!strings.Contains(res[0].Err.Error(), `with SourceName "b"`) {
			t.Fatalf("shared SourceName: %v", res[0].Err)
		}
	})
}

// TestTenantGuardBeforeReading: a table refused because another tenant's
// runs filled it is refused before its source query runs — a planner
// source sends no Graph request for it (its tenant comes from the access
// token) — while the run's other tables are copied; a WITH SourceName, a
// prefix or DropTable still read and copy it.
func TestTenantGuardBeforeReading(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		srv := graphtest.NewServer(t, graphtest.WithGenerated(graphtest.GenSpec{Seed: 8, Plans: 2, TasksPerPlan: 30, BucketsPerPlan: 2}))
		src, cn := faultySource(t, srv, graph.BreakerPolicy{})
		// Tenant a's runs filled Tasks and TaskDetails.
		run(t, src, dst, "REPLICATE Tasks; REPLICATE TaskDetails;", Options{SourceTenant: "tenant-a"})

		// The connector's own tenant is another: both are refused, Buckets
		// (never copied) is copied.
		if got := srv.TenantID(); got == "" || strings.EqualFold(got, "tenant-a") {
			t.Fatalf("the emulator's tenant is %q", got)
		}
		srv.ResetRequests()
		before := cn.Requests()
		res, _ := Run(context.Background(), src, dst, "REPLICATE Tasks; REPLICATE TaskDetails; REPLICATE Buckets;", Options{Requests: cn})
		if len(res) != 3 {
			t.Fatalf("%d results", len(res))
		}
		for _, r := range res[:2] {
			if r.Err == nil || !strings.Contains(r.Err.Error(), "holds the rows of tenant tenant-a") {
				t.Errorf("%s: %v, want the tenant refusal", r.Table, r.Err)
			}
			if r.Requests != 0 {
				t.Errorf("%s was refused after %d Graph requests, want none", r.Table, r.Requests)
			}
		}
		if res[2].Err != nil || res[2].Inserted == 0 {
			t.Errorf("Buckets: %+v", res[2])
		}
		// Only Buckets' requests went to Graph: the groups, plans and
		// buckets it lists.
		for _, r := range srv.Requests() {
			if strings.Contains(r.Path, "/tasks") || strings.Contains(r.Path, "/details") {
				t.Errorf("a refused table sent %s %s", r.Method, r.Path)
			}
		}
		if n := cn.Requests() - before; n != res[2].Requests {
			t.Errorf("%d Graph requests in the run, %d of them Buckets'", n, res[2].Requests)
		}
		// The ways out read and copy it.
		runOK(t, src, dst, "REPLICATE Tasks WITH DropTable", Options{Requests: cn})
		runOK(t, src, dst, "REPLICATE TaskDetails", Options{Requests: cn, TablePrefix: "B_"})
	})
}
