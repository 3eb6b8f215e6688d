package schema

import (
	"fmt"
	"slices"
	"strings"
)

// Type is the declared SQL type of a column. It is the type SQLite reports for
// the virtual table's column (and so what database/sql's ColumnType.DatabaseTypeName
// returns), and what the replicate package maps to each destination's types.
type Type string

// The column types used by the planner tables.
const (
	// Text is a string.
	Text Type = "TEXT"
	// Integer is a 64-bit integer.
	Integer Type = "INTEGER"
	// Boolean is 0 or 1.
	Boolean Type = "BOOLEAN"
	// DateTime is RFC 3339 UTC text, for example "2026-11-28T17:43:36Z".
	DateTime Type = "DATETIME"
	// JSON is compact JSON text holding a Graph object as the service returned it.
	JSON Type = "JSON"
)

// Column describes one column of a table.
type Column struct {
	// Name is the column's SQL name (PascalCase; SQL matches it case-insensitively).
	Name string
	// Type is the declared SQL type.
	Type Type
	// Description says what the column holds, for the catalog and the docs.
	Description string
	// Key marks a column of the table's primary key.
	Key bool
	// Nullable reports whether the column may be NULL.
	Nullable bool
	// Pushdown marks a column whose equality (and IN) constraint selects a narrower
	// Graph endpoint instead of a scan.
	Pushdown bool
	// Endpoint is the Graph request used when the column is pushed down, for example
	// "GET /planner/plans/{id}/tasks".
	Endpoint string
	// Insertable reports whether INSERT may set the column.
	Insertable bool
	// Required reports whether INSERT must set the column.
	Required bool
	// Updatable reports whether UPDATE may change the column.
	Updatable bool
}

// Writable reports whether any statement may set the column.
func (c *Column) Writable() bool { return c.Insertable || c.Updatable }

// Example is a query shown in the table reference and run as a smoke test.
type Example struct {
	// Title says what the query answers.
	Title string
	// SQL is the query, in SQLite syntax.
	SQL string
}

// Table describes one table of the planner driver.
type Table struct {
	// Name is the table's SQL name.
	Name string
	// Description is a one-paragraph summary.
	Description string
	// Columns are in declaration order.
	Columns []Column
	// Key names the primary key columns, in order.
	Key []string
	// Insert, Update and Delete report which statements the table accepts.
	Insert, Update, Delete bool
	// Notes are extra paragraphs for the reference (pushdown, costs, write rules).
	Notes []string
	// Examples are sample queries.
	Examples []Example
}

// Updatable reports whether the table accepts any write.
func (t *Table) Updatable() bool { return t.Insert || t.Update || t.Delete }

// Column returns the named column (matched case-insensitively) and its index,
// or nil and -1.
func (t *Table) Column(name string) (*Column, int) {
	for i := range t.Columns {
		if strings.EqualFold(t.Columns[i].Name, name) {
			return &t.Columns[i], i
		}
	}
	return nil, -1
}

// ColumnNames returns the column names in declaration order.
func (t *Table) ColumnNames() []string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return names
}

// IsKey reports whether the named column is part of the primary key.
func (t *Table) IsKey(name string) bool {
	return slices.ContainsFunc(t.Key, func(k string) bool { return strings.EqualFold(k, name) })
}

// DateTimeCollation is the collation of DATETIME columns in the DDL: the
// planner driver registers it on its connections, and it compares values as
// the times they name, so that literals such as '2026-12-01T09:30:00Z' or
// '2026-12-01' compare correctly with the stored fixed-width form.
const DateTimeCollation = "planner_datetime"

// DDL returns the CREATE TABLE statement that declares the table's columns, as
// a virtual table module declares them to SQLite (the table name is x).
// DATETIME columns carry DateTimeCollation.
func (t *Table) DDL() string {
	var b strings.Builder
	b.WriteString("CREATE TABLE x(")
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", QuoteIdent(c.Name), c.Type)
		if !c.Nullable {
			b.WriteString(" NOT NULL")
		}
		if c.Type == DateTime {
			b.WriteString(" COLLATE " + DateTimeCollation)
		}
	}
	b.WriteString(")")
	return b.String()
}

// QuoteIdent quotes an SQL identifier with double quotes.
func QuoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// All returns every table, in the order of the reference documentation. The
// slice is shared: do not modify it or the tables.
func All() []*Table { return tables }

// Lookup returns the named table, matched case-insensitively, or nil.
func Lookup(name string) *Table {
	for _, t := range tables {
		if strings.EqualFold(t.Name, name) {
			return t
		}
	}
	return nil
}
