package replicate

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plannersql/planner/schema"
)

// Column types beyond the planner's five, for other sources.
const (
	typeReal schema.Type = "REAL" // a float64
	typeBlob schema.Type = "BLOB" // bytes
)

// column is one column of a statement's result.
type column struct {
	name string // in the destination's name style
	src  string // as the result names it
	typ  schema.Type
}

// typeFromDatabaseName maps a source driver's DatabaseTypeName to a column
// type. ok is false when the name is empty or unknown (the type is then
// inferred from the first value).
func typeFromDatabaseName(name string) (schema.Type, bool) {
	n := strings.ToUpper(strings.TrimSpace(name))
	if i := strings.IndexByte(n, '('); i >= 0 {
		n = strings.TrimSpace(n[:i])
	}
	switch n {
	case "":
		return "", false
	case "TEXT", "VARCHAR", "CHAR", "CHARACTER", "NCHAR", "NVARCHAR", "CLOB", "UUID", "NAME", "BPCHAR",
		"STRING", "ENUM", "SET", "TINYTEXT", "MEDIUMTEXT", "LONGTEXT", "CITEXT", "CHARACTER VARYING",
		"NUMERIC", "DECIMAL", "TIME", "TIMETZ", "INTERVAL", "INET", "CIDR", "MACADDR", "XML", "YEAR":
		return schema.Text, true
	case "INTEGER", "INT", "INT2", "INT4", "INT8", "SMALLINT", "BIGINT", "TINYINT", "MEDIUMINT",
		"UNSIGNED INT", "UNSIGNED BIGINT", "UNSIGNED SMALLINT", "UNSIGNED TINYINT", "UNSIGNED MEDIUMINT",
		"SERIAL", "BIGSERIAL", "SMALLSERIAL", "OID":
		return schema.Integer, true
	case "BOOLEAN", "BOOL", "BIT":
		return schema.Boolean, true
	case "DATETIME", "TIMESTAMP", "TIMESTAMPTZ", "DATE", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITHOUT TIME ZONE":
		return schema.DateTime, true
	case "JSON", "JSONB":
		return schema.JSON, true
	case "REAL", "FLOAT", "DOUBLE", "FLOAT4", "FLOAT8", "DOUBLE PRECISION":
		return typeReal, true
	case "BLOB", "BYTEA", "BINARY", "VARBINARY", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "GEOMETRY":
		return typeBlob, true
	}
	// SQLite's affinity rules for anything else.
	switch {
	case strings.Contains(n, "INT"):
		return schema.Integer, true
	case strings.Contains(n, "CHAR"), strings.Contains(n, "TEXT"), strings.Contains(n, "CLOB"):
		return schema.Text, true
	case strings.Contains(n, "BLOB"):
		return typeBlob, true
	case strings.Contains(n, "REAL"), strings.Contains(n, "FLOA"), strings.Contains(n, "DOUB"):
		return typeReal, true
	}
	return schema.Text, true
}

// typeFromValue infers a column type from a scanned value, for result columns
// without a declared type (expressions).
func typeFromValue(v any) schema.Type {
	switch v.(type) {
	case int64, int32, int, int16, int8, uint32, uint16, uint8:
		return schema.Integer
	case float64, float32:
		return typeReal
	case bool:
		return schema.Boolean
	case time.Time:
		return schema.DateTime
	case []byte:
		return typeBlob
	default:
		return schema.Text
	}
}

// appendHashValue appends a self-delimiting, type-tagged encoding of a raw
// source value to b. Equal values encode equally; different values (or types)
// differently.
func appendHashValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, 0)
	case string:
		b = append(b, 1)
		b = binary.AppendUvarint(b, uint64(len(x)))
		return append(b, x...)
	case []byte:
		b = append(b, 2)
		b = binary.AppendUvarint(b, uint64(len(x)))
		return append(b, x...)
	case int64:
		b = append(b, 3)
		return binary.BigEndian.AppendUint64(b, uint64(x))
	case float64:
		b = append(b, 4)
		return binary.BigEndian.AppendUint64(b, math.Float64bits(x))
	case bool:
		if x {
			return append(b, 5, 1)
		}
		return append(b, 5, 0)
	case time.Time:
		b = append(b, 6)
		b = binary.BigEndian.AppendUint64(b, uint64(x.Unix()))
		return binary.BigEndian.AppendUint32(b, uint32(x.Nanosecond()))
	default:
		s := fmt.Sprintf("%T:%v", v, v)
		b = append(b, 7)
		b = binary.AppendUvarint(b, uint64(len(s)))
		return append(b, s...)
	}
}

