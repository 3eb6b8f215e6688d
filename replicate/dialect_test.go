package replicate

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plannersql/planner/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenDialects are the dialects whose SQL is pinned in testdata/<name>.sql.
var goldenDialects = []struct {
	name string
	d    dialect
}{
	{"sqlite", &sqliteDialect{}},
	{"postgres", &postgresDialect{}},
	{"mariadb", &mysqlDialect{mariadb: true, binCollate: "utf8mb4_nopad_bin", maxPacket: 16 << 20}},
	{"mysql8", &mysqlDialect{rowAlias: true, binCollate: "utf8mb4_0900_bin", maxPacket: 64 << 20}},
}

// TestGoldenSQL pins every statement form each dialect generates.
func TestGoldenSQL(t *testing.T) {
	t.Parallel()
	for _, g := range goldenDialects {
		t.Run(g.name, func(t *testing.T) {
			d := g.d
			var b strings.Builder
			section := func(title, sql string) { fmt.Fprintf(&b, "-- %s\n%s;\n\n", title, sql) }
			tasks := qualify(d, Name{Schema: "PROD", Table: "Tasks"})
			bk := newBookNames(NameExact)
			cols := []ddlColumn{{name: colSourceName, typ: schema.Text, key: true, sourceName: true}}
			for _, c := range schema.Lookup("Tasks").Columns {
				cols = append(cols, ddlColumn{name: c.Name, typ: c.Type, key: c.Key, id: c.Type == schema.Text && strings.HasSuffix(c.Name, "Id")})
			}
			cols = append(cols, softDeleteColumns(d, bk)...)
			section("create Tasks with SourceName and SoftDelete", createTableSQL(d, tasks, cols))
			refs := qualify(d, Name{Table: "TaskReferences"})
			var refCols []ddlColumn
			for _, c := range schema.Lookup("TaskReferences").Columns {
				refCols = append(refCols, ddlColumn{name: c.Name, typ: c.Type, key: c.Key})
			}
			section("create TaskReferences (composite text key)", createTableSQL(d, refs, refCols))
			section("create with REAL and BLOB", createTableSQL(d, qualify(d, Name{Table: "Other"}),
				[]ddlColumn{{name: "Id", typ: schema.Integer, key: true}, {name: "F", typ: typeReal}, {name: "B", typ: typeBlob}}))
			hostile := Name{Schema: "s;c`h\"", Table: "t.a \"b\" `c` ü"}
			section("hostile names", createTableSQL(d, qualify(d, hostile),
				[]ddlColumn{{name: "Id]; DROP TABLE x; --", typ: schema.Text, key: true}, {name: "it's", typ: schema.JSON}}))
			section("add column", addColumnSQL(d, tasks, ddlColumn{name: "NewCol", typ: schema.DateTime}))
			section("upsert 2 rows", d.upsert(tasks, []string{colSourceName, "TaskId", "Title", "DueDateTime"}, []string{colSourceName, "TaskId"}, 2))
			section("upsert, every column a key", d.upsert(refs, []string{"TaskId", "Url"}, []string{"TaskId", "Url"}, 1))
			section("delete 2 keys", deleteSQL(d, bk, tasks, []string{"TaskId"}, false, 2))
			section("delete 2 composite keys, scoped", deleteSQL(d, bk, refs, []string{"TaskId", "Url"}, true, 2))
			section("soft delete 2 keys, scoped", softDeleteSQL(d, bk, tasks, []string{"TaskId"}, true, 2))
			section("index a foreign key", d.createIndexSQL(Name{Schema: "PROD", Table: "Tasks"}, indexName(d, "Tasks", "PlanId"), "PlanId"))
			section("state table", stateDDL(d, qualify(d, Name{Schema: "PROD", Table: StateTable})))
			for _, bt := range []bookTable{historyBook(d, "", DefaultHistoryTable), runsBook(d, "PROD")} {
				section(bt.name.Table+" table", strings.Join(bt.create, ";\n"))
			}
			if d.kind() == "sqlite" {
				section("lock table", strings.Join(lockBook(d, "").create, ";\n"))
				section("staged upsert", stagedUpsert(d, tasks, []string{colSourceName, "TaskId", "Title"}, []string{colSourceName, "TaskId"}, "temp.stage", []string{"c1", "c2", "c3"}))
			}

			path := filepath.Join("testdata", g.name+".sql")
			if *update {
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGoldenSQL -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), b.String()); diff != "" {
				t.Fatalf("%s differs (-golden +generated; go test -run TestGoldenSQL -update accepts):\n%s", path, diff)
			}
		})
	}
}

