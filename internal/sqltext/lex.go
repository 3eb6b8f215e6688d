// Package sqltext is planner's one SQL lexer: it splits scripts into
// statements, classifies them and finds UPDATE and DELETE statements that
// would change every row. The shell, 'planner query', 'planner replicate',
// job scripts, the REPLICATE parser and the driver's statement rewriting all
// read SQL through it, so quotes, comments and semicolons mean the same
// thing everywhere.
//
// Tokens come from the tokenizer of github.com/xwb1989/sqlparser (a MySQL
// lexer), extended where SQLite's lexical rules differ
// (https://www.sqlite.org/lang_keywords.html, tokenize.c):
//
//   - 'strings' and "identifiers" have no backslash escapes; a quote is
//     escaped by doubling it;
//   - "x" is a quoted identifier, not a string; [x] is a quoted identifier
//     and may hold any character but ']', ';' included;
//   - ?, ?NNN, :name, @name, $name and #name are parameters ('#' starts no
//     comment, and '//' and '/*!' are not MySQL comments);
//   - || is concatenation, not OR, and && is not AND;
//   - identifiers may hold '$' and any non-ASCII character;
//   - x'0A' is a blob literal, b'01' is not a bit literal;
//   - an unterminated /* comment runs to the end of the text;
//   - form feed and vertical tab are white space, and so is a byte order
//     mark (U+FEFF) where a token could start.
//
// Only the tokenizer is used: sqlparser's parser reads MySQL's grammar
// (|| as OR, "x" as a string, no CTEs or window functions), so it never
// judges, rewrites or rejects a statement here; SQLite does.
//
// The lexer never rejects input: text SQLite has no token for becomes an
// Illegal token, and a string, quoted identifier or comment that is never
// closed runs to the end of the text and is marked Unterminated. SQLite
// judges what statements mean; this package only says where they start and
// end and what kind they are.
package sqltext

import (
	"strings"
	"unicode/utf8"

	"github.com/xwb1989/sqlparser"
)

// Kind is the kind of a token.
type Kind uint8

// The token kinds.
const (
	// Word is an unquoted identifier or keyword: Tasks, SELECT.
	Word Kind = iota + 1
	// Ident is a quoted identifier: "x", [x] or `x`.
	Ident
	// String is a string literal: 'x' (or, with Options.DollarQuotes, $$x$$).
	String
	// Blob is a blob literal: x'0A1B'.
	Blob
	// Number is a numeric literal: 42, 1.5e3, .5, 0x1F, 1_000.
	Number
	// Param is a parameter: ?, ?3, :name, @name, $name, #name.
	Param
	// Op is an operator or punctuation: ; ( ) , . = == <> || -> ->> ...
	Op
	// Comment is a comment: -- to the end of the line, or /* ... */.
	Comment
	// Illegal is text SQLite has no token for (a stray '{', '^', '\'...).
	Illegal
)

var kindNames = [...]string{Word: "word", Ident: "quoted identifier", String: "string", Blob: "blob",
	Number: "number", Param: "parameter", Op: "operator", Comment: "comment", Illegal: "illegal"}

// String names the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "invalid"
}

// Pos is a position in a text.
type Pos struct {
	// Offset is the byte offset, from 0.
	Offset int
	// Line is the line, from 1.
	Line int
	// Column is the column in characters (runes), from 1.
	Column int
}

// Token is one token of a text.
type Token struct {
	// Kind is the token's kind.
	Kind Kind
	// Text is the token exactly as written, quotes included. A '--'
	// comment's text does not include the end of line.
	Text string
	// Pos is where the token starts.
	Pos Pos
	// End is the byte offset just past the token.
	End int
	// Unterminated reports a string, quoted identifier, blob or /* comment
	// that is not closed before the end of the text.
	Unterminated bool
}

// Is reports whether t is the unquoted word w, ignoring case. A quoted
// identifier is never a keyword.
func (t Token) Is(w string) bool { return t.Kind == Word && strings.EqualFold(t.Text, w) }

// IsOp reports whether t is the operator or punctuation op.
func (t Token) IsOp(op string) bool { return t.Kind == Op && t.Text == op }

// IsName reports whether t can name something: a word or a quoted identifier.
func (t Token) IsName() bool { return t.Kind == Word || t.Kind == Ident }

