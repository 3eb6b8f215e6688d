package graphtest

import (
	"strconv"

	"github.com/plannersql/planner/internal/jsonstr"
)

// enc is a small append-only JSON writer: Graph's property order is kept
// exactly, and nothing is pre-rendered.
type enc struct {
	b     []byte
	comma bool
}

func (e *enc) sep() {
	if e.comma {
		e.b = append(e.b, ',')
	}
}

func (e *enc) key(k string) {
	e.sep()
	e.b = jsonstr.Append(e.b, k)
	e.b = append(e.b, ':')
	e.comma = false
}

func (e *enc) str(v string) {
	e.sep()
	e.b = jsonstr.Append(e.b, v)
	e.comma = true
}

// strN writes v, or null when v is empty.
func (e *enc) strN(v string) {
	if v == "" {
		e.null()
		return
	}
	e.str(v)
}

func (e *enc) null() {
	e.sep()
	e.b = append(e.b, "null"...)
	e.comma = true
}

func (e *enc) boolean(v bool) {
	e.sep()
	e.b = strconv.AppendBool(e.b, v)
	e.comma = true
}

func (e *enc) num(v int64) {
	e.sep()
	e.b = strconv.AppendInt(e.b, v, 10)
	e.comma = true
}

// tm writes a DateTimeOffset, or null.
func (e *enc) tm(st stamp) {
	if st.isNull() {
		e.null()
		return
	}
	e.sep()
	e.b = append(e.b, '"')
	e.b = appendGraphTime(e.b, st)
	e.b = append(e.b, '"')
	e.comma = true
}

// etag writes an @odata.etag value.
func (e *enc) etag(k etagKind, version uint64) {
	e.sep()
	e.b = append(e.b, `"W/\"`...)
	e.b = appendEtagValue(e.b, k, version)
	e.b = append(e.b, `\""`...)
	e.comma = true
}

func (e *enc) raw(b []byte) {
	e.sep()
	e.b = append(e.b, b...)
	e.comma = true
}

func (e *enc) open() {
	e.sep()
	e.b = append(e.b, '{')
	e.comma = false
}

func (e *enc) close() {
	e.b = append(e.b, '}')
	e.comma = true
}

func (e *enc) openArr() {
	e.sep()
	e.b = append(e.b, '[')
	e.comma = false
}

func (e *enc) closeArr() {
	e.b = append(e.b, ']')
	e.comma = true
}

func (e *enc) strArr(vs ...string) {
	e.openArr()
	for _, v := range vs {
		e.str(v)
	}
	e.closeArr()
}

// ---- Planner entities ----

func (e *enc) ident(i ident) {
	if i.empty() {
		e.null()
		return
	}
	e.open()
	if i.user != "" {
		e.key("user")
		e.open()
		e.key("displayName")
		e.null()
		e.key("id")
		e.str(i.user)
		e.close()
	}
	if i.app != "" {
		e.key("application")
		e.open()
		e.key("displayName")
		e.null()
		e.key("id")
		e.str(i.app)
		e.close()
	}
	e.close()
}

func (e *enc) context(ctx string) {
	if ctx != "" {
		e.key("@odata.context")
		e.str(ctx)
	}
}

func renderPlan(e *enc, p *plan, ctx string) {
	e.open()
	e.context(ctx)
	e.key("@odata.etag")
	e.etag(kindPlan, p.etag)
	e.key("createdDateTime")
	e.tm(p.created)
	e.key("title")
	e.str(p.title)
	e.key("id")
	e.str(p.id)
	e.key("createdBy")
	e.ident(p.createdBy)
	e.key("container")
	e.open()
	e.key("containerId")
	e.str(p.group.id)
	e.key("type")
	e.str("group")
	e.key("url")
	e.str("https://graph.microsoft.com/v1.0/groups/" + p.group.id)
	e.close()
	e.close()
}

func renderPlanDetails(e *enc, p *plan, ctx string) {
	e.open()
	e.context(ctx)
	e.key("@odata.etag")
	e.etag(kindPlanDetails, p.detailsEtag)
	e.key("sharedWith")
	e.open()
	for _, u := range p.sharedWith {
		e.key(u)
		e.boolean(true)
	}
	e.close()
	e.key("categoryDescriptions")
	e.open()
	for i := 0; i < 25; i++ {
		e.key(categoryName(i))
		if p.catSet&(1<<i) != 0 {
			e.str(p.categories[i])
		} else {
			e.null()
		}
	}
	e.close()
	e.key("id")
	e.str(p.id)
	e.close()
}

func renderBucket(e *enc, b *bucket, ctx string) {
	e.open()
	e.context(ctx)
	e.key("@odata.etag")
	e.etag(kindBucket, b.etag)
	e.key("name")
	e.str(b.name)
	e.key("planId")
	e.str(b.plan.id)
	e.key("orderHint")
	e.str(b.orderHint)
	e.key("id")
	e.str(b.id)
	e.close()
}

