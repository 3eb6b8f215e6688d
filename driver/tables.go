package driver

import (
	"context"
	"iter"

	"github.com/plannersql/planner/schema"
)

// tables are the planner tables, in the order of the reference
// documentation: every table declaration is listed here once.
var tables []tableDecl

func init() {
	// Set in init: the catalog tables read this list, which holds them.
	tables = []tableDecl{
		groupsTable, plansTable, planDetailsTable, planCategoriesTable, planSharedWithTable, bucketsTable, tasksTable,
		taskDetailsTable, assignmentsTable, checklistTable, referencesTable, categoriesTable, boardFormatsTable,
		sysTablesTable, sysColumnsTable,
	}
}

// catalog returns the catalog entries of tables, in order.
func catalog(decls []tableDecl) []*schema.Table {
	out := make([]*schema.Table, len(decls))
	for i, d := range decls {
		out[i] = d.schema()
	}
	return out
}

// ---- The catalog tables

func boolInt(b bool) any {
	if b {
		return int64(1)
	}
	return int64(0)
}

// sysTablesTable: the catalog of tables.
var sysTablesTable = (&table[schema.Table]{
	name: "sys_tables",
	desc: "The catalog of tables. SHOW TABLES is a shorthand for it.",
	cols: []column[schema.Table]{
		textField("TableName", key, ro, "The table's name.", "", func(t *schema.Table) *string { return &t.Name }),
		textField("Description", null, ro, "What the table holds.", "", func(t *schema.Table) *string { return &t.Description }),
		readOnly("IsUpdatable", schema.Boolean, 0, "1 when the table accepts INSERT, UPDATE or DELETE.", func(t *schema.Table) any { return boolInt(t.Updatable()) }),
	},
	scan: func(context.Context, *session, scanReq) iter.Seq2[*schema.Table, error] {
		return func(yield func(*schema.Table, error) bool) {
			for _, t := range catalog(tables) {
				if !yield(t, nil) {
					return
				}
			}
		}
	},
	scanCost: cost{0, 15},
	examples: []schema.Example{{Title: "Writable tables", SQL: "SELECT TableName FROM sys_tables WHERE IsUpdatable"}},
}).init()

// sysColumn is a row of sys_columns: one column of a table.
type sysColumn struct {
	t *schema.Table
	c *schema.Column
}

// sysColumnsTable: the catalog of columns.
var sysColumnsTable = (&table[sysColumn]{
	name: "sys_columns",
	desc: "The catalog of columns. DESCRIBE <table> is a shorthand for it.",
	cols: []column[sysColumn]{
		textField("TableName", key, ro, "The table's name.", "", func(r *sysColumn) *string { return &r.t.Name }),
		textField("ColumnName", key, ro, "The column's name.", "", func(r *sysColumn) *string { return &r.c.Name }),
		readOnly("DataType", schema.Text, 0, "The declared type: TEXT, INTEGER, BOOLEAN, DATETIME or JSON.", func(r *sysColumn) any { return string(r.c.Type) }),
		readOnly("IsKey", schema.Boolean, 0, "1 when the column is part of the primary key.", func(r *sysColumn) any { return boolInt(r.c.Key) }),
		readOnly("IsNullable", schema.Boolean, 0, "1 when the column may be NULL.", func(r *sysColumn) any { return boolInt(r.c.Nullable) }),
		readOnly("IsUpdatable", schema.Boolean, 0, "1 when INSERT or UPDATE may set the column.", func(r *sysColumn) any { return boolInt(r.c.Writable()) }),
		readOnly("IsPushdown", schema.Boolean, 0, "1 when an equality on the column selects a narrower Graph request.", func(r *sysColumn) any { return boolInt(r.c.Pushdown) }),
		textField("Description", null, ro, "What the column holds.", "", func(r *sysColumn) *string { return &r.c.Description }),
	},
	scan: func(context.Context, *session, scanReq) iter.Seq2[*sysColumn, error] {
		return func(yield func(*sysColumn, error) bool) {
			for _, t := range catalog(tables) {
				for i := range t.Columns {
					if !yield(&sysColumn{t, &t.Columns[i]}, nil) {
						return
					}
				}
			}
		}
	},
	scanCost: cost{0, 120},
	examples: []schema.Example{{Title: "Columns pushed down to Graph", SQL: "SELECT TableName, ColumnName FROM sys_columns WHERE IsPushdown"}},
}).init()
