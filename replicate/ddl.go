package replicate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/plannersql/planner/schema"
)

// tablePlan is what planTable decided about the destination table: the DDL
// to run and how rows are then written.
type tablePlan struct {
	info      tableInfo   // the table as it was found (before the DDL)
	drop      bool        // DROP TABLE first (WITH DropTable)
	create    []ddlColumn // CREATE TABLE's columns, when the table is (re)created
	adds      []ddlColumn // columns to add
	alters    []ddlColumn // columns whose type changes (safe widenings), with the new type
	indexes   []string    // columns to index (foreign keys not leading an index)
	readded   []string    // result columns the state says were written but the table lacked
	warnings  []string
	created   bool // the table is created (or recreated)
	softCols  bool // the table has the soft-delete bookkeeping columns
	stateName string

	// rewriteAll: the state cannot be trusted for this table's columns (a
	// column came back, a type changed): every row is rewritten.
	rewriteAll bool
	writeCols  []string      // the columns an upsert writes, in parameter order
	keyCols    []string      // the destination's primary key
	writeTypes []schema.Type // per result column: the type its values are written as
	maxLen     []int         // per result column: the most characters it holds (MySQL VARCHAR), or 0
}

// idLen is the VARCHAR length of MySQL id columns that are not keys
// (PlanId, BucketId, CreatedByUserId, ...): indexable, binary collation.
const idLen = 512

// sameWrites reports whether two plans write rows alike (the staged copy's
// prediction still holds under the lock).
func (p *tablePlan) sameWrites(o *tablePlan) bool {
	if !equalStrings(p.writeCols, o.writeCols) || !equalStrings(p.keyCols, o.keyCols) || p.rewriteAll != o.rewriteAll || p.softCols != o.softCols {
		return false
	}
	for i := range p.writeTypes {
		if p.writeTypes[i] != o.writeTypes[i] || p.maxLen[i] != o.maxLen[i] {
			return false
		}
	}
	return true
}

// planTable decides how to bring the destination table (info) to the
// statement's result: create it, or add columns, widen types and add
// indexes; stateCols are the columns the state says the last run wrote.
// Nothing is changed.
func (t *tableRun) planTable(info tableInfo, stateCols []string) (*tablePlan, error) {
	w := t.j.with
	p := &tablePlan{info: info}
	if !info.exists || w.DropTable {
		p.drop = info.exists
		p.planCreate(t)
	} else if err := p.planAlter(t, stateCols); err != nil {
		return nil, err
	}
	p.planWrites(t)
	return p, nil
}

// planCreate plans CREATE TABLE with the result's columns.
func (p *tablePlan) planCreate(t *tableRun) {
	w, bk := t.j.with, t.bk
	p.created, p.stateName = true, t.j.dest.Table
	if w.SourceName != "" {
		p.create = append(p.create, ddlColumn{name: bk.sourceName, typ: schema.Text, key: true, sourceName: true})
	}
	for _, c := range t.cols {
		p.create = append(p.create, ddlColumn{name: c.name, typ: c.typ, key: containsFold(t.key, c.name), id: t.isIDColumn(c)})
	}
	if w.SoftDelete {
		p.create = append(p.create, softDeleteColumns(t.r.d, bk)...)
	}
	for _, c := range t.cols {
		if t.isForeignKey(c) && !(len(t.key) > 0 && strings.EqualFold(t.key[0], c.name) && w.SourceName == "") {
			p.indexes = append(p.indexes, c.name)
		}
	}
	p.softCols = w.SoftDelete
}

// planAlter plans the changes to an existing table: new columns, columns
// that were dropped by hand, type changes, soft-delete columns, indexes.
func (p *tablePlan) planAlter(t *tableRun, stateCols []string) error {
	d, w, bk, info := t.r.d, t.j.with, t.bk, p.info
	p.stateName = info.name
	if err := p.checkKey(t); err != nil {
		return err
	}
	for _, c := range t.cols {
		if err := p.planColumn(t, c, stateCols); err != nil {
			return err
		}
	}
	if w.SoftDelete {
		for _, c := range softDeleteColumns(d, bk) {
			if !info.has(d, c.name) {
				p.adds = append(p.adds, c)
			}
		}
	}
	p.warnGone(t, stateCols)
	p.planIndexes(t)
	p.softCols = (info.has(d, bk.isDeleted) || w.SoftDelete) && (info.has(d, bk.deletedAt) || w.SoftDelete) &&
		!t.isResultCol(bk.isDeleted) && !t.isResultCol(bk.deletedAt)
	p.rewriteAll = len(p.readded) > 0 || len(p.alters) > 0
	return nil
}

