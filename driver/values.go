package driver

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/plannersql/planner/graph"
)

// Conversions between Graph values and the values SQLite receives: nil, int64
// or string (DATETIME as RFC 3339 UTC text in one fixed-width form — see
// datetime.go —, JSON as compact text, BOOLEAN 0/1).

// text maps an empty string to NULL.
func text(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func intVal(p *int) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

func boolVal(p *bool) any {
	if p == nil {
		return nil
	}
	if *p {
		return int64(1)
	}
	return int64(0)
}

func dateVal(d *graph.DateTime) any {
	if d == nil || d.IsZero() {
		return nil
	}
	return timeText(d.Time)
}

// parseTime reads DATETIME text to write: a date, or a date and time (see
// parseDateTimeText; UTC when no zone is given).
func parseTime(s string) (time.Time, error) {
	t, precision, ok := parseDateTimeText(s)
	if !ok || precision < dateOnly {
		return time.Time{}, fmt.Errorf("not an RFC 3339 time: %q", s)
	}
	return t, nil
}

// lazy is a column value computed only when SQLite asks for it: encoding a
// JSON column is most of the cost of building a row, and most queries use
// few of them.
type lazy func() any

// lazyJSON is jsonVal, computed when the column is read.
func lazyJSON[T any](v T, isNil bool) any {
	if isNil {
		return nil
	}
	return lazy(func() any { return jsonVal(v, false) })
}

// jsonVal is the text of a JSON column (Assignments, AppliedCategories,
// Checklist, References, SharedWith, CategoryDescriptions): v as
// encoding/json's Marshal writes it — compact, map keys sorted, omitempty
// fields left out, '<', '>', '&', U+2028, U+2029 and invalid UTF-8 escaped —
// or NULL when isNil (TestJSONColumnText).
func jsonVal[T any](v T, isNil bool) any {
	if isNil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return string(b)
}

func userID(s *graph.IdentitySet) any {
	if s == nil || s.User == nil {
		return nil
	}
	return text(s.User.ID)
}

func userName(s *graph.IdentitySet) any {
	if s == nil || s.User == nil {
		return nil
	}
	return text(s.User.DisplayName)
}

func appID(s *graph.IdentitySet) any {
	if s == nil || s.Application == nil {
		return nil
	}
	return text(s.Application.ID)
}

func appName(s *graph.IdentitySet) any {
	if s == nil || s.Application == nil {
		return nil
	}
	return text(s.Application.DisplayName)
}

// str returns a value as text for a write ("" for NULL).
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}

// patchValue converts a column value to what Graph takes: NULL → JSON null,
// DATETIME text → a normalised RFC 3339 UTC time, BOOLEAN → true/false.
func patchTime(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	t, err := parseTime(str(v))
	if err != nil {
		return nil, err
	}
	return timeText(t), nil
}

func patchInt(v any) any {
	if v == nil {
		return nil
	}
	return v.(int64)
}

func patchBool(v any) any {
	if v == nil {
		return nil
	}
	return v.(int64) != 0
}

// jsonObject decodes a JSON column value into an object; NULL is empty.
func jsonObject(col string, v any) (map[string]json.RawMessage, error) {
	if v == nil {
		return map[string]json.RawMessage{}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(str(v)), &m); err != nil {
		return nil, fmt.Errorf("column %s must hold a JSON object: %w", col, err)
	}
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	return m, nil
}

// jsonObjectKeyed is jsonObject with every key in the form canon gives
// (userKey, labelKey): Graph's form of the key, so that a key written in
// another form names the same user or label. Two keys of one form are an
// error naming the column.
func jsonObjectKeyed(col string, v any, canon func(string) string) (map[string]json.RawMessage, error) {
	m, err := jsonObject(col, v)
	if err != nil || canon == nil {
		return m, err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]json.RawMessage, len(m))
	from := make(map[string]string, len(m))
	for _, k := range keys {
		c := canon(k)
		if prev, dup := from[c]; dup {
			return nil, fmt.Errorf("column %s names %s twice (as %q and %q): keep one key", col, c, prev, k)
		}
		from[c] = k
		out[c] = m[k]
	}
	return out, nil
}

// userKey returns a user id in the form Graph keys assignments, sharedWith
// and orderHintsByAssignee by, and returns in ids (see guidKey). Anything
// else (a user principal name) is returned as is.
func userKey(s string) string { return guidKey(s) }

// guidKey returns a GUID in the form Graph writes every GUID it returns
// (user, group and checklist item ids): a GUID written in any of .NET's
// forms (upper case, as SQL Server prints them; 32 digits; in braces or
// parentheses) becomes lower-case 8-4-4-4-12, so that the driver compares
// and sends one form. Anything that is not a GUID is returned as is.
func guidKey(s string) string {
	if !isGUID(s) {
		return s
	}
	h := strings.ToLower(strings.Map(func(r rune) rune {
		switch r {
		case '-', '{', '}', '(', ')':
			return -1
		}
		return r
	}, s))
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// labelKey returns a label ("Category3") in Graph's form ("category3").
func labelKey(s string) string { return strings.ToLower(s) }
