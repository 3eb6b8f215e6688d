package driver

import (
	"database/sql/driver"
	"encoding/json"
	"slices"
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
// expression) is SQLite's own business — but see moreListHints for the
// other ways a statement writes a list.
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
	moreListHints(toks, params, args, out)
	return out
}

// allKinds are the kinds a list not tied to one key column may name.
var allKinds = []string{"task", "plan", "bucket", "group"}

// moreListHints adds to out the ids of the lists a statement writes other
// ways than IN (...), which SQLite likewise hands a virtual table one value
// at a time:
//
//   - json_each(?) (or json_tree, or a JSON string literal): a list bound as
//     one JSON array, the usual way to pass a list from Go — its string
//     elements (at any depth). Inside <key column> IN (SELECT ...), they
//     are of that column's kind (none inside NOT IN); elsewhere (a join
//     with the list) of every kind: an id SQLite never asks for as a
//     plan, say, costs nothing.
//   - <key column> = 'id' (or ?) two or more times for one kind: an OR
//     chain (one equality is a plain lookup).
//   - VALUES ('id'), (?), ... in a SELECT or WITH statement: of every kind.
func moreListHints(toks []sqltext.Token, params map[int]int, args []driver.NamedValue, out map[string][]string) {
	add := func(kind string, ids []string) {
		for _, id := range ids {
			if !slices.Contains(out[kind], id) {
				out[kind] = append(out[kind], id)
			}
		}
	}
	value := func(j int) (string, bool) {
		switch t := toks[j]; t.Kind {
		case sqltext.String:
			return t.Value(), true
		case sqltext.Param:
			return argValue(args, params[j], t.Text)
		}
		return "", false
	}
	// JSON arrays.
	for i := 0; i+2 < len(toks); i++ {
		if !(toks[i].Is("json_each") || toks[i].Is("json_tree")) || !toks[i+1].IsOp("(") {
			continue
		}
		raw, ok := value(i + 2)
		if !ok {
			continue
		}
		ids := jsonStrings(raw)
		if len(ids) == 0 {
			continue
		}
		kind, negated := enclosingIN(toks, i)
		switch {
		case negated:
		case kind != "":
			add(kind, ids)
		default:
			for _, k := range allKinds {
				add(k, ids)
			}
		}
	}
	// Equalities.
	eq := map[string][]string{}
	for i := 0; i+2 < len(toks); i++ {
		var col, val int
		switch {
		case toks[i].IsName() && toks[i+1].IsOp("=") && hintColumns[strings.ToLower(toks[i].Value())] != "":
			col, val = i, i+2
		case toks[i+2].IsName() && toks[i+1].IsOp("=") && hintColumns[strings.ToLower(toks[i+2].Value())] != "":
			col, val = i+2, i
		default:
			continue
		}
		if v, ok := value(val); ok {
			kind := hintColumns[strings.ToLower(toks[col].Value())]
			if !slices.Contains(eq[kind], v) {
				eq[kind] = append(eq[kind], v)
			}
		}
	}
	for kind, ids := range eq {
		if len(ids) >= 2 {
			add(kind, ids)
		}
	}
	// VALUES lists of a query.
	if len(toks) == 0 || !(toks[0].Is("SELECT") || toks[0].Is("WITH")) {
		return
	}
	for i := range toks {
		if !toks[i].Is("VALUES") {
			continue
		}
		var ids []string
		depth := 0
	rows:
		for j := i + 1; j < len(toks); j++ {
			switch t := toks[j]; {
			case t.IsOp("("):
				depth++
			case t.IsOp(")"):
				if depth == 0 {
					break rows
				}
				depth--
			case t.IsOp(","):
			case depth == 1:
				v, ok := value(j)
				if !ok {
					ids = nil // an expression: SQLite's business
					break rows
				}
				ids = append(ids, v)
			default:
				break rows
			}
		}
		for _, k := range allKinds {
			add(k, ids)
		}
	}
}

// enclosingIN returns the kind of the key column whose IN (...) encloses
// the token at i, and whether it is a NOT IN; "" when none does.
func enclosingIN(toks []sqltext.Token, i int) (kind string, negated bool) {
	depth := 0
	for k := i - 1; k >= 0; k-- {
		switch {
		case toks[k].IsOp(")"):
			depth++
		case toks[k].IsOp("("):
			if depth > 0 {
				depth--
				continue
			}
			if k >= 2 && toks[k-1].Is("IN") {
				col, negated := k-2, false
				if toks[col].Is("NOT") && col > 0 {
					col, negated = col-1, true
				}
				if kind := hintColumns[strings.ToLower(toks[col].Value())]; toks[col].IsName() && kind != "" {
					return kind, negated
				}
			}
		}
	}
	return "", false
}

// jsonStrings returns the strings of a JSON text, at any depth (at most
// 10,000); none when it is not JSON.
func jsonStrings(raw string) []string {
	var v any
	if json.Unmarshal([]byte(raw), &v) != nil {
		return nil
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		if len(out) >= 10000 {
			return
		}
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				walk(x[k])
			}
		}
	}
	walk(v)
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
