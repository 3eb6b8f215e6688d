package sqltext

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xwb1989/sqlparser"
)

// tok is a token as the tests write it: kind and text.
type tok struct {
	k Kind
	s string
}

func (t tok) String() string { return fmt.Sprintf("%v %q", t.k, t.s) }

func kinds(toks []Token) []tok {
	out := make([]tok, 0, len(toks))
	for _, t := range toks {
		out = append(out, tok{t.Kind, t.Text})
	}
	return out
}

// parserPieces returns how sqlparser's tokenizer alone cuts src: the text
// of each token, up to its first lexing error.
func parserPieces(src string) []string {
	tk := sqlparser.NewStringTokenizer(src)
	var out []string
	prev := 0
	for {
		typ, _ := tk.Scan()
		end := tk.Position - 1
		if typ == 0 {
			return out
		}
		piece := strings.TrimLeft(src[prev:min(end, len(src))], " \t\r\n")
		switch typ {
		case sqlparser.LEX_ERROR:
			return append(out, "LEX_ERROR:"+piece)
		case sqlparser.COMMENT:
			piece = "COMMENT:" + piece
		}
		out = append(out, piece)
		prev = end
	}
}

// TestSQLiteDifferences covers each rule where SQLite's lexer differs from
// sqlparser's (MySQL's): for each, what sqlparser's tokenizer alone does
// (so the extension is needed) and what this lexer does.
func TestSQLiteDifferences(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		src    string
		parser []string // sqlparser's tokenizer alone
		want   []tok
	}{
		{"[bracketed identifier] may hold ;", "[a;b]",
			[]string{"LEX_ERROR:["},
			[]tok{{Ident, "[a;b]"}}},
		{`"x" is an identifier`, `"x"`,
			[]string{`"x"`}, // a STRING token
			[]tok{{Ident, `"x"`}}},
		{"no backslash escapes in strings", `'C:\' || 'x'`,
			[]string{`'C:\' || '`, "LEX_ERROR:x'"},
			[]tok{{String, `'C:\'`}, {Op, "||"}, {String, "'x'"}}},
		{"no backslash escapes in identifiers", `"a\" = 1`,
			[]string{"LEX_ERROR:\"a\\\" = 1"},
			[]tok{{Ident, `"a\"`}, {Op, "="}, {Number, "1"}}},
		{"|| is concatenation", "a||b",
			[]string{"a", "||", "b"}, // sqlparser: OR
			[]tok{{Word, "a"}, {Op, "||"}, {Word, "b"}}},
		{"&& is not AND", "a&&b",
			[]string{"a", "&&", "b"},
			[]tok{{Word, "a"}, {Op, "&"}, {Op, "&"}, {Word, "b"}}},
		{"# starts no comment", "#x;\nSELECT 1",
			[]string{"COMMENT:#x;\n", "SELECT", "1"},
			[]tok{{Param, "#x"}, {Op, ";"}, {Word, "SELECT"}, {Number, "1"}}},
		{"// starts no comment", "4 // 2; SELECT 1",
			[]string{"4", "COMMENT:// 2; SELECT 1"},
			[]tok{{Number, "4"}, {Op, "/"}, {Op, "/"}, {Number, "2"}, {Op, ";"}, {Word, "SELECT"}, {Number, "1"}}},
		{"/*! is an ordinary comment", "/*! SELECT */ 1",
			[]string{"/*! SELECT */", "1"}, // the SELECT inside, as a keyword, not a comment
			[]tok{{Comment, "/*! SELECT */"}, {Number, "1"}}},
		{"$name parameter", "$a::b(c) $x",
			[]string{"LEX_ERROR:$"},
			[]tok{{Param, "$a::b(c)"}, {Param, "$x"}}},
		{"@name parameter", "a@b",
			[]string{"a@b"},
			[]tok{{Word, "a"}, {Param, "@b"}}},
		{"?NNN parameter", "?12 ?",
			[]string{"?", "12", "?"},
			[]tok{{Param, "?12"}, {Param, "?"}}},
		{":name parameter", ":a.b",
			[]string{":a.b"},
			[]tok{{Param, ":a"}, {Op, "."}, {Word, "b"}}},
		{"a sigil alone is illegal", "$ :",
			[]string{"LEX_ERROR:$"},
			[]tok{{Illegal, "$"}, {Illegal, ":"}}},
		{"non-ASCII identifiers", "Tâches_été",
			[]string{"T", "LEX_ERROR:\xc3"},
			[]tok{{Word, "Tâches_été"}}},
		{"$ inside identifiers", "a$b",
			[]string{"a", "LEX_ERROR:$"},
			[]tok{{Word, "a$b"}}},
		{"blob literal", "x'0a1B' X'abc'",
			[]string{"x'0a1B'", "LEX_ERROR:X'abc'"},
			[]tok{{Blob, "x'0a1B'"}, {Blob, "X'abc'"}}},
		{"no bit literal", "b'01'",
			[]string{"b'01'"},
			[]tok{{Word, "b"}, {String, "'01'"}}},
		{"unterminated /* comment runs to the end", "1 /* open",
			[]string{"1", "LEX_ERROR:/* open"},
			[]tok{{Number, "1"}, {Comment, "/* open"}}},
		{"form feed and vertical tab are space", "1\f\v2",
			[]string{"1", "LEX_ERROR:\f"},
			[]tok{{Number, "1"}, {Number, "2"}}},
		{"== is one operator", "a==b",
			[]string{"a", "=", "=", "b"},
			[]tok{{Word, "a"}, {Op, "=="}, {Word, "b"}}},
		{"no <=> operator", "a<=>b",
			[]string{"a", "<=>", "b"},
			[]tok{{Word, "a"}, {Op, "<="}, {Op, ">"}, {Word, "b"}}},
		{"digit separators", "1_000",
			[]string{"LEX_ERROR:1"},
			[]tok{{Number, "1_000"}}},
		{"no ^ or ! operators", "a^b!c",
			[]string{"a", "^", "b", "!", "c"},
			[]tok{{Word, "a"}, {Illegal, "^"}, {Word, "b"}, {Illegal, "!"}, {Word, "c"}}},
		{"a byte order mark is space where a token starts", "\ufeffSELECT 1;\ufeff\ufeff x\ufeffy",
			[]string{"LEX_ERROR:\xef"},
			[]tok{{Word, "SELECT"}, {Number, "1"}, {Op, ";"}, {Word, "x\ufeffy"}}},
		{"empty quoted identifiers", "``",
			[]string{"LEX_ERROR:``"},
			[]tok{{Ident, "``"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.parser, parserPieces(tt.src)); diff != "" {
				t.Errorf("sqlparser's tokenizer on %q changed (-want +got):\n%s", tt.src, diff)
			}
			if diff := cmp.Diff(tt.want, kinds(Lex(tt.src)), cmp.AllowUnexported(tok{})); diff != "" {
				t.Errorf("Lex(%q) (-want +got):\n%s", tt.src, diff)
			}
		})
	}
}

