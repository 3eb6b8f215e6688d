package graph

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// OData types of the values of Planner's open types; writes must carry them.
const (
	ODataAssignment        = "#microsoft.graph.plannerAssignment"
	ODataChecklistItem     = "#microsoft.graph.plannerChecklistItem"
	ODataExternalReference = "#microsoft.graph.plannerExternalReference"
)

// DateTime is an Edm.DateTimeOffset. It decodes leniently: null or "" is the
// zero time; values with or without a zone ("Z" assumed when absent) and with
// up to 9 fractional digits (Graph sends 0 to 7) are accepted. It encodes as
// RFC 3339 UTC with 7 fractional digits always (Graph's resolution, 100 ns:
// one fixed width, so that encoded values sort as text in time order), and
// the zero time as null.
type DateTime struct {
	time.Time
}

var dateTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02",
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *DateTime) UnmarshalJSON(b []byte) error {
	if len(b) == 4 && string(b) == "null" {
		d.Time = time.Time{}
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("graph: a date-time must be a JSON string, not %.40s", b)
	}
	if len(b) == 2 {
		d.Time = time.Time{}
		return nil
	}
	// The form Graph sends (RFC 3339), parsed from the bytes: no string
	// to allocate for each of a task's date-times.
	var t time.Time
	if t.UnmarshalText(b[1:len(b)-1]) == nil {
		d.Time = t.UTC()
		return nil
	}
	s := string(b[1 : len(b)-1])
	for _, layout := range dateTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			d.Time = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("graph: %q is not an ISO 8601 date-time", s)
}

// MarshalJSON implements json.Marshaler.
func (d DateTime) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + d.UTC().Format("2006-01-02T15:04:05.0000000Z") + `"`), nil
}