// checkKey refuses a table whose primary key is not the statement's.
func (p *tablePlan) checkKey(t *tableRun) error {
	d, w, bk, info := t.r.d, t.j.with, t.bk, p.info
	wantKey := append([]string{}, t.key...)
	if w.SourceName != "" {
		wantKey = append([]string{bk.sourceName}, t.key...)
	}
	if sameSet(d, info.key, wantKey) {
		return nil
	}
	hint := "replicate into another table, or add WITH DropTable to rebuild it"
	var missing []string
	for _, k := range t.key {
		if !info.has(d, k) {
			missing = append(missing, displayIdent(k))
		}
	}
	if len(missing) > 0 {
		return t.fail("key column %s is missing in the destination (dropped by hand?), and rows cannot be matched without it; add WITH DropTable to rebuild the table, or replicate into another table",
			strings.Join(missing, ", "))
	}
	if w.SourceName != "" && !info.has(d, bk.sourceName) {
		hint = "the table was created without SourceName; " + hint
	} else if w.SourceName == "" && info.has(d, bk.sourceName) {
		hint = "the table was created with SourceName: add WITH SourceName='...', or " + hint
	}
	return t.fail("the destination's primary key is (%s) but the statement's key is (%s); %s",
		strings.Join(info.key, ", "), strings.Join(wantKey, ", "), hint)
}

// planColumn plans one result column of an existing table: added (new in
// the source, or dropped by hand since a run wrote it), or its type.
func (p *tablePlan) planColumn(t *tableRun, c column, stateCols []string) error {
	d := t.r.d
	if p.info.has(d, c.name) {
		if containsFold(t.key, c.name) {
			return p.checkKeyType(t, c)
		}
		return p.planType(t, c)
	}
	if !t.j.with.AlterSchema {
		return t.fail("column %s is not in the destination table and AlterSchema is off; allow WITH AlterSchema, or EXCLUDE COLUMNS (%s)", displayIdent(c.name), displayIdent(c.name))
	}
	p.adds = append(p.adds, ddlColumn{name: c.name, typ: c.typ, id: t.isIDColumn(c)})
	if containsSame(d, stateCols, c.name) {
		p.readded = append(p.readded, c.name)
		p.warnings = append(p.warnings, fmt.Sprintf("column %s was missing in the destination (dropped by hand?) though earlier runs wrote it; added it back and rewrote every row", displayIdent(c.name)))
	} else {
		p.warnings = append(p.warnings, fmt.Sprintf("added column %s, new in the source", displayIdent(c.name)))
	}
	return nil
}

// warnGone warns about the table's columns not in the result: no longer
// in the source when the last run wrote them (stateCols), else added by
// hand or gone earlier.
func (p *tablePlan) warnGone(t *tableRun, stateCols []string) {
	d, w, bk := t.r.d, t.j.with, t.bk
	for _, c := range p.info.cols {
		if t.isResultCol(c) || (w.SourceName != "" && d.sameName(c, bk.sourceName)) ||
			(!t.isResultCol(bk.isDeleted) && (d.sameName(c, bk.isDeleted) || d.sameName(c, bk.deletedAt))) {
			continue
		}
		if containsSame(d, stateCols, c) {
			p.warnings = append(p.warnings, fmt.Sprintf("column %s is no longer in the source; kept in the destination, NULL (or its default) in new rows", displayIdent(c)))
			continue
		}
		// Added by hand, or gone from the source before the last run.
		p.warnings = append(p.warnings, fmt.Sprintf("column %s is not in the source's result; kept in the destination, NULL (or its default) in new rows", displayIdent(c)))
	}
}

// planIndexes indexes the foreign-key columns that lead no index, where
// the column's type can be indexed (MySQL cannot index a TEXT column an
// earlier version created).
func (p *tablePlan) planIndexes(t *tableRun) {
	d, info := t.r.d, p.info
	for _, c := range t.cols {
		if !t.isForeignKey(c) || info.leadsIndex(c.name) {
			continue
		}
		added := false
		for _, a := range p.adds {
			added = added || d.sameName(a.name, c.name)
		}
		if added || d.indexable(info.typeOf(d, c.name)) {
			p.indexes = append(p.indexes, c.name)
		}
	}
}

