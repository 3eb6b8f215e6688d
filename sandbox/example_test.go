package sandbox_test

import (
	"database/sql"
	"fmt"
	"log"

	_ "github.com/plannersql/planner/driver"
	_ "github.com/plannersql/planner/sandbox"
)

// Import the package for its side effect, then open Sandbox=true: a demo
// tenant of this DB's own, served in process.
func Example() {
	db, err := sql.Open("planner", "Sandbox=true")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	var plans, tasks int
	if err := db.QueryRow("SELECT (SELECT count(*) FROM Plans), (SELECT count(*) FROM Tasks)").Scan(&plans, &tasks); err != nil {
		log.Fatal(err)
	}
	fmt.Println(plans, "plans,", tasks, "tasks")
	// Output: 4 plans, 48 tasks
}
