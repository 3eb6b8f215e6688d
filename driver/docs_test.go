package driver

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated files: the property table of docs/connection.md, package schema's tables and docs/tables.md")

// TestConnectionDocs fails when the property table of docs/connection.md
// drifts from the property table of this package; run with -update to
// regenerate it (the prose around it is kept).
func TestConnectionDocs(t *testing.T) {
	path := filepath.Join("..", "docs", "connection.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	const begin, end = "<!-- properties:", "<!-- /properties -->"
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the %s ... %s markers", path, begin, end)
	}
	i += strings.Index(doc[i:], "\n") + 1
	if doc[i:j] == propertyTable() {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(doc[:i]+propertyTable()+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the property table of docs/connection.md is out of date: run go test ./driver -run TestConnectionDocs -update")
}
