package graph

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestReferenceKeysDecodedOnce decodes many details whose reference keys
// contain escaped percent signs: each key keeps its value and its URL is
// decoded exactly once.
func TestReferenceKeysDecodedOnce(t *testing.T) {
	// Enough keys that the map spans several groups, as a task with many
	// references does.
	refs := map[string]any{}
	want := map[string]string{}
	for i := range 40 {
		u := fmt.Sprintf("https://contoso.sharepoint.com/sites/Team%%20Site/doc%%20%d.docx", i)
		refs[EncodeReferenceKey(u)] = map[string]string{"alias": fmt.Sprint(i)}
		want[u] = fmt.Sprint(i)
	}
	b, _ := json.Marshal(map[string]any{"id": "t", "references": refs})
	body := string(b)
	for range 200 { // map iteration order is random: repeat
		var d TaskDetails
		if err := decodeInto([]byte(body), &d); err != nil {
			t.Fatal(err)
		}
		if len(d.References) != len(want) {
			t.Fatalf("references %v, want %v", d.References, want)
		}
		for u, alias := range want {
			if r := d.References[EncodeReferenceKey(u)]; r.Alias != alias || r.URL != u {
				t.Fatalf("references %v, want key %q", d.References, u)
			}
		}
	}
}
