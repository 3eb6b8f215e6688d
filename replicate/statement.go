package replicate

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Statements built in Go. The constructors give the defaults the grammar
// gives (AlterSchema on, NamedAfterSource as the one-name form sets it); a
// Statement literal starts from zero values instead — AlterSchema off, and
// no TablePrefix on its destination. Fields can be changed after
// construction:
//
//	st := replicate.TableStatement(replicate.Name{Table: "Tasks"})
//	st.With.SourceName, st.With.HasSourceName = "prod", true
//	results, err := replicate.RunStatements(ctx, src, dst, []replicate.Statement{st}, opts)

// DefaultWith returns the options of a statement without WITH: AlterSchema
// on, everything else off.
func DefaultWith() With { return With{AlterSchema: true} }

// TableStatement returns REPLICATE [schema.]Table: the source table
// dest.Table (in the source's default schema) copied into a table of the
// same name, in dest.Schema (default Options.Schema). The destination is
// named after the source, so Options.TablePrefix applies.
func TableStatement(dest Name) Statement {
	return Statement{Kind: KindTable, Dest: dest, Source: Name{Table: dest.Table}, NamedAfterSource: true, With: DefaultWith()}
}

// CopyStatement returns REPLICATE dest source: the source table copied into
// the destination table as named (Options.TablePrefix does not apply, even
// when the names are equal).
func CopyStatement(dest, source Name) Statement {
	return Statement{Kind: KindTable, Dest: dest, Source: source, With: DefaultWith()}
}

// QueryStatement returns REPLICATE dest <query>: the query's result copied
// into dest as named. The query is sent to the source as written; its key is
// discovered for a simple SELECT ... FROM one table, else set With.Key.
func QueryStatement(dest Name, query string) Statement {
	return Statement{Kind: KindTable, Dest: dest, Query: query, With: DefaultWith()}
}

// TablesStatement returns REPLICATE TABLES (...): each table copied into a
// table of the same name (with Options.TablePrefix and Options.Schema).
func TablesStatement(tables ...TableRef) Statement {
	return Statement{Kind: KindTables, Tables: tables, With: DefaultWith()}
}

// AllStatement returns REPLICATE ALL [EXCLUDE TABLES (...)]: every source
// table but those excluded, each into a table of the same name (with
// Options.TablePrefix and Options.Schema).
func AllStatement(excludeTables ...string) Statement {
	return Statement{Kind: KindAll, ExcludeTables: excludeTables, With: DefaultWith()}
}

// validate checks a statement built in Go as the parser checks text.
func (s *Statement) validate() error {
	w := s.With
	if w.HasSourceName && (utf8.RuneCountInString(w.SourceName) > maxSourceNameLen || strings.ContainsRune(w.SourceName, 0)) {
		return fmt.Errorf("SourceName must be at most %d characters without NUL", maxSourceNameLen)
	}
	switch s.Kind {
	case KindTable:
		if s.Dest.Table == "" {
			return errors.New("no destination table (Dest.Table)")
		}
		if s.Query == "" && s.Source.Table == "" {
			return fmt.Errorf("%s: neither a source table (Source) nor a query (Query)", s.Dest)
		}
		if s.Query != "" && s.Source.Table != "" {
			return fmt.Errorf("%s: both a source table (Source) and a query (Query); give one", s.Dest)
		}
		if s.NamedAfterSource && (s.Query != "" || s.Source != (Name{Table: s.Dest.Table})) {
			return fmt.Errorf("%s: NamedAfterSource is for a destination named after its source table (Source %s)", s.Dest, s.Source)
		}
	case KindTables:
		if len(s.Tables) == 0 {
			return errors.New("REPLICATE TABLES without tables")
		}
		for _, t := range s.Tables {
			if t.Table.Table == "" {
				return errors.New("REPLICATE TABLES: a table without a name")
			}
		}
		if len(w.Key) > 0 && len(s.Tables) > 1 {
			return errors.New("option Key applies to one table; write one statement per table")
		}
	case KindAll:
		if len(w.Key) > 0 {
			return errors.New("option Key applies to one table, not to REPLICATE ALL")
		}
	default:
		return fmt.Errorf("unknown statement kind %d", s.Kind)
	}
	return nil
}

// String renders the statement in the REPLICATE grammar; parsing it gives
// the statement back (less Text, Line and Column). Runs record it as the
// statement's text when Text is empty.
func (s Statement) String() string {
	var b strings.Builder
	b.WriteString("REPLICATE ")
	switch s.Kind {
	case KindTables:
		b.WriteString("TABLES (")
		for i, t := range s.Tables {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(sqlName(t.Table))
			if len(t.ExcludeColumns) > 0 {
				b.WriteString(" EXCLUDE COLUMNS (" + sqlIdents(t.ExcludeColumns) + ")")
			}
		}
		b.WriteString(")")
	case KindAll:
		b.WriteString("ALL")
		if len(s.ExcludeTables) > 0 {
			b.WriteString(" EXCLUDE TABLES (" + sqlIdents(s.ExcludeTables) + ")")
		}
		if len(s.ExcludeColumns) > 0 {
			cols := make([]string, len(s.ExcludeColumns))
			for i, c := range s.ExcludeColumns {
				t, col, _ := strings.Cut(c, ".")
				cols[i] = sqlIdent(t) + "." + sqlIdent(col)
			}
			b.WriteString(" EXCLUDE COLUMNS (" + strings.Join(cols, ", ") + ")")
		}
	default:
		b.WriteString(sqlName(s.Dest))
		if len(s.ExcludeColumns) > 0 {
			b.WriteString(" EXCLUDE COLUMNS (" + sqlIdents(s.ExcludeColumns) + ")")
		}
	}
	if w := s.With.String(); w != "" {
		b.WriteString(" WITH " + w)
	}
	if s.Kind == KindTable {
		switch {
		case s.Query != "":
			b.WriteString(" " + s.Query)
		case !s.NamedAfterSource:
			b.WriteString(" " + sqlName(s.Source))
		}
	}
	return b.String()
}

// String renders the options that differ from DefaultWith, as after WITH
// ("DropTable, SourceName='prod'"), or "".
func (w With) String() string {
	var opts []string
	if w.DropTable {
		opts = append(opts, "DropTable")
	}
	if w.TruncateTable {
		opts = append(opts, "TruncateTable")
	}
	if !w.AlterSchema {
		opts = append(opts, "AlterSchema=false")
	}
	if w.SoftDelete {
		opts = append(opts, "SoftDelete")
	}
	if len(w.Key) > 0 {
		opts = append(opts, "Key="+sqlString(sqlIdents(w.Key)))
	}
	if w.HasSourceName {
		opts = append(opts, "SourceName="+sqlString(w.SourceName))
	}
	return strings.Join(opts, ", ")
}

// grammarWords are the words the REPLICATE grammar gives a meaning to; a
// name spelled like one is quoted.
var grammarWords = []string{"REPLICATE", "TABLES", "ALL", "EXCLUDE", "COLUMNS", "WITH", "AS", "SELECT", "VALUES", "RECURSIVE"}

// sqlIdent quotes a name unless it is a plain identifier that is not a keyword.
func sqlIdent(s string) string {
	q := displayIdent(s)
	if q == s && containsFold(grammarWords, s) {
		return `"` + s + `"`
	}
	return q
}

func sqlIdents(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = sqlIdent(n)
	}
	return strings.Join(q, ", ")
}

func sqlName(n Name) string {
	if n.Schema == "" {
		return sqlIdent(n.Table)
	}
	return sqlIdent(n.Schema) + "." + sqlIdent(n.Table)
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
