package graphtest

import (
	"encoding/base64"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// The tenant's state. Everything below is guarded by store.mu (see Server).
//
// Objects keep their fields in compact Go form (times as Unix nanoseconds,
// etags as version counters) and are rendered to JSON on every response, so a
// 100,000-task tenant stays small in memory.

// ident is an identitySet with at most a user and an application member.
type ident struct {
	user string // user id, "" when absent
	app  string // application id, "" when absent
}

func (i ident) empty() bool { return i.user == "" && i.app == "" }

type user struct {
	id             string
	displayName    string
	givenName      string
	surname        string
	upn            string
	mail           string
	jobTitle       string
	officeLocation string
}

type group struct {
	id          string
	displayName string
	description string
	mailNick    string
	visibility  string
	unified     bool
	created     stamp
	members     map[string]bool // user ids
	plans       []*plan         // seq order
}

// dirRole is a directory role, or with unit an administrative unit: the
// directory objects besides groups that /memberOf lists.
type dirRole struct {
	id, displayName, description, templateID string
	unit                                     bool
	members                                  map[string]bool
}

type plan struct {
	seq       uint64
	id        string
	title     string
	group     *group
	createdBy ident
	created   stamp
	etag      uint64

	detailsEtag uint64
	sharedWith  []string   // sorted user ids (open type userId → true)
	categories  [25]string // categoryDescriptions.category1..25
	catSet      uint32     // bit i set: category(i+1) has a (possibly empty) name
	buckets     []*bucket  // seq order
	tasks       []*task    // seq order
	deleted     bool       // set when removed, so stale pointers fail lookups
}

type bucket struct {
	seq       uint64
	id        string
	name      string
	orderHint string
	plan      *plan
	etag      uint64
	deleted   bool
}

type assignment struct {
	user string
	by   ident
	at   stamp
	hint string
}

type checklistItem struct {
	key     string
	title   string
	checked bool
	hint    string
	by      ident
	at      stamp
}

type reference struct {
	key      string // percent-encoded URL, as given by the client
	alias    string
	typ      string
	priority string
	by       ident
	at       stamp
}

type task struct {
	seq              uint64
	id               string
	plan             *plan
	bucket           *bucket // nil: no bucket
	title            string
	orderHint        string
	assigneePriority string
	percent          int32
	priority         int32
	start, due       stamp
	created          stamp
	completed        stamp
	completedBy      ident
	createdBy        ident
	conversation     string
	categories       uint32 // bit i: category(i+1) applied
	assignments      []assignment
	etag             uint64
	deleted          bool
	orphaned         bool // deleted with its plan, yet still in users' task lists

	// details
	detailsEtag uint64
	description string
	descNull    bool
	previewType uint8
	checklist   []checklistItem // sorted by key
	references  []reference     // sorted by key

	// board formats
	bucketBoardEtag   uint64
	bucketBoardHint   string
	progressBoardEtag uint64
	progressBoardHint string
	assignedBoardEtag uint64
	unassignedHint    string
	hintsByAssignee   []kv // sorted by key
}

type kv struct{ k, v string }

var previewTypes = []string{"automatic", "noPreview", "checklist", "description", "reference"}

func previewTypeIndex(s string) (uint8, bool) {
	for i, p := range previewTypes {
		if p == s {
			return uint8(i), true
		}
	}
	return 0, false
}

func (t *task) activeChecklist() int {
	n := 0
	for _, c := range t.checklist {
		if !c.checked {
			n++
		}
	}
	return n
}

func (t *task) hasDescription() bool { return !t.descNull && t.description != "" }

func (t *task) assigned(userID string) bool {
	for _, a := range t.assignments {
		if a.user == userID {
			return true
		}
	}
	return false
}

// clone copies the task deeply enough that a PATCH can be applied to the copy
// and validated before it replaces the original.
func (t *task) clone() *task {
	c := *t
	c.assignments = append([]assignment(nil), t.assignments...)
	c.checklist = append([]checklistItem(nil), t.checklist...)
	c.references = append([]reference(nil), t.references...)
	c.hintsByAssignee = append([]kv(nil), t.hintsByAssignee...)
	return &c
}

// ---- ids ----

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// plannerID returns a 28-character URL-safe id like Planner's.
func plannerID(r *rand.Rand) string {
	var b [28]byte
	for i := range b {
		b[i] = idAlphabet[r.IntN(64)]
	}
	return string(b[:])
}

func validPlannerID(s string) bool {
	if len(s) != 28 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(idAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// guid returns a version-4-shaped GUID from r.
func guid(r *rand.Rand) string {
	const hexd = "0123456789abcdef"
	var b [36]byte
	hi, lo := r.Uint64(), r.Uint64()
	src := [16]byte{}
	for i := 0; i < 8; i++ {
		src[i] = byte(hi >> (8 * i))
		src[8+i] = byte(lo >> (8 * i))
	}
	src[6] = src[6]&0x0f | 0x40
	src[8] = src[8]&0x3f | 0x80
	j := 0
	for i, c := range src {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j] = hexd[c>>4]
		b[j+1] = hexd[c&15]
		j += 2
	}
	return string(b[:])
}

func validGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// ---- etags ----
//
// An etag is W/"<base64>" where the base64 text decodes to
// "'1-<Kind padded to 15>" + 6 version bytes + "'". The version bytes are
// chosen so that their base64 form uses only A–Z and a–z (values 0–51), whose
// ASCII order matches their numeric order: for one object, a later etag is
// ordinal-greater, as Planner documents.

type etagKind int

const (
	kindPlan etagKind = iota
	kindPlanDetails
	kindBucket
	kindTask
	kindTaskDetails
	kindBucketBoard
	kindProgressBoard
	kindAssignedBoard
)

var etagKindNames = [...]string{"Plan", "PlanDetails", "Bucket", "Task", "TaskDetails", "BucketBoard", "ProgressBoard", "AssignedToBoard"}

var etagPrefixes = func() [len(etagKindNames)]string {
	var out [len(etagKindNames)]string
	for i, n := range etagKindNames {
		p := "'1-" + n + strings.Repeat(" ", 15-len(n))
		out[i] = base64.StdEncoding.EncodeToString([]byte(p))
	}
	return out
}()

var etagKindPadded = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range etagKindNames {
		m[n+strings.Repeat(" ", 15-len(n))] = true
	}
	return m
}()

const etagDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// etagValue renders the inner (unquoted) etag text for a version.
func etagValue(k etagKind, version uint64) string {
	return string(appendEtagValue(nil, k, version))
}

func appendEtagValue(b []byte, k etagKind, version uint64) []byte {
	var d [8]byte
	for i := 7; i >= 0; i-- {
		d[i] = etagDigits[version%52]
		version /= 52
	}
	b = append(b, etagPrefixes[k]...)
	b = append(b, d[:]...)
	return append(b, "Jw=="...)
}

func etagString(k etagKind, version uint64) string {
	return `W/"` + etagValue(k, version) + `"`
}

// parseIfMatch classifies an If-Match value for an object of kind k:
// ok=false means malformed (400); otherwise the inner value is returned for
// comparison with the current one.
func parseIfMatch(h string, k etagKind) (inner string, ok bool) {
	h = strings.TrimSpace(h)
	h = strings.TrimPrefix(h, "W/")
	if len(h) < 2 || h[0] != '"' || h[len(h)-1] != '"' {
		return "", false
	}
	inner = h[1 : len(h)-1]
	raw, err := base64.StdEncoding.DecodeString(inner)
	if err != nil || len(raw) < 4 {
		return "", false
	}
	// Every Planner etag decodes to a quoted version string; ours also
	// name the kind of object, so a task's etag sent for its details is
	// rejected as invalid, like Planner does.
	if raw[0] != '\'' || raw[len(raw)-1] != '\'' {
		return "", false
	}
	if len(raw) == 25 {
		if kind := raw[3:18]; etagKindPadded[string(kind)] {
			// One of ours: it names the kind of object.
			if !strings.HasPrefix(inner, etagPrefixes[k]) {
				return "", false
			}
		}
	}
	return inner, true
}

// ---- time ----

// stamp is an Edm.DateTimeOffset at Graph's resolution of 100 ns, over
// Graph's whole range (years 1 to 9999), with how it is rendered: a value a
// client sent keeps its number of fractional digits (0 to 7, as sent), and a
// value the service made is rendered as Graph renders its own (no fraction
// for whole seconds, else seven digits). The zero stamp is null.
type stamp struct {
	ticks int64 // 100 ns units since 0001-01-01T00:00:00Z
	// form: 0 null, 1 the service's rendering, 2+n: n fractional digits.
	form int8
}

const (
	ticksPerSecond = 10_000_000
	unixToTicks    = 62135596800 // seconds from 0001-01-01 to 1970-01-01
	maxDigits      = 7
)

func (st stamp) isNull() bool { return st.form == 0 }

// stampOf is t as a service-made value.
func stampOf(t time.Time) stamp {
	return stamp{ticks: (t.Unix()+unixToTicks)*ticksPerSecond + int64(t.Nanosecond()/100), form: 1}
}

// stampNS is a service-made value from Unix nanoseconds.
func stampNS(ns int64) stamp { return stampOf(time.Unix(0, ns)) }

// add returns st moved by d (keeping its rendering).
func (st stamp) add(d time.Duration) stamp {
	if st.isNull() {
		return st
	}
	st.ticks += int64(d / 100)
	return st
}

// before reports whether st is earlier than o (both non-null).
func (st stamp) before(o stamp) bool { return st.ticks < o.ticks }

func (st stamp) time() time.Time {
	return time.Unix(st.ticks/ticksPerSecond-unixToTicks, (st.ticks%ticksPerSecond)*100).UTC()
}

// withDigits returns st rendered with n fractional digits (truncating).
func (st stamp) withDigits(n int) stamp {
	n = max(0, min(n, maxDigits))
	unit := int64(1)
	for i := n; i < maxDigits; i++ {
		unit *= 10
	}
	st.ticks -= st.ticks % unit
	st.form = int8(2 + n)
	return st
}

var fracLayouts = [...]string{
	"2006-01-02T15:04:05Z", "2006-01-02T15:04:05.0Z", "2006-01-02T15:04:05.00Z", "2006-01-02T15:04:05.000Z",
	"2006-01-02T15:04:05.0000Z", "2006-01-02T15:04:05.00000Z", "2006-01-02T15:04:05.000000Z", "2006-01-02T15:04:05.0000000Z",
}

// appendGraphTime formats st in UTC with Z: with the fractional digits the
// client sent, or like Graph (whole seconds without a fraction, otherwise
// seven digits).
func appendGraphTime(b []byte, st stamp) []byte {
	t := st.time()
	n := int(st.form) - 2
	if st.form == 1 {
		n = 0
		if st.ticks%ticksPerSecond != 0 {
			n = maxDigits
		}
	}
	return t.AppendFormat(b, fracLayouts[n])
}

// parseGraphTime parses an ISO 8601 date-time as clients send it: with or
// without a zone (UTC when absent), with 0 to 9 fractional digits (beyond
// seven, Graph's resolution, they are dropped), or a date alone. The stamp
// keeps how many fractional digits were sent.
func parseGraphTime(s string) (stamp, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02"} {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		t = t.UTC()
		if t.Year() < 1 || t.Year() > 9999 {
			return stamp{}, false
		}
		return stampOf(t).withDigits(fractionDigits(s)), true
	}
	return stamp{}, false
}

