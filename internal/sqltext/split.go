package sqltext

import "strings"

// Class is what a statement does, as far as the CLI needs to know.
type Class uint8

// The statement classes.
const (
	// Other is any statement not listed below (CREATE, PRAGMA, BEGIN, ...).
	Other Class = iota
	// Query reads rows: SELECT, VALUES, WITH ... SELECT, EXPLAIN.
	Query
	// Insert adds rows: INSERT, REPLACE, WITH ... INSERT.
	Insert
	// Update changes rows: UPDATE, WITH ... UPDATE.
	Update
	// Delete removes rows: DELETE, WITH ... DELETE.
	Delete
	// Show is SHOW TABLES or SHOW COLUMNS.
	Show
	// Describe is DESCRIBE or DESC.
	Describe
	// Replicate is a REPLICATE statement.
	Replicate
	// Meta is a shell meta-command: a line starting with '.', or exit, quit
	// or help alone on a line (see MetaLine).
	Meta
)

var classNames = [...]string{Other: "OTHER", Query: "QUERY", Insert: "INSERT", Update: "UPDATE", Delete: "DELETE",
	Show: "SHOW", Describe: "DESCRIBE", Replicate: "REPLICATE", Meta: "META"}

// String names the class.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "INVALID"
}

// Statement is one statement of a script.
type Statement struct {
	// Text is the statement from its first token to its last, comments
	// between them included, without the terminating ';'.
	Text string
	// Pos is where the statement's first token starts.
	Pos Pos
	// End is the byte offset just past the statement's last token.
	End int
	// Next is the byte offset where the text after the statement starts:
	// just past its ';', or the end of the script.
	Next int
	// Tokens are the statement's tokens without comments and without the
	// terminating ';'.
	Tokens []Token
	// Terminated reports whether a ';' ended the statement; only the last
	// statement of a script can lack one.
	Terminated bool
	// Class is what the statement does.
	Class Class
}

// Open reports whether the statement ends inside a string or a quoted
// identifier that is never closed, so it cannot be complete.
func (s Statement) Open() (Token, bool) {
	if n := len(s.Tokens); n > 0 && s.Tokens[n-1].Unterminated {
		return s.Tokens[n-1], true
	}
	return Token{}, false
}

// Split splits a script into statements with SQLite's rules. Statements
// end with ';' outside strings, quoted identifiers, comments and the body
// of CREATE TRIGGER ... BEGIN ... END. The last statement is returned even
// when no ';' ends it (Terminated is then false). Statements holding
// nothing but comments are left out.
func Split(src string) []Statement { return Options{}.Split(src) }

// Split splits a script into statements (see Split).
func (o Options) Split(src string) []Statement {
	var out []Statement
	var cur []Token // the current statement's tokens, comments included
	end := endState(stStart)
	flush := func(next int, terminated bool) {
		var sig []Token
		for _, t := range cur {
			if t.Kind != Comment {
				sig = append(sig, t)
			}
		}
		cur = cur[:0]
		end = stStart
		if len(sig) == 0 {
			return
		}
		first, last := sig[0], sig[len(sig)-1]
		out = append(out, Statement{
			Text: src[first.Pos.Offset:last.End], Pos: first.Pos, End: last.End, Next: next,
			Tokens: sig, Terminated: terminated, Class: classify(sig),
		})
	}
	l := newLexer(src, o)
	for {
		t, ok := l.next()
		if !ok {
			break
		}
		if t.Kind != Comment && end.next(t) {
			flush(t.End, true)
			continue
		}
		cur = append(cur, t)
	}
	flush(len(src), false)
	return out
}

// endState is sqlite3_complete()'s automaton (complete.c), which the
// sqlite3 shell uses to find where statements end: a ';' ends one, except
// in CREATE TRIGGER ... BEGIN ... END, where the ';' of the body's
// statements do not, and the statement ends at "; END ;". EXPLAIN, CREATE,
// TEMP (or TEMPORARY), TRIGGER and END are words there; anything else but
// ';' is another token (white space and comments change nothing).
type endState uint8