// Value returns what t stands for: a quoted identifier's name or a string's
// content without the quotes and with doubled quotes undoubled; for other
// kinds, the text as written.
func (t Token) Value() string {
	s := t.Text
	switch t.Kind {
	case Ident, String:
	default:
		return s
	}
	if s == "" {
		return s
	}
	open := s[0]
	if open == '$' { // dollar-quoted string
		tag := s[:strings.IndexByte(s[1:], '$')+2]
		s = strings.TrimPrefix(s, tag)
		if !t.Unterminated {
			s = strings.TrimSuffix(s, tag)
		}
		return s
	}
	closing := open
	if open == '[' {
		closing = ']'
	}
	s = s[1:]
	if !t.Unterminated && len(s) > 0 {
		s = s[:len(s)-1]
	}
	if open == '[' {
		return s
	}
	q := string(closing)
	return strings.ReplaceAll(s, q+q, q)
}

// Options adjust the lexer. The zero value lexes SQLite's SQL.
type Options struct {
	// DollarQuotes reads PostgreSQL's dollar-quoted strings ($$...$$ and
	// $tag$...$tag$) as strings, for scripts whose queries may go to a
	// PostgreSQL source. SQLite reads $name as a parameter.
	DollarQuotes bool
}

// Lex returns the tokens of src, comments included, with SQLite's rules.
func Lex(src string) []Token { return Options{}.Lex(src) }

// Lex returns the tokens of src, comments included.
func (o Options) Lex(src string) []Token {
	l := newLexer(src, o)
	var toks []Token
	for {
		t, ok := l.next()
		if !ok {
			return toks
		}
		toks = append(toks, t)
	}
}

// lexer produces tokens one at a time. It hands the text to sqlparser's
// tokenizer and takes over where SQLite's rules differ (see the package
// comment), restarting the tokenizer after each token it scanned itself.
type lexer struct {
	src  string
	opts Options
	pos  int // where the next token's search starts
	// ownOnly scans every token with the lexer's own SQLite rules (tests
	// compare the two).
	ownOnly bool

	tk     *sqlparser.Tokenizer
	tkBase int // offset of the text the tokenizer reads
	tkAt   int // offset of the tokenizer's look-ahead character

	// The position of offset at, kept to number lines and columns.
	at, line, col int
}

func newLexer(src string, o Options) *lexer {
	return &lexer{src: src, opts: o, line: 1, col: 1, tkAt: -1}
}

// position returns the Pos of offset off (never before the previous one).
func (l *lexer) position(off int) Pos {
	for l.at < off {
		r, n := utf8.DecodeRuneInString(l.src[l.at:])
		if r == '\n' {
			l.line, l.col = l.line+1, 1
		} else {
			l.col++
		}
		l.at += n
	}
	return Pos{Offset: off, Line: l.line, Column: l.col}
}

// isSpace reports SQLite's white space.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// bom is the byte order mark U+FEFF in UTF-8. Where a token could start,
// SQLite's tokenizer reads it as white space (CC_BOM in tokenize.c), so a
// script saved with one (as Windows editors do) means what it says; inside
// an identifier it is an identifier character, like any non-ASCII one.
const bom = "\xef\xbb\xbf"

