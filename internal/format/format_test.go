package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plannersql/planner/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// mixed returns a result with every kind of value the encoders handle.
func mixed() *fakeRS {
	return &fakeRS{
		cols:  []string{"Id", "Name", "Score", "Done", "Meta", "Created", "Data", "Note"},
		types: []string{"INTEGER", "TEXT", "REAL", "BOOLEAN", "JSON", "DATETIME", "BLOB", "TEXT"},
		rows: [][]any{
			{int64(1), "alice", 3.5, int64(1), `{"a": 1, "b": [1, 2]}`,
				time.Date(2024, 5, 6, 10, 3, 0, 0, time.UTC), []byte("hi"), "line1\nline2"},
			{int64(2), "Bob|Pipe", 0.1, int64(0), "not json", nil, []byte{0xff, 0x00},
				"tab\there, \"quoted\""},
			{int64(-30), "日本語", 1e21, nil, nil,
				time.Date(2024, 5, 6, 10, 3, 0, 500_000_000, time.FixedZone("", 2*3600)), nil, "bell\a esc\x1b[31m"},
			{nil, nil, nil, nil, []byte("[1,  2]"), nil, nil, ""},
		},
	}
}

func empty() *fakeRS {
	return &fakeRS{cols: []string{"Id", "Name"}, types: []string{"INTEGER", "TEXT"}}
}

// golden compares got with testdata/name.golden, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func render(t *testing.T, rs ResultSet, opts Options) (string, int64) {
	t.Helper()
	var buf bytes.Buffer
	n, err := Write(&buf, rs, opts)
	if err != nil {
		t.Fatalf("Write(%+v): %v", opts, err)
	}
	return buf.String(), n
}

func TestGolden(t *testing.T) {
	dash := "-"
	null := "NULL"
	tests := []struct {
		name string
		rs   func() *fakeRS
		opts Options
	}{
		{"table", mixed, Options{}},
		{"box", mixed, Options{Mode: ModeBox}},
		{"csv", mixed, Options{Mode: ModeCSV}},
		{"tsv", mixed, Options{Mode: ModeTSV}},
		{"tsv_noheaders", mixed, Options{Mode: ModeTSV, NoHeaders: true}},
		{"json", mixed, Options{Mode: ModeJSON}},
		{"jsonl", mixed, Options{Mode: ModeJSONL}},
		{"markdown", mixed, Options{Mode: ModeMarkdown}},
		{"line", mixed, Options{Mode: ModeLine}},
		{"table_noheaders", mixed, Options{Mode: ModeTable, NoHeaders: true}},
		{"csv_noheaders", mixed, Options{Mode: ModeCSV, NoHeaders: true}},
		{"markdown_noheaders", mixed, Options{Mode: ModeMarkdown, NoHeaders: true}},
		{"box_null_maxwidth", mixed, Options{Mode: ModeBox, Null: &dash, MaxColumnWidth: 8}},
		{"csv_null", mixed, Options{Mode: ModeCSV, Null: &null}},
		{"line_null", mixed, Options{Mode: ModeLine, Null: new("(null)")}},
		{"empty_table", empty, Options{}},
		{"empty_box_noheaders", empty, Options{Mode: ModeBox, NoHeaders: true}},
		{"empty_csv", empty, Options{Mode: ModeCSV}},
		{"empty_json", empty, Options{Mode: ModeJSON}},
		{"empty_jsonl", empty, Options{Mode: ModeJSONL}},
		{"empty_markdown", empty, Options{Mode: ModeMarkdown}},
		{"empty_line", empty, Options{Mode: ModeLine}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := tt.rs()
			got, n := render(t, rs, tt.opts)
			if n != int64(len(rs.rows)) {
				t.Errorf("Write returned %d rows, want %d", n, len(rs.rows))
			}
			golden(t, tt.name, []byte(got))
		})
	}
}

