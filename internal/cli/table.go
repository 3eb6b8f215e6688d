package cli

import (
	"database/sql"
	"errors"
	"io"

	"github.com/plannersql/planner/internal/format"
)

// memRows is an in-memory format.ResultSet for the CLI's own tables
// (summaries, job lists).
type memRows struct {
	cols  []string
	types []string
	rows  [][]any
	i     int
}

func newMemRows(cols []string, types ...string) *memRows {
	return &memRows{cols: cols, types: types}
}

func (m *memRows) add(vals ...any) { m.rows = append(m.rows, vals) }

func (m *memRows) Columns() ([]string, error)              { return m.cols, nil }
func (m *memRows) ColumnTypes() ([]*sql.ColumnType, error) { return nil, nil }
func (m *memRows) Err() error                              { return nil }

// DatabaseTypeNames implements format.TypeNamer.
func (m *memRows) DatabaseTypeNames() []string {
	if len(m.types) == len(m.cols) {
		return m.types
	}
	return make([]string, len(m.cols))
}

func (m *memRows) Next() bool {
	if m.i >= len(m.rows) {
		return false
	}
	m.i++
	return true
}

func (m *memRows) Scan(dest ...any) error {
	row := m.rows[m.i-1]
	if len(dest) != len(row) {
		return errors.New("cli: scan: wrong number of values")
	}
	for i, d := range dest {
		p, ok := d.(*any)
		if !ok {
			return errors.New("cli: scan: destination must be *any")
		}
		*p = row[i]
	}
	return nil
}

// write renders the table to w.
func (m *memRows) write(w io.Writer, mode format.Mode) error {
	m.i = 0
	_, err := format.Write(w, m, format.Options{Mode: mode})
	return err
}
