package format

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"

	"github.com/plannersql/planner/internal/jsonstr"
	"github.com/plannersql/planner/schema"
)

// kind is what a column's declared type says about its values.
type kind uint8

const (
	kindOther    kind = iota
	kindJSON          // JSON, JSONB
	kindInt           // a type with INT in its name
	kindNumber        // REAL, FLOAT, DOUBLE, NUMERIC, DECIMAL
	kindDateTime      // DATETIME, TIMESTAMP
)

// column is a result column.
type column struct {
	name string
	kind kind
}

// describe returns the columns of rs, with their declared types when rs knows them.
func describe(rs ResultSet, names []string) []column {
	cols := make([]column, len(names))
	types := declaredTypes(rs, len(names))
	for i, name := range names {
		cols[i] = column{name: name, kind: kindOf(types[i])}
	}
	return cols
}

func declaredTypes(rs ResultSet, n int) []string {
	out := make([]string, n)
	if tn, ok := rs.(TypeNamer); ok {
		copy(out, tn.DatabaseTypeNames())
		return out
	}
	cts, err := rs.ColumnTypes()
	if err != nil || len(cts) != n {
		return out // unknown types only cost the typed JSON rendering
	}
	for i, ct := range cts {
		if ct != nil {
			out[i] = ct.DatabaseTypeName()
		}
	}
	return out
}

// kindOf classifies a declared type name, following SQLite's affinity rules where
// they apply.
func kindOf(decl string) kind {
	t := strings.ToUpper(strings.TrimSpace(decl))
	if i := strings.IndexByte(t, '('); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	switch {
	case t == "":
		return kindOther
	case t == "JSON" || t == "JSONB":
		return kindJSON
	case t == "DATETIME" || t == "TIMESTAMP":
		return kindDateTime
	case t == "BOOLEAN" || t == "BOOL":
		// SQLite has no boolean type: its BOOLEAN columns hold 0 and 1,
		// printed as the integers they are (a driver's Go bool prints
		// true or false).
		return kindInt
	case strings.Contains(t, "INT"):
		return kindInt
	case strings.Contains(t, "REAL"), strings.Contains(t, "FLOA"), strings.Contains(t, "DOUB"),
		strings.Contains(t, "NUMERIC"), strings.Contains(t, "DECIMAL"):
		return kindNumber
	}
	return kindOther
}

// textValue renders a non-NULL value as text, unescaped. numeric reports a number,
// which the table modes align right.
func textValue(v any, k kind) (s string, numeric bool) {
	if k == kindDateTime {
		if s, ok := dateTimeText(v); ok {
			return s, false
		}
	}
	switch x := v.(type) {
	case string:
		return x, (k == kindInt || k == kindNumber) && isJSONNumber(x)
	case []byte:
		if utf8.Valid(x) {
			s := string(x)
			return s, (k == kindInt || k == kindNumber) && isJSONNumber(s)
		}
		return "x'" + strings.ToUpper(hex.EncodeToString(x)) + "'", false
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return formatFloat(x, 64), true
	case bool:
		return strconv.FormatBool(x), false
	case time.Time:
		return schema.FormatDateTime(x), false
	case nil:
		return "", false
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(rv.Uint(), 10), true
	case reflect.Float32:
		return formatFloat(rv.Float(), 32), true
	case reflect.Float64:
		return formatFloat(rv.Float(), 64), true
	case reflect.String:
		return rv.String(), false
	case reflect.Bool:
		return strconv.FormatBool(rv.Bool()), false
	}
	return fmt.Sprint(v), false
}

// dateTimeLayouts are the text forms of a time dateTimeText puts in the
// canonical form: RFC 3339 with any number of fractional digits, with a T or
// (as SQLite's datetime() writes) a space between date and time.
var dateTimeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00"}

// dateTimeText renders a value of a DATETIME column in the one canonical
// form (schema.DateTimeLayout: UTC, seven fractional digits), whether the
// driver handed it over as a time.Time (modernc.org/sqlite parses the text
// of DATETIME-declared columns) or as text, so that every output mode
// prints one fixed width and text order is time order (a CSV export sorts
// by time). Text that names no time with a zone is left as it is (ok false).
func dateTimeText(v any) (string, bool) {
	var s string
	switch x := v.(type) {
	case time.Time:
		return schema.FormatDateTime(x), true
	case string:
		s = x
	case []byte:
		s = string(x)
	default:
		return "", false
	}
	for _, layout := range dateTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return schema.FormatDateTime(t), true
		}
	}
	return "", false
}

// formatFloat formats f as encoding/json does: the shortest representation that
// reads back the same value, with an exponent only for very small or large values.
func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return string(appendFloat(nil, f, bits))
}

func appendFloat(b []byte, f float64, bits int) []byte {
	abs := math.Abs(f)
	fmtByte := byte('f')
	if abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		fmtByte = 'e'
	}
	b = strconv.AppendFloat(b, f, fmtByte, -1, bits)
	if fmtByte == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// isJSONNumber reports whether s is a JSON number literal.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i >= len(s):
		return false
	case s[i] == '0':
		i++
	case s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}