// TestLexShared covers what this lexer takes from sqlparser's tokenizer
// unchanged.
func TestLexShared(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		want []tok
	}{
		{"SELECT a.b, 'it''s', \"we\"\"ird\", `x``y` FROM t -- done\n;",
			[]tok{{Word, "SELECT"}, {Word, "a"}, {Op, "."}, {Word, "b"}, {Op, ","}, {String, "'it''s'"}, {Op, ","},
				{Ident, `"we""ird"`}, {Op, ","}, {Ident, "`x``y`"}, {Word, "FROM"}, {Word, "t"}, {Comment, "-- done"}, {Op, ";"}}},
		{"1 1.5 .5 1e3 1.5E-3 0x1F", []tok{{Number, "1"}, {Number, "1.5"}, {Number, ".5"}, {Number, "1e3"}, {Number, "1.5E-3"}, {Number, "0x1F"}}},
		{"a<>b!=c<=d>=e<<f>>g->h->>i", []tok{{Word, "a"}, {Op, "<>"}, {Word, "b"}, {Op, "!="}, {Word, "c"}, {Op, "<="}, {Word, "d"},
			{Op, ">="}, {Word, "e"}, {Op, "<<"}, {Word, "f"}, {Op, ">>"}, {Word, "g"}, {Op, "->"}, {Word, "h"}, {Op, "->>"}, {Word, "i"}}},
		{"/* a ; */ -- b ;\r\nx", []tok{{Comment, "/* a ; */"}, {Comment, "-- b ;"}, {Word, "x"}}},
		{"'open", []tok{{String, "'open"}}},
		{"1abc", []tok{{Illegal, "1abc"}}},
		{"{\\}", []tok{{Illegal, "{"}, {Illegal, "\\"}, {Illegal, "}"}}},
		{"a\x00b", []tok{{Word, "a"}, {Illegal, "\x00"}, {Word, "b"}}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, kinds(Lex(tt.src)), cmp.AllowUnexported(tok{})); diff != "" {
			t.Errorf("Lex(%q) (-want +got):\n%s", tt.src, diff)
		}
	}
}