func TestJSONValues(t *testing.T) {
	rs := &fakeRS{
		cols:  []string{"Id", "Id", "Flag", "Count", "Price", "Doc", "BadDoc", "When", "Blob", "Nan", "Html", "Small"},
		types: []string{"INTEGER", "TEXT", "BOOLEAN", "INTEGER", "NUMERIC(10,2)", "JSON", "JSON", "", "", "REAL", "", ""},
		rows: [][]any{{
			int64(7), "seven", int64(1), "42", []byte("12.50"), `{"x": [1, {"y": null}]}`, `{"x":`,
			time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), []byte{0, 1, 0xfe}, float64(0) / zero(),
			"<b>&</b>\u2028", 1e-7,
		}},
	}
	got, _ := render(t, rs, Options{Mode: ModeJSONL})
	want := `{"Id":7,"Id_2":"seven","Flag":1,"Count":42,"Price":12.50,"Doc":{"x":[1,{"y":null}]},` +
		`"BadDoc":"{\"x\":","When":"2024-01-02T03:04:05.0000000Z","Blob":"AAH+","Nan":"NaN",` +
		`"Html":"<b>&</b>\u2028","Small":1e-7}` + "\n"
	if got != want {
		t.Errorf("JSONL:\n got %s\nwant %s", got, want)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(got), &v); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if _, ok := v["Doc"].(map[string]any); !ok {
		t.Errorf("Doc decoded as %T, want an object", v["Doc"])
	}

	// Every row of the mixed fixture round-trips through encoding/json.
	out, _ := render(t, mixed(), Options{Mode: ModeJSON})
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("json mode output is not a JSON array: %v\n%s", err, out)
	}
	if len(rows) != 4 || rows[0]["Done"] != 1.0 || rows[1]["Done"] != 0.0 || rows[2]["Done"] != nil {
		t.Errorf("decoded rows = %v", rows)
	}
	if _, ok := rows[3]["Meta"].([]any); !ok {
		t.Errorf("JSON column given as []byte decoded as %T, want an array", rows[3]["Meta"])
	}
}

func zero() float64 { return 0 }