// valueError describes a value that cannot be stored in a column type.
func valueError(v any, t schema.Type) error {
	s := fmt.Sprintf("%v", v)
	if tm, ok := v.(time.Time); ok {
		s = formatTime(tm) // not Go's default form, with its monotonic clock reading
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return fmt.Errorf("value %q (%T) is not a valid %s", s, v, t)
}

// asString converts a value to text.
func asString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case time.Time:
		return formatTime(x)
	default:
		return fmt.Sprint(v)
	}
}

// asInt64 converts a value to an integer.
func asInt64(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), nil
		}
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
			return int64(x), nil
		}
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return n, nil
		}
	case []byte:
		if n, err := strconv.ParseInt(strings.TrimSpace(string(x)), 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, valueError(v, schema.Integer)
}

// boolInt is b as the integer 0 or 1, the form SQLite and MySQL store
// booleans in.
func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// asBoolInt converts a value to a boolean stored as 0 or 1 (asBool).
func asBoolInt(v any) (any, error) {
	b, err := asBool(v)
	return boolInt(b), err
}

// asBytes converts a value to bytes for a BLOB column: bytes as they are,
// anything else as its text form.
func asBytes(v any) []byte {
	if b, ok := v.([]byte); ok {
		return b
	}
	return []byte(asString(v))
}

// asBool converts a value to a boolean (0/1, true/false).
func asBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case int64:
		return x != 0, nil
	case float64:
		return x != 0, nil
	case string, []byte:
		s := strings.ToLower(strings.TrimSpace(asString(x)))
		if b, ok := parseBool(s); ok {
			return b, nil
		}
		if s == "t" || s == "f" { // PostgreSQL's text form
			return s == "t", nil
		}
	}
	return false, valueError(v, schema.Boolean)
}

// asFloat converts a value to a float64.
func asFloat(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case int:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case string, []byte:
		if f, err := strconv.ParseFloat(strings.TrimSpace(asString(x)), 64); err == nil {
			return f, nil
		}
	}
	return 0, valueError(v, typeReal)
}

// timeLayouts are the text forms accepted for DATETIME values: RFC 3339 (any
// number of fractional digits), SQL's space-separated form, and dates. A
// value without a zone is UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999 -0700",
	"2006-01-02 15:04:05.999999999 -0700 MST",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

// asTime converts a value to a time.Time in UTC.
func asTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), nil
	case string, []byte:
		s := strings.TrimSpace(asString(x))
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return t.UTC(), nil
			}
		}
	}
	return time.Time{}, valueError(v, schema.DateTime)
}

// formatTime renders a time as the source's DATETIME text: RFC 3339 UTC
// with seven fractional digits (schema.FormatDateTime, which the planner
// driver uses too).
func formatTime(t time.Time) string { return schema.FormatDateTime(t) }

// checkLength refuses a text value longer than a VARCHAR(n) column holds.
func checkLength(v any, n int) error {
	s, ok := v.(string)
	if !ok || len(s) <= n {
		return nil
	}
	if c := utf8.RuneCountInString(s); c > n {
		return fmt.Errorf("value of %d characters is longer than the column's %d", c, n)
	}
	return nil
}

// checkJSON refuses text that is not a JSON value, which what (a JSON
// column) cannot hold.
func checkJSON(s, what string) error {
	if json.Valid([]byte(s)) {
		return nil
	}
	return fmt.Errorf("value is not valid JSON, which %s cannot hold", what)
}
