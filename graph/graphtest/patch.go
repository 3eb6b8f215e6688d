package graphtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// rawJSON is one undecoded JSON value of a request body.
type rawJSON = json.RawMessage

// parseObject decodes a JSON object, keeping its values raw.
func parseObject(b []byte) (map[string]rawJSON, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, errors.New("the body is empty")
	}
	if b[0] != '{' {
		return nil, errors.New("the body must be a JSON object")
	}
	var m map[string]rawJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return nil, errors.New("unexpected data after the JSON object")
	}
	if m == nil {
		return nil, errors.New("the body must be a JSON object")
	}
	return m, nil
}

// sortedKeys returns m's keys in order, so validation reports the same error
// for the same body every time.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func isNull(v rawJSON) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

func asString(v rawJSON) (string, bool) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false
	}
	return s, true
}

func asBool(v rawJSON) (bool, bool) {
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		return false, false
	}
	return b, true
}

func asInt(v rawJSON) (int64, bool) {
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	if err := dec.Decode(&n); err != nil {
		return 0, false
	}
	i, err := n.Int64()
	if err != nil {
		return 0, false
	}
	return i, true
}

func asObject(v rawJSON) (map[string]rawJSON, bool) {
	t := bytes.TrimSpace(v)
	if len(t) == 0 || t[0] != '{' {
		return nil, false
	}
	var m map[string]rawJSON
	if err := json.Unmarshal(t, &m); err != nil {
		return nil, false
	}
	return m, true
}

// badRequest is a validation failure (400, or 403 with a limit code).
type badRequest struct {
	status int
	code   string
	msg    string
}

func (e *badRequest) Error() string { return e.msg }

func bad(format string, args ...any) *badRequest {
	return &badRequest{status: 400, msg: fmt.Sprintf(format, args...)}
}

func limit(code, msg string) *badRequest {
	return &badRequest{status: 403, code: code, msg: msg}
}

func readOnly(prop string) *badRequest {
	return bad("The property '%s' is read-only and cannot be set.", prop)
}

func annotation(k string) bool { return strings.HasPrefix(k, "@") || strings.Contains(k, "@odata.") }

// odataTypeIs checks the mandatory @odata.type of an open-type value.
func odataTypeIs(m map[string]rawJSON, want string) bool {
	v, ok := m["@odata.type"]
	if !ok {
		return false
	}
	s, ok := asString(v)
	if !ok {
		return false
	}
	return s == "#microsoft.graph."+want || s == "microsoft.graph."+want
}

func reqString(k string, v rawJSON) (string, *badRequest) {
	s, ok := asString(v)
	if !ok {
		return "", bad("The value of '%s' must be a string.", k)
	}
	return s, nil
}

// optString accepts a string or null ("" for null).
func optString(k string, v rawJSON) (string, bool, *badRequest) {
	if isNull(v) {
		return "", true, nil
	}
	s, ok := asString(v)
	if !ok {
		return "", false, bad("The value of '%s' must be a string or null.", k)
	}
	return s, false, nil
}

func hintValue(k string, v rawJSON) (string, *badRequest) {
	s, ok := asString(v)
	if !ok {
		return "", bad("The value of '%s' must be an order hint string.", k)
	}
	h, ok := resolveHint(s)
	if !ok {
		return "", bad("The order hint '%s' for '%s' does not have the correct format: send \"<previous> <next>!\" (see planner-order-hint-format).", s, k)
	}
	return h, nil
}

func dateValue(k string, v rawJSON) (stamp, *badRequest) {
	if isNull(v) {
		return stamp{}, nil
	}
	s, ok := asString(v)
	if !ok {
		return stamp{}, bad("The value of '%s' must be a DateTimeOffset string or null.", k)
	}
	st, ok := parseGraphTime(s)
	if !ok {
		return stamp{}, bad("The value '%s' of '%s' is not a valid DateTimeOffset.", s, k)
	}
	return st, nil
}

// validReferenceKey checks a plannerExternalReferences key: the URL, with
// '.', ':', '%', '@' and '#' percent-encoded; it must be http or https.
func validReferenceKey(k string) bool {
	if k == "" || strings.ContainsAny(k, ".:@#") {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] == '%' {
			if i+2 >= len(k) || !isHex(k[i+1]) || !isHex(k[i+2]) {
				return false
			}
		}
	}
	dec, err := url.PathUnescape(k)
	if err != nil {
		return false
	}
	u, err := url.Parse(dec)
	if err != nil || u.Host == "" {
		return false
	}
	return strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https")
}