func renderTask(e *enc, t *task, ctx string, withDetails bool) {
	e.open()
	e.context(ctx)
	e.key("@odata.etag")
	e.etag(kindTask, t.etag)
	e.key("planId")
	e.str(t.plan.id)
	e.key("bucketId")
	if t.bucket != nil {
		e.str(t.bucket.id)
	} else {
		e.null()
	}
	e.key("title")
	e.str(t.title)
	e.key("orderHint")
	e.str(t.orderHint)
	e.key("assigneePriority")
	e.str(t.assigneePriority)
	e.key("percentComplete")
	e.num(int64(t.percent))
	e.key("startDateTime")
	e.tm(t.start)
	e.key("createdDateTime")
	e.tm(t.created)
	e.key("dueDateTime")
	e.tm(t.due)
	e.key("hasDescription")
	e.boolean(t.hasDescription())
	e.key("previewType")
	e.str(previewTypes[t.previewType])
	e.key("completedDateTime")
	e.tm(t.completed)
	e.key("completedBy")
	e.ident(t.completedBy)
	e.key("referenceCount")
	e.num(int64(len(t.references)))
	e.key("checklistItemCount")
	e.num(int64(len(t.checklist)))
	e.key("activeChecklistItemCount")
	e.num(int64(t.activeChecklist()))
	e.key("conversationThreadId")
	e.strN(t.conversation)
	e.key("priority")
	e.num(int64(t.priority))
	e.key("id")
	e.str(t.id)
	e.key("createdBy")
	e.ident(t.createdBy)
	e.key("appliedCategories")
	e.open()
	for i := 0; i < 25; i++ {
		if t.categories&(1<<i) != 0 {
			e.key(categoryName(i))
			e.boolean(true)
		}
	}
	e.close()
	e.key("assignments")
	e.open()
	for _, a := range t.assignments {
		e.key(a.user)
		e.open()
		e.key("@odata.type")
		e.str("#microsoft.graph.plannerAssignment")
		e.key("assignedDateTime")
		e.tm(a.at)
		e.key("orderHint")
		e.str(a.hint)
		e.key("assignedBy")
		e.ident(a.by)
		e.close()
	}
	e.close()
	if withDetails {
		e.key("details")
		renderTaskDetails(e, t, "")
	}
	e.close()
}

func renderTaskDetails(e *enc, t *task, ctx string) {
	e.open()
	e.context(ctx)
	e.key("@odata.etag")
	e.etag(kindTaskDetails, t.detailsEtag)
	e.key("description")
	if t.descNull {
		e.null()
	} else {
		e.str(t.description)
	}
	e.key("previewType")
	e.str(previewTypes[t.previewType])
	e.key("id")
	e.str(t.id)
	e.key("references")
	e.open()
	for _, r := range t.references {
		e.key(r.key)
		e.open()
		e.key("@odata.type")
		e.str("#microsoft.graph.plannerExternalReference")
		e.key("alias")
		e.strN(r.alias)
		e.key("type")
		e.strN(r.typ)
		e.key("previewPriority")
		e.str(r.priority)
		e.key("lastModifiedDateTime")
		e.tm(r.at)
		e.key("lastModifiedBy")
		e.ident(r.by)
		e.close()
	}
	e.close()
	e.key("checklist")
	e.open()
	for _, c := range t.checklist {
		e.key(c.key)
		e.open()
		e.key("@odata.type")
		e.str("#microsoft.graph.plannerChecklistItem")
		e.key("isChecked")
		e.boolean(c.checked)
		e.key("title")
		e.str(c.title)
		e.key("orderHint")
		e.str(c.hint)
		e.key("lastModifiedDateTime")
		e.tm(c.at)
		e.key("lastModifiedBy")
		e.ident(c.by)
		e.close()
	}
	e.close()
	e.close()
}

func renderBucketBoard(e *enc, t *task, ctx string) {
	e.open()
	e.context(ctx)
	e.key("@odata.etag")
	e.etag(kindBucketBoard, t.bucketBoardEtag)
	e.key("orderHint")
	e.str(t.bucketBoardHint)
	e.key("id")
	e.str(t.id)
	e.close()
}

func renderProgressBoard(e *enc, t *task, ctx string) {
	e.open()
	e.context(ctx)
	e.key("@odata.etag")
	e.etag(kindProgressBoard, t.progressBoardEtag)
	e.key("orderHint")
	e.str(t.progressBoardHint)
	e.key("id")
	e.str(t.id)
	e.close()
}

func renderAssignedBoard(e *enc, t *task, ctx string) {
	e.open()
	e.context(ctx)
	e.key("@odata.etag")
	e.etag(kindAssignedBoard, t.assignedBoardEtag)
	e.key("unassignedOrderHint")
	e.str(t.unassignedHint)
	e.key("id")
	e.str(t.id)
	e.key("orderHintsByAssignee")
	e.open()
	for _, h := range t.hintsByAssignee {
		e.key(h.k)
		e.str(h.v)
	}
	e.close()
	e.close()
}

// categoryName returns "category<i+1>".
func categoryName(i int) string {
	return categoryNames[i]
}

var categoryNames = func() [25]string {
	var out [25]string
	for i := range out {
		out[i] = "category" + strconv.Itoa(i+1)
	}
	return out
}()

