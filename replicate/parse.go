package replicate

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/plannersql/planner/internal/sqltext"
)

// Kind is the form of a REPLICATE statement.
type Kind int

// The statement forms.
const (
	// KindTable copies one table or query: REPLICATE <dest> [WITH ...] [<select> | <source table>].
	KindTable Kind = iota
	// KindTables copies a list of tables: REPLICATE TABLES (<table>, ...).
	KindTables
	// KindAll copies every source table: REPLICATE ALL [EXCLUDE TABLES (...)].
	KindAll
)

// String returns the form's keyword.
func (k Kind) String() string {
	switch k {
	case KindTables:
		return "TABLES"
	case KindAll:
		return "ALL"
	default:
		return "TABLE"
	}
}

// Name is a possibly schema-qualified table name, as written (unquoted).
type Name struct {
	// Schema is the schema (PostgreSQL), database (MySQL) or attached database
	// (SQLite) holding the table; empty means the connection's default.
	Schema string
	// Table is the table's name.
	Table string
}

// String renders the name for messages: schema.table, with double quotes
// around any part that is not a plain identifier.
func (n Name) String() string {
	if n.Schema == "" {
		return displayIdent(n.Table)
	}
	return displayIdent(n.Schema) + "." + displayIdent(n.Table)
}

// displayIdent quotes s only when it is not a plain identifier.
func displayIdent(s string) string {
	plain := s != ""
	for i, r := range s {
		if !(r == '_' || unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// TableRef is one entry of REPLICATE TABLES (...): a source table and the
// columns to leave out.
type TableRef struct {
	// Table is the source table; the destination has the same name (plus the
	// run's TablePrefix and Schema defaults).
	Table Name
	// ExcludeColumns are result columns not copied.
	ExcludeColumns []string
}

// With holds a statement's WITH options.
type With struct {
	// DropTable drops and recreates the destination table before copying (it
	// drops every source's rows, not only this statement's).
	DropTable bool
	// TruncateTable deletes the destination rows the statement covers before
	// copying, so every row is rewritten.
	TruncateTable bool
	// AlterSchema adds columns that are new in the source to the destination.
	// It is on unless the statement says AlterSchema=false.
	AlterSchema bool
	// SoftDelete marks rows that vanished from the source (IsDeleted = 1 and
	// DeletedDateTime) instead of deleting them.
	SoftDelete bool
	// Key names the columns that identify a row, overriding the key discovered
	// from the source.
	Key []string
	// SourceName, when HasSourceName, names the source account: the
	// destination gets a SourceName column, part of the key, and the run
	// touches only rows with this value. An empty SourceName with
	// HasSourceName turns off the run's default.
	SourceName string
	// HasSourceName reports whether the statement set SourceName.
	HasSourceName bool
}

// Statement is one parsed REPLICATE statement.
type Statement struct {
	// Text is the statement as written, without the terminating ';'.
	Text string
	// Line and Column locate the statement's first character (1-based).
	Line, Column int
	// Kind is the statement's form.
	Kind Kind
	// Dest is the destination table (KindTable).
	Dest Name
	// Source is the source table (KindTable without a query). It is Dest's
	// table name when the statement names only one table.
	Source Name
	// NamedAfterSource reports that Dest was not written but derived from
	// the source table's name (REPLICATE [schema.]Table): Options.TablePrefix
	// applies to it. A destination written in the statement (REPLICATE Dest
	// Source, REPLICATE Dest SELECT ...) is used as written, even when it
	// equals the source's name.
	NamedAfterSource bool
	// Query is the SELECT sent to the source verbatim (KindTable), or empty.
	Query string
	// ExcludeColumns are result columns not copied (KindTable), or, for
	// KindAll, Table.Column names.
	ExcludeColumns []string
	// Tables are the tables of KindTables.
	Tables []TableRef
	// ExcludeTables are the tables KindAll leaves out.
	ExcludeTables []string
	// With holds the WITH options.
	With With
}

// SyntaxError reports a script that does not parse, with the position of the
// offending token.
type SyntaxError struct {
	// Line and Column locate the error (1-based; columns count characters).
	Line, Column int
	// Msg says what was expected and what was found.
	Msg string
}

// Error gives the position and the message.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("replicate: syntax error at line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// optionNames are the accepted WITH options, as documented.
var optionNames = []string{"DropTable", "TruncateTable", "AlterSchema", "Key", "SourceName", "SoftDelete"}

// maxSourceNameLen bounds SourceName values (they are key columns; MySQL keys
// need a bounded VARCHAR).
const maxSourceNameLen = 64

// Parse splits a script into REPLICATE statements and parses each. Statements
// are separated by ';'; '--' and '/* */' comments are ignored; identifiers may
// be quoted as "x", [x] or `x`. The SELECT of a statement is not parsed: its
// text is sent to the source as written. Errors are *SyntaxError values with
// the line and column of the problem.
func Parse(script string) ([]Statement, error) {
	if err := checkClosed(lexOptions.Lex(script)); err != nil {
		return nil, err
	}
	var stmts []Statement
	for _, sst := range lexOptions.Split(script) {
		end := token{kind: tEOF, Pos: sqltext.Position(script, len(script))}
		if sst.Terminated {
			end = token{kind: tPunct, val: ";", Pos: sqltext.Position(script, sst.Next-1)}
		}
		p := &parser{src: script, toks: tokens(sst.Tokens), end: end}
		st, err := p.statement()
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, st)
	}
	if len(stmts) == 0 {
		return nil, &SyntaxError{Line: 1, Column: 1, Msg: "expected a REPLICATE statement, found an empty script"}
	}
	return stmts, nil
}

// lexOptions are the lexical rules of scripts: SQLite's, plus PostgreSQL's
// dollar-quoted strings (a statement's query may go to a PostgreSQL source).
var lexOptions = sqltext.Options{DollarQuotes: true}

// tokKind classifies a token for the parser.
type tokKind int

const (
	tEOF    tokKind = iota
	tIdent          // bare identifier or keyword
	tQuoted         // quoted identifier: "x", [x] or `x`
	tString         // 'string' (or a $tag$ dollar-quoted string)
	tNumber         // numeric literal
	tPunct          // anything else: ( ) , . = ; * parameters, blobs ...
)

// token is one token of a statement. val is an identifier's or string's
// value with quotes removed and doubled quotes undoubled.
type token struct {
	kind tokKind
	val  string
	sqltext.Pos
	end int
}

// tokens converts the lexer's tokens (comments already left out).
func tokens(in []sqltext.Token) []token {
	out := make([]token, 0, len(in))
	for _, t := range in {
		k := tPunct
		switch t.Kind {
		case sqltext.Word:
			k = tIdent
		case sqltext.Ident:
			k = tQuoted
		case sqltext.String:
			k = tString
		case sqltext.Number:
			k = tNumber
		}
		out = append(out, token{kind: k, val: t.Value(), Pos: t.Pos, end: t.End})
	}
	return out
}

// checkClosed returns a *SyntaxError for the first string, quoted
// identifier or comment of toks that is never closed.
func checkClosed(toks []sqltext.Token) error {
	for _, t := range toks {
		if !t.Unterminated {
			continue
		}
		msg := "unterminated string (missing ')"
		switch {
		case t.Kind == sqltext.Comment:
			msg = "unterminated /* comment"
		case t.Kind == sqltext.Ident && t.Text[0] == '[':
			msg = "unterminated quoted identifier (missing ])"
		case t.Kind == sqltext.Ident:
			msg = fmt.Sprintf("unterminated quoted identifier (missing %c)", t.Text[0])
		case t.Kind == sqltext.Blob:
			msg = "unterminated blob literal (missing ')"
		case t.Text[0] == '$':
			msg = fmt.Sprintf("unterminated dollar-quoted string (missing %s)", t.Text[:strings.IndexByte(t.Text[1:], '$')+2])
		}
		return &SyntaxError{Line: t.Pos.Line, Column: t.Pos.Column, Msg: msg}
	}
	return nil
}

// is reports whether t is the bare keyword kw (case-insensitive). Quoted
// identifiers are never keywords.
func (t token) is(kw string) bool { return t.kind == tIdent && strings.EqualFold(t.val, kw) }

// punct reports whether t is the single character c.
func (t token) punct(c byte) bool { return t.kind == tPunct && t.val == string(c) }

// isName reports whether t can be an identifier (bare or quoted).
func (t token) isName() bool { return t.kind == tIdent || t.kind == tQuoted }

// describe renders t for "found ..." in syntax errors.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of statement"
	case tString:
		return "string " + quoteForMsg(t.val, '\'')
	case tQuoted:
		return "identifier " + quoteForMsg(t.val, '"')
	case tPunct:
		if t.val == ";" {
			return "end of statement"
		}
	}
	return fmt.Sprintf("%q", t.val)
}

