package driver

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
)

// joinQuery is a statement over several planner tables, with the scans that
// read each of its tables once with the same pushed-down constraints: its
// request budget is their sum plus 10 %.
type joinQuery struct {
	name  string
	sql   string
	scans []string
	// forced marks a variant that forces a join order (CROSS JOIN):
	// checked by the tests, left out of the benchmark.
	forced bool
}

// inList returns "'id1', 'id2', ..." for the first n tasks of the tenant.
func inList(srv *graphtest.Server, plans []string, n int) string {
	var ids []string
	for _, p := range plans {
		for _, id := range srv.TaskIDs(p) {
			if len(ids) < n {
				ids = append(ids, "'"+id+"'")
			}
		}
	}
	return strings.Join(ids, ", ")
}

// joinQueries are the statements of issue 11 and its variants, over the
// tenant srv serves (plans are its plan ids).
func joinQueries(srv *graphtest.Server, plans []string) []joinQuery {
	ids := inList(srv, plans, 50)
	user := srv.Users()[1].ID
	first := srv.TaskIDs(plans[0])[0]
	quoted := func(ids []string) string { return "'" + strings.Join(ids, "', '") + "'" }
	var buckets []string
	for _, p := range plans {
		buckets = append(buckets, srv.BucketIDs(p)...)
	}
	return []joinQuery{
		{"tasks⋈assignments", "SELECT COUNT(*) FROM Tasks t JOIN TaskAssignments a USING (TaskId)",
			[]string{"SELECT * FROM Tasks", "SELECT * FROM TaskAssignments"}, false},
		{"tasks⋈details", "SELECT t.Title, d.Description FROM Tasks t JOIN TaskDetails d USING (TaskId)",
			[]string{"SELECT * FROM Tasks", "SELECT * FROM TaskDetails"}, false},
		{"checklist⋈tasks", "SELECT t.Title, c.Title FROM TaskChecklistItems c JOIN Tasks t USING (TaskId)",
			[]string{"SELECT * FROM TaskChecklistItems", "SELECT * FROM Tasks"}, false},
		{"tasks⋈buckets group by", "SELECT b.Name, COUNT(*) FROM Tasks t JOIN Buckets b USING (BucketId) GROUP BY 1",
			[]string{"SELECT * FROM Tasks", "SELECT * FROM Buckets"}, false},
		{"in subquery", "SELECT COUNT(*) FROM Tasks WHERE TaskId IN (SELECT TaskId FROM TaskAssignments)",
			[]string{"SELECT * FROM Tasks", "SELECT * FROM TaskAssignments"}, false},
		{"tasks⋈buckets⋈plans", "SELECT p.Title, b.Name, COUNT(*) FROM Tasks t JOIN Buckets b USING (BucketId) JOIN Plans p ON p.PlanId = t.PlanId GROUP BY 1, 2",
			[]string{"SELECT * FROM Tasks", "SELECT * FROM Buckets", "SELECT * FROM Plans"}, false},
		{"plans left join tasks", "SELECT p.Title, COUNT(t.TaskId) FROM Plans p LEFT JOIN Tasks t ON t.PlanId = p.PlanId GROUP BY p.PlanId",
			[]string{"SELECT * FROM Plans", "SELECT * FROM Tasks"}, false},
		{"correlated subquery", "SELECT t.Title, (SELECT COUNT(*) FROM TaskChecklistItems c WHERE c.TaskId = t.TaskId) FROM Tasks t",
			[]string{"SELECT * FROM Tasks", "SELECT * FROM TaskChecklistItems"}, false},
		{"50 literal task ids", "SELECT TaskId, Title FROM Tasks WHERE TaskId IN (" + ids + ")",
			nil, false}, // floor: ceil(50/20) $batch
		{"50 literal task ids, details", "SELECT TaskId, Description FROM TaskDetails WHERE TaskId IN (" + ids + ")",
			nil, false}, // floor: ceil(2×50/20) $batch (each task and its details)
		{"open tasks per assignee", "SELECT a.UserId, count(*) FROM TaskAssignments a JOIN Tasks t ON t.TaskId = a.TaskId WHERE t.PercentComplete < 100 GROUP BY a.UserId",
			[]string{"SELECT * FROM TaskAssignments", "SELECT * FROM Tasks"}, false},
		// Every join order: SQLite keeps the order of a CROSS JOIN.
		{"assignments×tasks", "SELECT COUNT(*) FROM TaskAssignments a CROSS JOIN Tasks t WHERE t.TaskId = a.TaskId",
			[]string{"SELECT * FROM Tasks", "SELECT * FROM TaskAssignments"}, true},
		{"tasks×details", "SELECT t.Title, d.Description FROM Tasks t CROSS JOIN TaskDetails d WHERE d.TaskId = t.TaskId",
			[]string{"SELECT * FROM Tasks", "SELECT * FROM TaskDetails"}, true},
		{"details×tasks", "SELECT t.Title, d.Description FROM TaskDetails d CROSS JOIN Tasks t WHERE d.TaskId = t.TaskId",
			[]string{"SELECT * FROM Tasks", "SELECT * FROM TaskDetails"}, true},
		{"tasks×checklist", "SELECT t.Title, c.Title FROM Tasks t CROSS JOIN TaskChecklistItems c WHERE c.TaskId = t.TaskId",
			[]string{"SELECT * FROM TaskChecklistItems", "SELECT * FROM Tasks"}, true},
		{"tasks×buckets", "SELECT b.Name, COUNT(*) FROM Tasks t CROSS JOIN Buckets b WHERE b.BucketId = t.BucketId GROUP BY 1",
			[]string{"SELECT * FROM Tasks", "SELECT * FROM Buckets"}, true},
		{"buckets×tasks", "SELECT b.Name, COUNT(*) FROM Buckets b CROSS JOIN Tasks t WHERE b.BucketId = t.BucketId GROUP BY 1",
			[]string{"SELECT * FROM Tasks", "SELECT * FROM Buckets"}, true},
		{"tasks×plans", "SELECT p.Title, COUNT(*) FROM Tasks t CROSS JOIN Plans p WHERE p.PlanId = t.PlanId GROUP BY 1",
			[]string{"SELECT * FROM Tasks", "SELECT * FROM Plans"}, true},
		{"tasks×tasks", "SELECT COUNT(*) FROM Tasks a CROSS JOIN Tasks b WHERE b.TaskId = a.TaskId AND b.PlanId = a.PlanId",
			[]string{"SELECT * FROM Tasks", "SELECT * FROM Tasks"}, true},
		{"details×details", "SELECT COUNT(*) FROM TaskDetails a CROSS JOIN TaskReferences r WHERE r.TaskId = a.TaskId",
			[]string{"SELECT * FROM TaskDetails", "SELECT * FROM TaskReferences"}, true},
		{"inner rescanned", "SELECT COUNT(*) FROM Plans p CROSS JOIN Buckets b WHERE b.Name = p.Title || ''",
			[]string{"SELECT * FROM Plans", "SELECT * FROM Buckets"}, true},
		// IN lists of every key kind, alone and in a join: one $batch per 20.
		{"50 literal task ids, join", "SELECT t.Title, d.Description FROM Tasks t JOIN TaskDetails d USING (TaskId) WHERE t.TaskId IN (" + ids + ")",
			[]string{"SELECT * FROM Tasks WHERE TaskId IN (" + ids + ")", "SELECT * FROM TaskDetails WHERE TaskId IN (" + ids + ")"}, true},
		{"plan ids", "SELECT Title FROM Plans WHERE PlanId IN (" + quoted(plans) + ")", nil, true},
		{"plan ids, details", "SELECT SharedWith FROM PlanDetails WHERE PlanId IN (" + quoted(plans) + ")", nil, true},
		{"plan ids, labels", "SELECT Name FROM PlanCategories WHERE PlanId IN (" + quoted(plans) + ")", nil, true},
		{"bucket ids", "SELECT Name FROM Buckets WHERE BucketId IN (" + quoted(buckets) + ")", nil, true},
		{"user's tasks×details", "SELECT COUNT(*) FROM TaskAssignments a CROSS JOIN TaskDetails d WHERE a.UserId = '" + user + "' AND d.TaskId = a.TaskId",
			[]string{"SELECT * FROM TaskAssignments WHERE UserId = '" + user + "'", "SELECT * FROM TaskDetails"}, true},
		// SQLite finds a RIGHT or FULL JOIN's unmatched rows, and drops
		// the duplicates of an OR of two pushed-down constraints, by rowid:
		// these check that a row has one rowid in every scan.
		{"tasks right join buckets", "SELECT b.Name, COUNT(*), COUNT(t.TaskId) FROM Tasks t RIGHT JOIN Buckets b ON b.BucketId = t.BucketId GROUP BY b.BucketId",
			[]string{"SELECT * FROM Tasks", "SELECT * FROM Buckets"}, true},
		{"buckets full join tasks", "SELECT COUNT(*), COUNT(t.TaskId), COUNT(b.BucketId) FROM Buckets b FULL JOIN Tasks t ON b.BucketId = t.BucketId",
			[]string{"SELECT * FROM Tasks", "SELECT * FROM Buckets"}, true},
		{"checklist right join details", "SELECT COUNT(*), COUNT(c.ItemId) FROM TaskChecklistItems c RIGHT JOIN TaskReferences r ON r.TaskId = c.TaskId AND r.Alias = c.Title",
			[]string{"SELECT * FROM TaskChecklistItems", "SELECT * FROM TaskReferences"}, true},
		{"task id or plan id", "SELECT COUNT(*) FROM Tasks WHERE TaskId = '" + first + "' OR PlanId = '" + plans[0] + "'",
			[]string{"SELECT * FROM Tasks WHERE TaskId = '" + first + "'", "SELECT * FROM Tasks WHERE PlanId = '" + plans[0] + "'"}, true},
		{"assignments task id or user id", "SELECT COUNT(*) FROM TaskAssignments WHERE TaskId = '" + first + "' OR UserId = '" + user + "'",
			[]string{"SELECT * FROM TaskAssignments WHERE TaskId = '" + first + "'", "SELECT * FROM TaskAssignments WHERE UserId = '" + user + "'"}, true},
		// An equality under NOCASE or RTRIM matches ids Graph does not find
		// by the value given, and a blob never equals a TEXT id: the rows
		// are SQLite's. ORDER BY ... COLLATE keeps the pushdown.
		{"task id, nocase", "SELECT COUNT(*) FROM Tasks WHERE TaskId COLLATE NOCASE = lower('" + first + "')",
			[]string{"SELECT * FROM Tasks"}, true},
		{"plan id, rtrim", "SELECT COUNT(*) FROM Tasks WHERE PlanId = '" + plans[0] + "  ' COLLATE RTRIM",
			[]string{"SELECT * FROM Tasks"}, true},
		{"user id, nocase", "SELECT COUNT(*) FROM TaskAssignments WHERE UserId = upper('" + user + "') COLLATE NOCASE",
			[]string{"SELECT * FROM TaskAssignments"}, true},
		{"plans join tasks, nocase", "SELECT COUNT(*) FROM Plans p JOIN Tasks t ON t.PlanId = upper(p.PlanId) COLLATE NOCASE",
			[]string{"SELECT * FROM Plans", "SELECT * FROM Tasks"}, true},
		{"task id, blob", "SELECT COUNT(*) FROM Tasks WHERE TaskId = CAST('" + first + "' AS BLOB)",
			[]string{"SELECT * FROM Tasks WHERE TaskId = '" + first + "'"}, true},
		// A user's tasks joined by key: the tasks of the user's list
		// whose plan scans cover are served from it, not read again.
		{"user's assignments⋈tasks", "SELECT t.Title FROM TaskAssignments a JOIN Tasks t ON t.TaskId = a.TaskId WHERE a.UserId = '" + user + "'",
			[]string{"SELECT * FROM TaskAssignments WHERE UserId = '" + user + "'", "SELECT * FROM Tasks"}, true},
		{"user's assignments⋈buckets⋈tasks", "SELECT b.Name, t.Title FROM TaskAssignments a JOIN Tasks t ON t.TaskId = a.TaskId JOIN Buckets b ON b.BucketId = t.BucketId WHERE a.UserId = '" + user + "'",
			[]string{"SELECT * FROM TaskAssignments WHERE UserId = '" + user + "'", "SELECT * FROM Tasks", "SELECT * FROM Buckets"}, true},
		// A nested loop asking for one user's tasks per outer row: from the
		// second user on, the tasks of every plan, read once, serve it.
		{"shared users, exists", "SELECT COUNT(*) FROM PlanSharedWith s WHERE EXISTS (SELECT 1 FROM TaskAssignments a WHERE a.UserId = s.UserId)",
			[]string{"SELECT * FROM PlanSharedWith", "SELECT * FROM TaskAssignments"}, true},
		{"shared users×assignments", "SELECT s.PlanId, COUNT(*) FROM PlanSharedWith s CROSS JOIN TaskAssignments a WHERE a.UserId = s.UserId GROUP BY 1",
			[]string{"SELECT * FROM PlanSharedWith", "SELECT * FROM TaskAssignments"}, true},
		{"plan id, order by collate", "SELECT Title FROM Tasks WHERE PlanId = '" + plans[0] + "' ORDER BY Title COLLATE NOCASE",
			[]string{"SELECT * FROM Tasks WHERE PlanId = '" + plans[0] + "'"}, true},
	}
}