// checkKeyType refuses a key column whose type changed in the source: a
// key keeps its type (ALTER of a primary key is no widening replicate
// makes), and the state's keys, read as the old type, would no longer match
// the rows' (a row could be deleted as gone and inserted as new).
func (p *tablePlan) checkKeyType(t *tableRun, c column) error {
	d := t.r.d
	have := p.info.typeOf(d, c.name)
	fam := familyOf(d, have)
	if fam == c.typ || fam == familyOf(d, columnDefType(d, ddlColumn{name: c.name, typ: c.typ, key: true}, 0)) {
		return nil
	}
	return t.fail("key column %s is %s in the destination but the source now gives %s; a key column keeps its type: "+
		"replicate WITH DropTable to rebuild the table with the new type, or convert the column in a select (CAST(... AS ...))",
		displayIdent(c.name), have, c.typ)
}

// planType decides what an existing column of the result needs: nothing,
// a wider type (ALTER), or nothing but writing its values as the column's
// type (a text column holds integers as text); a change the column cannot
// take fails the table.
func (p *tablePlan) planType(t *tableRun, c column) error {
	d := t.r.d
	have := p.info.typeOf(d, c.name)
	fam := familyOf(d, have)
	want := ddlColumn{name: c.name, typ: c.typ, id: t.isIDColumn(c)}
	switch {
	case fam == c.typ:
		if d.narrower(have, columnDefType(d, want, 0)) {
			p.alters = append(p.alters, want)
			p.warnings = append(p.warnings, fmt.Sprintf("column %s was %s, narrower than replicate writes; widened it to %s",
				displayIdent(c.name), have, columnDefType(d, want, 0)))
		}
	case canHold(fam, c.typ):
	case widens(fam, c.typ) || widens(fam, familyOf(d, columnDefType(d, want, 0))):
		// The second: the destination stores the new type as one the
		// column widens to (SQLite keeps DATETIME and JSON as TEXT).
		p.alters = append(p.alters, want)
		p.warnings = append(p.warnings, fmt.Sprintf("column %s changed type in the source (now %s); widened it from %s to %s and rewrote every row",
			displayIdent(c.name), c.typ, have, columnDefType(d, want, 0)))
	default:
		return t.fail("column %s is %s in the destination but the source now gives %s, which it cannot hold without converting values; "+
			"replicate WITH DropTable to rebuild the table with the new type, or convert the column in a select (CAST(... AS ...))",
			displayIdent(c.name), have, c.typ)
	}
	return nil
}

// planWrites sets the columns, key and value types the rows are written with.
func (p *tablePlan) planWrites(t *tableRun) {
	d, w, bk := t.r.d, t.j.with, t.bk
	t.writtenAs = t.writtenAs[:0]
	kinds := map[string]schema.Type{}
	for _, a := range p.alters {
		kinds[strings.ToLower(a.name)] = a.typ
	}
	for _, c := range t.cols {
		p.writeCols = append(p.writeCols, c.name)
		typ := c.typ
		if p.info.exists && !p.created && !containsFold(t.key, c.name) {
			if have := p.info.typeOf(d, c.name); have != "" {
				fam := familyOf(d, have)
				// MariaDB's JSON columns read back as longtext (with a
				// json_valid check): JSON values stay JSON, and are checked.
				mariaJSON := d.kind() == "mysql" && c.typ == schema.JSON && fam == schema.Text
				// A column of the type replicate creates for c.typ (SQLite
				// keeps DATETIME as TEXT) takes c.typ's values as they are
				// written to it when created: checked and canonical.
				native := familyOf(d, columnDefType(d, ddlColumn{name: c.name, typ: c.typ, id: t.isIDColumn(c)}, 0))
				if fam != c.typ && fam != native && canHold(fam, c.typ) && !mariaJSON {
					typ = fam // written in the column's own form (times as canonical text, ...)
				}
			}
		}
		if k, ok := kinds[strings.ToLower(c.name)]; ok {
			typ = k
		}
		var as schema.Type
		if typ != c.typ && typ != familyOf(d, columnDefType(d, ddlColumn{name: c.name, typ: c.typ, id: t.isIDColumn(c)}, 0)) {
			as = typ
		}
		t.writtenAs = append(t.writtenAs, as)
		p.writeTypes = append(p.writeTypes, typ)
		p.maxLen = append(p.maxLen, p.charLimit(t, c))
	}
	if w.SourceName != "" {
		p.writeCols = append(p.writeCols, bk.sourceName)
		p.keyCols = append(p.keyCols, bk.sourceName)
	}
	p.keyCols = append(p.keyCols, t.key...)
	if p.softCols {
		p.writeCols = append(p.writeCols, bk.isDeleted, bk.deletedAt)
	}
}

