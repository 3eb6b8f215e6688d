package driver

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/plannersql/planner/internal/sqltext"
	"github.com/plannersql/planner/schema"
)

// rewritten is a statement after the driver's own syntax is handled.
type rewritten struct {
	original string
	sql      string // what SQLite runs
	// For INSERT ... RETURNING into a planner table: the RETURNING
	// expressions and the table; sql is then the INSERT without them.
	returning string
	table     *schema.Table
	// params is the number of parameters the statement takes, as SQLite
	// numbers them (?NNN and named parameters included).
	params int
	// conflict is the statement's ON CONFLICT mode for an INSERT: "" (the
	// default, ABORT), or IGNORE, REPLACE, FAIL, ABORT or ROLLBACK (see
	// conflictMode).
	conflict string
	// precheck marks an INSERT of several rows from a VALUES list that
	// reads no table (no SELECT): before it runs, a check pass refuses a
	// row the driver would refuse (a NUL byte, a wrong type, a bad label or
	// key, a key twice) before any row is sent (conn.precheck).
	precheck bool
	// collate marks a statement that compares with a collation other than
	// BINARY (a COLLATE outside ORDER BY and GROUP BY): the tables do not
	// push equalities down in it (BestIndex), since Graph finds an id only
	// as written, and SQLite's NOCASE or RTRIM equality matches more.
	collate bool
}

// conflictMode returns the conflict resolution of an INSERT statement
// (INSERT OR <mode>, or REPLACE, which is INSERT OR REPLACE), after an
// optional WITH clause; "" for other statements and a plain INSERT.
//
// SQLite tells a virtual table the mode through sqlite3_vtab_on_conflict,
// which modernc.org/sqlite's vtab package does not expose, and it counts a
// row a virtual table skips as changed: so the driver reads the mode from
// the statement and corrects the count itself (connState.ignored).
func conflictMode(toks []sqltext.Token) string {
	i := verbIndex(toks)
	switch {
	case i >= len(toks):
	case toks[i].Is("REPLACE"):
		return "REPLACE"
	case toks[i].Is("INSERT") && i+2 < len(toks) && toks[i+1].Is("OR"):
		return strings.ToUpper(toks[i+2].Text)
	}
	return ""
}

// verbIndex returns the index of the statement's verb: 0, or after a WITH
// clause the first of INSERT, REPLACE, SELECT, UPDATE, DELETE or VALUES
// outside parentheses (len(toks) when there is none).
func verbIndex(toks []sqltext.Token) int {
	if len(toks) == 0 || !toks[0].Is("WITH") {
		return 0
	}
	depth := 0
	for i := 1; i < len(toks); i++ {
		switch t := toks[i]; {
		case t.IsOp("("):
			depth++
		case t.IsOp(")"):
			depth--
		case depth == 0 && (t.Is("INSERT") || t.Is("REPLACE") || t.Is("SELECT") || t.Is("UPDATE") || t.Is("DELETE") || t.Is("VALUES")):
			return i
		}
	}
	return len(toks)
}

// paramCount returns how many parameters SQLite sees in the statement: the
// largest index, where ? takes the next index, ?NNN the index NNN, and each
// distinct :name, @name, $name or #name the next index at its first use.
func paramCount(toks []sqltext.Token) int {
	n := 0
	named := map[string]bool{}
	for _, t := range toks {
		switch {
		case t.Kind != sqltext.Param:
		case t.Text == "?":
			n++
		case t.Text[0] == '?':
			if k, err := strconv.Atoi(t.Text[1:]); err == nil {
				n = max(n, k)
			}
		case !named[t.Text]:
			named[t.Text] = true
			n++
		}
	}
	return n
}