// The states, as complete.c numbers them.
const (
	stStart   endState = 1 // at the start of a statement
	stNormal  endState = 2 // in a statement that is not CREATE TRIGGER
	stExplain endState = 3 // after EXPLAIN (and other words) at the start
	stCreate  endState = 4 // after [EXPLAIN ...] CREATE [TEMP]
	stTrigger endState = 5 // in a CREATE TRIGGER statement
	stSemi    endState = 6 // after a ';' in a CREATE TRIGGER statement
	stEnd     endState = 7 // after "; END" in a CREATE TRIGGER statement
)

// The tokens of the automaton.
const (
	tkSemi = iota
	tkOther
	tkExplain
	tkCreate
	tkTemp
	tkTrigger
	tkEnd
)

// endTrans is complete.c's trans[][] without its white space column.
var endTrans = [8][7]endState{
	//          ;  other      EXPLAIN    CREATE    TEMP      TRIGGER    END
	stStart:   {stStart, stNormal, stExplain, stCreate, stNormal, stNormal, stNormal},
	stNormal:  {stStart, stNormal, stNormal, stNormal, stNormal, stNormal, stNormal},
	stExplain: {stStart, stExplain, stNormal, stCreate, stNormal, stNormal, stNormal},
	stCreate:  {stStart, stNormal, stNormal, stNormal, stCreate, stTrigger, stNormal},
	stTrigger: {stSemi, stTrigger, stTrigger, stTrigger, stTrigger, stTrigger, stTrigger},
	stSemi:    {stSemi, stTrigger, stTrigger, stTrigger, stTrigger, stTrigger, stEnd},
	stEnd:     {stStart, stTrigger, stTrigger, stTrigger, stTrigger, stTrigger, stTrigger},
}

// next moves the automaton over significant token t and reports whether t
// is a ';' that ends the statement.
func (s *endState) next(t Token) bool {
	tk := tkOther
	switch {
	case t.IsOp(";"):
		tk = tkSemi
	case t.Is("EXPLAIN"):
		tk = tkExplain
	case t.Is("CREATE"):
		tk = tkCreate
	case t.Is("TEMP"), t.Is("TEMPORARY"):
		tk = tkTemp
	case t.Is("TRIGGER"):
		tk = tkTrigger
	case t.Is("END"):
		tk = tkEnd
	}
	*s = endTrans[*s][tk]
	return tk == tkSemi && *s == stStart
}

// Blank reports whether src holds nothing but white space and closed
// comments. A /* comment still open is not blank: more text may close it.
func Blank(src string) bool {
	l := newLexer(src, Options{})
	for {
		t, ok := l.next()
		if !ok {
			return true
		}
		if t.Kind != Comment || t.Unterminated {
			return false
		}
	}
}

// Classify returns the class of the statement text (which may be a
// meta-command line).
func Classify(text string) Class {
	if _, ok := MetaLine(text); ok {
		return Meta
	}
	var sig []Token
	for _, t := range Lex(text) {
		if t.Kind != Comment {
			sig = append(sig, t)
		}
	}
	return classify(sig)
}