// shapeTag identifies the SQL types of the columns written, after the DDL.
func (p *tablePlan) shapeTag(t *tableRun) string {
	d := t.r.d
	h := sha256.New()
	keyLen := textKeyLength(p.create)
	for _, c := range p.writeCols {
		typ := p.info.typeOf(d, c)
		for _, dc := range p.create {
			if dc.name == c {
				typ = columnDefType(d, dc, keyLen)
			}
		}
		for _, a := range append(append([]ddlColumn{}, p.adds...), p.alters...) {
			if a.name == c {
				typ = columnDefType(d, a, 0)
			}
		}
		fmt.Fprintf(h, "%s\x00%s\x00", c, typ)
	}
	return "cols " + hex.EncodeToString(h.Sum(nil)[:6])
}

// charLimit is the most characters column c holds in the destination: a
// MySQL VARCHAR (keys, ids); 0 when unbounded.
func (p *tablePlan) charLimit(t *tableRun, c column) int {
	if t.r.d.kind() != "mysql" || (c.typ != schema.Text && c.typ != schema.JSON) {
		return 0
	}
	have := ""
	if !p.created {
		have = p.info.typeOf(t.r.d, c.name)
		for _, a := range append(append([]ddlColumn{}, p.adds...), p.alters...) {
			if a.name == c.name {
				have = strings.ToLower(columnDefType(t.r.d, a, 0))
			}
		}
	} else {
		keyLen := textKeyLength(p.create)
		for _, dc := range p.create {
			if dc.name == c.name {
				have = strings.ToLower(columnDefType(t.r.d, dc, keyLen))
			}
		}
	}
	if n, ok := strings.CutPrefix(have, "varchar("); ok {
		if i := strings.IndexByte(n, ')'); i > 0 {
			v, _ := strconv.Atoi(n[:i])
			return v
		}
	}
	return 0
}

// columnDefType is the SQL type replicate gives a column; keyLen is the
// length of a text key column (MySQL: see textKeyLength).
func columnDefType(d dialect, c ddlColumn, keyLen int) string {
	n := keyLen
	if c.id && !c.key {
		n = idLen
	}
	if c.sourceName {
		n = maxSourceNameLen
	}
	return d.columnType(c.typ, c.key || c.id, n)
}

// familyOf maps a destination column's SQL type to the column type it holds.
func familyOf(d dialect, sqlType string) schema.Type {
	s := strings.ToLower(strings.TrimSpace(sqlType))
	switch {
	case d.kind() == "mysql" && strings.HasPrefix(s, "tinyint(1)"):
		return schema.Boolean
	case strings.HasPrefix(s, "timestamp"), strings.HasPrefix(s, "datetime"):
		return schema.DateTime
	}
	if t, ok := typeFromDatabaseName(s); ok {
		return t
	}
	return schema.Text
}

// canHold reports whether a column of type have stores values of type want
// without losing them (written in have's form: integers as text, ...).
func canHold(have, want schema.Type) bool {
	switch {
	case have == want:
		return true
	case have == schema.Text:
		return want != typeBlob
	case have == typeReal:
		return want == schema.Integer || want == schema.Boolean
	case have == schema.Integer:
		return want == schema.Boolean
	}
	return false
}

// widens reports whether a column of type have can be altered to want
// keeping every value: integer → real → text, boolean → integer, and any
// of DATETIME and JSON to text.
func widens(have, want schema.Type) bool {
	switch want {
	case typeReal:
		return have == schema.Integer || have == schema.Boolean
	case schema.Integer:
		return have == schema.Boolean
	case schema.Text:
		return have != typeBlob
	}
	return false
}

func containsSame(d dialect, list []string, s string) bool {
	for _, x := range list {
		if d.sameName(x, s) {
			return true
		}
	}
	return false
}

// signatureColumns returns the column names a state signature lists.
func signatureColumns(sig string) []string {
	var s struct{ Cols []struct{ N string } }
	if json.Unmarshal([]byte(sig), &s) != nil {
		return nil
	}
	out := make([]string, len(s.Cols))
	for i, c := range s.Cols {
		out[i] = c.N
	}
	return out
}