// rewrite handles SHOW TABLES, DESCRIBE and INSERT ... RETURNING; every other
// statement goes to SQLite untouched.
func rewrite(query string) (rewritten, error) {
	q := rewritten{original: query, sql: query}
	if i := strings.IndexByte(query, 0); i >= 0 {
		// SQLite reads statements as C strings: it would run the text before
		// the NUL alone (a DELETE without its WHERE, say).
		return q, fmt.Errorf("planner: the statement holds a NUL byte at byte %d, where SQLite would stop reading it; "+
			"write char(0) or bind the value as a parameter", i)
	}
	var toks []sqltext.Token
	for _, t := range sqltext.Lex(query) {
		if t.Kind != sqltext.Comment {
			toks = append(toks, t)
		}
	}
	q.params = paramCount(toks)
	q.conflict = conflictMode(toks)
	q.collate = comparesCollated(toks)
	// Drop trailing semicolons.
	for len(toks) > 0 && toks[len(toks)-1].IsOp(";") {
		toks = toks[:len(toks)-1]
	}
	if len(toks) == 0 {
		return q, nil
	}
	switch {
	case toks[0].Is("SHOW") && len(toks) >= 2 && toks[1].Is("TABLES"):
		sql := `SELECT TableName, Description, IsUpdatable FROM sys_tables`
		if len(toks) == 4 && toks[2].Is("LIKE") {
			sql += " WHERE TableName LIKE " + toks[3].Text
		} else if len(toks) != 2 {
			return q, fmt.Errorf("planner: SHOW TABLES takes no arguments but an optional LIKE 'pattern'")
		}
		q.sql = sql
	case (toks[0].Is("DESCRIBE") || toks[0].Is("DESC")) && len(toks) >= 2,
		toks[0].Is("SHOW") && len(toks) == 4 && toks[1].Is("COLUMNS") && (toks[2].Is("FROM") || toks[2].Is("IN")):
		name := toks[len(toks)-1]
		if toks[0].Is("DESCRIBE") || toks[0].Is("DESC") {
			if len(toks) != 2 {
				return q, fmt.Errorf("planner: DESCRIBE takes one table name, for example DESCRIBE Tasks")
			}
		}
		t := schema.Lookup(name.Value())
		if t == nil {
			return q, fmt.Errorf("planner: DESCRIBE: no table named %q (SHOW TABLES lists the tables)", name.Value())
		}
		q.sql = `SELECT ColumnName, DataType, IsKey, IsNullable, IsUpdatable, IsPushdown, Description FROM sys_columns WHERE TableName = '` + t.Name + `'`
	case toks[0].Is("INSERT") || toks[0].Is("REPLACE"):
		// INSERT [OR x] INTO name ... RETURNING exprs
		i := 1
		for i < len(toks) && !toks[i].Is("INTO") {
			i++
		}
		if i+1 >= len(toks) {
			return q, nil
		}
		nameTok, planner := toks[i+1], true
		if i+3 < len(toks) && toks[i+2].IsOp(".") {
			// The planner tables are in the temp schema: main.Tasks is a
			// table of the user's own, which a check pass would fill twice.
			nameTok, planner = toks[i+3], strings.EqualFold(toks[i+1].Value(), "temp")
		}
		t := schema.Lookup(nameTok.Value())
		if t == nil {
			return q, nil
		}
		q.precheck = planner && valuesRows(toks[i+2:]) > 1
		depth := 0
		for j := i + 2; j < len(toks); j++ {
			switch {
			case toks[j].IsOp("("):
				depth++
			case toks[j].IsOp(")"):
				depth--
			}
			if depth == 0 && toks[j].Is("RETURNING") {
				q.table = t
				q.sql = strings.TrimRight(query[:toks[j].Pos.Offset], " \t\r\n")
				end := len(query)
				if last := toks[len(toks)-1]; last.End < end {
					end = last.End
				}
				q.returning = strings.TrimSpace(query[toks[j].End:end])
				if q.returning == "" {
					return q, fmt.Errorf("planner: RETURNING needs a column list, for example RETURNING %s", t.Key[0])
				}
				break
			}
		}
	}
	return q, nil
}

// valuesRows returns the number of rows of the VALUES list of an INSERT
// (toks: what follows the table name), or 0 when it has none or reads a
// table (a SELECT anywhere: a check pass would read it twice).
func valuesRows(toks []sqltext.Token) int {
	rows, depth, in := 0, 0, false
	for _, t := range toks {
		switch {
		case t.Is("SELECT"):
			return 0
		case depth == 0 && t.Is("VALUES"):
			in = true
		case t.IsOp("("):
			if in && depth == 0 {
				rows++
			}
			depth++
		case t.IsOp(")"):
			depth--
		}
	}
	return rows
}

// comparesCollated reports whether the statement applies a collation other
// than BINARY to anything but an ORDER BY or GROUP BY term: then an
// equality on a column may match values that differ from the one compared
// with (in case, in trailing spaces), which no Graph request by id finds.
func comparesCollated(toks []sqltext.Token) bool {
	ordering := []bool{false} // per parenthesis depth: inside ORDER BY or GROUP BY
	for i, t := range toks {
		d := len(ordering) - 1
		switch {
		case t.IsOp("("):
			ordering = append(ordering, false)
		case t.IsOp(")"):
			if d > 0 {
				ordering = ordering[:d]
			}
		case (t.Is("ORDER") || t.Is("GROUP")) && i+1 < len(toks) && toks[i+1].Is("BY"):
			ordering[d] = true
		case t.Is("LIMIT") || t.Is("HAVING") || t.Is("WINDOW") || t.Is("UNION") || t.Is("INTERSECT") ||
			t.Is("EXCEPT") || t.Is("SELECT") || t.Is("WHERE") || t.Is("ON") || t.Is("RETURNING"):
			ordering[d] = false
		case t.Is("COLLATE") && !ordering[d]:
			if i+1 < len(toks) && toks[i+1].Is("BINARY") {
				continue
			}
			return true
		}
	}
	return false
}
