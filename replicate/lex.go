package replicate

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind classifies a token of a REPLICATE script.
type tokKind int

const (
	tEOF    tokKind = iota
	tIdent          // bare identifier or keyword
	tQuoted         // quoted identifier: "x", [x] or `x`
	tString         // 'string' (or a $tag$ dollar-quoted string)
	tNumber         // numeric literal
	tPunct          // any other single character: ( ) , . = ; * ...
)

// token is one lexical unit. val is the identifier or string value with quotes
// removed and escapes resolved; pos and end are byte offsets into the script.
type token struct {
	kind     tokKind
	val      string
	pos, end int
}

// is reports whether t is the bare keyword kw (case-insensitive). Quoted
// identifiers are never keywords.
func (t token) is(kw string) bool { return t.kind == tIdent && strings.EqualFold(t.val, kw) }

// punct reports whether t is the single character c.
func (t token) punct(c byte) bool { return t.kind == tPunct && t.val[0] == c }

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
		return fmt.Sprintf("%q", t.val)
	default:
		return fmt.Sprintf("%q", t.val)
	}
}

func quoteForMsg(s string, q byte) string {
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return string(q) + s + string(q)
}

// lexer splits a script into tokens, skipping whitespace and comments.
type lexer struct {
	src string
	pos int
}

// lexAll tokenizes the whole script. The last token is tEOF at len(src).
func lexAll(src string) ([]token, error) {
	lx := &lexer{src: src}
	var toks []token
	for {
		t, err := lx.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.kind == tEOF {
			return toks, nil
		}
	}
}

func (lx *lexer) errAt(pos int, format string, args ...any) error {
	line, col := lineCol(lx.src, pos)
	return &SyntaxError{Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

func (lx *lexer) next() (token, error) {
	src := lx.src
	for lx.pos < len(src) {
		c := src[lx.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			lx.pos++
		case c == '-' && strings.HasPrefix(src[lx.pos:], "--"):
			if i := strings.IndexByte(src[lx.pos:], '\n'); i >= 0 {
				lx.pos += i + 1
			} else {
				lx.pos = len(src)
			}
		case c == '/' && strings.HasPrefix(src[lx.pos:], "/*"):
			i := strings.Index(src[lx.pos+2:], "*/")
			if i < 0 {
				return token{}, lx.errAt(lx.pos, "unterminated /* comment")
			}
			lx.pos += 2 + i + 2
		default:
			r, _ := utf8.DecodeRuneInString(src[lx.pos:])
			if unicode.IsSpace(r) {
				lx.pos += utf8.RuneLen(r)
				continue
			}
			return lx.scan()
		}
	}
	return token{kind: tEOF, pos: len(src), end: len(src)}, nil
}

func (lx *lexer) scan() (token, error) {
	src, start := lx.src, lx.pos
	c := src[start]
	switch {
	case c == '\'':
		return lx.quoted(tString, '\'', '\'')
	case c == '"':
		return lx.quoted(tQuoted, '"', '"')
	case c == '`':
		return lx.quoted(tQuoted, '`', '`')
	case c == '[':
		return lx.quoted(tQuoted, '[', ']')
	case c == '$':
		if t, ok, err := lx.dollar(); ok || err != nil {
			return t, err
		}
	case c >= '0' && c <= '9':
		i := start
		for i < len(src) && (isIdentByte(src[i]) || src[i] == '.') {
			i++
		}
		lx.pos = i
		return token{kind: tNumber, val: src[start:i], pos: start, end: i}, nil
	case isIdentStart(src[start:]):
		i := start
		for i < len(src) {
			r, n := utf8.DecodeRuneInString(src[i:])
			if !(r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)) {
				break
			}
			i += n
		}
		lx.pos = i
		return token{kind: tIdent, val: src[start:i], pos: start, end: i}, nil
	}
	_, n := utf8.DecodeRuneInString(src[start:])
	lx.pos += n
	return token{kind: tPunct, val: src[start : start+n], pos: start, end: start + n}, nil
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func isIdentStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return r == '_' || unicode.IsLetter(r)
}

// quoted scans a quoted token whose closing quote is doubled to escape it.
func (lx *lexer) quoted(kind tokKind, open, closing byte) (token, error) {
	src, start := lx.src, lx.pos
	var b strings.Builder
	i := start + 1
	for {
		j := strings.IndexByte(src[i:], closing)
		if j < 0 {
			what := "string"
			if kind == tQuoted {
				what = "quoted identifier"
			}
			return token{}, lx.errAt(start, "unterminated %s (missing %c)", what, closing)
		}
		b.WriteString(src[i : i+j])
		i += j + 1
		if i < len(src) && src[i] == closing {
			b.WriteByte(closing)
			i++
			continue
		}
		break
	}
	_ = open
	lx.pos = i
	return token{kind: kind, val: b.String(), pos: start, end: i}, nil
}

// dollar scans a PostgreSQL dollar-quoted string ($$...$$ or $tag$...$tag$),
// so a ';' inside one does not end a statement. ok is false when the '$' does
// not start one (a parameter such as $1).
func (lx *lexer) dollar() (token, bool, error) {
	src, start := lx.src, lx.pos
	i := start + 1
	for i < len(src) && (src[i] == '_' || src[i] >= 'a' && src[i] <= 'z' || src[i] >= 'A' && src[i] <= 'Z' || i > start+1 && src[i] >= '0' && src[i] <= '9') {
		i++
	}
	if i >= len(src) || src[i] != '$' {
		return token{}, false, nil
	}
	tag := src[start : i+1]
	j := strings.Index(src[i+1:], tag)
	if j < 0 {
		return token{}, true, lx.errAt(start, "unterminated dollar-quoted string (missing %s)", tag)
	}
	end := i + 1 + j + len(tag)
	lx.pos = end
	return token{kind: tString, val: src[i+1 : i+1+j], pos: start, end: end}, true, nil
}

// lineCol converts a byte offset into a 1-based line and column (in characters).
func lineCol(src string, pos int) (line, col int) {
	if pos > len(src) {
		pos = len(src)
	}
	line = 1 + strings.Count(src[:pos], "\n")
	lineStart := strings.LastIndexByte(src[:pos], '\n') + 1
	col = 1 + utf8.RuneCountInString(src[lineStart:pos])
	return line, col
}