// applyPlan runs the plan's DDL: drop, create or alter, and indexes.
func (t *tableRun) applyPlan(ctx context.Context, q querier, p *tablePlan, destSQL, stateSQL string) error {
	d, j := t.r.d, t.j
	if p.drop {
		if _, err := q.ExecContext(ctx, "DROP TABLE "+destSQL); err != nil {
			return t.fail("drop: %w", err)
		}
	}
	if p.created {
		if _, err := q.ExecContext(ctx, createTableSQL(d, destSQL, p.create)); err != nil {
			return t.fail("create: %w", err)
		}
		// A state left by a table of the same name is stale.
		if err := deleteState(ctx, d, q, stateSQL, j.dest.Table, "", false); err != nil {
			return t.fail("%w", err)
		}
	}
	for _, c := range p.adds {
		if _, err := q.ExecContext(ctx, addColumnSQL(d, destSQL, c)); err != nil && !(d.kind() == "mysql" && isMySQLDuplicate(err)) {
			return t.fail("add column %s: %w", displayIdent(c.name), err)
		}
	}
	if len(p.alters) > 0 {
		defs := make([]string, len(p.alters))
		for i, c := range p.alters {
			defs[i] = columnDefType(d, c, 0)
		}
		if err := d.alterTypes(ctx, q, j.dest, destSQL, p.alters, defs); err != nil {
			return t.fail("change the type of column %s: %w", displayIdent(p.alters[0].name), err)
		}
	}
	if len(p.readded) > 0 || len(p.alters) > 0 {
		// The other source names' rows lack the column too, or hold the
		// database's conversion of their values to the new type (PostgreSQL
		// casts true to 'true', times to its own text form): their next run
		// must rewrite them, whatever their state says.
		if err := invalidateStates(ctx, d, q, stateSQL, p.stateName); err != nil {
			return t.fail("%w", err)
		}
	}
	for _, c := range p.indexes {
		if _, err := q.ExecContext(ctx, d.createIndexSQL(j.dest, indexName(d, j.dest.Table, c), c)); err != nil && !(d.kind() == "mysql" && isMySQLDuplicate(err)) {
			return t.fail("index column %s: %w", displayIdent(c), err)
		}
	}
	t.res.Warnings = append(t.res.Warnings, p.warnings...)
	return nil
}

// indexName names the index of a table's column: "<table>_<column>_idx",
// shortened with a hash to fit every database's identifier limit.
func indexName(d dialect, table, col string) string {
	n := table + "_" + col + "_idx"
	if len(n) <= 60 && d.checkIdent(n) == nil {
		return n
	}
	h := sha256.Sum256([]byte(table + "\x00" + col))
	prefix := n
	for len(prefix) > 40 || !utf8.ValidString(prefix) {
		prefix = prefix[:len(prefix)-1]
	}
	return strings.TrimRight(prefix, " ") + "_" + hex.EncodeToString(h[:4]) + "_idx"
}

// typeSize classifies a SQL type for widening: its kind (int, float, text)
// and how much it holds (bytes for numbers, characters for text); kind is
// "" for types of no known size.
func typeSize(sqlType string) (kind string, size int) {
	s := strings.ToLower(strings.TrimSpace(sqlType))
	base, arg := s, 0
	if i := strings.IndexByte(s, '('); i >= 0 {
		base = strings.TrimSpace(s[:i])
		if j := strings.IndexByte(s[i:], ')'); j > 0 {
			arg, _ = strconv.Atoi(strings.TrimSpace(strings.Split(s[i+1:i+j], ",")[0]))
		}
	} else if f := strings.Fields(s); len(f) > 0 && !strings.HasPrefix(s, "double precision") && !strings.HasPrefix(s, "character varying") {
		base = f[0]
	}
	switch base {
	case "tinyint":
		return "int", 1
	case "smallint", "int2":
		return "int", 2
	case "mediumint":
		return "int", 3
	case "int", "integer", "int4":
		return "int", 4
	case "bigint", "int8":
		return "int", 8
	case "real", "float", "float4":
		return "float", 4
	case "double", "double precision", "float8":
		return "float", 8
	case "char", "character", "varchar", "character varying", "nchar", "nvarchar":
		if arg == 0 {
			return "text", 1 << 30 // PostgreSQL varchar without a length
		}
		return "text", arg
	case "tinytext":
		return "text", 255
	case "text":
		return "text", 1 << 30 // PostgreSQL and SQLite text; MySQL TEXT below
	case "mediumtext":
		return "text", 1 << 22
	case "longtext":
		return "text", 1 << 30
	}
	return "", 0
}

// narrowerType implements dialect.narrower for PostgreSQL and MySQL.
func narrowerType(have, want string, mysqlText bool) bool {
	hk, hs := typeSize(have)
	if mysqlText && strings.HasPrefix(strings.ToLower(strings.TrimSpace(have)), "text") {
		hk, hs = "text", 65535/4 // MySQL TEXT: 64 KB
	}
	wk, ws := typeSize(want)
	return hk != "" && hk == wk && hs < ws
}
