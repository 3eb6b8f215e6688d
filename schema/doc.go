// Package schema declares the tables of the planner driver: their columns,
// declared types, keys, pushdown endpoints and which statements may write them.
//
// It is the single source for the driver's virtual tables, the catalog tables
// (sys_tables, sys_columns), the destination types chosen by package replicate
// and the generated reference in docs/tables.md. The public contract it encodes
// is SCHEMA.md: PascalCase, CData-compatible names, matched case-insensitively.
//
//	t := schema.Lookup("tasks")
//	fmt.Println(t.Name, t.Key) // Tasks [TaskId]
package schema
