package driver

import (
	"fmt"
	"strconv"
	"strings"

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
}

// paramCount returns how many parameters SQLite sees in the statement: the
// largest index, where ? takes the next index, ?NNN the index NNN, and each
// distinct :name, @name or $name the next index at its first use.
func paramCount(toks []token) int {
	n := 0
	named := map[string]bool{}
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
					continue
				}
			}
			n++
		case t.text == ":" || t.text == "@":
			if nt, ok := next(); ok && !named[t.text+nt.text] {
				named[t.text+nt.text] = true
				n++
			}
		case t.word && strings.HasPrefix(t.text, "$") && len(t.text) > 1:
			if !named[t.text] {
				named[t.text] = true
				n++
			}
		}
	}
	return n
}

// token is one lexical token of a statement: a word, a quoted identifier, a
// string, a number or one punctuation character.
type token struct {
	text string
	pos  int  // byte offset in the statement
	word bool // an unquoted identifier or keyword
}

// tokenize splits a statement into tokens, skipping comments and whitespace.
// Strings and quoted identifiers are single tokens, so keywords inside them
// are never seen.
func tokenize(s string) []token {
	var toks []token
	i := 0
	for i < len(s) {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f':
			i++
		case ch == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case ch == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				i = len(s)
			} else {
				i += end + 4
			}
		case ch == '\'' || ch == '"' || ch == '`' || ch == '[':
			closer := ch
			if ch == '[' {
				closer = ']'
			}
			j := i + 1
			for j < len(s) {
				if s[j] == closer {
					if closer != ']' && j+1 < len(s) && s[j+1] == closer {
						j += 2
						continue
					}
					break
				}
				j++
			}
			if j < len(s) {
				j++
			}
			toks = append(toks, token{text: s[i:j], pos: i})
			i = j
		case isWordByte(ch):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			toks = append(toks, token{text: s[i:j], pos: i, word: true})
			i = j
		default:
			toks = append(toks, token{text: s[i : i+1], pos: i})
			i++
		}
	}
	return toks
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// identName returns the name a token stands for: a word as is, a quoted
// identifier unquoted.
func identName(t token) string {
	if t.word {
		return t.text
	}
	if n := len(t.text); n >= 2 {
		switch t.text[0] {
		case '"', '`':
			q := t.text[:1]
			return strings.ReplaceAll(t.text[1:n-1], q+q, q)
		case '[':
			return t.text[1 : n-1]
		}
	}
	return t.text
}

func kw(t token, word string) bool { return t.word && strings.EqualFold(t.text, word) }

// rewrite handles SHOW TABLES, DESCRIBE and INSERT ... RETURNING; every other
// statement goes to SQLite untouched.
func rewrite(query string) (rewritten, error) {
	q := rewritten{original: query, sql: query}
	toks := tokenize(query)
	q.params = paramCount(toks)
	// Drop trailing semicolons.
	for len(toks) > 0 && toks[len(toks)-1].text == ";" {
		toks = toks[:len(toks)-1]
	}
	if len(toks) == 0 {
		return q, nil
	}
	switch {
	case kw(toks[0], "SHOW") && len(toks) >= 2 && kw(toks[1], "TABLES"):
		sql := `SELECT TableName, Description, IsUpdatable FROM sys_tables`
		if len(toks) == 4 && kw(toks[2], "LIKE") {
			sql += " WHERE TableName LIKE " + toks[3].text
		} else if len(toks) != 2 {
			return q, fmt.Errorf("planner: SHOW TABLES takes no arguments but an optional LIKE 'pattern'")
		}
		q.sql = sql
	case (kw(toks[0], "DESCRIBE") || kw(toks[0], "DESC")) && len(toks) >= 2,
		kw(toks[0], "SHOW") && len(toks) == 4 && kw(toks[1], "COLUMNS") && (kw(toks[2], "FROM") || kw(toks[2], "IN")):
		name := toks[len(toks)-1]
		if kw(toks[0], "DESCRIBE") || kw(toks[0], "DESC") {
			if len(toks) != 2 {
				return q, fmt.Errorf("planner: DESCRIBE takes one table name, for example DESCRIBE Tasks")
			}
		}
		t := schema.Lookup(identName(name))
		if t == nil {
			return q, fmt.Errorf("planner: DESCRIBE: no table named %q (SHOW TABLES lists the tables)", identName(name))
		}
		q.sql = `SELECT ColumnName, DataType, IsKey, IsNullable, IsUpdatable, IsPushdown, Description FROM sys_columns WHERE TableName = '` + t.Name + `'`
	case kw(toks[0], "INSERT") || kw(toks[0], "REPLACE"):
		// INSERT [OR x] INTO name ... RETURNING exprs
		i := 1
		for i < len(toks) && !kw(toks[i], "INTO") {
			i++
		}
		if i+1 >= len(toks) {
			return q, nil
		}
		nameTok := toks[i+1]
		if i+3 < len(toks) && toks[i+2].text == "." {
			nameTok = toks[i+3]
		}
		t := schema.Lookup(identName(nameTok))
		if t == nil {
			return q, nil
		}
		depth := 0
		for j := i + 2; j < len(toks); j++ {
			switch toks[j].text {
			case "(":
				depth++
			case ")":
				depth--
			}
			if depth == 0 && kw(toks[j], "RETURNING") {
				q.table = t
				q.sql = strings.TrimRight(query[:toks[j].pos], " \t\r\n")
				end := len(query)
				if last := toks[len(toks)-1]; last.pos+len(last.text) < end {
					end = last.pos + len(last.text)
				}
				q.returning = strings.TrimSpace(query[toks[j].pos+len(toks[j].text) : end])
				if q.returning == "" {
					return q, fmt.Errorf("planner: RETURNING needs a column list, for example RETURNING %s", t.Key[0])
				}
				break
			}
		}
	}
	return q, nil
}