func TestBind(t *testing.T) {
	t.Parallel()
	tm := time.Date(2026, 11, 28, 17, 43, 36, 123456789, time.UTC)
	tests := []struct {
		d    dialect
		v    any
		typ  schema.Type
		want any
		err  string
	}{
		{&sqliteDialect{}, "2026-11-28T17:43:36.1234567Z", schema.DateTime, "2026-11-28T17:43:36.1234567Z", ""},
		{&sqliteDialect{}, tm, schema.DateTime, "2026-11-28T17:43:36.1234567Z", ""},
		{&sqliteDialect{}, true, schema.Boolean, int64(1), ""},
		// SQLite would keep any value in any column: values are converted
		// and checked as in the other destinations.
		{&sqliteDialect{}, "not a number", schema.Integer, nil, `value "not a number" (string) is not a valid INTEGER`},
		{&sqliteDialect{}, "12", schema.Integer, int64(12), ""},
		{&sqliteDialect{}, uint64(1 << 63), schema.Integer, nil, "not a valid INTEGER"},
		{&sqliteDialect{}, "2026-11-28 17:43:36+02:00", schema.DateTime, "2026-11-28T15:43:36.0000000Z", ""},
		{&sqliteDialect{}, "garbage", schema.DateTime, nil, "not a valid DATETIME"},
		{&sqliteDialect{}, "maybe", schema.Boolean, nil, "not a valid BOOLEAN"},
		{&sqliteDialect{}, int64(7), schema.Text, "7", ""},
		{&sqliteDialect{}, "1.5", typeReal, 1.5, ""},
		{&postgresDialect{}, time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC), schema.DateTime, nil, "outside PostgreSQL timestamptz's range"},
		{&mysqlDialect{maxPacket: 1 << 20}, strings.Repeat("x", 2<<20), schema.Text, nil, "max_allowed_packet is 1048576 bytes"},
		{&sqliteDialect{}, tm, schema.Integer, nil, `value "2026-11-28T17:43:36.1234567Z" (time.Time) is not a valid INTEGER`},
		{&postgresDialect{}, "2026-11-28T17:43:36.1234567Z", schema.DateTime, time.Date(2026, 11, 28, 17, 43, 36, 123456000, time.UTC), ""},
		{&postgresDialect{}, "2026-11-28 17:43:36+02:00", schema.DateTime, time.Date(2026, 11, 28, 15, 43, 36, 0, time.UTC), ""},
		{&postgresDialect{}, "garbage", schema.DateTime, nil, `value "garbage" (string) is not a valid DATETIME`},
		{&postgresDialect{}, int64(1), schema.Boolean, true, ""},
		{&postgresDialect{}, "0", schema.Boolean, false, ""},
		{&postgresDialect{}, "12", schema.Integer, int64(12), ""},
		{&postgresDialect{}, 3.0, schema.Integer, int64(3), ""},
		{&postgresDialect{}, 3.5, schema.Integer, nil, "not a valid INTEGER"},
		{&postgresDialect{}, int64(7), schema.Text, "7", ""},
		{&postgresDialect{}, []byte(`{"a":1}`), schema.JSON, `{"a":1}`, ""},
		{&postgresDialect{}, nil, schema.DateTime, nil, ""},
		{&mysqlDialect{}, "2026-11-28T17:43:36.1234567Z", schema.DateTime, "2026-11-28 17:43:36.123456", ""},
		{&mysqlDialect{}, tm, schema.DateTime, "2026-11-28 17:43:36.123456", ""},
		{&mysqlDialect{}, true, schema.Boolean, int64(1), ""},
		{&mysqlDialect{}, "x", typeBlob, []byte("x"), ""},
	}
	for _, tt := range tests {
		got, err := tt.d.bind(tt.v, tt.typ)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s.bind(%#v, %s) error = %v, want %q", tt.d.kind(), tt.v, tt.typ, err, tt.err)
			}
			continue
		}
		if err != nil || !cmp.Equal(got, tt.want) {
			t.Errorf("%s.bind(%#v, %s) = %#v, %v; want %#v", tt.d.kind(), tt.v, tt.typ, got, err, tt.want)
		}
	}
}