// categoryIndex parses "category1".."category25".
func categoryIndex(s string) (int, bool) {
	for i, n := range categoryNames {
		if n == s {
			return i, true
		}
	}
	return 0, false
}

// ---- directory objects ----

// selection is a parsed $select (nil = every property).
type selection map[string]bool

func (s selection) has(k string) bool { return s == nil || s[k] }

func renderUser(e *enc, u *user, ctx string, sel selection, withType bool) {
	e.open()
	e.context(ctx)
	if withType {
		e.key("@odata.type")
		e.str("#microsoft.graph.user")
	}
	if sel.has("businessPhones") {
		e.key("businessPhones")
		e.strArr()
	}
	if sel.has("displayName") {
		e.key("displayName")
		e.str(u.displayName)
	}
	if sel.has("givenName") {
		e.key("givenName")
		e.strN(u.givenName)
	}
	if sel.has("jobTitle") {
		e.key("jobTitle")
		e.strN(u.jobTitle)
	}
	if sel.has("mail") {
		e.key("mail")
		e.strN(u.mail)
	}
	if sel.has("mobilePhone") {
		e.key("mobilePhone")
		e.null()
	}
	if sel.has("officeLocation") {
		e.key("officeLocation")
		e.strN(u.officeLocation)
	}
	if sel.has("preferredLanguage") {
		e.key("preferredLanguage")
		e.str("en-US")
	}
	if sel.has("surname") {
		e.key("surname")
		e.strN(u.surname)
	}
	if sel.has("userPrincipalName") {
		e.key("userPrincipalName")
		e.str(u.upn)
	}
	e.key("id")
	e.str(u.id)
	e.close()
}

func renderGroup(e *enc, g *group, domain, ctx string, sel selection, withType bool) {
	e.open()
	e.context(ctx)
	if withType {
		e.key("@odata.type")
		e.str("#microsoft.graph.group")
	}
	e.key("id")
	e.str(g.id)
	if sel.has("deletedDateTime") {
		e.key("deletedDateTime")
		e.null()
	}
	if sel.has("classification") {
		e.key("classification")
		e.null()
	}
	if sel.has("createdDateTime") {
		e.key("createdDateTime")
		e.tm(g.created)
	}
	if sel.has("description") {
		e.key("description")
		e.strN(g.description)
	}
	if sel.has("displayName") {
		e.key("displayName")
		e.str(g.displayName)
	}
	if sel.has("groupTypes") {
		e.key("groupTypes")
		if g.unified {
			e.strArr("Unified")
		} else {
			e.strArr()
		}
	}
	if sel.has("mail") {
		e.key("mail")
		if g.unified {
			e.str(g.mailNick + "@" + domain)
		} else {
			e.null()
		}
	}
	if sel.has("mailEnabled") {
		e.key("mailEnabled")
		e.boolean(g.unified)
	}
	if sel.has("mailNickname") {
		e.key("mailNickname")
		e.str(g.mailNick)
	}
	if sel.has("membershipRule") {
		e.key("membershipRule")
		e.null()
	}
	if sel.has("resourceProvisioningOptions") {
		e.key("resourceProvisioningOptions")
		e.strArr()
	}
	if sel.has("securityEnabled") {
		e.key("securityEnabled")
		e.boolean(!g.unified)
	}
	if sel.has("visibility") {
		e.key("visibility")
		if g.unified {
			e.str(g.visibility)
		} else {
			e.null()
		}
	}
	e.close()
}

func renderRole(e *enc, r *dirRole, sel selection) {
	e.open()
	e.key("@odata.type")
	if r.unit {
		e.str("#microsoft.graph.administrativeUnit")
	} else {
		e.str("#microsoft.graph.directoryRole")
	}
	e.key("id")
	e.str(r.id)
	if sel.has("deletedDateTime") {
		e.key("deletedDateTime")
		e.null()
	}
	if sel.has("description") {
		e.key("description")
		e.str(r.description)
	}
	if sel.has("displayName") {
		e.key("displayName")
		e.str(r.displayName)
	}
	if r.unit {
		if sel.has("visibility") {
			e.key("visibility")
			e.null()
		}
	} else if sel.has("roleTemplateId") {
		e.key("roleTemplateId")
		e.str(r.templateID)
	}
	e.close()
}

// The properties renderGroup and renderRole write besides id.
var (
	groupProperties = []string{"deletedDateTime", "classification", "createdDateTime", "description", "displayName", "groupTypes",
		"mail", "mailEnabled", "mailNickname", "membershipRule", "resourceProvisioningOptions", "securityEnabled", "visibility"}
	roleProperties = []string{"deletedDateTime", "description", "displayName", "roleTemplateId"}
	unitProperties = []string{"deletedDateTime", "description", "displayName", "visibility"}
)

// renderLimited writes a directory object the caller may not read: its type
// and id, every other (selected) property null.
func renderLimited(e *enc, odataType, id string, props []string, sel selection) {
	e.open()
	e.key("@odata.type")
	e.str(odataType)
	e.key("id")
	e.str(id)
	for _, p := range props {
		if sel.has(p) {
			e.key(p)
			e.null()
		}
	}
	e.close()
}
