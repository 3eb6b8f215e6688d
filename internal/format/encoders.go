package format

import (
	"encoding/csv"
	"strconv"
	"strings"

	"github.com/mattn/go-runewidth"

	"github.com/plannersql/planner/internal/jsonstr"
)

// csvEnc renders CSV through encoding/csv: fields with a comma, a quote or a line
// break are quoted, quotes doubled. Values are not escaped otherwise.
type csvEnc struct {
	out     *output
	cw      *csv.Writer
	cols    []column
	headers bool
	null    string
	rec     []string
}

func newCSV(out *output, cols []column, headers bool, null string) *csvEnc {
	return &csvEnc{out: out, cw: csv.NewWriter(out), cols: cols, headers: headers, null: null,
		rec: make([]string, len(cols))}
}

func (e *csvEnc) begin() {
	if !e.headers || len(e.cols) == 0 {
		return
	}
	for i, c := range e.cols {
		e.rec[i] = c.name
	}
	e.write()
}

func (e *csvEnc) row(vals []any) {
	if len(e.cols) == 0 {
		return
	}
	for i, v := range vals {
		if v == nil {
			e.rec[i] = e.null
			continue
		}
		e.rec[i], _ = textValue(v, e.cols[i].kind)
	}
	e.write()
}

func (e *csvEnc) write() {
	if err := e.cw.Write(e.rec); err != nil && e.out.err == nil {
		e.out.err = err
	}
}

func (e *csvEnc) end() {
	e.cw.Flush()
	if err := e.cw.Error(); err != nil && e.out.err == nil {
		e.out.err = err
	}
}

// jsonEnc renders JSON (an array, one object per line) and JSON Lines. Object keys
// are the column names in column order; a repeated name gets a suffix (_2, _3 …)
// so that no key is lost.
type jsonEnc struct {
	out   *output
	cols  []column
	keys  [][]byte // `"name":`
	array bool
	n     int64
	buf   []byte
}

func newJSON(out *output, cols []column, array bool) *jsonEnc {
	e := &jsonEnc{out: out, cols: cols, array: array, keys: make([][]byte, len(cols))}
	seen := make(map[string]bool, len(cols))
	for i, c := range cols {
		name := c.name
		for k := 2; seen[name]; k++ {
			name = c.name + "_" + strconv.Itoa(k)
		}
		seen[name] = true
		e.keys[i] = append(jsonstr.Append(nil, name), ':')
	}
	return e
}

func (e *jsonEnc) begin() {
	if e.array {
		e.out.byte('[')
	}
}

func (e *jsonEnc) row(vals []any) {
	b := e.buf[:0]
	if e.array {
		if e.n > 0 {
			b = append(b, ',')
		}
		b = append(b, '\n')
	}
	b = append(b, '{')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.keys[i]...)
		b = appendJSONValue(b, v, e.cols[i].kind)
	}
	b = append(b, '}')
	if !e.array {
		b = append(b, '\n')
	}
	e.out.bytes(b)
	e.buf = b
	e.n++
}

func (e *jsonEnc) end() {
	if !e.array {
		return
	}
	if e.n > 0 {
		e.out.byte('\n')
	}
	e.out.str("]\n")
}

// markdownEnc renders a GitHub-flavoured Markdown table. Columns declared numeric
// are right-aligned. It never buffers, so columns are not padded.
type markdownEnc struct {
	out     *output
	cols    []column
	headers bool
	null    string
}

func (e *markdownEnc) begin() {
	if len(e.cols) == 0 || !e.headers {
		return
	}
	o := e.out
	o.byte('|')
	for _, c := range e.cols {
		o.byte(' ')
		o.str(escapeText(c.name, true))
		o.str(" |")
	}
	o.str("\n|")
	for _, c := range e.cols {
		if c.kind == kindInt || c.kind == kindNumber {
			o.str(" ---: |")
		} else {
			o.str(" --- |")
		}
	}
	o.byte('\n')
}

func (e *markdownEnc) row(vals []any) {
	if len(e.cols) == 0 {
		return
	}
	o := e.out
	o.byte('|')
	for i, v := range vals {
		o.byte(' ')
		if v == nil {
			o.str(escapeText(e.null, true))
		} else {
			s, _ := textValue(v, e.cols[i].kind)
			o.str(escapeText(s, true))
		}
		o.str(" |")
	}
	o.byte('\n')
}

func (e *markdownEnc) end() {}

// tsvEnc renders tab-separated values: one line per row, fields separated by
// tabs, and \\, \t, \n and \r escaped with a backslash.
type tsvEnc struct {
	out     *output
	cols    []column
	headers bool
	null    string
}

var tsvEscaper = strings.NewReplacer("\\", "\\\\", "\t", "\\t", "\n", "\\n", "\r", "\\r")

func (e *tsvEnc) begin() {
	if !e.headers || len(e.cols) == 0 {
		return
	}
	for i, c := range e.cols {
		if i > 0 {
			e.out.byte('\t')
		}
		e.out.str(tsvEscaper.Replace(c.name))
	}
	e.out.byte('\n')
}

func (e *tsvEnc) row(vals []any) {
	if len(e.cols) == 0 {
		return
	}
	for i, v := range vals {
		if i > 0 {
			e.out.byte('\t')
		}
		if v == nil {
			e.out.str(e.null) // as given: \N is PostgreSQL's NULL marker
			continue
		}
		s, _ := textValue(v, e.cols[i].kind)
		e.out.str(tsvEscaper.Replace(s))
	}
	e.out.byte('\n')
}

func (e *tsvEnc) end() {}

// lineEnc renders sqlite3's line mode: one "name = value" line per column, names
// right-aligned, a blank line between rows.
type lineEnc struct {
	out   *output
	cols  []column
	names []string // escaped and padded
	null  string
	n     int64
}

func newLine(out *output, cols []column, null string, cond *runewidth.Condition) *lineEnc {
	e := &lineEnc{out: out, cols: cols, names: make([]string, len(cols)), null: escapeText(null, false)}
	width := 0
	for i, c := range cols {
		e.names[i] = escapeText(c.name, false)
		width = max(width, cond.StringWidth(e.names[i]))
	}
	for i := range e.names {
		e.names[i] = cond.FillLeft(e.names[i], width)
	}
	return e
}

func (e *lineEnc) begin() {}

func (e *lineEnc) row(vals []any) {
	o := e.out
	if e.n > 0 {
		o.byte('\n')
	}
	e.n++
	for i, v := range vals {
		o.str(e.names[i])
		o.str(" = ")
		if v == nil {
			o.str(e.null)
		} else {
			s, _ := textValue(v, e.cols[i].kind)
			o.str(escapeText(s, false))
		}
		o.byte('\n')
	}
}

func (e *lineEnc) end() {}
