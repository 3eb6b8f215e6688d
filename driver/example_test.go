package driver_test

import (
	"database/sql"
	"fmt"
	"log"

	_ "github.com/plannersql/planner/driver"
	_ "github.com/plannersql/planner/sandbox" // Sandbox=true: the emulated demo tenant
)

// Open the emulated demo tenant and count each plan's open tasks.
func Example() {
	db, err := sql.Open("planner", "Sandbox=true")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`
		SELECT p.Title, count(*) AS open
		FROM Tasks t JOIN Plans p USING (PlanId)
		WHERE t.PercentComplete < 100
		GROUP BY p.Title ORDER BY p.Title`)
	if err != nil {
		log.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var title string
		var open int
		if err := rows.Scan(&title, &open); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %d\n", title, open)
	}
	if err := rows.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// Contoso X1 Launch: 12
	// Mobile App 2.0: 12
	// Office Move — Building 7: 8
	// Website Refresh: 8
}
