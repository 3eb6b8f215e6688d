package format

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
)

// lineChecker is a Writer that checks output line by line without keeping it.
type lineChecker struct {
	partial   []byte
	lines     int
	width     int // display width of the first line
	badWidth  string
	truncated int // lines containing the ellipsis
	firstRow  int // rows produced by the source when the first byte arrived
	source    *genRS
	bytes     int64
}

func (c *lineChecker) Write(p []byte) (int, error) {
	if c.bytes == 0 && c.source != nil {
		c.firstRow = c.source.i
	}
	c.bytes += int64(len(p))
	for _, b := range p {
		if b != '\n' {
			c.partial = append(c.partial, b)
			continue
		}
		line := string(c.partial)
		c.partial = c.partial[:0]
		c.lines++
		w := narrowCond.StringWidth(line)
		if c.lines == 1 {
			c.width = w
		} else if w != c.width && c.badWidth == "" {
			c.badWidth = line
		}
		if strings.Contains(line, ellipsis) {
			c.truncated++
		}
	}
	return len(p), nil
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestStreaming100k writes 100,000 generated rows in every mode and checks that
// the live heap does not grow with the rows, that output starts long before the
// last row is read, and that the table modes buffer at most BufferRows rows.
func TestStreaming100k(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 rows per mode")
	}
	const rows = 100_000
	for _, mode := range Modes() {
		t.Run(string(mode), func(t *testing.T) {
			var early, late uint64
			g := &genRS{n: rows, long: 5_000}
			g.onNext = func(i int) {
				switch i {
				case 20_000:
					early = heapInUse()
				case rows:
					late = heapInUse()
				}
			}
			chk := &lineChecker{source: g}
			n, enc, err := write(chk, g, Options{Mode: mode})
			if err != nil {
				t.Fatal(err)
			}
			if n != rows {
				t.Fatalf("wrote %d rows, want %d", n, rows)
			}
			// Proportional memory would be tens of megabytes for 80,000 rows.
			const slack = 1 << 20
			if late > early+slack {
				t.Errorf("live heap grew by %d KiB between rows 20,000 and 100,000", (late-early)>>10)
			}
			if chk.firstRow == 0 || chk.firstRow > 3_000 {
				t.Errorf("first output after %d rows were read, want a streaming start", chk.firstRow)
			}
			switch mode {
			case ModeTable, ModeBox:
				tab := enc.(*tableEnc)
				if tab.peak != DefaultBufferRows {
					t.Errorf("table buffered up to %d rows, want %d", tab.peak, DefaultBufferRows)
				}
				if chk.badWidth != "" {
					t.Errorf("misaligned line %q", chk.badWidth)
				}
				if want := rows + 4; chk.lines != want {
					t.Errorf("%d lines, want %d", chk.lines, want)
				}
				if chk.truncated != 1 {
					t.Errorf("%d lines cut with an ellipsis, want 1 (the long value after the buffer)", chk.truncated)
				}
			case ModeJSONL, ModeCSV:
				if want := rows + map[Mode]int{ModeJSONL: 0, ModeCSV: 1}[mode]; chk.lines != want {
					t.Errorf("%d lines, want %d", chk.lines, want)
				}
			case ModeJSON:
				if want := rows + 2; chk.lines != want {
					t.Errorf("%d lines, want %d", chk.lines, want)
				}
			}
		})
	}
}

func BenchmarkWrite(b *testing.B) {
	const rows = 10_000
	for _, mode := range Modes() {
		b.Run(string(mode), func(b *testing.B) {
			b.ReportAllocs()
			var bytes int64
			for b.Loop() {
				cw := &countWriter{}
				if _, err := Write(cw, &genRS{n: rows}, Options{Mode: mode}); err != nil {
					b.Fatal(err)
				}
				bytes = cw.n
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.SetBytes(bytes)
		})
	}
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

var _ io.Writer = (*countWriter)(nil)

func ExampleWrite() {
	rs := &fakeRS{
		cols:  []string{"Title", "PercentComplete", "HasDescription"},
		types: []string{"TEXT", "INTEGER", "BOOLEAN"},
		rows:  [][]any{{"Write report", int64(50), int64(1)}, {"日本語", nil, int64(0)}},
	}
	if _, err := Write(os.Stdout, rs, Options{Mode: ModeBox}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// ┌──────────────┬─────────────────┬────────────────┐
	// │ Title        │ PercentComplete │ HasDescription │
	// ├──────────────┼─────────────────┼────────────────┤
	// │ Write report │              50 │              1 │
	// │ 日本語       │ NULL            │              0 │
	// └──────────────┴─────────────────┴────────────────┘
}