// isParserBlank reports the white space sqlparser's tokenizer skips.
func isParserBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isIDStart reports a byte that starts an SQLite identifier.
func isIDStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// isIDChar reports a byte that continues an SQLite identifier.
func isIDChar(c byte) bool { return isIDStart(c) || c == '$' || c >= '0' && c <= '9' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// next returns the next token; ok is false at the end of the text.
func (l *lexer) next() (Token, bool) {
	src := l.src
	start := l.pos
	for start < len(src) {
		if isSpace(src[start]) {
			start++
		} else if strings.HasPrefix(src[start:], bom) {
			start += len(bom)
		} else {
			break
		}
	}
	if start >= len(src) {
		l.pos = start
		return Token{}, false
	}
	var t Token
	if l.ownOnly || l.sqliteOnly(start) {
		t = l.own(start)
	} else {
		var ok bool
		if t, ok = l.parserToken(start); !ok {
			t = l.own(start)
		}
	}
	t.Pos = l.position(start)
	t.Text = src[start:t.End]
	l.pos = t.End
	return t, true
}

// sqliteOnly reports whether the token at start follows a rule of SQLite's
// that sqlparser's tokenizer does not know, so the lexer scans it itself.
func (l *lexer) sqliteOnly(start int) bool {
	src := l.src
	c := src[start]
	var c1, c2 byte
	if start+1 < len(src) {
		c1 = src[start+1]
	}
	if start+2 < len(src) {
		c2 = src[start+2]
	}
	switch {
	case c == '[', c == '?', c == '$', c == '@', c == ':', c == '#': // [identifier], parameters
		return true
	case c == '|', c == '&', c == '^', c == '!' && c1 != '=': // ||, &&; no ^ or ! in SQLite
		return true
	case c == '/' && (c1 == '/' || c1 == '*' && c2 == '!'): // no // or /*! comments
		return true
	case c == '=' && c1 == '=', c == '<' && c1 == '=' && c2 == '>': // == is one operator; no <=>
		return true
	case (c == 'b' || c == 'B') && c1 == '\'': // no bit literals
		return true
	case c == 0 || c >= 0x80: // NUL ends a tokenizer's input; non-ASCII identifiers
		return true
	}
	return false
}

// parserToken scans the token at start with sqlparser's tokenizer. ok is
// false when the tokenizer's reading of it differs from SQLite's; the caller
// then scans it itself.
func (l *lexer) parserToken(start int) (Token, bool) {
	src := l.src
	if l.tk == nil || l.tkAt > start || !onlyParserBlanks(src[max(l.tkAt, 0):start]) {
		l.tk = sqlparser.NewTokenizer(strings.NewReader(src[start:]))
		l.tkBase, l.tkAt = start, start
	}
	typ, _ := l.tk.Scan()
	end := l.tkBase + l.tk.Position - 1
	l.tkAt = end
	if typ == sqlparser.LEX_ERROR || end <= start || end > len(src) {
		l.tk = nil
		return Token{}, false
	}
	text := src[start:end]
	t := Token{End: end}
	switch c := src[start]; {
	case typ == sqlparser.COMMENT:
		t.Kind = Comment
		if text[0] == '-' { // the tokenizer takes the end of line into the comment
			t.End = start + len(strings.TrimRight(text, "\r\n"))
		}
	case typ == sqlparser.STRING:
		if strings.IndexByte(text, '\\') >= 0 { // MySQL escapes; SQLite has none
			l.tk = nil
			return Token{}, false
		}
		t.Kind = String
		if c == '"' {
			t.Kind = Ident
		}
	case typ == sqlparser.HEX:
		t.Kind = Blob
	case c == '`':
		t.Kind = Ident
	case isDigit(c) || c == '.' && len(text) > 1:
		// MySQL's numbers differ at the edges: 0x with no digits, a
		// letter right after, '_' separators.
		if n := number(src, start); n.Kind != Number || n.End != end {
			l.tk = nil
			return Token{}, false
		}
		t.Kind = Number
	case isIDStart(c):
		// sqlparser reads '@' as a letter and stops at '$' and non-ASCII
		// characters, which SQLite identifiers may hold.
		if strings.IndexByte(text, '@') >= 0 || end < len(src) && (src[end] == '$' || src[end] >= 0x80) {
			l.tk = nil
			return Token{}, false
		}
		t.Kind = Word
	default:
		t.Kind = Op
	}
	return t, true
}

func onlyParserBlanks(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isParserBlank(s[i]) {
			return false
		}
	}
	return true
}

// own scans the token at start with SQLite's rules (tokenize.c).
func (l *lexer) own(start int) Token {
	src := l.src
	c := src[start]
	at := func(i int) byte {
		if i < len(src) {
			return src[i]
		}
		return 0
	}
	switch {
	case c == '-' && at(start+1) == '-':
		end := strings.IndexByte(src[start:], '\n')
		if end < 0 {
			end = len(src) - start
		}
		return Token{Kind: Comment, End: start + len(strings.TrimRight(src[start:start+end], "\r"))}
	case c == '/' && at(start+1) == '*':
		end := strings.Index(src[start+2:], "*/")
		if end < 0 {
			return Token{Kind: Comment, End: len(src), Unterminated: true}
		}
		return Token{Kind: Comment, End: start + 2 + end + 2}
	case c == '\'':
		return quoted(src, start, String, '\'')
	case c == '"':
		return quoted(src, start, Ident, '"')
	case c == '`':
		return quoted(src, start, Ident, '`')
	case c == '[':
		end := strings.IndexByte(src[start:], ']')
		if end < 0 {
			return Token{Kind: Ident, End: len(src), Unterminated: true}
		}
		return Token{Kind: Ident, End: start + end + 1}
	case (c == 'x' || c == 'X') && at(start+1) == '\'':
		end := strings.IndexByte(src[start+2:], '\'')
		if end < 0 {
			return Token{Kind: Blob, End: len(src), Unterminated: true}
		}
		return Token{Kind: Blob, End: start + 2 + end + 1}
	case isDigit(c) || c == '.' && isDigit(at(start+1)):
		return number(src, start)
	case c == '?':
		i := start + 1
		for i < len(src) && isDigit(src[i]) {
			i++
		}
		return Token{Kind: Param, End: i}
	case c == '$' && l.opts.DollarQuotes:
		if t, ok := dollarQuoted(src, start); ok {
			return t
		}
		return variable(src, start)
	case c == '$' || c == '@' || c == ':' || c == '#':
		return variable(src, start)
	case isIDStart(c):
		i := start + 1
		for i < len(src) && isIDChar(src[i]) {
			i++
		}
		return Token{Kind: Word, End: i}
	}
	for _, op := range []string{"->>", "||", "==", "<=", ">=", "<>", "!=", "<<", ">>", "->"} {
		if strings.HasPrefix(src[start:], op) {
			return Token{Kind: Op, End: start + len(op)}
		}
	}
	if strings.IndexByte(";(),.=<>+-*/%&|~", c) >= 0 {
		return Token{Kind: Op, End: start + 1}
	}
	return Token{Kind: Illegal, End: start + 1}
}

