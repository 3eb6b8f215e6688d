package driver

import "testing"

func TestPlaceHint(t *testing.T) {
	t.Parallel()
	sib := []string{"b", "d", "f"}
	list := func(s []string) func() ([]string, error) {
		return func() ([]string, error) { return s, nil }
	}
	strict := hintPlace{strict: true, appendNew: true}
	tests := []struct {
		name, given, cur string
		place            hintPlace
		siblings         []string
		want             string
	}{
		{"composed kept", "b d!", "", strict, sib, "b d!"},
		{"composed kept, service place", " b!", "x", hintPlace{}, sib, " b!"},
		{"none, service places", "", "", hintPlace{}, sib, ""},
		{"none, new item last", "", "", strict, sib, "f !"},
		{"none, existing item kept", "", "c", strict, sib, ""},
		{"none, first of an empty checklist", "", "", strict, nil, ""},
		{"none, first assignee", "", "", hintPlace{required: true, appendNew: true}, nil, " !"},
		{"empty-list hint on a checklist: first", " !", "", strict, sib, " b!"},
		{"empty-list hint on a checklist, empty: omitted", " ! !", "", strict, nil, ""},
		{"empty-list hint elsewhere: kept", " !", "", hintPlace{}, sib, " !"},
		{"copied value, new row: before it", "d", "", hintPlace{}, sib, "b d!"},
		{"copied value, moving up: before it", "d", "e", hintPlace{}, sib, "b d!"},
		{"copied value, moving down: after it", "d", "c", hintPlace{}, sib, "d f!"},
		{"copied last value, moving down: last", "f", "a", hintPlace{}, sib, "f !"},
		{"copied first value: first", "b", "c", hintPlace{}, sib, " b!"},
		{"value between neighbours", "c", "", hintPlace{}, sib, "b d!"},
		{"value after all", "z", "", hintPlace{}, sib, "f !"},
		{"value before all", "a", "", hintPlace{}, sib, " b!"},
		{"value in an empty list, service places", "q", "", hintPlace{}, nil, ""},
		{"value in an empty checklist: omitted", "q", "", strict, nil, ""},
		{"value in an empty list, required", "q", "", hintPlace{required: true}, nil, " !"},
		{"empty sibling hints ignored", "", "", strict, []string{"", "b"}, "b !"},
	}
	for _, tt := range tests {
		got, err := placeHint(tt.given, tt.cur, tt.place, list(tt.siblings))
		if err != nil || got != tt.want {
			t.Errorf("%s: placeHint(%q, %q) = %q, %v; want %q", tt.name, tt.given, tt.cur, got, err, tt.want)
		}
	}
	// The siblings are read only when a value must be computed.
	read := false
	_, _ = placeHint("b d!", "", strict, func() ([]string, error) { read = true; return nil, nil })
	_, _ = placeHint("", "", hintPlace{}, func() ([]string, error) { read = true; return nil, nil })
	if read {
		t.Error("siblings were read for a hint that needs none")
	}
}