func TestPositions(t *testing.T) {
	t.Parallel()
	src := "SELECT 'é;\n', [a]\n  FROM\tt -- c\n\f;"
	want := []Pos{{0, 1, 1}, {7, 1, 8}, {13, 2, 2}, {15, 2, 4}, {21, 3, 3}, {26, 3, 8}, {28, 3, 10}, {34, 4, 2}}
	var got []Pos
	for _, t := range Lex(src) {
		got = append(got, t.Pos)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("positions (-want +got):\n%s", diff)
	}
}

func TestValue(t *testing.T) {
	t.Parallel()
	tests := []struct{ src, want string }{
		{`"we""ird"`, `we"ird`}, {"[a;b]", "a;b"}, {"[a]]", "a"}, {"`x``y`", "x`y"}, {"'it''s'", "it's"},
		{"'open", "open"}, {"Tasks", "Tasks"}, {"?3", "?3"},
	}
	for _, tt := range tests {
		if got := Lex(tt.src)[0].Value(); got != tt.want {
			t.Errorf("Value(%q) = %q, want %q", tt.src, got, tt.want)
		}
	}
	dq := Options{DollarQuotes: true}.Lex("$tag$a;b$tag$ $$x$$ $1")
	if diff := cmp.Diff([]tok{{String, "$tag$a;b$tag$"}, {String, "$$x$$"}, {Param, "$1"}}, kinds(dq), cmp.AllowUnexported(tok{})); diff != "" {
		t.Errorf("dollar quotes (-want +got):\n%s", diff)
	}
	if dq[0].Value() != "a;b" || dq[1].Value() != "x" {
		t.Errorf("dollar-quoted values %q %q", dq[0].Value(), dq[1].Value())
	}
}

func FuzzLex(f *testing.F) {
	for _, s := range []string{"SELECT 'a;b' || \"c\" FROM [d;e] -- f\n;", "x'0a' $a::b(c) ?1 @x #y",
		"/* open", "'open", "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END;", "Tâche 1_000 1e5 0x1f", "(WITH x AS (SELECT 1) DELETE FROM t)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		prev := 0
		for _, tk := range Lex(s) {
			if tk.Pos.Offset < prev || tk.End <= tk.Pos.Offset || tk.End > len(s) || s[tk.Pos.Offset:tk.End] != tk.Text {
				t.Fatalf("Lex(%q): bad token %+v after offset %d", s, tk, prev)
			}
			if strings.Trim(strings.ReplaceAll(s[prev:tk.Pos.Offset], bom, ""), " \t\r\n\f\v") != "" {
				t.Fatalf("Lex(%q): text %q skipped before %+v", s, s[prev:tk.Pos.Offset], tk)
			}
			line := 1 + strings.Count(s[:tk.Pos.Offset], "\n")
			if tk.Pos.Line != line {
				t.Fatalf("Lex(%q): %+v: line %d, want %d", s, tk, tk.Pos.Line, line)
			}
			prev = tk.End
		}
		// sqlparser's tokenizer and the lexer's own SQLite rules agree on
		// every token the lexer takes from the tokenizer.
		own := newLexer(s, Options{})
		own.ownOnly = true
		var mine []Token
		for {
			tk, ok := own.next()
			if !ok {
				break
			}
			mine = append(mine, tk)
		}
		if diff := cmp.Diff(mine, Lex(s)); diff != "" {
			t.Fatalf("Lex(%q) differs from SQLite's rules (-sqlite +lex):\n%s", s, diff)
		}
		for _, st := range Split(s) {
			if s[st.Pos.Offset:st.End] != st.Text || len(st.Tokens) == 0 {
				t.Fatalf("Split(%q): bad statement %+v", s, st)
			}
			st.WritesEveryRow()
			st.ReturnsRows()
			MetaLine(st.Text)
		}
	})
}
