// Package planner makes Microsoft Planner a SQL database.
//
// The module has three faces:
//
//   - package [github.com/plannersql/planner/driver] registers the "planner"
//     database/sql driver: Plans, Buckets, Tasks and their details, assignments,
//     checklists, references and labels are tables over the Microsoft Graph API,
//     readable with SQLite's full SQL and writable with INSERT, UPDATE and DELETE;
//   - the planner command (cmd/planner) is a CLI with an interactive SQL shell,
//     one-shot queries, replication jobs on schedules and a local sandbox;
//   - package [github.com/plannersql/planner/replicate] runs REPLICATE statements
//     that copy Planner data into SQLite, PostgreSQL or MySQL, incrementally and
//     with delete detection.
//
// A short example, against the built-in emulated tenant:
//
//	import (
//		"database/sql"
//		_ "github.com/plannersql/planner/driver"
//	)
//
//	db, err := sql.Open("planner", "Sandbox=true")
//	if err != nil { ... }
//	rows, err := db.Query(`SELECT p.Title, count(*) FROM Tasks t
//		JOIN Plans p ON p.PlanId = t.PlanId GROUP BY p.Title`)
//
// Supporting packages: [github.com/plannersql/planner/graph] is the Graph
// Planner client, [github.com/plannersql/planner/graph/graphtest] the emulator
// of Graph and of the identity platform, and [github.com/plannersql/planner/schema]
// the table declarations (see docs/tables.md).
package planner
