package driver

import (
	"context"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
	"github.com/plannersql/planner/replicate"
	"github.com/plannersql/planner/replicate/dest"
)

// readFloor is the fewest Graph requests that read every table of srv's
// tenant once: /me/memberOf, each group's plans, the plans' details ($batch
// of 20), each plan's buckets and task pages (400 a page), and the tasks'
// details ($batch of 20), and the tasks' three board formats
// (TaskBoardFormats: ceil(3·tasks/20) $batch).
func readFloor(srv *graphtest.Server) int {
	me := srv.Me().ID
	groups, plans, pages, tasks := 0, 0, 0, 0
	for _, g := range srv.Groups() {
		if !g.Unified || !slices.Contains(g.Members, me) {
			continue
		}
		groups++
		for _, p := range g.PlanIDs {
			plans++
			n := len(srv.TaskIDs(p))
			pages += max(1, (n+399)/400)
			tasks += n
		}
	}
	return 1 + groups + (plans+19)/20 + plans + pages + (tasks+19)/20 + (3*tasks+19)/20
}

// BenchmarkReplicateAll runs REPLICATE ALL into a SQLite file through one
// Snapshot (as planner replicate does) over 2,000 tasks (5 plans × 400) and
// 50,000 tasks (50 plans × 1,000), and reports its Graph requests, the floor
// of reading every object once, their ratio, and the peak live heap the
// run's snapshot needs.
//
//	go test -run '^$' -bench ReplicateAll -benchtime 1x ./driver/
func BenchmarkReplicateAll(b *testing.B) {
	for _, spec := range []graphtest.GenSpec{
		{Seed: 11, Plans: 5, TasksPerPlan: 400},
		{Seed: 12, Plans: 50, TasksPerPlan: 1000},
	} {
		b.Run(itoa(spec.Plans*spec.TasksPerPlan)+"tasks", func(b *testing.B) {
			srv := graphtest.NewServer(b, graphtest.WithGenerated(spec))
			db, cn := benchDB(b, srv, DefaultMaxConcurrency)
			floor := readFloor(srv)
			var reqs int
			var elapsed time.Duration
			var peak uint64
			for i := range b.N {
				dst, err := dest.Open(context.Background(), "sqlite:"+filepath.Join(b.TempDir(), itoa(i)+".db"))
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				base, _ := heapNow()
				stop := make(chan struct{})
				done := make(chan uint64)
				go func() { // sample the live heap while the run goes
					var top uint64
					tick := time.NewTicker(5 * time.Millisecond)
					defer tick.Stop()
					for {
						if live, _ := heapNow(); live > base {
							top = max(top, live-base)
						}
						select {
						case <-stop:
							done <- top
							return
						case <-tick.C:
						}
					}
				}()
				before := cn.Requests()
				start := time.Now()
				snap := cn.NewSnapshot()
				results, err := replicate.Run(snap.Context(context.Background()), db, dst, "REPLICATE ALL", replicate.Options{})
				snap.Close()
				elapsed += time.Since(start)
				close(stop)
				peak = max(peak, <-done)
				reqs += cn.Requests() - before
				dst.Close()
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range results {
					if r.Err != nil {
						b.Fatalf("%s: %v", r.Table, r.Err)
					}
				}
			}
			b.ReportMetric(float64(reqs)/float64(b.N), "requests/op")
			b.ReportMetric(float64(floor), "floor")
			b.ReportMetric(float64(reqs)/float64(b.N)/float64(floor), "requests/floor")
			b.ReportMetric(elapsed.Seconds()/float64(b.N), "s/op")
			b.ReportMetric(float64(peak)/(1<<20), "peak-live-heap-growth-MB")
		})
	}
}
