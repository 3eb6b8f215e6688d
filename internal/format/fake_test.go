package format

import (
	"database/sql"
	"fmt"
)

// fakeRS is a ResultSet over rows held in memory.
type fakeRS struct {
	cols    []string
	types   []string // nil: no TypeNamer information
	rows    [][]any
	i       int
	err     error // returned by Err once the rows are exhausted
	colErr  error // returned by Columns
	scanErr error // returned by Scan of the last row
}

var _ ResultSet = (*fakeRS)(nil)

func (f *fakeRS) Columns() ([]string, error) { return f.cols, f.colErr }

func (f *fakeRS) ColumnTypes() ([]*sql.ColumnType, error) { return nil, nil }

func (f *fakeRS) DatabaseTypeNames() []string { return f.types }

func (f *fakeRS) Next() bool {
	if f.i >= len(f.rows) {
		return false
	}
	f.i++
	return true
}

func (f *fakeRS) Scan(dest ...any) error {
	if f.scanErr != nil && f.i == len(f.rows) {
		return f.scanErr
	}
	row := f.rows[f.i-1]
	if len(dest) != len(row) {
		return fmt.Errorf("scan: %d destinations for %d columns", len(dest), len(row))
	}
	for i, d := range dest {
		*d.(*any) = row[i]
	}
	return nil
}

func (f *fakeRS) Err() error {
	if f.i >= len(f.rows) {
		return f.err
	}
	return nil
}

// untypedRS hides the TypeNamer of a fakeRS.
type untypedRS struct{ *fakeRS }

func (untypedRS) DatabaseTypeNames() {}

// genRS generates n rows without holding them: Id INTEGER, Name TEXT, Score REAL,
// Done BOOLEAN, Note TEXT (NULL every 7th row). Every value of a column has the
// same width, except Name in row long.
type genRS struct {
	n, i   int
	long   int         // row whose Name is much longer than the others (0: none)
	onNext func(i int) // called before row i is produced, if not nil
}

func (g *genRS) Columns() ([]string, error) {
	return []string{"Id", "Name", "Score", "Done", "Note"}, nil
}

func (g *genRS) ColumnTypes() ([]*sql.ColumnType, error) { return nil, nil }

func (g *genRS) DatabaseTypeNames() []string {
	return []string{"INTEGER", "TEXT", "REAL", "BOOLEAN", "TEXT"}
}

func (g *genRS) Next() bool {
	if g.i >= g.n {
		return false
	}
	g.i++
	if g.onNext != nil {
		g.onNext(g.i)
	}
	return true
}

func (g *genRS) Scan(dest ...any) error {
	i := g.i
	name := fmt.Sprintf("task %07d", i)
	if i == g.long {
		name = "a much longer task title than any of the first rows"
	}
	var note any
	if i%7 != 0 {
		note = "note"
	}
	*dest[0].(*any) = int64(1_000_000 + i)
	*dest[1].(*any) = name
	*dest[2].(*any) = float64(i%4)/4 + 10 // 10, 10.25, 10.5, 10.75
	*dest[3].(*any) = int64(i % 2)
	*dest[4].(*any) = note
	return nil
}

func (g *genRS) Err() error { return nil }