// MetaLine reports whether line is a shell meta-command: a line whose first
// character (after white space and a byte order mark) is '.'; exit, quit or
// help alone on the line, as psql accepts them, optionally followed by ';'s
// and a comment; or one of psql's backslash commands, which no SQL
// statement starts with. cmd is the command as a dot command: ".mode csv",
// ".exit", ".quit", ".help"; psql's \q is ".quit" and \? is ".help", and
// any other backslash command is returned as written (the shell names its
// dot equivalent).
func MetaLine(line string) (cmd string, ok bool) {
	t := strings.TrimSpace(strings.TrimLeft(line, " \t\r\n\f\v\ufeff"))
	switch {
	case strings.HasPrefix(t, "."):
		return t, true
	case strings.HasPrefix(t, `\`):
		f := strings.Fields(strings.TrimRight(t, "; \t"))
		switch f[0] {
		case `\q`, `\quit`:
			return ".quit", true
		case `\?`, `\h`, `\help`:
			return ".help", true
		}
		return t, true
	}
	var sig []Token
	for _, tk := range Lex(t) {
		switch {
		case tk.Kind == Comment && tk.Unterminated:
			return "", false // the comment may go on over the next lines
		case tk.Kind != Comment:
			sig = append(sig, tk)
		}
	}
	if len(sig) == 0 || sig[0].Kind != Word {
		return "", false
	}
	for _, tk := range sig[1:] {
		if !tk.IsOp(";") {
			return "", false
		}
	}
	switch w := strings.ToLower(sig[0].Text); w {
	case "exit", "quit", "help":
		return "." + w, true
	}
	return "", false
}

// classify returns the class of a statement's significant tokens.
func classify(toks []Token) Class {
	v := verb(toks)
	if v < 0 {
		if i := skipParens(toks); i < len(toks) && toks[i].Is("WITH") {
			return Query // WITH ... with no verb yet: SQLite will say what is wrong
		}
		return Other
	}
	switch t := toks[v]; {
	case t.Is("SELECT"), t.Is("VALUES"), t.Is("EXPLAIN"):
		return Query
	case t.Is("INSERT"), t.Is("REPLACE"):
		return Insert
	case t.Is("UPDATE"):
		return Update
	case t.Is("DELETE"):
		return Delete
	case t.Is("SHOW"):
		return Show
	case t.Is("DESCRIBE"), t.Is("DESC"):
		return Describe
	case t.Is("REPLICATE"):
		return Replicate
	}
	return Other
}

// skipParens returns the index of the first token that is not '('.
func skipParens(toks []Token) int {
	i := 0
	for i < len(toks) && toks[i].IsOp("(") { // (SELECT ...)
		i++
	}
	return i
}

// verb returns the index of the statement's verb: its first token after
// any '(', or after a WITH clause the first SELECT, VALUES, INSERT,
// REPLACE, UPDATE or DELETE outside the parentheses of the common table
// expressions; -1 when there is none.
func verb(toks []Token) int {
	i := skipParens(toks)
	if i >= len(toks) {
		return -1
	}
	if !toks[i].Is("WITH") {
		return i
	}
	depth := 0
	for j := i + 1; j < len(toks); j++ {
		switch t := toks[j]; {
		case t.IsOp("("):
			depth++
		case t.IsOp(")"):
			depth--
		case depth == 0 && (t.Is("SELECT") || t.Is("VALUES") || t.Is("INSERT") || t.Is("REPLACE") ||
			t.Is("UPDATE") || t.Is("DELETE")):
			return j
		}
	}
	return -1
}

// topLevel reports whether the statement has the word w outside all
// parentheses after its verb (so not in a common table expression or a
// subquery).
func (s Statement) topLevel(w string) bool {
	v := verb(s.Tokens)
	if v < 0 {
		return false
	}
	depth := 0
	for _, t := range s.Tokens[v:] {
		switch {
		case t.IsOp("("):
			depth++
		case t.IsOp(")"):
			depth--
		case depth == 0 && t.Is(w):
			return true
		}
	}
	return false
}

// WritesEveryRow reports an UPDATE or DELETE with no WHERE clause of its
// own: one in a common table expression or a subquery does not count.
// This is the shell's safe-update guard (MySQL's --safe-updates).
func (s Statement) WritesEveryRow() bool {
	return (s.Class == Update || s.Class == Delete) && !s.topLevel("WHERE")
}

// ReturnsRows reports whether the statement is run as a query that may
// return rows rather than executed for its effect: queries, SHOW, DESCRIBE,
// PRAGMA and other statements SQLite answers with rows, and INSERT, UPDATE
// and DELETE with a RETURNING clause.
func (s Statement) ReturnsRows() bool {
	switch s.Class {
	case Query, Show, Describe:
		return true
	case Insert, Update, Delete:
		return s.topLevel("RETURNING")
	case Replicate, Meta:
		return false
	}
	if len(s.Tokens) == 0 {
		return false
	}
	switch strings.ToUpper(s.Tokens[0].Text) {
	case "CREATE", "DROP", "ALTER", "BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE",
		"ATTACH", "DETACH", "VACUUM", "REINDEX", "ANALYZE":
		return false
	}
	return true
}
