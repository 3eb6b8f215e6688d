package cli

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plannersql/planner/internal/format"
	"github.com/plannersql/planner/internal/sqltext"
)

// catalog holds the names tab completion offers, read once from sys_columns.
type catalog struct {
	once    sync.Once
	tables  []string            // sorted
	columns map[string][]string // lower-cased table name → its columns, in catalog order
	all     []string            // every column name once, sorted
}

// load reads the catalog through the shell's connection, once. A failure
// leaves it empty: completion then offers keywords only.
func (s *shell) loadCatalog() *catalog {
	c := &s.cat
	c.once.Do(func() {
		c.columns = map[string][]string{}
		// A bound for a catalog read that hangs; the catalog is local.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := s.session(ctx)
		if err != nil {
			return
		}
		rows, err := conn.QueryContext(ctx, "SELECT TableName, ColumnName FROM sys_columns")
		if err != nil {
			return
		}
		defer rows.Close()
		seen := map[string]bool{}
		for rows.Next() {
			var t, col string
			if rows.Scan(&t, &col) != nil {
				continue
			}
			key := strings.ToLower(t)
			if _, ok := c.columns[key]; !ok {
				c.tables = append(c.tables, t)
			}
			c.columns[key] = append(c.columns[key], col)
			if !seen[col] {
				seen[col] = true
				c.all = append(c.all, col)
			}
		}
		slices.Sort(c.tables)
		slices.Sort(c.all)
	})
	return c
}

// table returns the catalog's spelling of a table name, or "".
func (c *catalog) table(name string) string {
	for _, t := range c.tables {
		if strings.EqualFold(t, name) {
			return t
		}
	}
	return ""
}

// sqlKeywords are offered by tab completion after the names.
var sqlKeywords = []string{"AND", "AS", "ASC", "BETWEEN", "BY", "CASE", "COUNT", "DELETE", "DESC", "DESCRIBE",
	"DISTINCT", "ELSE", "END", "EXISTS", "FROM", "GROUP", "HAVING", "IN", "INNER", "INSERT", "INTO", "IS",
	"JOIN", "LEFT", "LIKE", "LIMIT", "NOT", "NULL", "OFFSET", "ON", "OR", "ORDER", "RETURNING", "SELECT",
	"SET", "SHOW", "TABLES", "THEN", "UNION", "UPDATE", "USING", "VALUES", "WHEN", "WHERE", "WITH"}

// statementKeywords start statements.
var statementKeywords = []string{"DELETE", "DESCRIBE", "EXPLAIN", "INSERT", "PRAGMA", "SELECT", "SHOW", "UPDATE",
	"VALUES", "WITH"}

// metaCommands are offered for a '.' at the start of a statement.
var metaCommands = []string{".exit", ".headers", ".help", ".mode", ".nullvalue", ".once", ".output", ".quit", ".read",
	".safe-updates", ".schema", ".show", ".tables", ".timer"}

// tableContext are the words after which a table name comes.
var tableContext = []string{"FROM", "JOIN", "INTO", "UPDATE", "TABLE", "DESCRIBE", "DESC"}

// clauseWords end or start the clauses completion tells apart.
var clauseWords = []string{"SELECT", "FROM", "WHERE", "GROUP", "ORDER", "HAVING", "LIMIT", "SET", "VALUES", "ON",
	"USING", "JOIN", "RETURNING"}

