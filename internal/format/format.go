// Package format renders query results as text: aligned tables, CSV, TSV, JSON,
// JSON Lines, Markdown and sqlite3's line mode.
//
// Every mode streams from a [ResultSet], which *sql.Rows satisfies. Only the table
// modes buffer, and only the first [Options.BufferRows] rows, to compute column
// widths; rows after those are printed with the widths already chosen, and a value
// wider than its column is cut with "…" so that the table stays aligned (see
// [Options.BufferRows]). The other modes hold one row at a time.
//
// # Values
//
// NULL is shown as [Options.Null], by default "NULL" in the table, box, markdown
// and line modes, an empty field in CSV, and null in JSON. Other values:
//
//   - []byte: the text when it is valid UTF-8; otherwise a blob literal x'00FF'
//     (base64 in JSON, as encoding/json does).
//   - time.Time, and text naming a time (RFC 3339, or with a space for the T)
//     in a column declared DATETIME or TIMESTAMP: the canonical DATETIME form
//     of package schema (schema.FormatDateTime: UTC, always seven fractional
//     digits, "2026-11-05T09:30:00.5000000Z"), in every mode, so that a
//     column's times have one width and sort as text in time order.
//     (modernc.org/sqlite hands DATETIME columns over as time.Time, while an
//     expression over one, such as max(DueDateTime), has no declared type
//     and arrives as the driver's text, already in that form.)
//   - float64: the shortest decimal that reads back the same value (0.1, not
//     0.1000000000000000055), with an exponent below 1e-6 and from 1e21, and
//     NaN, Infinity and -Infinity (as strings in JSON).
//   - Columns declared BOOLEAN (or BOOL) hold SQLite's 0 and 1 and print them as
//     integers in every mode, JSON included (a Go bool prints true or false).
//   - In JSON and JSON Lines, columns declared JSON (or JSONB) whose value is valid
//     JSON are embedded, compacted to one line; numbers stored as text in columns
//     declared INTEGER, REAL, NUMERIC, DECIMAL … become JSON numbers.
//
// The human-oriented modes (table, box, markdown, line) escape what would break a
// row across lines or corrupt the terminal: \n, \r and \t, other control characters
// as \xHH or \uHHHH, bytes that are not UTF-8 as \xHH, and the Unicode bidirectional
// embedding, override and isolate controls, which would otherwise reorder the rest
// of the line. A literal backslash is printed as is. Markdown writes line breaks as
// <br> and escapes "|". CSV and JSON carry values unchanged. TSV writes a
// backslash, tab, line feed and carriage return as \\, \t, \n and \r, so that
// every row is one line and every tab separates fields (PostgreSQL's COPY text
// format).
//
// Widths are measured in terminal cells with github.com/mattn/go-runewidth: East
// Asian wide characters and emoji count 2, combining marks and zero-width joiners
// 0, whole grapheme clusters (flags, ZWJ sequences) 2.
package format

