package driver

import (
	"database/sql/driver"
	"strconv"
	"strings"
)

// inListHints returns the task ids a statement's IN lists name:
// <...>TaskId IN ('id', ?, :name, ...). SQLite hands a virtual table an IN
// list one value at a time (modernc.org/sqlite does not expose
// sqlite3_vtab_in), so the first lookup of a listed id fetches every id of
// the list in $batch requests instead of one request per value. The list is
// only a hint: ids it names that SQLite never asks for cost a batch slot
// each, and NOT IN lists are left out.
func inListHints(query string, args []driver.NamedValue) []string {
	toks := tokenize(query)
	params := paramIndexes(toks)
	var out []string
	for i := 0; i+2 < len(toks); i++ {
		if !strings.EqualFold(identName(toks[i]), "TaskId") || !kw(toks[i+1], "IN") || toks[i+2].text != "(" {
			continue
		}
		if i > 0 && kw(toks[i-1], "NOT") {
			continue
		}
		var ids []string
		ok := true
		j := i + 3
		for ; j < len(toks) && toks[j].text != ")"; j++ {
			t := toks[j]
			switch {
			case t.text == ",":
			case len(t.text) >= 2 && t.text[0] == '\'':
				ids = append(ids, strings.ReplaceAll(t.text[1:len(t.text)-1], "''", "'"))
			case params[j] > 0:
				if v, found := argValue(args, params[j], paramName(toks, j)); found {
					ids = append(ids, v)
				}
				for j+1 < len(toks) && toks[j+1].pos == toks[j].pos+len(toks[j].text) && toks[j+1].text != "," && toks[j+1].text != ")" {
					j++ // the parameter's name or number
				}
			default:
				ok = false // a subquery or an expression: SQLite's own values
			}
			if !ok {
				break
			}
		}
		if ok && j < len(toks) {
			out = append(out, ids...)
		}
	}
	return out
}

// paramIndexes maps each parameter token (?, ?NNN, :name, @name, $name) to
// the 1-based index SQLite gives it, as paramCount counts them.
func paramIndexes(toks []token) map[int]int {
	out := map[int]int{}
	n := 0
	named := map[string]int{}
	for i, t := range toks {
		next := func() (token, bool) {
			if i+1 < len(toks) && toks[i+1].word && toks[i+1].pos == t.pos+1 {
				return toks[i+1], true
			}
			return token{}, false
		}
		switch {
		case t.text == "?":
			if nt, ok := next(); ok {
				if k, err := strconv.Atoi(nt.text); err == nil {
					n = max(n, k)
					out[i] = k
					continue
				}
			}
			n++
			out[i] = n
		case t.text == ":" || t.text == "@":
			if nt, ok := next(); ok {
				if k, seen := named[t.text+nt.text]; seen {
					out[i] = k
					continue
				}
				n++
				named[t.text+nt.text] = n
				out[i] = n
			}
		case t.word && strings.HasPrefix(t.text, "$") && len(t.text) > 1:
			if k, seen := named[t.text]; seen {
				out[i] = k
				continue
			}
			n++
			named[t.text] = n
			out[i] = n
		}
	}
	return out
}

// paramName returns the name of the named parameter at toks[i] ("" for ?).
func paramName(toks []token, i int) string {
	t := toks[i]
	switch {
	case (t.text == ":" || t.text == "@") && i+1 < len(toks):
		return toks[i+1].text
	case strings.HasPrefix(t.text, "$"):
		return t.text[1:]
	}
	return ""
}

// argValue returns the text of the argument bound to parameter index n (or
// named name): strings only, since task ids are text.
func argValue(args []driver.NamedValue, n int, name string) (string, bool) {
	for _, a := range args {
		if (name != "" && a.Name == name) || (a.Name == "" && a.Ordinal == n) {
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
