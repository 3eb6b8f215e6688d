// Package schema describes the tables of the planner driver: their columns,
// declared types, keys, pushdown endpoints and which statements may write
// them.
//
// The tables are generated (tables.go) from the table declarations of package
// driver, where each table is one value binding its columns to the Graph
// objects; this package carries their description for code that must not
// depend on the driver: the destination types chosen by package replicate,
// tools, and the generated reference in docs/tables.md. The public contract
// it encodes is SCHEMA.md: PascalCase, CData-compatible names, matched
// case-insensitively.
//
//	t := schema.Lookup("tasks")
//	fmt.Println(t.Name, t.Key) // Tasks [TaskId]
package schema