// Identity is a user, application or device of an IdentitySet. Planner often
// sends only the id; displayName is then empty.
//
// Planner records who wrote an object as the user, the application, or both:
// a task created with an app-only token has an Application and no User in
// its CreatedBy, and the same holds for CompletedBy, an assignment's
// AssignedBy and the LastModifiedBy of checklist items and references.
type Identity struct {
	ID          string `json:"id,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// IdentitySet names who did something (createdBy, completedBy, assignedBy,
// lastModifiedBy). Members other than user, application and device are
// ignored.
type IdentitySet struct {
	User        *Identity `json:"user,omitempty"`
	Application *Identity `json:"application,omitempty"`
	Device      *Identity `json:"device,omitempty"`
}

// PlanContainer is where a plan lives: a group (Type "group") or a roster.
type PlanContainer struct {
	ContainerID string `json:"containerId,omitempty"`
	Type        string `json:"type,omitempty"`
	URL         string `json:"url,omitempty"`
}

// Plan is a plannerPlan.
type Plan struct {
	ID              string         `json:"id"`
	Title           string         `json:"title"`
	Owner           string         `json:"owner,omitempty"` // deprecated by Graph: the group id
	Container       *PlanContainer `json:"container,omitempty"`
	CreatedBy       *IdentitySet   `json:"createdBy,omitempty"`
	CreatedDateTime *DateTime      `json:"createdDateTime,omitempty"`
	ETag            string         `json:"@odata.etag,omitempty"`
}

// CategoryDescriptions maps "category1" … "category25" to a label's name; a
// label without a name has an empty value (Graph sends null).
type CategoryDescriptions map[string]string

// PlanDetails is a plannerPlanDetails. Its ETag is the details' own.
// SharedWith is the open type plannerUserIds: user id → true (a false value
// means not shared; write false or null to remove a user).
type PlanDetails struct {
	ID                   string               `json:"id"`
	SharedWith           map[string]bool      `json:"sharedWith,omitempty"`
	CategoryDescriptions CategoryDescriptions `json:"categoryDescriptions,omitempty"`
	ETag                 string               `json:"@odata.etag,omitempty"`
}

// SharedWithIDs returns the ids of the users the plan is shared with (those
// whose SharedWith value is true), sorted.
func (d *PlanDetails) SharedWithIDs() []string {
	ids := make([]string, 0, len(d.SharedWith))
	for id, on := range d.SharedWith {
		if on {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// Bucket is a plannerBucket.
type Bucket struct {
	ID        string `json:"id"`
	PlanID    string `json:"planId"`
	Name      string `json:"name"`
	OrderHint string `json:"orderHint,omitempty"`
	ETag      string `json:"@odata.etag,omitempty"`
}

// Assignment is a plannerAssignment: the value of a task's assignments,
// keyed by the assignee's user id.
type Assignment struct {
	ODataType        string       `json:"@odata.type,omitempty"`
	AssignedBy       *IdentitySet `json:"assignedBy,omitempty"`
	AssignedDateTime *DateTime    `json:"assignedDateTime,omitempty"`
	OrderHint        string       `json:"orderHint,omitempty"`
}

// NewAssignment returns an assignment to write, with its OData type and an
// order hint (" !" puts it first; see OrderHintBetween).
func NewAssignment(orderHint string) Assignment {
	return Assignment{ODataType: ODataAssignment, OrderHint: orderHint}
}

// Task is a plannerTask. Its ETag is the task's own, not its details'.
type Task struct {
	ID                       string                `json:"id"`
	PlanID                   string                `json:"planId"`
	BucketID                 string                `json:"bucketId,omitempty"`
	Title                    string                `json:"title"`
	OrderHint                string                `json:"orderHint,omitempty"`
	AssigneePriority         string                `json:"assigneePriority,omitempty"`
	PercentComplete          *int                  `json:"percentComplete,omitempty"`
	Priority                 *int                  `json:"priority,omitempty"`
	StartDateTime            *DateTime             `json:"startDateTime,omitempty"`
	DueDateTime              *DateTime             `json:"dueDateTime,omitempty"`
	CreatedDateTime          *DateTime             `json:"createdDateTime,omitempty"`
	CompletedDateTime        *DateTime             `json:"completedDateTime,omitempty"`
	CreatedBy                *IdentitySet          `json:"createdBy,omitempty"`
	CompletedBy              *IdentitySet          `json:"completedBy,omitempty"`
	HasDescription           *bool                 `json:"hasDescription,omitempty"`
	PreviewType              string                `json:"previewType,omitempty"`
	ReferenceCount           *int                  `json:"referenceCount,omitempty"`
	ChecklistItemCount       *int                  `json:"checklistItemCount,omitempty"`
	ActiveChecklistItemCount *int                  `json:"activeChecklistItemCount,omitempty"`
	ConversationThreadID     string                `json:"conversationThreadId,omitempty"`
	Assignments              map[string]Assignment `json:"assignments,omitempty"`
	AppliedCategories        map[string]bool       `json:"appliedCategories,omitempty"`
	ETag                     string                `json:"@odata.etag,omitempty"`
}

// ChecklistItem is a plannerChecklistItem, keyed in TaskDetails.Checklist by
// a client-chosen id (see NewChecklistItemID).
type ChecklistItem struct {
	ODataType            string       `json:"@odata.type,omitempty"`
	Title                string       `json:"title,omitempty"`
	IsChecked            *bool        `json:"isChecked,omitempty"`
	OrderHint            string       `json:"orderHint,omitempty"`
	LastModifiedBy       *IdentitySet `json:"lastModifiedBy,omitempty"`
	LastModifiedDateTime *DateTime    `json:"lastModifiedDateTime,omitempty"`
}

// ExternalReference is a plannerExternalReference, keyed in
// TaskDetails.References by the key Graph holds.
type ExternalReference struct {
	// URL is the reference's key decoded by DecodeReferenceKey (set when
	// TaskDetails is decoded; not sent).
	URL                  string       `json:"-"`
	ODataType            string       `json:"@odata.type,omitempty"`
	Alias                string       `json:"alias,omitempty"`
	Type                 string       `json:"type,omitempty"`
	PreviewPriority      string       `json:"previewPriority,omitempty"`
	LastModifiedBy       *IdentitySet `json:"lastModifiedBy,omitempty"`
	LastModifiedDateTime *DateTime    `json:"lastModifiedDateTime,omitempty"`
}

// TaskDetails is a plannerTaskDetails. Its ETag is the details' own.
//
// References is keyed exactly as Graph holds the keys: the key is a
// reference's identity, and the one to send to update or remove it. Graph
// stores whatever key a client sent, so two keys may name the same URL (one
// client encoded "%20" as "%2520", another left it as is) and a key need not
// be the documented encoding of any URL; each value's URL field is its key
// decoded by DecodeReferenceKey.
type TaskDetails struct {
	ID          string                       `json:"id"`
	Description string                       `json:"description,omitempty"`
	PreviewType string                       `json:"previewType,omitempty"`
	Checklist   map[string]ChecklistItem     `json:"checklist,omitempty"`
	References  map[string]ExternalReference `json:"references,omitempty"`
	ETag        string                       `json:"@odata.etag,omitempty"`
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom of
// github.com/go-json-experiment/json (the client's decoder): it decodes the
// details as their json tags say, then sets each reference's URL.
func (d *TaskDetails) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type plain TaskDetails
	if err := json.UnmarshalDecode(dec, (*plain)(d)); err != nil {
		return err
	}
	for k, v := range d.References {
		v.URL = DecodeReferenceKey(k)
		d.References[k] = v // replacing the value of a visited key is safe
	}
	return nil
}

// UnmarshalJSON implements encoding/json's Unmarshaler, decoding as the
// client does (see UnmarshalJSONFrom).
func (d *TaskDetails) UnmarshalJSON(b []byte) error {
	return decodeInto(b, d)
}

// BucketTaskBoardFormat is a plannerBucketTaskBoardTaskFormat: a task's
// order in the board grouped by bucket. Its ID is the task's.
type BucketTaskBoardFormat struct {
	ID        string `json:"id"`
	OrderHint string `json:"orderHint,omitempty"`
	ETag      string `json:"@odata.etag,omitempty"`
}

// ProgressTaskBoardFormat is a plannerProgressTaskBoardTaskFormat: a task's
// order in the board grouped by progress.
type ProgressTaskBoardFormat struct {
	ID        string `json:"id"`
	OrderHint string `json:"orderHint,omitempty"`
	ETag      string `json:"@odata.etag,omitempty"`
}

// AssignedToTaskBoardFormat is a plannerAssignedToTaskBoardTaskFormat: a
// task's order in the board grouped by assignee.
type AssignedToTaskBoardFormat struct {
	ID                   string            `json:"id"`
	OrderHintsByAssignee map[string]string `json:"orderHintsByAssignee,omitempty"`
	UnassignedOrderHint  string            `json:"unassignedOrderHint,omitempty"`
	ETag                 string            `json:"@odata.etag,omitempty"`
}

// Group is a directory group (a Microsoft 365 group has "Unified" among its
// GroupTypes), or another directory object of /me/memberOf with its
// ODataType.
type Group struct {
	ODataType       string    `json:"@odata.type,omitempty"`
	ID              string    `json:"id"`
	DisplayName     string    `json:"displayName,omitempty"`
	Description     string    `json:"description,omitempty"`
	Mail            string    `json:"mail,omitempty"`
	Visibility      string    `json:"visibility,omitempty"`
	CreatedDateTime *DateTime `json:"createdDateTime,omitempty"`
	GroupTypes      []string  `json:"groupTypes,omitempty"`
	MailEnabled     *bool     `json:"mailEnabled,omitempty"`
	SecurityEnabled *bool     `json:"securityEnabled,omitempty"`
}

// Limited reports whether Graph returned only g's id and type, every other
// property null: it does so in lists of directory objects (/me/memberOf) for
// objects the caller has no permission to read ("limited information
// returned for inaccessible member objects"), e.g. groups when the token has
// none of Group.Read.All, GroupMember.Read.All and Directory.Read.All. Such a
// group cannot be told apart as a Microsoft 365 group.
func (g *Group) Limited() bool {
	return g.DisplayName == "" && g.GroupTypes == nil && g.MailEnabled == nil && g.SecurityEnabled == nil && g.Mail == "" && g.CreatedDateTime == nil
}

// IsGroup reports whether the directory object is a group (of any kind).
func (g *Group) IsGroup() bool {
	return equalFoldASCII(strings.TrimPrefix(g.ODataType, "#"), "microsoft.graph.group")
}

// IsUnified reports whether g is a Microsoft 365 group, the only kind that
// holds plans.
func (g *Group) IsUnified() bool {
	for _, t := range g.GroupTypes {
		if equalFoldASCII(t, "Unified") {
			return true
		}
	}
	return false
}

// User is a directory user (/me or /users/{id}).
type User struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName,omitempty"`
	GivenName         string `json:"givenName,omitempty"`
	Surname           string `json:"surname,omitempty"`
	Mail              string `json:"mail,omitempty"`
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	JobTitle          string `json:"jobTitle,omitempty"`
	OfficeLocation    string `json:"officeLocation,omitempty"`
}

