package jsonstr

import (
	"encoding/json"
	"testing"
)

func TestAppend(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", `"plain"`},
		{`q"b\`, `"q\"b\\"`},
		{"a\nb\rc\td\be\ff\x01", `"a\nb\rc\td\be\ff\u0001"`},
		{"<&>", `"<&>"`},
		{"\u2028\u2029", `"\u2028\u2029"`},
		{"bad\xffutf8", `"bad\ufffdutf8"`},
		{"emoji 🎉 עברית", `"emoji 🎉 עברית"`},
	} {
		got := string(Append(nil, tc.in))
		if got != tc.want {
			t.Errorf("Append(%q) = %s, want %s", tc.in, got, tc.want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("Append(%q) = %s is not valid JSON: %v", tc.in, got, err)
		}
	}
}
