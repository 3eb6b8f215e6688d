package replicate

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"iter"
	"math"
	"time"

	"github.com/plannersql/planner/schema"
)

// rowHash identifies a source row's content: the first 96 bits of the
// SHA-256 of its serialised values.
type rowHash [12]byte

// keyFP identifies a row's key: the first 96 bits of the SHA-256 of its
// serialised key values (as written to the destination).
type keyFP [12]byte

// entrySize is the size of one state entry: key fingerprint and row hash.
const entrySize = len(keyFP{}) + len(rowHash{})

// stateChunkBytes bounds one state row's blob (MySQL's default packet is 16 MB).
const stateChunkBytes = 1 << 20

// stateVersion prefixes every state blob.
const stateVersion = 2

func fingerprint(kb []byte) keyFP {
	sum := sha256.Sum256(kb)
	return keyFP(sum[:len(keyFP{})])
}

func hashRow(ser []byte) rowHash {
	sum := sha256.Sum256(ser)
	return rowHash(sum[:len(rowHash{})])
}

// tableState is what the state table holds for one (table, source name): the
// key fingerprint and row hash of every live row the last successful run
// wrote, and the column signature the hashes were computed over.
type tableState struct {
	found     bool
	signature string
	digest    [32]byte // of the signature and the data as stored: tells whether the state changed
	entries   []stateEntry
	index     map[keyFP]int32 // key → position in entries
}

// stateEntry is one row of the state; seen marks rows found in this run's
// source result.
type stateEntry struct {
	key  keyFP
	hash rowHash
	seen bool
}

func newTableState(n int) *tableState {
	return &tableState{entries: make([]stateEntry, 0, n), index: make(map[keyFP]int32, n)}
}

// add records a row (the last one wins).
func (s *tableState) add(k keyFP, h rowHash) {
	if i, ok := s.index[k]; ok {
		s.entries[i].hash = h
		return
	}
	s.index[k] = int32(len(s.entries))
	s.entries = append(s.entries, stateEntry{key: k, hash: h})
}

// forgetHashes marks every row's hash unknown: every row is rewritten.
func (s *tableState) forgetHashes() {
	for i := range s.entries {
		s.entries[i].hash = rowHash{}
	}
}

// stateDDL returns CREATE TABLE for the state table.
func stateDDL(d dialect, table string) string {
	text := d.columnType(schema.Text, false, 0)
	keyText := d.columnType(schema.Text, true, maxSourceNameLen)
	return fmt.Sprintf("CREATE TABLE %s (%s %s NOT NULL, %s %s NOT NULL, %s %s NOT NULL, %s %s NOT NULL, %s %s NOT NULL, %s %s NOT NULL, %s %s NOT NULL, %s %s, PRIMARY KEY (%s, %s, %s))%s",
		table,
		d.quote("TableName"), keyText,
		d.quote("SourceName"), keyText,
		d.quote("Chunk"), d.columnType(schema.Integer, false, 0),
		d.quote("Columns"), text,
		d.quote("RowCount"), d.columnType(schema.Integer, false, 0),
		d.quote("Data"), d.columnType(typeBlob, false, 0),
		d.quote("UpdatedDateTime"), d.columnType(schema.DateTime, false, 0),
		d.quote("Tenant"), text,
		d.quote("TableName"), d.quote("SourceName"), d.quote("Chunk"), d.tableSuffix())
}

// stateBook describes the state table n: its Tenant column came after its
// first version.
func stateBook(d dialect, n Name) bookTable {
	return bookTable{name: n, create: []string{stateDDL(d, qualify(d, n))},
		added: []ddlColumn{{name: "Tenant", typ: schema.Text, rawType: d.columnType(schema.Text, false, 0)}}}
}

// loadState reads the state of one table and source name.
func loadState(ctx context.Context, d dialect, q querier, stateTable, table, source string) (*tableState, error) {
	return readState(ctx, d, q, stateTable, table, source, true)
}

// stateDigest reads only the digest of the state of one table and source
// name (found false when there is none): a check that it did not change,
// without decoding it.
func stateDigest(ctx context.Context, d dialect, q querier, stateTable, table, source string) (found bool, digest [32]byte, err error) {
	st, err := readState(ctx, d, q, stateTable, table, source, false)
	if err != nil {
		return false, digest, err
	}
	return st.found, st.digest, nil
}

// readState reads the state's rows, decoding the entries when decode is set.
func readState(ctx context.Context, d dialect, q querier, stateTable, table, source string, decode bool) (*tableState, error) {
	rows, err := q.QueryContext(ctx, fmt.Sprintf("SELECT %s, %s, %s FROM %s WHERE %s = %s AND %s = %s ORDER BY %s",
		d.quote("Columns"), d.quote("RowCount"), d.quote("Data"), stateTable,
		d.quote("TableName"), d.placeholder(1), d.quote("SourceName"), d.placeholder(2), d.quote("Chunk")), table, source)
	if err != nil {
		return nil, fmt.Errorf("read replication state: %w", err)
	}
	defer rows.Close()
	st := newTableState(0)
	var digest hash.Hash
	for rows.Next() {
		var sig string
		var n int64
		var data []byte
		if err := rows.Scan(&sig, &n, &data); err != nil {
			return nil, fmt.Errorf("read replication state: %w", err)
		}
		if decode && !st.found && n > 0 && n <= math.MaxInt32 {
			st = newTableState(int(n)) // sized once, not grown row by row
		}
		st.found, st.signature = true, sig
		if decode {
			if err := decodeState(data, st); err != nil {
				return nil, fmt.Errorf("read replication state of %s: %w", table, err)
			}
		}
		if digest == nil {
			digest = sha256.New()
			digest.Write([]byte(sig))
		}
		digest.Write(data)
	}
	if digest != nil {
		digest.Sum(st.digest[:0])
	}
	return st, rows.Err()
}