// complete is the line editor's word completer. It never deletes typed
// text: every completion starts with the word as typed (or, alone, is the
// catalog's spelling of it). After FROM or JOIN it offers tables; after
// "alias." or "Table." (quoted or not) that table's columns; elsewhere the
// columns of the statement's tables, then keywords. Inside a quoted
// identifier ("Ta, [Ta, `Ta) it offers names only, closed with the quote;
// inside a string or a comment, nothing. With the cursor inside a word, a
// candidate that completes the whole word replaces it.
func (s *shell) complete(line string, pos int) (head string, completions []string, tail string) {
	runes := []rune(line)
	pos = max(0, min(pos, len(runes)))
	start := pos
	for start > 0 && isWordRune(runes[start-1]) {
		start--
	}
	end := pos // the rest of the word after the cursor, up to a '.'
	for end < len(runes) && isWordRune(runes[end]) && runes[end] != '.' {
		end++
	}
	word, rest := string(runes[start:pos]), string(runes[pos:end])
	head, tail = string(runes[:start]), string(runes[pos:])
	var cands []string
	qualifier, closing := "", ""
	switch {
	case s.pending == "" && strings.TrimSpace(head) == "" && strings.HasPrefix(word, "."):
		cands = metaCommands
	case s.pending == "" && strings.HasPrefix(strings.TrimSpace(head), "."):
		cands = s.metaArgs(strings.Fields(head)[0])
	default:
		if i := strings.LastIndexByte(word, '.'); i >= 0 {
			qualifier, word = word[:i+1], word[i+1:]
		}
		cands, closing = s.sqlCandidates(s.pending+head, string(runes[start:]), qualifier, word)
	}
	if rest != "" {
		if whole := safeCompletions(qualifier, word+rest, cands); len(whole) > 0 {
			after := string(runes[end:])
			return head, closed(whole, closing, after), after
		}
	}
	return head, closed(safeCompletions(qualifier, word, cands), closing, tail), tail
}

// closed ends each completion with the closing quote of the quoted
// identifier it is typed in, unless the text after the cursor has it.
func closed(completions []string, closing, after string) []string {
	if closing == "" || strings.HasPrefix(after, closing) {
		return completions
	}
	for i := range completions {
		completions[i] += closing
	}
	return completions
}

func isWordRune(r rune) bool {
	return r == '_' || r == '.' || r == '$' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= 0x80
}

// metaArgs returns the completions of a meta-command's argument.
func (s *shell) metaArgs(cmd string) []string {
	switch strings.ToLower(cmd) {
	case ".mode":
		var out []string
		for _, m := range format.Modes() {
			out = append(out, string(m))
		}
		return out
	case ".headers", ".header", ".timer", ".safe-updates":
		return []string{"on", "off"}
	case ".schema", ".tables":
		return s.loadCatalog().tables
	}
	return nil
}

// sqlCandidates returns the names and keywords that fit where the word
// being typed stands: before is the statement's text up to the word, from
// the rest of the statement as typed so far. closing is the quote that ends
// the quoted identifier the word is typed in ("" when it is not in one).
func (s *shell) sqlCandidates(before, from, qualifier, word string) (cands []string, closing string) {
	raw := sqltext.Lex(before)
	quoted := false
	if n := len(raw); n > 0 && raw[n-1].End == len(before) {
		switch lt := raw[n-1]; {
		case lt.Kind == sqltext.Ident && lt.Unterminated && qualifier == "":
			if len(lt.Text) != 1 { // more than the quote before the word: a name with spaces
				return nil, ""
			}
			quoted, closing, raw = true, lt.Text, raw[:n-1]
			if closing == "[" {
				closing = "]"
			}
		case lt.Unterminated, lt.Kind == sqltext.Comment && strings.HasPrefix(lt.Text, "--"):
			return nil, "" // in a string, a blob or a comment
		case lt.Kind == sqltext.Ident && qualifier == ".":
			qualifier = lt.Value() + "." // "alias".Col, [Table].Col
		}
	}
	var prev []sqltext.Token
	for _, t := range raw {
		if t.Kind != sqltext.Comment {
			prev = append(prev, t)
		}
	}
	// The statement being completed starts after the last ';'.
	for i := len(prev) - 1; i >= 0; i-- {
		if prev[i].IsOp(";") {
			prev = prev[i+1:]
			break
		}
	}
	// alias."Col: the qualifier is before the quote.
	if n := len(prev); quoted && n >= 2 && prev[n-1].IsOp(".") && prev[n-2].IsName() {
		qualifier = prev[n-2].Value() + "."
	}
	stmt := before + from
	if quoted { // close the quote, so that the names after it are read as names
		i := strings.IndexAny(from, " \t\n")
		if i < 0 {
			i = len(from)
		}
		if !strings.Contains(from[:i], closing) {
			stmt = before + from[:i] + closing + from[i:]
		}
	}
	cat := s.loadCatalog()
	tables, aliases := statementTables(cat, stmt)
	if qualifier != "" {
		name := strings.TrimSuffix(qualifier, ".")
		t := aliases[strings.ToLower(name)]
		if t == "" {
			t = cat.table(name)
		}
		return cat.columns[strings.ToLower(t)], closing
	}
	if len(prev) == 0 {
		if word == "" || quoted {
			return nil, ""
		}
		return keywordCase(statementKeywords, word), ""
	}
	last := prev[len(prev)-1]
	clause := ""
	for _, t := range prev {
		for _, w := range clauseWords {
			if t.Is(w) {
				clause = w
			}
		}
	}
	for _, w := range tableContext {
		if last.Is(w) {
			return cat.tables, closing
		}
	}
	if last.IsOp(",") && clause == "FROM" {
		return cat.tables, closing
	}
	if word == "" && !quoted {
		return nil, ""
	}
	var out []string
	if len(tables) == 0 {
		out = append(out, cat.all...)
	} else {
		seen := map[string]bool{}
		for _, t := range tables {
			for _, c := range cat.columns[strings.ToLower(t)] {
				if !seen[c] {
					seen[c] = true
					out = append(out, c)
				}
			}
		}
		slices.Sort(out)
	}
	if quoted {
		return out, closing
	}
	return append(out, keywordCase(sqlKeywords, word)...), ""
}