// drain runs q and reads every row.
func drain(ctx context.Context, db *sql.DB, q string) (int, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// BenchmarkJoins times the statements of joinQueries against a tenant of
// 5 plans × 400 tasks (and the three-way join also over 20 plans × 100
// tasks, the figure) with 30 ms of emulator latency per request,
// reporting Graph requests and milliseconds per statement.
//
//	go test -run '^$' -bench Joins -benchtime 1x ./driver/
func BenchmarkJoins(b *testing.B) {
	for _, spec := range []graphtest.GenSpec{
		{Seed: 11, Plans: 5, TasksPerPlan: 400},
		{Seed: 12, Plans: 20, TasksPerPlan: 100},
	} {
		srv := graphtest.NewServer(b, graphtest.WithGenerated(spec), graphtest.WithLatency(30*time.Millisecond))
		db, cn := benchDB(b, srv, DefaultMaxConcurrency)
		var plans []string
		for _, g := range srv.Groups() {
			plans = append(plans, g.PlanIDs...)
		}
		for _, q := range joinQueries(srv, plans) {
			if q.forced || spec.Plans == 20 && q.name != "tasks⋈buckets⋈plans" {
				continue
			}
			b.Run(fmt.Sprintf("%dx%d/%s", spec.Plans, spec.TasksPerPlan, q.name), func(b *testing.B) {
				var reqs int
				var elapsed time.Duration
				for range b.N {
					before := cn.Requests()
					start := time.Now()
					if _, err := drain(context.Background(), db, q.sql); err != nil {
						b.Fatal(err)
					}
					elapsed += time.Since(start)
					reqs += cn.Requests() - before
				}
				b.ReportMetric(float64(reqs)/float64(b.N), "requests/op")
				b.ReportMetric(elapsed.Seconds()*1000/float64(b.N), "ms/op")
			})
		}
	}
}
