package format

import (
	"github.com/mattn/go-runewidth"
)

// tableStyle is the border drawing of a table.
type tableStyle struct {
	top, mid, bottom [3]string // left, crossing, right
	horiz, vert      string
}

var (
	asciiStyle = tableStyle{
		top: [3]string{"+", "+", "+"}, mid: [3]string{"+", "+", "+"}, bottom: [3]string{"+", "+", "+"},
		horiz: "-", vert: "|",
	}
	boxStyle = tableStyle{
		top: [3]string{"┌", "┬", "┐"}, mid: [3]string{"├", "┼", "┤"}, bottom: [3]string{"└", "┴", "┘"},
		horiz: "─", vert: "│",
	}
)

// ellipsis marks a value cut to fit its column.
const ellipsis = "…"

// cell is a value ready to print: escaped, measured and aligned.
type cell struct {
	s     string
	w     int
	right bool
}

// tableEnc renders the table and box modes. It buffers up to limit rows to choose
// the column widths, then streams.
type tableEnc struct {
	out      *output
	cols     []column
	style    tableStyle
	cond     *runewidth.Condition
	headers  bool
	null     cell
	maxWidth int
	limit    int // rows to buffer; negative: all

	buf     [][]cell
	scratch []cell
	widths  []int
	started bool // widths chosen and header printed
	body    bool // a data row has been printed
	peak    int  // most rows buffered at once, for tests
}

func newTable(out *output, cols []column, opts Options, null string, style tableStyle) *tableEnc {
	t := &tableEnc{
		out:      out,
		cols:     cols,
		style:    style,
		cond:     widthCondition(opts.EastAsianWidth),
		headers:  !opts.NoHeaders,
		maxWidth: opts.MaxColumnWidth,
		limit:    opts.BufferRows,
	}
	if t.limit == 0 {
		t.limit = DefaultBufferRows
	}
	ns := escapeText(null, false)
	t.null = cell{s: ns, w: t.cond.StringWidth(ns)}
	return t
}

func (t *tableEnc) begin() {}

func (t *tableEnc) row(vals []any) {
	if len(t.cols) == 0 {
		return
	}
	if t.started {
		t.scratch = t.cells(vals, t.scratch[:0])
		t.printRow(t.scratch)
		return
	}
	t.buf = append(t.buf, t.cells(vals, make([]cell, 0, len(vals))))
	t.peak = max(t.peak, len(t.buf))
	if t.limit > 0 && len(t.buf) >= t.limit {
		t.start()
	}
}

func (t *tableEnc) end() {
	if len(t.cols) == 0 {
		return
	}
	if !t.started {
		if len(t.buf) == 0 && !t.headers {
			return
		}
		t.start()
	}
	t.border(t.style.bottom)
}

func (t *tableEnc) cells(vals []any, dst []cell) []cell {
	for i, v := range vals {
		if v == nil {
			dst = append(dst, t.null)
			continue
		}
		s, numeric := textValue(v, t.cols[i].kind)
		s = escapeText(s, false)
		dst = append(dst, cell{s: s, w: t.cond.StringWidth(s), right: numeric})
	}
	return dst
}

// start chooses the column widths from the header and the buffered rows, prints
// the header and the buffered rows, and switches to streaming.
func (t *tableEnc) start() {
	t.started = true
	t.widths = make([]int, len(t.cols))
	var header []cell
	if t.headers {
		header = make([]cell, len(t.cols))
		for i, c := range t.cols {
			s := escapeText(c.name, false)
			header[i] = cell{s: s, w: t.cond.StringWidth(s)}
			t.widths[i] = header[i].w
		}
	}
	numWidths := make([]int, len(t.cols)) // numbers are never cut
	for _, r := range t.buf {
		for i, c := range r {
			if c.right {
				numWidths[i] = max(numWidths[i], c.w)
			} else {
				t.widths[i] = max(t.widths[i], c.w)
			}
		}
	}
	for i := range t.widths {
		if t.maxWidth > 0 {
			t.widths[i] = min(t.widths[i], t.maxWidth)
		}
		t.widths[i] = max(t.widths[i], numWidths[i], 1)
	}
	t.border(t.style.top)
	if header != nil {
		t.line(header)
	}
	for _, r := range t.buf {
		t.printRow(r)
	}
	t.buf = nil
}

func (t *tableEnc) printRow(r []cell) {
	if !t.body {
		t.body = true
		if t.headers {
			t.border(t.style.mid)
		}
	}
	t.line(r)
}

// line prints one row of cells.
func (t *tableEnc) line(r []cell) {
	o := t.out
	for i, c := range r {
		w := t.widths[i]
		if c.w > w && !c.right {
			c.s, c.w = t.fit(c.s, w)
		}
		o.str(t.style.vert)
		o.byte(' ')
		if c.right {
			o.repeat(" ", w-c.w) // nothing when a number overflows
			o.str(c.s)
		} else {
			o.str(c.s)
			o.repeat(" ", w-c.w)
		}
		o.byte(' ')
	}
	o.str(t.style.vert)
	o.byte('\n')
}

// fit cuts s to at most w cells, ending it with an ellipsis.
func (t *tableEnc) fit(s string, w int) (string, int) {
	tail := ellipsis
	if t.cond.StringWidth(tail) > w {
		tail = ""
	}
	s = t.cond.Truncate(s, w, tail)
	return s, t.cond.StringWidth(s)
}

func (t *tableEnc) border(parts [3]string) {
	o := t.out
	o.str(parts[0])
	for i, w := range t.widths {
		if i > 0 {
			o.str(parts[1])
		}
		o.repeat(t.style.horiz, w+2)
	}
	o.str(parts[2])
	o.byte('\n')
}