// fractionDigits counts the digits after the seconds' decimal point.
func fractionDigits(s string) int {
	i := strings.IndexByte(s, 'T')
	if i < 0 || len(s) < i+10 || s[i+9] != '.' {
		return 0
	}
	n := 0
	for j := i + 10; j < len(s) && s[j] >= '0' && s[j] <= '9'; j++ {
		n++
	}
	return n
}

// ---- sorted-slice helpers for open types ----

func findAssignment(s []assignment, k string) int {
	i := sort.Search(len(s), func(i int) bool { return s[i].user >= k })
	if i < len(s) && s[i].user == k {
		return i
	}
	return -1 - i
}

func findChecklist(s []checklistItem, k string) int {
	i := sort.Search(len(s), func(i int) bool { return s[i].key >= k })
	if i < len(s) && s[i].key == k {
		return i
	}
	return -1 - i
}

func findReference(s []reference, k string) int {
	i := sort.Search(len(s), func(i int) bool { return s[i].key >= k })
	if i < len(s) && s[i].key == k {
		return i
	}
	return -1 - i
}

func findKV(s []kv, k string) int {
	i := sort.Search(len(s), func(i int) bool { return s[i].k >= k })
	if i < len(s) && s[i].k == k {
		return i
	}
	return -1 - i
}

func insertAt[T any](s []T, i int, v T) []T {
	s = append(s, v)
	copy(s[i+1:], s[i:])
	s[i] = v
	return s
}

func removeAt[T any](s []T, i int) []T {
	return append(s[:i], s[i+1:]...)
}

func sortedInsertString(s []string, v string) []string {
	i := sort.SearchStrings(s, v)
	if i < len(s) && s[i] == v {
		return s
	}
	return insertAt(s, i, v)
}

func sortedRemoveString(s []string, v string) []string {
	i := sort.SearchStrings(s, v)
	if i < len(s) && s[i] == v {
		return removeAt(s, i)
	}
	return s
}
