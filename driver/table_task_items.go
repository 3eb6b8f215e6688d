package driver

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/schema"
)

const (
	odataAssignment    = graph.ODataAssignment
	odataChecklistItem = graph.ODataChecklistItem
	odataReference     = graph.ODataExternalReference
)

// ---- TaskChecklistItems

// checklistRow is a row of TaskChecklistItems: one item of a task's
// checklist.
type checklistRow struct {
	t    *graph.Task
	d    *graph.TaskDetails
	id   string
	item graph.ChecklistItem
}

var checklistSource = detailsSource(true, checklistRows)

// checklistRows are the checklist items of a task, in checklist order.
func checklistRows(td taskWithDetails) []*checklistRow {
	d := td.d
	ids := make([]string, 0, len(d.Checklist))
	for id := range d.Checklist {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		return cmp.Or(strings.Compare(d.Checklist[a].OrderHint, d.Checklist[b].OrderHint), strings.Compare(a, b))
	})
	out := make([]*checklistRow, len(ids))
	for i, id := range ids {
		out[i] = &checklistRow{t: td.t, d: d, id: id, item: d.Checklist[id]}
	}
	return out
}

// checklistTable: one row per checklist item.
var checklistTable = (&table[checklistRow]{
	name: "TaskChecklistItems",
	desc: "One row per checklist item of each task.",
	cols: append(checklistSource.scope(func(r *checklistRow) **graph.Task { return &r.t }, req, "GET /planner/tasks/{id} and /details", detailCosts),
		column[checklistRow]{name: "ItemId", typ: schema.Text, flags: key, desc: "The item's id within the task: a GUID, generated on INSERT when not given, and sent in Graph's form " +
			"(lower case, no braces) when given in another, so that another form of an existing item's id is that item " +
			"(items other clients wrote may have other ids, such as the Planner apps' short numbers).",
			get: func(r *checklistRow) any { return r.id },
			set: func(r *checklistRow, v any) error {
				if err := checkItemID(str(v)); err != nil {
					return err
				}
				r.id = guidKey(str(v))
				return nil
			}},
		textField("Title", req, iu, "The item's text.", "title", func(r *checklistRow) *string { return &r.item.Title }),
		boolField("IsChecked", null, iu, "1 when the item is checked.", "isChecked", func(r *checklistRow) **bool { return &r.item.IsChecked }),
		textField("OrderHint", null, iu, "The item's position (order-hint format). INSERT without it, or UPDATE to NULL, puts the item last; "+
			"another item's value puts it there (see the rules on order hints).", "orderHint", func(r *checklistRow) *string { return &r.item.OrderHint }),
		dateField("LastModifiedDateTime", null, ro, "When the item last changed.", "", func(r *checklistRow) **graph.DateTime { return &r.item.LastModifiedDateTime }),
		userIDCol("LastModifiedByUserId", "The id of the user who last changed the item (NULL when an application changed it alone).", func(r *checklistRow) *graph.IdentitySet { return r.item.LastModifiedBy }),
		appIDCol("LastModifiedByApplicationId", "The id of the application that last changed the item.", func(r *checklistRow) *graph.IdentitySet { return r.item.LastModifiedBy }),
	),
	scan:     checklistSource.scan,
	scanCost: cost{71, 4000},
	version:  func(r *checklistRow) version { return version{"details:" + r.t.ID, r.d.ETag} },
	check: func(r *checklistRow) (string, error) {
		if r.id == "" {
			return "", nil // generated
		}
		return taskOf(r.t) + "\x00" + r.id, nil
	},
	insert: func(ctx context.Context, x *session, r *checklistRow) (*checklistRow, error) {
		id := cmp.Or(r.id, graph.NewChecklistItemID())
		task, d, err := x.g.Tasks.GetWithDetails(ctx, r.t.ID)
		if err != nil {
			return nil, err
		}
		item := map[string]any{"@odata.type": odataChecklistItem, "title": r.item.Title}
		if r.item.IsChecked != nil {
			item["isChecked"] = *r.item.IsChecked
		}
		id = heldItemID(d.Checklist, id)
		old, exists := d.Checklist[id]
		hint, err := placeHint(r.item.OrderHint, old.OrderHint, checklistPlace,
			mapHints(d.Checklist, id, func(c graph.ChecklistItem) string { return c.OrderHint }))
		if err != nil {
			return nil, err
		}
		if hint != "" {
			item["orderHint"] = hint
		}
		if exists {
			// The id is taken: OR REPLACE overwrites the item's values (its
			// place is kept unless an OrderHint is given).
			if err := x.onDuplicate(); err != nil {
				return nil, err
			}
			if r.item.IsChecked == nil {
				item["isChecked"] = false
			}
		}
		d, err = x.patchDetails(ctx, version{"details:" + task.ID, d.ETag}, task.ID, graph.Patch{"checklist": map[string]any{id: item}})
		if err != nil {
			return nil, err
		}
		return pickItem(checklistRows(taskWithDetails{task, d}), func(c *checklistRow) bool { return c.id == id }, "ItemId", id)
	},
	update: func(ctx context.Context, x *session, old *checklistRow, v version, p graph.Patch) (*checklistRow, string, error) {
		if err := placePatched(p, "orderHint", old.item.OrderHint, checklistPlace,
			mapHints(old.d.Checklist, old.id, func(c graph.ChecklistItem) string { return c.OrderHint })); err != nil {
			return nil, "", err
		}
		if len(p) == 0 {
			return old, "", nil
		}
		p["@odata.type"] = odataChecklistItem
		d, err := x.patchDetails(ctx, v, old.t.ID, graph.Patch{"checklist": map[string]any{old.id: p}})
		if err != nil {
			return nil, "", err
		}
		r, err := pickItem(checklistRows(taskWithDetails{old.t, d}), func(c *checklistRow) bool { return c.id == old.id }, "ItemId", old.id)
		return r, "", err
	},
	delete: func(ctx context.Context, x *session, old *checklistRow, v version) error {
		_, err := x.patchDetails(ctx, v, old.t.ID, graph.Patch{"checklist": map[string]any{old.id: nil}})
		return err
	},
	notes: []string{"A task holds at most 20 checklist items; INSERT beyond that fails with Graph's MaximumChecklistItemsOnTask error."},
	examples: []schema.Example{
		{Title: "Checklist progress per task", SQL: "SELECT TaskId, sum(IsChecked) AS Done, count(*) AS Items FROM TaskChecklistItems WHERE PlanId = ? GROUP BY TaskId"},
		{Title: "Tick an item", SQL: "UPDATE TaskChecklistItems SET IsChecked = 1 WHERE TaskId = ? AND ItemId = ?"},
	},
}).init()