// quoted scans a string or quoted identifier whose quote is escaped by
// doubling it.
func quoted(src string, start int, kind Kind, q byte) Token {
	i := start + 1
	for {
		j := strings.IndexByte(src[i:], q)
		if j < 0 {
			return Token{Kind: kind, End: len(src), Unterminated: true}
		}
		i += j + 1
		if i < len(src) && src[i] == q {
			i++
			continue
		}
		return Token{Kind: kind, End: i}
	}
}

// number scans a numeric literal: digits (with '_' separators), a
// fraction, an exponent, or 0x hex digits. Identifier characters right
// after it make the whole an Illegal token, as in SQLite.
func number(src string, start int) Token {
	i := start
	digits := func(ok func(byte) bool) {
		for i < len(src) && (ok(src[i]) || src[i] == '_' && i+1 < len(src) && ok(src[i+1]) && i > start) {
			i++
		}
	}
	if src[i] == '0' && i+2 < len(src) && (src[i+1] == 'x' || src[i+1] == 'X') && isHex(src[i+2]) {
		i += 2
		digits(isHex)
	} else {
		digits(isDigit)
		if i < len(src) && src[i] == '.' {
			i++
			digits(isDigit)
		}
		if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
			j := i + 1
			if j < len(src) && (src[j] == '+' || src[j] == '-') {
				j++
			}
			if j < len(src) && isDigit(src[j]) {
				i = j
				digits(isDigit)
			}
		}
	}
	kind := Number
	for i < len(src) && isIDChar(src[i]) {
		kind = Illegal
		i++
	}
	return Token{Kind: kind, End: i}
}

// variable scans $name, @name, :name or #name (with Tcl's :: and (...)
// forms, which SQLite accepts). A sigil with no name is Illegal.
func variable(src string, start int) Token {
	i, n := start+1, 0
	for i < len(src) {
		c := src[i]
		switch {
		case isIDChar(c):
			n++
			i++
			continue
		case c == '(' && n > 0:
			j := i + 1
			for j < len(src) && !isSpace(src[j]) && src[j] != ')' {
				j++
			}
			if j < len(src) && src[j] == ')' {
				return Token{Kind: Param, End: j + 1}
			}
			return Token{Kind: Illegal, End: j}
		case c == ':' && i+1 < len(src) && src[i+1] == ':':
			i += 2
			continue
		}
		break
	}
	if n == 0 {
		return Token{Kind: Illegal, End: i}
	}
	return Token{Kind: Param, End: i}
}

// dollarQuoted scans a PostgreSQL dollar-quoted string: $$...$$ or
// $tag$...$tag$. ok is false when the '$' starts none.
func dollarQuoted(src string, start int) (Token, bool) {
	i := start + 1
	for i < len(src) && (src[i] == '_' || src[i] >= 'a' && src[i] <= 'z' || src[i] >= 'A' && src[i] <= 'Z' ||
		i > start+1 && isDigit(src[i])) {
		i++
	}
	if i >= len(src) || src[i] != '$' {
		return Token{}, false
	}
	tag := src[start : i+1]
	j := strings.Index(src[i+1:], tag)
	if j < 0 {
		return Token{Kind: String, End: len(src), Unterminated: true}, true
	}
	return Token{Kind: String, End: i + 1 + j + len(tag)}, true
}

// Position returns the position of byte offset off in src (clamped to the
// text), for errors about a place no token starts at, such as its end.
func Position(src string, off int) Pos {
	off = max(0, min(off, len(src)))
	l := newLexer(src, Options{})
	return l.position(off)
}