func TestEscaping(t *testing.T) {
	tests := []struct {
		in       string
		markdown bool
		want     string
	}{
		{"plain", false, "plain"},
		{"a\nb\r\nc\td", false, `a\nb\r\nc\td`},
		{"a\nb\r\nc", true, "a<br>b<br>c"},
		{"esc\x1b[31m bell\a del\x7f", false, `esc\x1b[31m bell\x07 del\x7f`},
		{"nel\u0085", false, `nel\u0085`},
		{"rlo\u202eevil\u202c iso\u2067x\u2069 ls\u2028", false, `rlo\u202eevil\u202c iso\u2067x\u2069 ls\u2028`},
		{"bad\xff\xfe utf8", false, `bad\xff\xfe utf8`},
		{"a|b", true, `a\|b`},
		{"a|b", false, "a|b"},
		{`back\slash`, false, `back\slash`},
		{`back\slash a\|b c\\d e\*f g\`, true, `back\slash a\\\|b c\\\d e\\*f g\`},
		{"a\\\nb", true, `a\\<br>b`},
		{"שלום עולם", false, "שלום עולם"},
		{"e\u0301 👨‍👩‍👧", false, "e\u0301 👨‍👩‍👧"},
	}
	for _, tt := range tests {
		if got := escapeText(tt.in, tt.markdown); got != tt.want {
			t.Errorf("escapeText(%q, %v) = %q, want %q", tt.in, tt.markdown, got, tt.want)
		}
	}
}

// TestTableUnicodeWidths checks that every line of a table with wide, emoji,
// combining, right-to-left and zero-width text has the same display width.
func TestTableUnicodeWidths(t *testing.T) {
	values := []struct {
		s     string
		width int
	}{
		{"abc", 3},
		{"日本語", 6},             // East Asian wide
		{"한국어", 6},             // Hangul syllables
		{"ＡＢ", 4},              // fullwidth Latin
		{"👍", 2},               // emoji
		{"👍🏽", 2},              // emoji with skin tone
		{"👨‍👩‍👧", 2},           // ZWJ sequence
		{"🇫🇷", 2},              // flag
		{"e\u0301te\u0301", 3}, // combining acute accents
		{"שלום", 4},            // Hebrew, right to left
		{"مرحبا", 5},           // Arabic, right to left
		{"a\u200bb", 2},        // zero-width space
	}
	rs := &fakeRS{cols: []string{"#", "Text"}, types: []string{"INTEGER", "TEXT"}}
	for i, v := range values {
		if got := narrowCond.StringWidth(v.s); got != v.width {
			t.Errorf("width of %q = %d, want %d", v.s, got, v.width)
		}
		rs.rows = append(rs.rows, []any{int64(i), v.s})
	}
	for _, mode := range []Mode{ModeTable, ModeBox} {
		rs.i = 0
		out, _ := render(t, rs, Options{Mode: mode})
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != len(values)+4 {
			t.Errorf("%s: %d lines, want %d", mode, len(lines), len(values)+4)
		}
		for _, l := range lines {
			if w := narrowCond.StringWidth(l); w != narrowCond.StringWidth(lines[0]) {
				t.Errorf("%s: line %q is %d cells wide, the border %d", mode, l, w, narrowCond.StringWidth(lines[0]))
			}
		}
		golden(t, "unicode_"+string(mode), []byte(out))
	}
}

func TestEastAsianWidth(t *testing.T) {
	rs := func() *fakeRS { return &fakeRS{cols: []string{"v"}, rows: [][]any{{"①②"}}} }
	narrow, _ := render(t, rs(), Options{})
	wide, _ := render(t, rs(), Options{EastAsianWidth: true})
	if want := "+----+\n| v  |\n+----+\n| ①② |\n+----+\n"; narrow != want {
		t.Errorf("narrow:\n%s\nwant\n%s", narrow, want)
	}
	if want := "+------+\n| v    |\n+------+\n| ①② |\n+------+\n"; wide != want {
		t.Errorf("East Asian:\n%s\nwant\n%s", wide, want)
	}
}

func TestNullDefaults(t *testing.T) {
	rs := func() *fakeRS {
		return &fakeRS{cols: []string{"a", "b"}, rows: [][]any{{nil, ""}}}
	}
	tests := []struct {
		opts Options
		want string
	}{
		{Options{Mode: ModeTable, NoHeaders: true}, "+------+---+\n| NULL |   |\n+------+---+\n"},
		{Options{Mode: ModeTable, NoHeaders: true, Null: new("")}, "+---+---+\n|   |   |\n+---+---+\n"},
		{Options{Mode: ModeCSV, NoHeaders: true}, ",\n"},
		{Options{Mode: ModeCSV, NoHeaders: true, Null: new(`\N`)}, "\\N,\n"},
		{Options{Mode: ModeJSONL, Null: new("ignored")}, `{"a":null,"b":""}` + "\n"},
		{Options{Mode: ModeLine}, "a = NULL\nb = \n"},
		{Options{Mode: ModeMarkdown, NoHeaders: true}, "| NULL |  |\n"},
		{Options{Mode: ModeTSV, NoHeaders: true}, "\t\n"},
		{Options{Mode: ModeTSV, Null: new(`\N`)}, "a\tb\n\\N\t\n"},
	}
	for _, tt := range tests {
		if got, _ := render(t, rs(), tt.opts); got != tt.want {
			t.Errorf("%+v:\n got %q\nwant %q", tt.opts, got, tt.want)
		}
	}
	if ModeCSV.DefaultNull() != "" || ModeTable.DefaultNull() != "NULL" {
		t.Error("DefaultNull")
	}
}

func TestValues(t *testing.T) {
	type myInt int32
	tests := []struct {
		v    any
		k    kind
		want string
		num  bool
	}{
		{int64(-5), kindOther, "-5", true},
		{3.0, kindOther, "3", true},
		{0.1, kindOther, "0.1", true},
		{1.0 / 3, kindOther, "0.3333333333333333", true},
		{1e21, kindOther, "1e+21", true},
		{1e-7, kindOther, "1e-7", true},
		{float32(0.1), kindOther, "0.1", true},
		{myInt(9), kindOther, "9", true},
		{uint8(200), kindOther, "200", true},
		{true, kindOther, "true", false},
		{int64(1), kindOf("BOOLEAN"), "1", true},
		{int64(0), kindOf("bool"), "0", true},
		{[]byte("42"), kindInt, "42", true},
		{"042", kindInt, "042", false},
		{[]byte{0xff, 0xfe, 0x00}, kindOther, "x'FFFE00'", false},
		{time.Date(2024, 5, 6, 10, 3, 0, 123000000, time.UTC), kindOther, "2024-05-06T10:03:00.1230000Z", false},
		{time.Date(2024, 5, 6, 12, 3, 0, 5, time.FixedZone("", 2*3600)), kindOther, "2024-05-06T10:03:00.0000000Z", false},
		{"2024-05-06T10:03:00.5Z", kindDateTime, "2024-05-06T10:03:00.5000000Z", false},
		{[]byte("2024-05-06 12:03:00+02:00"), kindDateTime, "2024-05-06T10:03:00.0000000Z", false},
		{"2024-05-06T10:03:00.5Z", kindOther, "2024-05-06T10:03:00.5Z", false},
		{"not a time", kindDateTime, "not a time", false},
		{"2024-05-06", kindDateTime, "2024-05-06", false},
		{struct{ A int }{1}, kindOther, "{1}", false},
	}
	for _, tt := range tests {
		s, num := textValue(tt.v, tt.k)
		if s != tt.want || num != tt.num {
			t.Errorf("textValue(%#v, %d) = %q, %v; want %q, %v", tt.v, tt.k, s, num, tt.want, tt.num)
		}
	}
	for decl, want := range map[string]kind{
		"INTEGER": kindInt, "bigint": kindInt, "BOOLEAN": kindInt, "bool": kindInt, "JSON": kindJSON,
		"jsonb": kindJSON, "REAL": kindNumber, "DOUBLE PRECISION": kindNumber, "NUMERIC(10, 2)": kindNumber,
		"TEXT": kindOther, "DATETIME": kindDateTime, "timestamp": kindDateTime, "DATE": kindOther, "": kindOther,
	} {
		if got := kindOf(decl); got != want {
			t.Errorf("kindOf(%q) = %d, want %d", decl, got, want)
		}
	}
	for s, want := range map[string]bool{
		"0": true, "-1.5e+10": true, "12.50": true, "01": false, "1.": false, ".5": false, "": false,
		"-": false, "1e": false, "NaN": false, "1 ": false,
	} {
		if got := isJSONNumber(s); got != want {
			t.Errorf("isJSONNumber(%q) = %v", s, got)
		}
	}
}

func TestTypesFromColumnTypes(t *testing.T) {
	// Without TypeNamer and with nil ColumnTypes, types are unknown: a BOOLEAN 1
	// stays a number.
	rs := untypedRS{&fakeRS{cols: []string{"b"}, rows: [][]any{{int64(1)}}}}
	var buf bytes.Buffer
	if _, err := Write(&buf, rs, Options{Mode: ModeJSONL}); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "{\"b\":1}\n" {
		t.Errorf("got %q", got)
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{
		"table": ModeTable, " BOX ": ModeBox, "csv": ModeCSV, "json": ModeJSON, "jsonl": ModeJSONL,
		"ndjson": ModeJSONL, "markdown": ModeMarkdown, "md": ModeMarkdown, "Line": ModeLine, "tsv": ModeTSV, "tabs": ModeTSV,
	} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := ParseMode("html")
	if err == nil || !strings.Contains(err.Error(), "table, box, csv, tsv, json, jsonl, markdown, line") ||
		!strings.HasPrefix(err.Error(), "format: ") {
		t.Errorf("ParseMode(html) error = %v", err)
	}
	if _, err := Write(&bytes.Buffer{}, empty(), Options{Mode: "Table"}); err == nil {
		t.Error("Write accepted an unnormalised mode")
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(p), nil
}

func TestErrors(t *testing.T) {
	boom := errors.New("connection reset")
	t.Run("rows error closes the output", func(t *testing.T) {
		for mode, wantEnd := range map[Mode]string{ModeJSON: "\n]\n", ModeTable: "+\n", ModeBox: "┘\n"} {
			rs := mixed()
			rs.err = boom
			var buf bytes.Buffer
			n, err := Write(&buf, rs, Options{Mode: mode})
			if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "format: read rows: ") {
				t.Errorf("%s: err = %v", mode, err)
			}
			if n != 4 || !strings.HasSuffix(buf.String(), wantEnd) {
				t.Errorf("%s: n = %d, output ends %q", mode, n, buf.String()[max(0, buf.Len()-10):])
			}
		}
	})
	t.Run("scan error", func(t *testing.T) {
		rs := mixed()
		rs.scanErr = boom
		_, err := Write(&bytes.Buffer{}, rs, Options{Mode: ModeCSV})
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "format: read row 4") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("columns error", func(t *testing.T) {
		rs := mixed()
		rs.colErr = boom
		if _, err := Write(&bytes.Buffer{}, rs, Options{}); !errors.Is(err, boom) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("write error stops reading", func(t *testing.T) {
		for _, mode := range Modes() {
			g := &genRS{n: 100_000}
			_, err := Write(&failWriter{after: 1}, g, Options{Mode: mode})
			if err == nil || !strings.Contains(err.Error(), "format: write output: disk full") {
				t.Errorf("%s: err = %v", mode, err)
			}
			if g.i >= g.n {
				t.Errorf("%s: read all %d rows after the writer failed", mode, g.i)
			}
		}
	})
}

func TestNoColumns(t *testing.T) {
	for _, mode := range []Mode{ModeTable, ModeBox, ModeCSV, ModeMarkdown} {
		rs := &fakeRS{rows: [][]any{{}}}
		if got, _ := render(t, rs, Options{Mode: mode}); got != "" {
			t.Errorf("%s: %q for a result without columns", mode, got)
		}
	}
}

func TestBufferAll(t *testing.T) {
	rs := func() *fakeRS {
		return &fakeRS{cols: []string{"v"}, rows: [][]any{{"a"}, {"b"}, {"a longer value"}}}
	}
	got, _ := render(t, rs(), Options{BufferRows: -1})
	if !strings.Contains(got, "| a longer value |") {
		t.Errorf("BufferRows -1 did not size the column to the last row:\n%s", got)
	}
	got, _ = render(t, rs(), Options{BufferRows: 2})
	if want := "+---+\n| v |\n+---+\n| a |\n| b |\n| … |\n+---+\n"; got != want {
		t.Errorf("BufferRows 2:\n%s\nwant\n%s", got, want)
	}

	// Numbers are never cut: a longer one after the buffer overflows its column,
	// and MaxColumnWidth does not apply to numbers in the buffer.
	nums := &fakeRS{cols: []string{"n", "t"}, rows: [][]any{{int64(1), "x"}, {123.25, "y"}, {int64(1234567), "z"}}}
	got, _ = render(t, nums, Options{BufferRows: 2, MaxColumnWidth: 3})
	want := "+--------+---+\n| n      | t |\n+--------+---+\n|      1 | x |\n| 123.25 | y |\n| 1234567 | z |\n+--------+---+\n"
	if got != want {
		t.Errorf("numbers:\n%s\nwant\n%s", got, want)
	}
}

// TestDateTimeCanonical: a DATETIME value prints in the one canonical form
// (schema.DateTimeLayout: UTC, seven fractional digits) in every mode,
// whether it arrives as a time.Time (modernc.org/sqlite parses the text of
// DATETIME-declared columns) or as text (an expression over one, such as
// max(DueDateTime), has no declared type and stays text), so that a
// column's values have one width and a CSV export sorted as text is in time
// order.
func TestDateTimeCanonical(t *testing.T) {
	times := []time.Time{
		time.Date(2026, 11, 5, 9, 30, 0, 500_000_000, time.UTC),
		time.Date(2026, 11, 5, 9, 30, 0, 0, time.UTC),
		time.Date(2026, 12, 17, 1, 0, 0, 125_000_000, time.FixedZone("", 3600)),
		time.Date(2026, 11, 5, 9, 30, 0, 1_200, time.UTC),
	}
	rs := func() *fakeRS {
		f := &fakeRS{cols: []string{"Due", "Latest", "AsText"}, types: []string{"DATETIME", "", "DATETIME"}}
		for _, tm := range times {
			f.rows = append(f.rows, []any{tm, schema.FormatDateTime(times[2]), tm.Format(time.RFC3339Nano)})
		}
		return f
	}
	want := make([]string, len(times))
	for i, tm := range times {
		want[i] = schema.FormatDateTime(tm)
	}
	stamp := regexp.MustCompile(`\d{4}-\d\d-\d\d[T ][0-9:.]+(Z|[+-]\d\d:\d\d)`)
	for _, m := range Modes() {
		got, _ := render(t, rs(), Options{Mode: m})
		for _, s := range stamp.FindAllString(got, -1) {
			if _, err := time.Parse(schema.DateTimeLayout, s); err != nil || len(s) != len(schema.FormatDateTime(time.Time{})) {
				t.Errorf("%s: %q is not in the canonical form %s:\n%s", m, s, schema.DateTimeLayout, got)
			}
		}
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: output lacks %q:\n%s", m, w, got)
			}
		}
	}
	// A CSV export sorted as text is in time order.
	got, _ := render(t, rs(), Options{Mode: ModeCSV, NoHeaders: true})
	lines := strings.Split(strings.TrimSpace(got), "\n")
	slices.Sort(lines)
	for i := 1; i < len(lines); i++ {
		a, _ := time.Parse(schema.DateTimeLayout, strings.Split(lines[i-1], ",")[0])
		b, _ := time.Parse(schema.DateTimeLayout, strings.Split(lines[i], ",")[0])
		if a.After(b) {
			t.Errorf("CSV sorted as text is not in time order: %q before %q", lines[i-1], lines[i])
		}
	}
}