// heldItemID returns the key under which the checklist holds the item id
// (given in Graph's form, guidKey): the key itself, or the key of the same
// GUID in another form (upper case, or braces), which another client may
// have written; id when no item has it. Such a key is the item's identity:
// a write must address it rather than add a second item.
func heldItemID(items map[string]graph.ChecklistItem, id string) string {
	if _, ok := items[id]; ok || !isGUID(id) {
		return id
	}
	for k := range items {
		if isGUID(k) && guidKey(k) == id {
			return k
		}
	}
	return id
}

// checklistPlace: the service refuses the empty-list hints on checklist
// items, and a new item goes last, as in Planner's apps.
var checklistPlace = hintPlace{strict: true, appendNew: true}

// checkItemID refuses an ItemId a new checklist item cannot have. Planner
// wants GUIDs (plannerChecklistItems: "the key ... should be a GUID"), and
// property names of its open types cannot hold . : % @ #; the service
// refuses other new keys with 400. The forms accepted are .NET's: 32 hex
// digits, alone or in groups 8-4-4-4-12, the latter optionally in {} or ().
func checkItemID(id string) error {
	if isGUID(id) {
		return nil
	}
	why := "is not a GUID"
	if i := strings.IndexAny(id, ".:%@#"); i >= 0 {
		why = fmt.Sprintf("holds %q, which Planner forbids in checklist keys", id[i])
	}
	return fmt.Errorf("column ItemId %q %s: give a GUID such as %s, or leave ItemId out and one is generated "+
		"(an existing item of another id is changed with UPDATE)", id, why, graph.NewChecklistItemID())
}