// validChecklistKey reports whether k can key a new checklist item: a GUID
// ("the client should provide GUIDs as properties", plannerChecklistItems),
// in any of the forms .NET parses: 32 hex digits, with hyphens 8-4-4-4-12,
// and the hyphenated form in braces or parentheses.
func validChecklistKey(k string) bool {
	switch {
	case len(k) == 38 && (k[0] == '{' && k[37] == '}' || k[0] == '(' && k[37] == ')'):
		return validGUID(k[1:37])
	case len(k) == 36:
		return validGUID(k)
	case len(k) == 32:
		for i := 0; i < len(k); i++ {
			if !isHex(k[i]) {
				return false
			}
		}
		return true
	}
	return false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// EncodeReferenceKey encodes a URL as a plannerExternalReferences key the way
// Planner documents: '%' first, then '.', ':', '@' and '#'.
func EncodeReferenceKey(rawURL string) string {
	return referenceKeyEncoder.Replace(rawURL)
}

var referenceKeyEncoder = strings.NewReplacer("%", "%25", ".", "%2E", ":", "%3A", "@", "%40", "#", "%23")

// ---- task fields (POST and PATCH) ----

// applyTaskFields applies a task body to t (a clone). create selects the
// POST rules. planBuckets resolves bucket ids.
func (c *call) applyTaskFields(t *task, body map[string]rawJSON, create bool) *badRequest {
	s := c.s
	now := s.nowStamp()
	actor := c.who.actor()
	assignees := len(t.assignments) // a limit refuses only what a write adds
	for _, k := range sortedKeys(body) {
		v := body[k]
		if annotation(k) {
			continue
		}
		switch k {
		case "title":
			if isNull(v) {
				return bad("The property 'title' cannot be null.")
			}
			str, err := reqString(k, v)
			if err != nil {
				return err
			}
			t.title = str
		case "planId":
			if create {
				continue // resolved by the caller
			}
			str, ok := asString(v)
			if !ok || str != t.plan.id {
				return bad("The property 'planId' cannot be changed: a task stays in its plan.")
			}
		case "bucketId":
			if isNull(v) {
				t.bucket = nil
				continue
			}
			str, err := reqString(k, v)
			if err != nil {
				return err
			}
			if str == "" {
				t.bucket = nil
				continue
			}
			if !validPlannerID(str) {
				return bad("The bucketId '%s' is not a valid id.", str)
			}
			b := s.buckets[str]
			if b == nil || b.plan != t.plan {
				return bad("The bucket '%s' is not in the task's plan.", str)
			}
			t.bucket = b
		case "orderHint":
			h, err := hintValue(k, v)
			if err != nil {
				return err
			}
			t.orderHint = h
		case "assigneePriority":
			h, err := hintValue(k, v)
			if err != nil {
				return err
			}
			t.assigneePriority = h
		case "percentComplete":
			n, ok := asInt(v)
			if !ok || n < 0 || n > 100 {
				return bad("The value of 'percentComplete' must be an integer from 0 to 100.")
			}
			t.percent = int32(n)
		case "priority":
			n, ok := asInt(v)
			if !ok || n < 0 || n > 10 {
				return bad("The value of 'priority' must be an integer from 0 (highest) to 10 (lowest).")
			}
			t.priority = int32(n)
		case "startDateTime":
			ns, err := dateValue(k, v)
			if err != nil {
				return err
			}
			t.start = ns
		case "dueDateTime":
			ns, err := dateValue(k, v)
			if err != nil {
				return err
			}
			t.due = ns
		case "conversationThreadId":
			str, _, err := optString(k, v)
			if err != nil {
				return err
			}
			t.conversation = str
		case "appliedCategories":
			if isNull(v) {
				t.categories = 0
				continue
			}
			m, ok := asObject(v)
			if !ok {
				return bad("The value of 'appliedCategories' must be an object such as {\"category1\": true}.")
			}
			for _, ck := range sortedKeys(m) {
				if annotation(ck) {
					continue
				}
				i, ok := categoryIndex(ck)
				if !ok {
					return bad("'%s' is not a category: use category1 … category25.", ck)
				}
				cv := m[ck]
				if isNull(cv) {
					t.categories &^= 1 << i
					continue
				}
				on, ok := asBool(cv)
				if !ok {
					return bad("The value of appliedCategories.%s must be true, false or null.", ck)
				}
				if on {
					t.categories |= 1 << i
				} else {
					t.categories &^= 1 << i
				}
			}
		case "assignments":
			if err := c.applyAssignments(t, v, now, actor); err != nil {
				return err
			}
		case "id":
			str, ok := asString(v)
			if create || !ok || str != t.id {
				return readOnly(k)
			}
		case "createdBy", "createdDateTime", "completedDateTime", "completedBy", "hasDescription",
			"checklistItemCount", "activeChecklistItemCount", "referenceCount", "previewType":
			return readOnly(k)
		case "details", "assignedToTaskBoardFormat", "bucketTaskBoardFormat", "progressTaskBoardFormat":
			return bad("The navigation property '%s' cannot be set here: PATCH /planner/tasks/{id}/%s instead.", k, k)
		default:
			// Unknown properties are ignored, as Graph does for lenient clients.
		}
	}
	if !t.start.isNull() && !t.due.isNull() && t.due.before(t.start) {
		return bad("The task's startDateTime must not be later than its dueDateTime.")
	}
	if len(t.assignments) > max(s.cfg.limits.AssigneesPerTask, assignees) {
		return limit("MaximumAssigneesInTasks", fmt.Sprintf("The task has more than %d assignees.", s.cfg.limits.AssigneesPerTask))
	}
	return nil
}

func (c *call) applyAssignments(t *task, v rawJSON, now stamp, actor ident) *badRequest {
	if isNull(v) {
		t.assignments = nil
		return nil
	}
	m, ok := asObject(v)
	if !ok {
		return bad("The value of 'assignments' must be an object keyed by user id.")
	}
	for _, uid := range sortedKeys(m) {
		if annotation(uid) {
			continue
		}
		if !validGUID(uid) {
			return bad("The assignments key '%s' is not a user id.", uid)
		}
		key := strings.ToLower(uid)
		av := m[uid]
		i := findAssignment(t.assignments, key)
		if isNull(av) {
			if i >= 0 {
				t.assignments = removeAt(t.assignments, i)
			}
			continue
		}
		obj, ok := asObject(av)
		if !ok || len(obj) == 0 {
			return bad("The assignment for '%s' must be a plannerAssignment object.", uid)
		}
		if !odataTypeIs(obj, "plannerAssignment") {
			return bad("The assignment for '%s' must declare \"@odata.type\": \"#microsoft.graph.plannerAssignment\".", uid)
		}
		var hint string
		hasHint := false
		if hv, ok := obj["orderHint"]; ok && !isNull(hv) {
			h, err := hintValue("orderHint", hv)
			if err != nil {
				return err
			}
			hint, hasHint = h, true
		}
		if i >= 0 {
			if hasHint {
				t.assignments[i].hint = hint
			}
			continue
		}
		if !hasHint {
			return bad("The assignment for '%s' must specify an orderHint (\" !\" for none).", uid)
		}
		if n := c.s.tasksAssignedTo(key); n >= c.s.cfg.limits.TasksAssignedToUser {
			return limit("MaximumTasksAssignedToUser", fmt.Sprintf("The maximum number of Tasks assigned to a user limit has been exceeded (%d) for user %s.", n, uid))
		}
		t.assignments = insertAt(t.assignments, -1-i, assignment{user: key, by: actor, at: now, hint: hint})
	}
	return nil
}

// applyDetails applies a task-details PATCH to t (a clone).
func (c *call) applyDetails(t *task, body map[string]rawJSON) *badRequest {
	s := c.s
	// A limit refuses only what a write adds: an object other clients
	// filled (or whose limit was lowered) still takes other changes.
	items, refs := len(t.checklist), len(t.references)
	now := s.nowStamp()
	actor := c.who.actor()
	for _, k := range sortedKeys(body) {
		v := body[k]
		if annotation(k) {
			continue
		}
		switch k {
		case "description":
			str, null, err := optString(k, v)
			if err != nil {
				return err
			}
			t.description, t.descNull = str, null
		case "previewType":
			str, ok := asString(v)
			if !ok {
				return bad("The value of 'previewType' must be a string.")
			}
			p, ok := previewTypeIndex(str)
			if !ok {
				return bad("'%s' is not a previewType: use automatic, noPreview, checklist, description or reference.", str)
			}
			t.previewType = p
		case "checklist":
			if err := c.applyChecklist(t, v, now, actor); err != nil {
				return err
			}
		case "references":
			if err := c.applyReferences(t, v, now, actor); err != nil {
				return err
			}
		case "id":
			str, ok := asString(v)
			if !ok || str != t.id {
				return readOnly(k)
			}
		}
	}
	if len(t.checklist) > max(s.cfg.limits.ChecklistItemsPerTask, items) {
		return limit("MaximumChecklistItemsOnTask", fmt.Sprintf("The task has more than %d checklist items.", s.cfg.limits.ChecklistItemsPerTask))
	}
	if len(t.references) > max(s.cfg.limits.ReferencesPerTask, refs) {
		return limit("MaximumReferencesOnTask", fmt.Sprintf("The task has more than %d references.", s.cfg.limits.ReferencesPerTask))
	}
	return nil
}

func (c *call) applyChecklist(t *task, v rawJSON, now stamp, actor ident) *badRequest {
	if isNull(v) {
		t.checklist = nil
		return nil
	}
	m, ok := asObject(v)
	if !ok {
		return bad("The value of 'checklist' must be an object keyed by item id.")
	}
	for _, key := range sortedKeys(m) {
		if annotation(key) {
			continue
		}
		iv := m[key]
		i := findChecklist(t.checklist, key)
		// Only new keys are validated: keys other clients wrote (the
		// Planner apps write short numbers) stay addressable.
		if i < 0 && !validChecklistKey(key) {
			return bad("The checklist item id '%s' is not valid: checklist items are keyed by a GUID, such as '%s' (property names of open types cannot contain '.', ':', '%%', '@' or '#').", key, "d280ed1a-9f6b-4f9c-a962-fb4d00dc50ff")
		}
		if isNull(iv) {
			if i >= 0 {
				t.checklist = removeAt(t.checklist, i)
			}
			continue
		}
		obj, ok := asObject(iv)
		if !ok || len(obj) == 0 {
			return bad("The checklist item '%s' must be a plannerChecklistItem object.", key)
		}
		if !odataTypeIs(obj, "plannerChecklistItem") {
			return bad("The checklist item '%s' must declare \"@odata.type\": \"#microsoft.graph.plannerChecklistItem\".", key)
		}
		var item checklistItem
		isNew := i < 0
		if !isNew {
			item = t.checklist[i]
		} else {
			item.key = key
		}
		hasTitle := false
		for _, pk := range sortedKeys(obj) {
			pv := obj[pk]
			switch pk {
			case "title":
				str, err := reqString("title", pv)
				if err != nil {
					return err
				}
				item.title, hasTitle = str, true
			case "isChecked":
				b, ok := asBool(pv)
				if !ok {
					return bad("The value of isChecked for checklist item '%s' must be true or false.", key)
				}
				item.checked = b
			case "orderHint":
				if raw, ok := asString(pv); ok && c.s.cfg.strictChecklistHints && strings.Trim(raw, " !") == "" {
					return bad("The order hint '%s' of checklist item '%s' does not have the correct format: place the item relative to an existing item's orderHint (\"<previous> <next>!\"), or omit orderHint.", raw, key)
				}
				h, err := hintValue("orderHint", pv)
				if err != nil {
					return err
				}
				item.hint = h
			}
		}
		if isNew {
			if !hasTitle {
				return bad("The new checklist item '%s' must have a title.", key)
			}
			if item.hint == "" {
				last := ""
				for _, ci := range t.checklist {
					if ci.hint > last {
						last = ci.hint
					}
				}
				item.hint = hintAfter(last)
			}
		}
		item.by, item.at = actor, now
		if isNew {
			t.checklist = insertAt(t.checklist, -1-i, item)
		} else {
			t.checklist[i] = item
		}
	}
	return nil
}

func (c *call) applyReferences(t *task, v rawJSON, now stamp, actor ident) *badRequest {
	if isNull(v) {
		t.references = nil
		return nil
	}
	m, ok := asObject(v)
	if !ok {
		return bad("The value of 'references' must be an object keyed by encoded URL.")
	}
	for _, key := range sortedKeys(m) {
		if annotation(key) {
			continue
		}
		rv := m[key]
		i := findReference(t.references, key)
		// A key is the reference's identity, stored exactly as sent; only
		// new keys are validated, so a key another client wrote can always
		// be updated or removed.
		if i < 0 && !validReferenceKey(key) {
			return bad("The reference key '%s' is not a valid encoded http(s) URL: percent-encode '%%', '.', ':', '@' and '#'.", key)
		}
		if isNull(rv) {
			if i >= 0 {
				t.references = removeAt(t.references, i)
			}
			continue
		}
		obj, ok := asObject(rv)
		if !ok || len(obj) == 0 {
			return bad("The reference '%s' must be a plannerExternalReference object.", key)
		}
		if !odataTypeIs(obj, "plannerExternalReference") {
			return bad("The reference '%s' must declare \"@odata.type\": \"#microsoft.graph.plannerExternalReference\".", key)
		}
		var ref reference
		isNew := i < 0
		if !isNew {
			ref = t.references[i]
		} else {
			ref.key = key
		}
		for _, pk := range sortedKeys(obj) {
			pv := obj[pk]
			switch pk {
			case "alias":
				str, _, err := optString("alias", pv)
				if err != nil {
					return err
				}
				ref.alias = str
			case "type":
				str, _, err := optString("type", pv)
				if err != nil {
					return err
				}
				ref.typ = str
			case "previewPriority":
				h, err := hintValue("previewPriority", pv)
				if err != nil {
					return err
				}
				ref.priority = h
			}
		}
		if isNew && ref.priority == "" {
			first := ""
			for _, r := range t.references {
				if first == "" || r.priority < first {
					first = r.priority
				}
			}
			ref.priority = hintBefore(first)
		}
		ref.by, ref.at = actor, now
		if isNew {
			t.references = insertAt(t.references, -1-i, ref)
		} else {
			t.references[i] = ref
		}
	}
	return nil
}
