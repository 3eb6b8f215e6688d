package schema

var sysTables = &Table{
	Name:        "sys_tables",
	Description: "The catalog of tables. SHOW TABLES is a shorthand for it.",
	Key:         []string{"TableName"},
	Columns: []Column{
		col("TableName", Text, key, "The table's name."),
		col("Description", Text, null, "What the table holds."),
		col("IsUpdatable", Boolean, 0, "1 when the table accepts INSERT, UPDATE or DELETE."),
	},
	Examples: []Example{{"Writable tables", "SELECT TableName FROM sys_tables WHERE IsUpdatable"}},
}

var sysColumns = &Table{
	Name:        "sys_columns",
	Description: "The catalog of columns. DESCRIBE <table> is a shorthand for it.",
	Key:         []string{"TableName", "ColumnName"},
	Columns: []Column{
		col("TableName", Text, key, "The table's name."),
		col("ColumnName", Text, key, "The column's name."),
		col("DataType", Text, 0, "The declared type: TEXT, INTEGER, BOOLEAN, DATETIME or JSON."),
		col("IsKey", Boolean, 0, "1 when the column is part of the primary key."),
		col("IsNullable", Boolean, 0, "1 when the column may be NULL."),
		col("IsUpdatable", Boolean, 0, "1 when INSERT or UPDATE may set the column."),
		col("IsPushdown", Boolean, 0, "1 when an equality on the column selects a narrower Graph request."),
		col("Description", Text, null, "What the column holds."),
	},
	Examples: []Example{{"Columns pushed down to Graph", "SELECT TableName, ColumnName FROM sys_columns WHERE IsPushdown"}},
}