// isGUID reports whether s is a GUID in one of .NET's forms: N (32 hex
// digits), D (8-4-4-4-12), B ({D}) or P ((D)).
func isGUID(s string) bool {
	hex := func(s string) bool {
		for _, c := range []byte(s) {
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
		return true
	}
	switch len(s) {
	case 32:
		return hex(s)
	case 38:
		if !(s[0] == '{' && s[37] == '}' || s[0] == '(' && s[37] == ')') {
			return false
		}
		s = s[1:37]
		fallthrough
	case 36:
		return s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' &&
			hex(s[:8]) && hex(s[9:13]) && hex(s[14:18]) && hex(s[19:23]) && hex(s[24:])
	}
	return false
}

// pickItem returns the row of rows that is; the service's answer must hold it.
func pickItem[T any](rows []*T, is func(*T) bool, col, v string) (*T, error) {
	for _, r := range rows {
		if is(r) {
			return r, nil
		}
	}
	return nil, fmt.Errorf("the service's answer has no %s %q", col, v)
}

// ---- TaskReferences

// referenceRow is a row of TaskReferences: one external reference of a
// task. key is the reference's key as Graph holds it: the row's identity
// (UPDATE and DELETE send exactly it, whoever wrote it; two keys are two
// rows even when they name one URL). url is the key decoded (the Url
// column: only Planner's documented encoding is undone), or for an INSERT
// the URL given.
type referenceRow struct {
	t   *graph.Task
	d   *graph.TaskDetails
	key string
	url string
	ref graph.ExternalReference
}

var referencesSource = detailsSource(true, referenceRows)

// referenceRows are the references of a task, by URL (then by key: two
// keys may decode to one URL).
func referenceRows(td taskWithDetails) []*referenceRow {
	d := td.d
	keys := make([]string, 0, len(d.References))
	for k := range d.References {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(strings.Compare(d.References[a].URL, d.References[b].URL), strings.Compare(a, b))
	})
	out := make([]*referenceRow, len(keys))
	for i, k := range keys {
		ref := d.References[k]
		out[i] = &referenceRow{t: td.t, d: d, key: k, url: ref.URL, ref: ref}
	}
	return out
}

// heldReferenceKey returns the key under which refs holds a reference whose
// Url is url, or key when none does: an INSERT of a Url that a row already
// shows (under a key another client encoded its own way) is that row, as
// SQL sees it, not a second reference to the same URL. Of two such keys,
// the first in order.
func heldReferenceKey(refs map[string]graph.ExternalReference, url, key string) string {
	held := ""
	for k, r := range refs {
		if r.URL == url && (held == "" || k < held) {
			held = k
		}
	}
	return cmp.Or(held, key)
}