func quoteForMsg(s string, q byte) string {
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return string(q) + s + string(q)
}

// parser parses the tokens of one statement; end is the ';' or EOF after it.
type parser struct {
	src  string
	toks []token
	i    int
	end  token
}

func (p *parser) peek() token { return p.peekN(0) }

func (p *parser) peekN(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.end
}

func (p *parser) atEnd() bool { return p.i >= len(p.toks) }

func (p *parser) take() token {
	t := p.peek()
	if !p.atEnd() {
		p.i++
	}
	return t
}

func (p *parser) errorf(t token, format string, args ...any) error {
	return &SyntaxError{Line: t.Line, Column: t.Column, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) expected(what string) error {
	t := p.peek()
	return p.errorf(t, "expected %s, found %s", what, t.describe())
}

func (p *parser) expectPunct(c byte) error {
	if !p.peek().punct(c) {
		return p.expected(fmt.Sprintf("%q", string(c)))
	}
	p.take()
	return nil
}

func (p *parser) statement() (Statement, error) {
	first := p.toks[0]
	st := Statement{Text: p.src[first.Offset:p.toks[len(p.toks)-1].end]}
	st.Line, st.Column = first.Line, first.Column
	st.With.AlterSchema = true
	if !first.is("REPLICATE") {
		return st, p.expected("REPLICATE")
	}
	p.take()
	switch t := p.peek(); {
	case t.is("TABLES") && p.peekN(1).punct('('):
		p.take()
		return st, p.tablesForm(&st)
	case t.is("ALL") && (p.i+1 >= len(p.toks) || p.peekN(1).is("EXCLUDE") || p.peekN(1).is("WITH")):
		p.take()
		return st, p.allForm(&st)
	case t.isName():
		return st, p.tableForm(&st)
	default:
		return st, p.expected("a destination table name, TABLES (...) or ALL")
	}
}

// name parses a possibly schema-qualified name.
func (p *parser) name(what string) (Name, error) {
	if !p.peek().isName() {
		return Name{}, p.expected(what)
	}
	first := p.take()
	if !p.peek().punct('.') {
		return Name{Table: first.val}, nil
	}
	p.take()
	if !p.peek().isName() {
		return Name{}, p.expected("a table name after '.'")
	}
	second := p.take()
	if p.peek().punct('.') {
		return Name{}, p.errorf(p.peek(), "expected at most schema.table, found a third name part")
	}
	return Name{Schema: first.val, Table: second.val}, nil
}

// identList parses '(' name [, name ...] ')' of plain (optionally Table.Column) names.
func (p *parser) identList(what string, qualified bool) ([]string, error) {
	if err := p.expectPunct('('); err != nil {
		return nil, err
	}
	var out []string
	for {
		if !p.peek().isName() {
			return nil, p.expected(what)
		}
		s := p.take().val
		if qualified {
			if !p.peek().punct('.') {
				return nil, p.expected("'.' between table and column (Table.Column)")
			}
			p.take()
			if !p.peek().isName() {
				return nil, p.expected("a column name after '.'")
			}
			s += "." + p.take().val
		}
		out = append(out, s)
		if p.peek().punct(',') {
			p.take()
			continue
		}
		if err := p.expectPunct(')'); err != nil {
			return nil, p.expected("',' or ')'")
		}
		return out, nil
	}
}

func (p *parser) tableForm(st *Statement) error {
	st.Kind = KindTable
	dest, err := p.name("a destination table name")
	if err != nil {
		return err
	}
	st.Dest = dest
	if p.peek().is("EXCLUDE") {
		p.take()
		if !p.peek().is("COLUMNS") {
			return p.expected("COLUMNS after EXCLUDE")
		}
		p.take()
		if st.ExcludeColumns, err = p.identList("a column name", false); err != nil {
			return err
		}
	}
	if p.peek().is("WITH") && p.withIsOptions() {
		p.take()
		if err := p.options(st, true); err != nil {
			return err
		}
	}
	if p.peek().is("AS") {
		p.take()
		if p.atEnd() {
			return p.expected("a SELECT or a source table after AS")
		}
	}
	switch t := p.peek(); {
	case p.atEnd():
		st.Source = Name{Table: dest.Table}
		st.NamedAfterSource = true
	case t.is("SELECT") || t.is("WITH") || t.is("VALUES") || t.punct('('):
		st.Query = strings.TrimSpace(p.src[t.Offset:p.toks[len(p.toks)-1].end])
		p.i = len(p.toks)
	case t.isName():
		src, err := p.name("a source table name")
		if err != nil {
			return err
		}
		st.Source = src
		if !p.atEnd() {
			if p.peek().is("WITH") {
				return p.errorf(p.peek(), "expected end of statement, found WITH: put WITH options before the source table")
			}
			return p.expected("end of statement after the source table")
		}
	default:
		return p.expected("WITH, a SELECT, a source table or end of statement")
	}
	return nil
}

// withIsOptions tells WITH options from a common table expression
// (WITH name AS (...) SELECT ...): options start with a known option name
// that is not followed by AS or '('.
func (p *parser) withIsOptions() bool {
	next, after := p.peekN(1), p.peekN(2)
	if next.is("RECURSIVE") {
		return false
	}
	return !(next.isName() && (after.is("AS") || after.punct('(')))
}

func (p *parser) tablesForm(st *Statement) error {
	st.Kind = KindTables
	if err := p.expectPunct('('); err != nil {
		return err
	}
	for {
		n, err := p.name("a table name")
		if err != nil {
			return err
		}
		ref := TableRef{Table: n}
		if p.peek().is("EXCLUDE") {
			p.take()
			if !p.peek().is("COLUMNS") {
				return p.expected("COLUMNS after EXCLUDE")
			}
			p.take()
			if ref.ExcludeColumns, err = p.identList("a column name", false); err != nil {
				return err
			}
		}
		st.Tables = append(st.Tables, ref)
		if p.peek().punct(',') {
			p.take()
			continue
		}
		if !p.peek().punct(')') {
			return p.expected("',' or ')'")
		}
		p.take()
		break
	}
	if p.peek().is("WITH") {
		p.take()
		if err := p.options(st, len(st.Tables) == 1); err != nil {
			return err
		}
	}
	if !p.atEnd() {
		return p.expected("WITH or end of statement")
	}
	return nil
}

func (p *parser) allForm(st *Statement) error {
	st.Kind = KindAll
	for p.peek().is("EXCLUDE") {
		p.take()
		var err error
		switch t := p.peek(); {
		case t.is("TABLES"):
			p.take()
			var l []string
			if l, err = p.identList("a table name", false); err == nil {
				st.ExcludeTables = append(st.ExcludeTables, l...)
			}
		case t.is("COLUMNS"):
			p.take()
			var l []string
			if l, err = p.identList("a Table.Column name", true); err == nil {
				st.ExcludeColumns = append(st.ExcludeColumns, l...)
			}
		default:
			err = p.expected("TABLES or COLUMNS after EXCLUDE")
		}
		if err != nil {
			return err
		}
	}
	if p.peek().is("WITH") {
		p.take()
		if err := p.options(st, false); err != nil {
			return err
		}
	}
	if !p.atEnd() {
		return p.expected("EXCLUDE, WITH or end of statement")
	}
	return nil
}

// options parses option [= value] [, ...] after WITH.
func (p *parser) options(st *Statement, single bool) error {
	seen := map[string]bool{}
	for {
		t := p.peek()
		if !t.isName() {
			return p.expected("an option name (" + strings.Join(optionNames, ", ") + ")")
		}
		name := ""
		for _, o := range optionNames {
			if strings.EqualFold(o, t.val) {
				name = o
			}
		}
		if name == "" {
			return p.errorf(t, "unknown option %q; accepted options: %s", t.val, strings.Join(optionNames, ", "))
		}
		if seen[name] {
			return p.errorf(t, "option %s given twice", name)
		}
		seen[name] = true
		p.take()
		var val token
		hasVal := false
		if p.peek().punct('=') {
			p.take()
			v := p.peek()
			if v.kind != tString && v.kind != tIdent && v.kind != tNumber && v.kind != tQuoted {
				return p.expected("a value for " + name)
			}
			val, hasVal = p.take(), true
		}
		switch name {
		case "DropTable", "TruncateTable", "AlterSchema", "SoftDelete":
			b := true
			if hasVal {
				var ok bool
				if b, ok = parseBool(val.val); !ok {
					return p.errorf(val, "expected true or false for %s, found %s", name, val.describe())
				}
			}
			switch name {
			case "DropTable":
				st.With.DropTable = b
			case "TruncateTable":
				st.With.TruncateTable = b
			case "AlterSchema":
				st.With.AlterSchema = b
			case "SoftDelete":
				st.With.SoftDelete = b
			}
		case "Key":
			if !hasVal {
				return p.expected("'=' and a column list after Key, as in Key='Col1,Col2'")
			}
			if !single {
				return p.errorf(t, "option Key applies to one table; write one REPLICATE statement per table")
			}
			keys, err := parseKeyList(val.val)
			if err != nil {
				return p.errorf(val, "bad Key list: %v", err)
			}
			st.With.Key = keys
		case "SourceName":
			if !hasVal {
				return p.expected("'=' and a name after SourceName, as in SourceName='prod'")
			}
			if utf8.RuneCountInString(val.val) > maxSourceNameLen || strings.ContainsRune(val.val, 0) {
				return p.errorf(val, "SourceName must be at most %d characters without NUL", maxSourceNameLen)
			}
			st.With.SourceName, st.With.HasSourceName = val.val, true
		}
		if !p.peek().punct(',') {
			return nil
		}
		p.take()
	}
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "1", "yes", "on":
		return true, true
	case "false", "0", "no", "off":
		return false, true
	}
	return false, false
}