// saveState replaces the state of one table and source name with n rows.
// tenant is the source's tenant, or "" when unknown.
func saveState(ctx context.Context, d dialect, q querier, stateTable, table, source, signature, tenant string, n int, rows iter.Seq2[keyFP, rowHash], now time.Time) error {
	if err := deleteState(ctx, d, q, stateTable, table, source, true); err != nil {
		return err
	}
	ins := fmt.Sprintf("INSERT INTO %s (%s, %s, %s, %s, %s, %s, %s, %s) VALUES (%s)", stateTable,
		d.quote("TableName"), d.quote("SourceName"), d.quote("Chunk"), d.quote("Columns"), d.quote("RowCount"),
		d.quote("Data"), d.quote("UpdatedDateTime"), d.quote("Tenant"), placeholders(d, 1, 8))
	chunk := int64(0)
	buf := []byte{stateVersion}
	var ten any
	if tenant != "" {
		ten = tenant
	}
	flush := func() error {
		_, err := q.ExecContext(ctx, ins, table, source, chunk, signature, int64(n), buf, d.timeValue(now), ten)
		chunk++
		buf = []byte{stateVersion}
		return err
	}
	for k, h := range rows {
		buf = append(append(buf, k[:]...), h[:]...)
		if len(buf) >= stateChunkBytes {
			if err := flush(); err != nil {
				return fmt.Errorf("write replication state: %w", err)
			}
		}
	}
	if len(buf) > 1 || chunk == 0 {
		if err := flush(); err != nil {
			return fmt.Errorf("write replication state: %w", err)
		}
	}
	return nil
}

// deleteState removes the state of a table: of one source name, or of every
// source when oneSource is false.
func deleteState(ctx context.Context, d dialect, q querier, stateTable, table, source string, oneSource bool) error {
	var err error
	if oneSource {
		_, err = q.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE %s = %s AND %s = %s", stateTable,
			d.quote("TableName"), d.placeholder(1), d.quote("SourceName"), d.placeholder(2)), table, source)
	} else {
		_, err = q.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE %s = %s", stateTable,
			d.quote("TableName"), d.placeholder(1)), table)
	}
	if err != nil {
		return fmt.Errorf("clear replication state: %w", err)
	}
	return nil
}

func decodeState(data []byte, into *tableState) error {
	if len(data) == 0 || data[0] != stateVersion {
		return errors.New("unknown state format")
	}
	data = data[1:]
	if len(data)%entrySize != 0 {
		return errors.New("truncated state")
	}
	for ; len(data) > 0; data = data[entrySize:] {
		into.add(keyFP(data[:len(keyFP{})]), rowHash(data[len(keyFP{}):entrySize]))
	}
	return nil
}

// decodeKey decodes a key encoded by appendHashValue into its values.
func decodeKey(k string) ([]any, error) {
	var out []any
	b := []byte(k)
	for len(b) > 0 {
		tag := b[0]
		b = b[1:]
		switch tag {
		case 0:
			out = append(out, nil)
		case 1, 2, 7:
			n, w := binary.Uvarint(b)
			if w <= 0 || uint64(len(b)-w) < n {
				return nil, errors.New("bad key encoding")
			}
			v := b[w : w+int(n)]
			if tag == 2 {
				out = append(out, append([]byte(nil), v...))
			} else {
				out = append(out, string(v))
			}
			b = b[w+int(n):]
		case 3, 4:
			if len(b) < 8 {
				return nil, errors.New("bad key encoding")
			}
			u := binary.BigEndian.Uint64(b)
			if tag == 3 {
				out = append(out, int64(u))
			} else {
				out = append(out, math.Float64frombits(u))
			}
			b = b[8:]
		case 5:
			if len(b) < 1 {
				return nil, errors.New("bad key encoding")
			}
			out = append(out, b[0] == 1)
			b = b[1:]
		case 6:
			if len(b) < 12 {
				return nil, errors.New("bad key encoding")
			}
			out = append(out, time.Unix(int64(binary.BigEndian.Uint64(b)), int64(binary.BigEndian.Uint32(b[8:]))).UTC())
			b = b[12:]
		default:
			return nil, errors.New("bad key encoding")
		}
	}
	return out, nil
}

// stateMeta returns the column signature and source tenant of the state
// of one table and source name ("" when there is none, or no tenant).
func stateMeta(ctx context.Context, d dialect, q querier, stateTable, table, source string) (sig, tenant string, err error) {
	var ten sql.NullString
	err = q.QueryRowContext(ctx, fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s = %s AND %s = %s AND %s = 0", d.quote("Columns"), d.quote("Tenant"), stateTable,
		d.quote("TableName"), d.placeholder(1), d.quote("SourceName"), d.placeholder(2), d.quote("Chunk")), table, source).Scan(&sig, &ten)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("read replication state: %w", err)
	}
	return sig, ten.String, nil
}

// invalidateStates makes the states of every source name of a table
// untrusted (an empty signature matches no result): their next runs rewrite
// every row.
func invalidateStates(ctx context.Context, d dialect, q querier, stateTable, table string) error {
	_, err := q.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET %s = '' WHERE %s = %s", stateTable, d.quote("Columns"),
		d.quote("TableName"), d.placeholder(1)), table)
	if err != nil {
		return fmt.Errorf("mark the replication state stale: %w", err)
	}
	return nil
}
