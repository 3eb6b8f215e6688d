package driver

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/plannersql/planner/graph"
)

// Encoders of the JSON columns (Assignments, AppliedCategories, Checklist,
// References, SharedWith, CategoryDescriptions) that write exactly what
// json.Marshal writes — keys sorted, omitempty fields left out, '<', '>' and
// '&' escaped, invalid UTF-8 replaced — without reflection, and without
// encoding/json re-checking the output of DateTime.MarshalJSON. A scan of
// Tasks reading every column spent most of its row-building time there.
// Tests compare both encoders on the emulator's awkward data.

// appendJSONColumn appends v's JSON if it is one of the column types; ok
// is false for any other type (use json.Marshal).
func appendJSONColumn(b []byte, v any) (_ []byte, ok bool) {
	switch m := v.(type) {
	case map[string]graph.Assignment:
		return appendMap(b, m, appendAssignment), true
	case map[string]graph.ChecklistItem:
		return appendMap(b, m, appendChecklistItem), true
	case map[string]graph.ExternalReference:
		return appendMap(b, m, appendReference), true
	case map[string]bool:
		return appendMap(b, m, appendBool), true
	case graph.CategoryDescriptions:
		return appendMap(b, map[string]string(m), appendJSONString), true
	case map[string]string:
		return appendMap(b, m, appendJSONString), true
	}
	return b, false
}

// appendMap writes a map with its keys sorted, as json.Marshal does.
func appendMap[V any](b []byte, m map[string]V, val func([]byte, V) []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = val(b, m[k])
	}
	return append(b, '}')
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// fields writes the members of an object; member adds one unless omitted.
type fields struct {
	b     []byte
	first bool
}

func (f *fields) key(k string) {
	if !f.first {
		f.b = append(f.b, ',')
	}
	f.first = false
	f.b = append(f.b, '"')
	f.b = append(f.b, k...)
	f.b = append(f.b, '"', ':')
}

func (f *fields) str(k, v string) {
	if v != "" {
		f.key(k)
		f.b = appendJSONString(f.b, v)
	}
}

func (f *fields) date(k string, v *graph.DateTime) {
	if v == nil {
		return
	}
	f.key(k)
	if v.IsZero() {
		f.b = append(f.b, "null"...)
		return
	}
	f.b = append(f.b, '"')
	f.b = v.UTC().AppendFormat(f.b, dateTimeLayout)
	f.b = append(f.b, '"')
}

func (f *fields) identitySet(k string, v *graph.IdentitySet) {
	if v == nil {
		return
	}
	f.key(k)
	g := fields{b: append(f.b, '{'), first: true}
	g.identity("user", v.User)
	g.identity("application", v.Application)
	g.identity("device", v.Device)
	f.b = append(g.b, '}')
}

func (f *fields) identity(k string, v *graph.Identity) {
	if v == nil {
		return
	}
	f.key(k)
	g := fields{b: append(f.b, '{'), first: true}
	g.str("id", v.ID)
	g.str("displayName", v.DisplayName)
	f.b = append(g.b, '}')
}

func appendAssignment(b []byte, a graph.Assignment) []byte {
	f := fields{b: append(b, '{'), first: true}
	f.str("@odata.type", a.ODataType)
	f.identitySet("assignedBy", a.AssignedBy)
	f.date("assignedDateTime", a.AssignedDateTime)
	f.str("orderHint", a.OrderHint)
	return append(f.b, '}')
}

func appendChecklistItem(b []byte, c graph.ChecklistItem) []byte {
	f := fields{b: append(b, '{'), first: true}
	f.str("@odata.type", c.ODataType)
	f.str("title", c.Title)
	if c.IsChecked != nil {
		f.key("isChecked")
		f.b = appendBool(f.b, *c.IsChecked)
	}
	f.str("orderHint", c.OrderHint)
	f.identitySet("lastModifiedBy", c.LastModifiedBy)
	f.date("lastModifiedDateTime", c.LastModifiedDateTime)
	return append(f.b, '}')
}

func appendReference(b []byte, r graph.ExternalReference) []byte {
	f := fields{b: append(b, '{'), first: true}
	f.str("@odata.type", r.ODataType)
	f.str("alias", r.Alias)
	f.str("type", r.Type)
	f.str("previewPriority", r.PreviewPriority)
	f.identitySet("lastModifiedBy", r.LastModifiedBy)
	f.date("lastModifiedDateTime", r.LastModifiedDateTime)
	return append(f.b, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as json.Marshal does (HTML-safe escaping).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
