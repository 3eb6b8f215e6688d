package replicate

import (
	"context"
	"database/sql"
	"strings"
	"testing"
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
