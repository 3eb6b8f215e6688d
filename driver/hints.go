package driver

import (
	"database/sql/driver"
	"strconv"
	"strings"

	"github.com/plannersql/planner/internal/sqltext"
)

// hintColumns are the key columns whose IN lists are read ahead, with the
// kind of object they name.
var hintColumns = map[string]string{"taskid": "task", "planid": "plan", "bucketid": "bucket", "groupid": "group"}

// inListHints returns the ids a statement's IN lists name, by kind:
// <...>TaskId IN ('id', ?, :name, ...), and the same for PlanId, BucketId
// and GroupId. SQLite hands a virtual table an IN list one value at a time
// (modernc.org/sqlite does not expose sqlite3_vtab_in), so the first lookup
// of a listed id fetches every id of the list in $batch requests instead of
// one request per value. The list is only a hint: an id it names that
// SQLite never asks for costs a batch slot, NOT IN lists are left out, and
// a list holding anything but literals and parameters (a subquery, an
// expression) is SQLite's own business.
func inListHints(query string, args []driver.NamedValue) map[string][]string {
	var toks []sqltext.Token
	for _, t := range sqltext.Lex(query) {
		if t.Kind != sqltext.Comment {
			toks = append(toks, t)
		}
	}
	params := paramIndexes(toks)
	out := map[string][]string{}
	for i := 0; i+2 < len(toks); i++ {
		if !toks[i].IsName() || !toks[i+1].Is("IN") || !toks[i+2].IsOp("(") {
			continue
		}
		kind := hintColumns[strings.ToLower(toks[i].Value())]
		if kind == "" {
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
			out[kind] = append(out[kind], ids...)
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

// argValue returns the text of the argument bound to the parameter written
// text with index n: the argument named like a named parameter (:who binds
// sql.Named("who", ...)), else the one at its index. Strings only, since ids
// are text.
func argValue(args []driver.NamedValue, n int, text string) (string, bool) {
	pick := func(a driver.NamedValue) (string, bool) {
		switch v := a.Value.(type) {
		case string:
			return v, true
		case []byte:
			return string(v), true
		}
		return "", false
	}
	if len(text) > 1 && text[0] != '?' {
		for _, a := range args {
			if a.Name == text[1:] {
				return pick(a)
			}
		}
	}
	for _, a := range args {
		if a.Name == "" && a.Ordinal == n {
			return pick(a)
		}
	}
	return "", false
}