// Patch is the body of a PATCH: a JSON merge of the properties to change.
// Inside an open type (assignments, appliedCategories, checklist,
// references, sharedWith, categoryDescriptions…) a nil value deletes the key;
// values of assignments, checklist and references must carry "@odata.type".
type Patch map[string]any

// EncodeReferenceKey turns a URL into a key of a task's references, as
// Planner requires: '%' first, then '.', ':', '@' and '#' percent-encoded.
func EncodeReferenceKey(rawURL string) string {
	var b bytes.Buffer
	b.Grow(len(rawURL) + 16)
	for i := 0; i < len(rawURL); i++ {
		switch c := rawURL[i]; c {
		case '%':
			b.WriteString("%25")
		case '.':
			b.WriteString("%2E")
		case ':':
			b.WriteString("%3A")
		case '@':
			b.WriteString("%40")
		case '#':
			b.WriteString("%23")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// DecodeReferenceKey undoes exactly Planner's documented encoding of a
// reference key: %25, %2E, %3A, %40 and %23 (either case of hex digits)
// become % . : @ #, and every other byte, other percent escapes such as %20
// included, is kept. So DecodeReferenceKey(EncodeReferenceKey(u)) == u for
// every u, and a URL written with its own escapes keeps them.
func DecodeReferenceKey(key string) string {
	if !containsByte(key, '%') {
		return key
	}
	var b strings.Builder
	b.Grow(len(key))
	for i := 0; i < len(key); i++ {
		if key[i] == '%' && i+2 < len(key) {
			if c, ok := referenceEscapes[strings.ToUpper(key[i+1:i+3])]; ok {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(key[i])
	}
	return b.String()
}

// referenceEscapes are the escapes of Planner's reference key encoding.
var referenceEscapes = map[string]byte{"25": '%', "2E": '.', "3A": ':', "40": '@', "23": '#'}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