// appendJSONValue appends v as a JSON value.
func appendJSONValue(b []byte, v any, k kind) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	switch k {
	case kindJSON:
		if raw, ok := textOf(v); ok && json.Valid(raw) {
			return appendCompactJSON(b, raw)
		}
	case kindInt, kindNumber:
		if raw, ok := textOf(v); ok && isJSONNumber(string(raw)) {
			return append(b, raw...)
		}
	case kindDateTime:
		if s, ok := dateTimeText(v); ok {
			return jsonstr.Append(b, s)
		}
	}
	switch x := v.(type) {
	case string:
		return jsonstr.Append(b, x)
	case []byte:
		if utf8.Valid(x) {
			return jsonstr.Append(b, string(x))
		}
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, x)
		return append(b, '"')
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		return appendJSONFloat(b, x, 64)
	case bool:
		return strconv.AppendBool(b, x)
	case time.Time:
		return jsonstr.Append(b, schema.FormatDateTime(x))
	case json.Marshaler:
		if raw, err := x.MarshalJSON(); err == nil && json.Valid(raw) {
			return appendCompactJSON(b, raw)
		}
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(b, rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(b, rv.Uint(), 10)
	case reflect.Float32:
		return appendJSONFloat(b, rv.Float(), 32)
	case reflect.Float64:
		return appendJSONFloat(b, rv.Float(), 64)
	case reflect.Bool:
		return strconv.AppendBool(b, rv.Bool())
	case reflect.String:
		return jsonstr.Append(b, rv.String())
	}
	return jsonstr.Append(b, fmt.Sprint(v))
}

func appendJSONFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return jsonstr.Append(b, formatFloat(f, bits))
	}
	return appendFloat(b, f, bits)
}

// textOf returns the bytes of a string or []byte value.
func textOf(v any) ([]byte, bool) {
	switch x := v.(type) {
	case string:
		return []byte(x), true
	case []byte:
		return x, true
	}
	return nil, false
}

// appendCompactJSON appends valid JSON without insignificant space, so that it
// stays on one line.
func appendCompactJSON(b []byte, raw []byte) []byte {
	buf := bytes.NewBuffer(b)
	if err := json.Compact(buf, raw); err != nil {
		return jsonstr.Append(b, string(raw))
	}
	return buf.Bytes()
}

const hexDigits = "0123456789abcdef"

// escapeText makes s safe to print on one line of a terminal; see the package
// documentation. In markdown, line breaks become <br> and "|" is escaped.
func escapeText(s string, markdown bool) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < 0x20 || c == 0x7f || c >= utf8.RuneSelf || markdown && (c == '|' || c == '\\') {
			break
		}
		i++
	}
	if i == len(s) {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s) + 8)
	sb.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			sb.WriteString(`\x`)
			sb.WriteByte(hexDigits[s[i]>>4])
			sb.WriteByte(hexDigits[s[i]&0xF])
		case r == '\n':
			if markdown {
				sb.WriteString("<br>")
			} else {
				sb.WriteString(`\n`)
			}
		case r == '\r':
			if markdown && i+1 < len(s) && s[i+1] == '\n' {
				break // the \n that follows writes the <br>
			}
			sb.WriteString(`\r`)
		case r == '\t':
			sb.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			sb.WriteString(`\x`)
			sb.WriteByte(hexDigits[r>>4])
			sb.WriteByte(hexDigits[r&0xF])
		case r >= 0x80 && r < 0xa0, // C1 controls
			r >= 0x202a && r <= 0x202e, // bidi embeddings and overrides
			r >= 0x2066 && r <= 0x2069, // bidi isolates
			r == 0x2028 || r == 0x2029: // line and paragraph separators
			fmt.Fprintf(&sb, `\u%04x`, r)
		case markdown && r == '|':
			sb.WriteString(`\|`)
		case markdown && r == '\\' && i+1 < len(s) && (isASCIIPunct(s[i+1]) || s[i+1] == '\n' || s[i+1] == '\r'):
			// A backslash escapes the punctuation after it in Markdown
			// (and would escape the \| or <br> written for it): double it.
			sb.WriteString(`\\`)
		default:
			sb.WriteString(s[i : i+size])
		}
		i += size
	}
	return sb.String()
}

// isASCIIPunct reports the characters a backslash escapes in Markdown.
func isASCIIPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}

var (
	narrowCond = &runewidth.Condition{EastAsianWidth: false, StrictEmojiNeutral: true}
	wideCond   = &runewidth.Condition{EastAsianWidth: true, StrictEmojiNeutral: true}
)

// widthCondition returns the width rules to use.
func widthCondition(eastAsian bool) *runewidth.Condition {
	if eastAsian {
		return wideCond
	}
	return narrowCond
}
