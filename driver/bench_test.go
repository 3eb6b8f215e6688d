package driver

import (
	"context"
	"database/sql"
	"runtime"
	"runtime/metrics"
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
// SELECT * FROM Tasks and reports rows/s, the process's CPU time per 1,000
// rows (client, SQLite and the in-process emulator: steadier than rows/s on
// a busy machine) and the peak growth of the heap while the scan runs
// (sampled every millisecond): the live heap (as of each garbage collection)
// must stay far below the size of the table — rows are streamed, never
// materialised. Allocated-but-unreclaimed heap is reported too; it depends
// on GOGC.
//
//	go test -run '^$' -bench Scan100k -benchtime 1x ./driver/
func BenchmarkScan100k(b *testing.B) {
	srv := graphtest.NewServer(b, graphtest.WithGenerated(graphtest.GenSpec{Seed: 9, Plans: 100, TasksPerPlan: 1000}))
	db, cn := benchDB(b, srv, DefaultMaxConcurrency)
	want := srv.TaskCount()
	var peakLive, peakAlloc uint64
	var rowsRead int
	var elapsed, cpu time.Duration
	b.ResetTimer()
	for range b.N {
		runtime.GC()
		baseLive, baseAlloc := heapNow()
		stop := make(chan struct{})
		done := make(chan [2]uint64)
		go func() { // sample the heap while the scan runs
			var maxLive, maxAlloc uint64
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for {
				live, alloc := heapNow()
				if live > baseLive {
					maxLive = max(maxLive, live-baseLive)
				}
				if alloc > baseAlloc {
					maxAlloc = max(maxAlloc, alloc-baseAlloc)
				}
				select {
				case <-stop:
					done <- [2]uint64{maxLive, maxAlloc}
					return
				case <-tick.C:
				}
			}
		}()
		before := cn.Requests()
		start, cpu0 := time.Now(), cpuTime()
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
		cpu += cpuTime() - cpu0
		close(stop)
		m := <-done
		peakLive, peakAlloc = max(peakLive, m[0]), max(peakAlloc, m[1])
		if n != want {
			b.Fatalf("scanned %d tasks, want %d", n, want)
		}
		rowsRead += n
		b.ReportMetric(float64(cn.Requests()-before), "requests/op")
	}
	b.ReportMetric(float64(rowsRead)/elapsed.Seconds(), "rows/s")
	if cpu > 0 {
		// CPU time of the whole process (client, SQLite and the in-process
		// emulator) per 1,000 rows: steadier than rows/s on a shared machine.
		b.ReportMetric(cpu.Seconds()*1e6/float64(rowsRead), "cpu-ms/1k-rows")
	}
	b.ReportMetric(float64(peakLive)/(1<<20), "peak-live-heap-growth-MB")
	b.ReportMetric(float64(peakAlloc)/(1<<20), "peak-heap-alloc-growth-MB")
}

// heapNow returns the live heap as of the last garbage collection (what the
// program retains) and the heap allocated now (retained plus garbage not yet
// collected). The emulator serving the scan runs in the same process, so both
// include its allocations too.
func heapNow() (live, alloc uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}