// parseKeyList parses the column list of Key='A, "B c", [D]'.
func parseKeyList(s string) ([]string, error) {
	lexed := sqltext.Lex(s)
	if err := checkClosed(lexed); err != nil {
		return nil, fmt.Errorf("%s", err.(*SyntaxError).Msg)
	}
	toks := withEOF(s, lexed)
	var keys []string
	for i := 0; ; i++ {
		t := toks[i]
		if !t.isName() {
			return nil, fmt.Errorf("expected a column name, found %s", t.describe())
		}
		keys = append(keys, t.val)
		i++
		if toks[i].kind == tEOF {
			return keys, nil
		}
		if !toks[i].punct(',') {
			return nil, fmt.Errorf("expected ',' between column names, found %s", toks[i].describe())
		}
	}
}

// withEOF returns the parser's tokens of src, comments left out, ending
// with a tEOF token.
func withEOF(src string, lexed []sqltext.Token) []token {
	var sig []sqltext.Token
	for _, t := range lexed {
		if t.Kind != sqltext.Comment {
			sig = append(sig, t)
		}
	}
	return append(tokens(sig), token{kind: tEOF, Pos: sqltext.Position(src, len(src)), end: len(src)})
}

// simpleSourceTable returns the table a simple query reads — SELECT ... FROM
// <table> [alias] [WHERE/ORDER BY/LIMIT ...] — so its key can be discovered.
// ok is false for anything else (joins, unions, grouping, CTEs...), where the
// result's key is not the table's.
func simpleSourceTable(query string) (Name, bool) {
	lexed := sqltext.Lex(query)
	toks := withEOF(query, lexed)
	if checkClosed(lexed) != nil || len(toks) < 4 || !toks[0].is("SELECT") {
		return Name{}, false
	}
	depth, from := 0, -1
	for i, t := range toks {
		switch {
		case t.punct('('):
			depth++
		case t.punct(')'):
			depth--
		case depth != 0:
		case t.is("UNION") || t.is("INTERSECT") || t.is("EXCEPT") || t.is("GROUP") || t.is("JOIN") ||
			t.is("WINDOW") || t.is("HAVING"):
			return Name{}, false
		case t.is("FROM") && from < 0:
			from = i
		case t.punct(',') && from >= 0:
			return Name{}, false
		}
	}
	if from < 0 || !toks[from+1].isName() {
		return Name{}, false
	}
	n := Name{Table: toks[from+1].val}
	j := from + 2
	if toks[j].punct('.') && toks[j+1].isName() {
		n = Name{Schema: n.Table, Table: toks[j+1].val}
		j += 2
	}
	if toks[j].punct('(') { // a table-valued function
		return Name{}, false
	}
	return n, true
}
