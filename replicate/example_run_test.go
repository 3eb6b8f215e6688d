package replicate_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	_ "github.com/plannersql/planner/driver"
	"github.com/plannersql/planner/replicate"
	"github.com/plannersql/planner/replicate/dest"
	_ "github.com/plannersql/planner/sandbox"
)

// The package documentation's script, run as written from the demo tenant
// into a SQLite file: every table is copied, none fails.
func ExampleRun() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "run-example")
	defer os.RemoveAll(dir)
	src, _ := sql.Open("planner", "Sandbox=true")
	defer src.Close()
	dst, err := dest.Open(ctx, "sqlite:"+filepath.Join(dir, "planner.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer dst.Close()
	results, err := replicate.Run(ctx, src, dst, `
		REPLICATE Tasks;                                   -- Tasks → Tasks
		REPLICATE PROD_Buckets SELECT * FROM Buckets;      -- a query, into a named table
		REPLICATE ALL EXCLUDE TABLES (Tasks, TaskDetails)  -- the others, with a SourceName
			WITH SourceName='prod';                        -- key column (Tasks has none)
	`, replicate.Options{})
	for _, r := range results {
		fmt.Printf("%s %q %s %d\n", r.Table, r.Source, r.Status(), r.Inserted)
	}
	fmt.Println(err)
	// Output:
	// Tasks "" ok 48
	// PROD_Buckets "" ok 18
	// Groups "prod" ok 3
	// Plans "prod" ok 4
	// PlanDetails "prod" ok 4
	// PlanCategories "prod" ok 20
	// PlanSharedWith "prod" ok 14
	// Buckets "prod" ok 18
	// TaskAssignments "prod" ok 50
	// TaskChecklistItems "prod" ok 35
	// TaskReferences "prod" ok 8
	// TaskCategories "prod" ok 36
	// TaskBoardFormats "prod" ok 48
	// <nil>
}