func TestTypeFromDatabaseName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]schema.Type{
		"TEXT": schema.Text, "INTEGER": schema.Integer, "BOOLEAN": schema.Boolean, "DATETIME": schema.DateTime, "JSON": schema.JSON,
		"varchar(255)": schema.Text, "INT8": schema.Integer, "UNSIGNED BIGINT": schema.Integer, "bool": schema.Boolean,
		"TIMESTAMPTZ": schema.DateTime, "JSONB": schema.JSON, "FLOAT8": typeReal, "BYTEA": typeBlob, "NUMERIC": schema.Text,
		"MEDIUMINT UNSIGNED": schema.Integer, "NATIVE CHARACTER(70)": schema.Text, "WHATEVER": schema.Text,
	} {
		if got, ok := typeFromDatabaseName(name); !ok || got != want {
			t.Errorf("typeFromDatabaseName(%q) = %s, %v; want %s", name, got, ok, want)
		}
	}
	if _, ok := typeFromDatabaseName(""); ok {
		t.Error("an empty type name must be inferred from values")
	}
}

func TestSchemaFile(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ main, schema, want string }{
		{"/data/planner.db", "PROD", "/data/planner.prod.db"},
		{"/data/planner.sqlite", "prod", "/data/planner.prod.db"},
		{"/data/x", "Été_2026-a", "/data/x.Été_2026-a.db"},
		{"/data/x.db", "../../etc/passwd", "/data/x.%2E%2E%2F%2E%2E%2Fetc%2Fpasswd.db"},
		{"/data/x.db", "a b;c", "/data/x.a%20b%3Bc.db"},
	} {
		if got := schemaFile(tt.main, tt.schema); got != filepath.FromSlash(tt.want) {
			t.Errorf("schemaFile(%q, %q) = %q, want %q", tt.main, tt.schema, got, tt.want)
		}
	}
}

func TestStateRoundTrip(t *testing.T) {
	t.Parallel()
	rows := map[keyFP]rowHash{}
	for i := range 100000 { // more than one chunk
		var kb []byte
		kb = appendHashValue(kb, fmt.Sprintf("task-%06d", i))
		rows[fingerprint(kb)] = hashRow([]byte(fmt.Sprint(i)))
	}
	var chunks [][]byte
	buf := []byte{stateVersion}
	for k, h := range rows {
		buf = append(append(buf, k[:]...), h[:]...)
		if len(buf) >= stateChunkBytes {
			chunks = append(chunks, buf)
			buf = []byte{stateVersion}
		}
	}
	chunks = append(chunks, buf)
	if len(chunks) < 2 {
		t.Fatalf("%d chunks, want several", len(chunks))
	}
	st := newTableState(0)
	for _, c := range chunks {
		if err := decodeState(c, st); err != nil {
			t.Fatal(err)
		}
	}
	got := map[keyFP]rowHash{}
	for _, e := range st.entries {
		got[e.key] = e.hash
	}
	if !cmp.Equal(rows, got) || len(st.index) != len(rows) {
		t.Fatal("state round trip lost rows")
	}
	for _, bad := range [][]byte{{stateVersion, 200}, {1}, nil} {
		if err := decodeState(bad, st); err == nil {
			t.Fatalf("bad state %v accepted", bad)
		}
	}
	tm := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	var kb []byte
	for _, v := range []any{"s", []byte("b"), int64(-3), 2.5, true, tm, nil} {
		kb = appendHashValue(kb, v)
	}
	vals, err := decodeKey(string(kb))
	if err != nil || !cmp.Equal(vals, []any{"s", []byte("b"), int64(-3), 2.5, true, tm, nil}) {
		t.Fatalf("decodeKey = %#v, %v", vals, err)
	}
}

func TestMySQLVersion(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{"8.0.19": true, "8.0.18": false, "8.4.2-log": true, "5.7.44": false, "9.1.0": true, "10.11.19-MariaDB": true} {
		if got := mysqlVersionAtLeast(v, 8, 0, 19); got != want {
			t.Errorf("mysqlVersionAtLeast(%q) = %v", v, got)
		}
	}
}

func TestCheckIdent(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 40) // 80 bytes, 40 characters
	for _, tt := range []struct {
		d    dialect
		name string
		ok   bool
	}{
		{&sqliteDialect{}, long, true},
		{&sqliteDialect{}, "a\x00b", false},
		{&postgresDialect{}, long, false},
		{&postgresDialect{}, strings.Repeat("x", 63), true},
		{&mysqlDialect{}, long, true},
		{&mysqlDialect{}, strings.Repeat("x", 65), false},
		{&mysqlDialect{}, "trailing ", false},
		{&mysqlDialect{}, "emoji 🎉", false},
		{&mysqlDialect{}, "snow ☃", true},
		{&mysqlDialect{}, "", false},
	} {
		if err := tt.d.checkIdent(tt.name); (err == nil) != tt.ok {
			t.Errorf("%s.checkIdent(%q) = %v", tt.d.kind(), tt.name, err)
		}
	}
}