// referencesTable: one row per external reference.
var referencesTable = (&table[referenceRow]{
	name: "TaskReferences",
	desc: "One row per external reference (link) attached to each task.",
	cols: append(referencesSource.scope(func(r *referenceRow) **graph.Task { return &r.t }, req, "GET /planner/tasks/{id} and /details", detailCosts),
		column[referenceRow]{name: "Url", typ: schema.Text, desc: "The reference's URL (http or https): ReferenceKey with Planner's documented encoding " +
			"(%25 %2E %3A %40 %23) undone and nothing else, so escapes another client added, such as %20, stay. INSERT needs it or ReferenceKey.",
			get: func(r *referenceRow) any { return r.url },
			set: func(r *referenceRow, v any) error { r.url = str(v); return nil }},
		column[referenceRow]{name: "ReferenceKey", typ: schema.Text, flags: key, desc: "The reference's key as Graph holds it, the row's identity: " +
			"UPDATE and DELETE send exactly it. INSERT encodes Url as Planner documents (% . : @ # percent-encoded) unless a key is given here.",
			get: func(r *referenceRow) any { return r.key },
			set: func(r *referenceRow, v any) error { r.key = str(v); return nil }},
		textField("Alias", null, iu, "The reference's display name.", "alias", func(r *referenceRow) *string { return &r.ref.Alias }),
		textField("Type", null, iu, "The reference's type: PowerPoint, Word, Excel, Other, or any string.", "type", func(r *referenceRow) *string { return &r.ref.Type }),
		textField("PreviewPriority", null, iu, "Which reference the task card previews first (order-hint format); "+
			"another reference's value puts this one there.", "previewPriority", func(r *referenceRow) *string { return &r.ref.PreviewPriority }),
		dateField("LastModifiedDateTime", null, ro, "When the reference last changed.", "", func(r *referenceRow) **graph.DateTime { return &r.ref.LastModifiedDateTime }),
		userIDCol("LastModifiedByUserId", "The id of the user who last changed the reference (NULL when an application changed it alone).", func(r *referenceRow) *graph.IdentitySet { return r.ref.LastModifiedBy }),
		appIDCol("LastModifiedByApplicationId", "The id of the application that last changed the reference.", func(r *referenceRow) *graph.IdentitySet { return r.ref.LastModifiedBy }),
	),
	scan:     referencesSource.scan,
	scanCost: cost{71, 1000},
	version:  func(r *referenceRow) version { return version{"details:" + r.t.ID, r.d.ETag} },
	check: func(r *referenceRow) (string, error) {
		key, err := referenceKey(r.key, r.url)
		return taskOf(r.t) + "\x00" + key, err
	},
	insert: func(ctx context.Context, x *session, r *referenceRow) (*referenceRow, error) {
		key, err := referenceKey(r.key, r.url)
		if err != nil {
			return nil, err
		}
		task, d, err := x.g.Tasks.GetWithDetails(ctx, r.t.ID)
		if err != nil {
			return nil, err
		}
		ref := map[string]any{"@odata.type": odataReference}
		for k, v := range map[string]string{"alias": r.ref.Alias, "type": r.ref.Type} {
			if v != "" {
				ref[k] = v
			}
		}
		if _, held := d.References[key]; !held && r.key == "" {
			key = heldReferenceKey(d.References, r.url, key)
		}
		old, exists := d.References[key]
		prio, err := placeHint(r.ref.PreviewPriority, old.PreviewPriority, hintPlace{},
			mapHints(d.References, key, func(r graph.ExternalReference) string { return r.PreviewPriority }))
		if err != nil {
			return nil, err
		}
		if prio != "" {
			ref["previewPriority"] = prio
		}
		if exists {
			// The key is taken: OR REPLACE overwrites the reference's values.
			if err := x.onDuplicate(); err != nil {
				return nil, err
			}
			for _, k := range []string{"alias", "type"} {
				if _, given := ref[k]; !given {
					ref[k] = nil
				}
			}
		}
		d, err = x.patchDetails(ctx, version{"details:" + task.ID, d.ETag}, task.ID, graph.Patch{"references": map[string]any{key: ref}})
		if err != nil {
			return nil, err
		}
		return pickItem(referenceRows(taskWithDetails{task, d}), func(c *referenceRow) bool { return c.key == key }, "ReferenceKey", key)
	},
	update: func(ctx context.Context, x *session, old *referenceRow, v version, p graph.Patch) (*referenceRow, string, error) {
		if err := placePatched(p, "previewPriority", old.ref.PreviewPriority, hintPlace{},
			mapHints(old.d.References, old.key, func(r graph.ExternalReference) string { return r.PreviewPriority })); err != nil {
			return nil, "", err
		}
		p["@odata.type"] = odataReference
		d, err := x.patchDetails(ctx, v, old.t.ID, graph.Patch{"references": map[string]any{old.key: p}})
		if err != nil {
			return nil, "", err
		}
		r, err := pickItem(referenceRows(taskWithDetails{old.t, d}), func(c *referenceRow) bool { return c.key == old.key }, "ReferenceKey", old.key)
		return r, "", err
	},
	delete: func(ctx context.Context, x *session, old *referenceRow, v version) error {
		_, err := x.patchDetails(ctx, v, old.t.ID, graph.Patch{"references": map[string]any{old.key: nil}})
		return err
	},
	notes: []string{
		"Graph keeps each reference under a key: the URL with % . : @ # percent-encoded, as Planner documents, but other " +
			"clients write keys of their own (Shared%20Documents, or nothing encoded at all), and Graph keeps them as sent. " +
			"ReferenceKey is that key and the row's identity; Url is the key with only the documented escapes undone. So " +
			"`UPDATE TaskReferences SET Alias = ? WHERE TaskId = ? AND Url = ?`, with the Url as SELECT shows it, changes " +
			"the reference Graph holds, never adds a second one; two keys naming one URL are two rows (a WHERE on Url " +
			"matches both; WHERE ReferenceKey picks one).",
		"INSERT with Url sends the documented encoding of it; with ReferenceKey, that key verbatim (to copy a reference " +
			"exactly); with both, Url must be ReferenceKey decoded. An INSERT of a Url alone that a row already shows, " +
			"whatever its key, is that row (a duplicate; OR REPLACE overwrites it under its key): the driver never adds " +
			"a second reference to a URL.",
	},
	examples: []schema.Example{
		{Title: "Every link in a plan", SQL: "SELECT t.Title, r.Alias, r.Url FROM TaskReferences r JOIN Tasks t ON t.TaskId = r.TaskId WHERE r.PlanId = ?"},
		{Title: "Rename a link", SQL: "UPDATE TaskReferences SET Alias = 'Budget FY27' WHERE TaskId = ? AND Url = ?"},
	},
}).init()

// referenceKey returns the key an INSERT writes: key as given, or the
// documented encoding of rawURL; given both, rawURL must be key decoded.
// The URL must be http or https.
func referenceKey(key, rawURL string) (string, error) {
	switch {
	case key == "" && rawURL == "":
		return "", fmt.Errorf("column Url is required (or ReferenceKey, a key as Graph holds it)")
	case key == "":
		key = graph.EncodeReferenceKey(rawURL)
	case rawURL != "" && graph.DecodeReferenceKey(key) != rawURL:
		return "", fmt.Errorf("column ReferenceKey %q is the URL %q, not Url %q: give one of them, or both agreeing", key, graph.DecodeReferenceKey(key), rawURL)
	}
	if err := checkURL(graph.DecodeReferenceKey(key)); err != nil {
		return "", err
	}
	return key, nil
}

func checkURL(u string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("column Url must be an http or https URL, got %q", u)
	}
	return nil
}