import (
	"bufio"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Mode is an output format.
type Mode string

// Output modes.
const (
	ModeTable    Mode = "table"    // aligned table with ASCII borders (+---+), sqlite3 ".mode table"
	ModeBox      Mode = "box"      // aligned table with Unicode box-drawing borders, sqlite3 ".mode box"
	ModeCSV      Mode = "csv"      // RFC 4180 via encoding/csv, LF line endings
	ModeTSV      Mode = "tsv"      // tab-separated, with \t \n \r \\ escaped (PostgreSQL's text format)
	ModeJSON     Mode = "json"     // one JSON array of objects, one object per line
	ModeJSONL    Mode = "jsonl"    // JSON Lines: one object per line, no array
	ModeMarkdown Mode = "markdown" // GitHub-flavoured Markdown table
	ModeLine     Mode = "line"     // "column = value" per line, a blank line between rows
)

// Modes returns the output modes, in the order help text should list them.
func Modes() []Mode {
	return []Mode{ModeTable, ModeBox, ModeCSV, ModeTSV, ModeJSON, ModeJSONL, ModeMarkdown, ModeLine}
}

// ParseMode returns the mode named s, ignoring case and surrounding space. It also
// accepts "ndjson" for jsonl, "md" for markdown and "tabs" (sqlite3's name) for
// tsv.
func ParseMode(s string) (Mode, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	switch name {
	case "ndjson":
		return ModeJSONL, nil
	case "md":
		return ModeMarkdown, nil
	case "tabs":
		return ModeTSV, nil
	}
	for _, m := range Modes() {
		if string(m) == name {
			return m, nil
		}
	}
	names := make([]string, 0, len(Modes()))
	for _, m := range Modes() {
		names = append(names, string(m))
	}
	return "", fmt.Errorf("format: unknown output mode %q: use one of %s", s, strings.Join(names, ", "))
}

// DefaultNull returns the text a mode prints for NULL unless Options.Null says
// otherwise: "NULL", or "" for CSV and TSV. JSON modes always print null.
func (m Mode) DefaultNull() string {
	if m == ModeCSV || m == ModeTSV {
		return ""
	}
	return "NULL"
}

// ResultSet is a stream of rows; *sql.Rows satisfies it. Write calls Columns and
// ColumnTypes once, then Next and Scan for each row, then Err. It scans into *any
// destinations. ColumnTypes may return nil: declared types then come from
// TypeNamer, or are unknown.
type ResultSet interface {
	Columns() ([]string, error)
	ColumnTypes() ([]*sql.ColumnType, error)
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// TypeNamer may be implemented by a ResultSet that cannot build *sql.ColumnType
// values (test fakes, results that do not come from database/sql). Write prefers
// it to ColumnTypes.
type TypeNamer interface {
	// DatabaseTypeNames returns the declared type of each column, such as
	// "INTEGER", "BOOLEAN" or "JSON"; "" when unknown.
	DatabaseTypeNames() []string
}

// DefaultBufferRows is the number of rows the table modes buffer to compute column
// widths when Options.BufferRows is zero.
const DefaultBufferRows = 1000

// Options configures Write. The zero value prints an ASCII table with headers.
type Options struct {
	// Mode is the output format; empty means ModeTable.
	Mode Mode
	// NoHeaders leaves out the header row of the table, box, CSV, TSV and
	// markdown modes (markdown then prints only the rows, with no separator
	// line, as sqlite3 does).
	NoHeaders bool
	// Null, when not nil, is the text printed for NULL in every mode but JSON;
	// nil means Mode.DefaultNull().
	Null *string
	// MaxColumnWidth, when positive, caps the width of table and box columns, in
	// terminal cells; longer values are cut with "…".
	MaxColumnWidth int
	// BufferRows is the number of rows the table and box modes read before choosing
	// column widths; 0 means DefaultBufferRows. Later rows never widen a column:
	// a longer value is cut with "…". A negative value buffers the whole result
	// (exact widths, memory proportional to the result).
	BufferRows int
	// EastAsianWidth counts characters of ambiguous width (such as "①", "°", "…")
	// as 2 cells, as CJK terminals draw them (runewidth.IsEastAsian tells).
	EastAsianWidth bool
}

// Write renders the rows of rs to w in opts.Mode and returns the number of rows
// written. It does not close rs. If reading rs fails midway, Write still closes
// the table or JSON array it started, so the output is well-formed up to the
// failure, and returns the error. Output is buffered and flushed before Write
// returns.
func Write(w io.Writer, rs ResultSet, opts Options) (rows int64, err error) {
	rows, _, err = write(w, rs, opts)
	return rows, err
}

// write is Write, also returning the encoder for tests.
func write(w io.Writer, rs ResultSet, opts Options) (int64, encoder, error) {
	if opts.Mode == "" {
		opts.Mode = ModeTable
	}
	if !slices.Contains(Modes(), opts.Mode) {
		return 0, nil, fmt.Errorf("format: unknown output mode %q: get modes from ParseMode", opts.Mode)
	}
	names, err := rs.Columns()
	if err != nil {
		return 0, nil, fmt.Errorf("format: read result columns: %w", err)
	}
	cols := describe(rs, names)
	out := &output{w: bufio.NewWriterSize(w, 32<<10)}
	enc := newEncoder(out, cols, opts)

	vals := make([]any, len(cols))
	dest := make([]any, len(cols))
	for i := range dest {
		dest[i] = &vals[i]
	}
	var n int64
	var readErr error
	enc.begin()
	for out.err == nil && rs.Next() {
		if err := rs.Scan(dest...); err != nil {
			readErr = fmt.Errorf("format: read row %d: %w", n+1, err)
			break
		}
		enc.row(vals)
		n++
		clear(vals)
	}
	if readErr == nil && out.err == nil {
		if err := rs.Err(); err != nil {
			readErr = fmt.Errorf("format: read rows: %w", err)
		}
	}
	if out.err == nil {
		enc.end()
	}
	if out.err == nil {
		out.err = out.w.Flush()
	}
	if out.err != nil {
		return n, enc, errors.Join(readErr, fmt.Errorf("format: write output: %w", out.err))
	}
	return n, enc, readErr
}

// encoder renders rows in one mode.
type encoder interface {
	begin()
	row(vals []any)
	end()
}

func newEncoder(out *output, cols []column, opts Options) encoder {
	null := opts.Mode.DefaultNull()
	if opts.Null != nil {
		null = *opts.Null
	}
	switch opts.Mode {
	case ModeCSV:
		return newCSV(out, cols, !opts.NoHeaders, null)
	case ModeTSV:
		return &tsvEnc{out: out, cols: cols, headers: !opts.NoHeaders, null: null}
	case ModeJSON:
		return newJSON(out, cols, true)
	case ModeJSONL:
		return newJSON(out, cols, false)
	case ModeMarkdown:
		return &markdownEnc{out: out, cols: cols, headers: !opts.NoHeaders, null: null}
	case ModeLine:
		return newLine(out, cols, null, widthCondition(opts.EastAsianWidth))
	case ModeBox:
		return newTable(out, cols, opts, null, boxStyle)
	default:
		return newTable(out, cols, opts, null, asciiStyle)
	}
}

// output is a buffered writer that remembers its first error, so that encoders can
// write without checking each call.
type output struct {
	w   *bufio.Writer
	err error
}

func (o *output) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.w.Write(p)
	o.err = err
	return n, err
}

func (o *output) str(s string) {
	if o.err == nil {
		_, o.err = o.w.WriteString(s)
	}
}

func (o *output) bytes(b []byte) {
	if o.err == nil {
		_, o.err = o.w.Write(b)
	}
}

func (o *output) byte(c byte) {
	if o.err == nil {
		o.err = o.w.WriteByte(c)
	}
}

// repeat writes s n times.
func (o *output) repeat(s string, n int) {
	for range n {
		o.str(s)
	}
}