// statementTables returns the catalog tables a statement names, and its
// aliases for them (lower-cased alias → table).
func statementTables(cat *catalog, stmt string) ([]string, map[string]string) {
	var toks []sqltext.Token
	for _, t := range sqltext.Lex(stmt) {
		if t.Kind != sqltext.Comment {
			toks = append(toks, t)
		}
	}
	var tables []string
	aliases := map[string]string{}
	for i, t := range toks {
		if !t.IsName() {
			continue
		}
		name := cat.table(t.Value())
		if name == "" || i > 0 && toks[i-1].IsOp(".") {
			continue
		}
		if !slices.Contains(tables, name) {
			tables = append(tables, name)
		}
		j := i + 1
		if j < len(toks) && toks[j].Is("AS") {
			j++
		}
		if j < len(toks) && toks[j].IsName() && !isKeyword(toks[j]) {
			aliases[strings.ToLower(toks[j].Value())] = name
		}
	}
	return tables, aliases
}

// isKeyword reports a word that cannot be a table alias.
func isKeyword(t sqltext.Token) bool {
	if t.Kind != sqltext.Word {
		return false
	}
	for _, w := range append(sqlKeywords, "LEFT", "RIGHT", "FULL", "CROSS", "NATURAL", "OUTER", "INNER", "INDEXED",
		"LIMIT", "EXCEPT", "INTERSECT", "WINDOW") {
		if t.Is(w) {
			return true
		}
	}
	return false
}

// keywordCase returns the keywords that complete the word typed, in its
// case: the typed letters as typed, the rest in the case of the last letter
// typed ("wher" → "where", "WH" → "WHERE", "Ta" → "Tables").
func keywordCase(kws []string, word string) []string {
	var out []string
	for _, k := range kws {
		if len(k) < len(word) || !strings.EqualFold(k[:len(word)], word) {
			continue
		}
		rest := k[len(word):]
		if strings.ToUpper(word) != word { // the last cased letter decides
			for i := len(word) - 1; i >= 0; i-- {
				if c := word[i]; c >= 'a' && c <= 'z' {
					rest = strings.ToLower(rest)
					break
				} else if c >= 'A' && c <= 'Z' {
					break
				}
			}
		}
		out = append(out, word+rest)
	}
	return out
}

// safeCompletions keeps the candidates that start with word (ignoring
// case), adds the qualifier, and makes sure that the line editor, which
// replaces the word with the candidates' longest common prefix, never
// deletes what was typed: when that prefix would be shorter than the word
// (candidates spelled in different cases), each keeps the word as typed.
func safeCompletions(qualifier, word string, cands []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range cands {
		if len(c) >= len(word) && strings.EqualFold(c[:len(word)], word) && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	if len(out) > 1 {
		prefix := out[0]
		for _, c := range out[1:] {
			for !strings.HasPrefix(c, prefix) {
				prefix = prefix[:len(prefix)-1]
			}
		}
		if len(prefix) < len(word) {
			for i, c := range out {
				out[i] = word + c[len(word):]
			}
		}
	}
	for i := range out {
		out[i] = qualifier + out[i]
	}
	return out
}
