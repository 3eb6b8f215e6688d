package replicate_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite"

	"github.com/plannersql/planner/replicate"
	"github.com/plannersql/planner/replicate/dest"
)

// A job's runs into a destination, read back: the job's runs newest first,
// then one run with its tables. The same works on PostgreSQL and MySQL
// destinations.
func ExampleHistory() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "history-example")
	defer os.RemoveAll(dir)
	src, _ := sql.Open("sqlite", filepath.Join(dir, "source.db"))
	defer src.Close()
	src.Exec("CREATE TABLE Tasks (TaskId TEXT PRIMARY KEY, Title TEXT)")
	src.Exec("INSERT INTO Tasks VALUES ('t1', 'Write the report'), ('t2', 'Review it')")
	url := "sqlite:" + filepath.Join(dir, "dest.db")
	dst, err := dest.Open(ctx, url)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer dst.Close()
	for range 2 {
		if _, err := replicate.Run(ctx, src, dst, "REPLICATE Tasks", replicate.Options{Job: "nightly"}); err != nil {
			fmt.Println(err)
			return
		}
	}

	h, err := dest.OpenHistory(ctx, url, replicate.HistoryOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer h.Close()
	list, err := h.Runs(ctx, replicate.RunFilter{Job: "nightly", Limit: 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(list.Total, "runs")
	for _, r := range list.Runs {
		fmt.Printf("%s: %d tables, %d inserted, %d unchanged\n", r.Status, r.TableCount, r.Inserted, r.Unchanged)
	}
	run, err := h.Run(ctx, list.Runs[len(list.Runs)-1].ID) // the first run
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range run.Tables {
		fmt.Printf("%s %s: %d inserted\n", t.Table, t.Status, t.Inserted)
	}
	// Output:
	// 2 runs
	// ok: 1 tables, 0 inserted, 2 unchanged
	// ok: 1 tables, 2 inserted, 0 unchanged
	// Tasks ok: 2 inserted
}
