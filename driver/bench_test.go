package driver

import (
	"context"
	"database/sql"
	"runtime"
	"testing"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
)

// benchDB opens a planner database on srv with the given concurrency.
func benchDB(b *testing.B, srv *graphtest.Server, concurrency int) (*sql.DB, *Connector) {
	b.Helper()
	cfg := NewConfig()
	cfg.GraphURL = srv.GraphURL()
	cfg.InitiateOAuth = OAuthOff
	cfg.OAuthAccessToken = srv.Token()
	cfg.MaxConcurrency = concurrency
	cn, err := NewConnector(cfg)
	if err != nil {
		b.Fatal(err)
	}
	db := sql.OpenDB(cn)
	b.Cleanup(func() { db.Close() })
	return db, cn
}

func countTasks(b *testing.B, db *sql.DB) int {
	b.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM Tasks").Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkScanFanOut times SELECT COUNT(*) FROM Tasks over 64 plans with
// 50 ms of latency per Graph request, once with MaxConcurrency=1 and once
// with the default of 8, and reports the ratio of the two.
//
//	go test -run '^$' -bench ScanFanOut -benchtime 3x ./driver/
func BenchmarkScanFanOut(b *testing.B) {
	srv := graphtest.NewServer(b,
		graphtest.WithGenerated(graphtest.GenSpec{Seed: 5, Plans: 64, TasksPerPlan: 20}),
		graphtest.WithLatency(50*time.Millisecond))
	serial, _ := benchDB(b, srv, 1)
	parallel, cn := benchDB(b, srv, DefaultMaxConcurrency)
	want := srv.TaskCount()
	var ts, tp time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if n := countTasks(b, serial); n != want {
			b.Fatalf("serial count %d, want %d", n, want)
		}
		ts += time.Since(start)
		before := cn.Requests()
		start = time.Now()
		if n := countTasks(b, parallel); n != want {
			b.Fatalf("parallel count %d, want %d", n, want)
		}
		tp += time.Since(start)
		b.ReportMetric(float64(cn.Requests()-before), "requests/op")
	}
	b.ReportMetric(ts.Seconds()*1000/float64(b.N), "serial-ms")
	b.ReportMetric(tp.Seconds()*1000/float64(b.N), "concurrent-ms")
	b.ReportMetric(tp.Seconds()/ts.Seconds(), "concurrent/serial")
}

// BenchmarkScan100k streams 100,000 tasks (100 plans × 1,000) through
// SELECT * FROM Tasks and reports rows/s and the peak growth of the live heap
// while the scan runs (sampled every millisecond), which must stay far
// below the size of the table: rows are streamed, never materialised.
//
//	go test -run '^$' -bench Scan100k -benchtime 1x ./driver/
func BenchmarkScan100k(b *testing.B) {
	srv := graphtest.NewServer(b, graphtest.WithGenerated(graphtest.GenSpec{Seed: 9, Plans: 100, TasksPerPlan: 1000}))
	db, cn := benchDB(b, srv, DefaultMaxConcurrency)
	want := srv.TaskCount()
	var peak uint64
	var rowsRead int
	var elapsed time.Duration
	b.ResetTimer()
	for range b.N {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		stop := make(chan struct{})
		done := make(chan uint64)
		go func() { // sample the heap while the scan runs
			var max uint64
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > base && ms.HeapAlloc-base > max {
					max = ms.HeapAlloc - base
				}
				select {
				case <-stop:
					done <- max
					return
				case <-tick.C:
				}
			}
		}()
		before := cn.Requests()
		start := time.Now()
		rows, err := db.Query("SELECT * FROM Tasks")
		if err != nil {
			b.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		n := 0
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		rows.Close()
		elapsed += time.Since(start)
		close(stop)
		if m := <-done; m > peak {
			peak = m
		}
		if n != want {
			b.Fatalf("scanned %d tasks, want %d", n, want)
		}
		rowsRead += n
		b.ReportMetric(float64(cn.Requests()-before), "requests/op")
	}
	b.ReportMetric(float64(rowsRead)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-growth-MB")
}
