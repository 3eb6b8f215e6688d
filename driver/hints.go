package driver

import (
	"database/sql/driver"
	"strconv"
	"strings"

	"github.com/plannersql/planner/internal/sqltext"
)

// inListHints returns the task ids a statement's IN lists name:
// <...>TaskId IN ('id', ?, :name, ...). SQLite hands a virtual table an IN
// list one value at a time (modernc.org/sqlite does not expose
// sqlite3_vtab_in), so the first lookup of a listed id fetches every id of
// the list in $batch requests instead of one request per value. The list is
// only a hint: an id it names that SQLite never asks for costs a batch slot,
// NOT IN lists are left out, and a list holding anything but literals and
// parameters (a subquery, an expression) is SQLite's own business.
func inListHints(query string, args []driver.NamedValue) []string {
	var toks []sqltext.Token
	for _, t := range sqltext.Lex(query) {
		if t.Kind != sqltext.Comment {
			toks = append(toks, t)
		}
	}
	params := paramIndexes(toks)
	var out []string
	for i := 0; i+2 < len(toks); i++ {
		if !toks[i].IsName() || !strings.EqualFold(toks[i].Value(), "TaskId") || !toks[i+1].Is("IN") || !toks[i+2].IsOp("(") {
			continue
		}
		if i > 0 && toks[i-1].Is("NOT") {
			continue
		}
		var ids []string
		j := i + 3
		for ; j < len(toks) && !toks[j].IsOp(")"); j++ {
			t := toks[j]
			switch {
			case t.IsOp(","):
			case t.Kind == sqltext.String:
				ids = append(ids, t.Value())
			case t.Kind == sqltext.Param:
				if v, ok := argValue(args, params[j], t.Text); ok {
					ids = append(ids, v)
				}
			default:
				ids = nil
				j = len(toks) // a subquery or an expression
			}
		}
		if j < len(toks) {
			out = append(out, ids...)
		}
	}
	return out
}

// paramIndexes maps each parameter token to the index SQLite gives it, as
// paramCount counts them: ? the next, ?NNN NNN, a name the next at its first
// use.
func paramIndexes(toks []sqltext.Token) map[int]int {
	out := map[int]int{}
	n := 0
	named := map[string]int{}
	for i, t := range toks {
		switch {
		case t.Kind != sqltext.Param:
		case t.Text == "?":
			n++
			out[i] = n
		case t.Text[0] == '?':
			if k, err := strconv.Atoi(t.Text[1:]); err == nil {
				n = max(n, k)
				out[i] = k
			}
		default:
			k, seen := named[t.Text]
			if !seen {
				n++
				k = n
				named[t.Text] = k
			}
			out[i] = k
		}
	}
	return out
}

// argValue returns the text of the argument bound to parameter index n
// (written text: :name binds the argument named name): strings only, since
// task ids are text.
func argValue(args []driver.NamedValue, n int, text string) (string, bool) {
	name := ""
	if len(text) > 1 && text[0] != '?' {
		name = text[1:]
	}
	for _, a := range args {
		if name != "" && a.Name == name || a.Name == "" && a.Ordinal == n {
			switch v := a.Value.(type) {
			case string:
				return v, true
			case []byte:
				return string(v), true
			}
			return "", false
		}
	}
	return "", false
}
