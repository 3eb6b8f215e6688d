package graph

import "sync"

// Single-pass decoders of the models (see jsondec.go). Each mirrors its
// struct's json tags; the field lists name every tag, for the
// case-insensitive check of unknown keys.

var (
	identitySetFields = []string{"user", "application", "device"}
	identityFields    = []string{"id", "displayName"}
	assignmentFields  = []string{"@odata.type", "assignedBy", "assignedDateTime", "orderHint"}
	taskFields        = []string{"id", "planId", "bucketId", "title", "orderHint", "assigneePriority", "percentComplete",
		"priority", "startDateTime", "dueDateTime", "createdDateTime", "completedDateTime", "createdBy", "completedBy",
		"hasDescription", "previewType", "referenceCount", "checklistItemCount", "activeChecklistItemCount",
		"conversationThreadId", "assignments", "appliedCategories", "@odata.etag"}
	checklistFields   = []string{"@odata.type", "title", "isChecked", "orderHint", "lastModifiedBy", "lastModifiedDateTime"}
	referenceFields   = []string{"@odata.type", "alias", "type", "previewPriority", "lastModifiedBy", "lastModifiedDateTime"}
	detailsFields     = []string{"id", "description", "previewType", "checklist", "references", "@odata.etag"}
	planFields        = []string{"id", "title", "owner", "container", "createdBy", "createdDateTime", "@odata.etag"}
	containerFields   = []string{"containerId", "type", "url"}
	planDetailsFields = []string{"id", "sharedWith", "categoryDescriptions", "@odata.etag"}
	bucketFields      = []string{"id", "planId", "name", "orderHint", "@odata.etag"}
	pageFields        = []string{"value", "@odata.nextLink"}
	envelopeFields    = []string{"responses"}
	replyFields       = []string{"id", "status", "headers", "body"}
)

// field checks that a field appears once (encoding/json merges repeated
// objects and maps; the fast decoder leaves those documents to it).
func (s *seen) field(bit int) error {
	if !s.first(bit) {
		return errFallback
	}
	return nil
}

// decodeMap decodes an object member into *m (null: nil), each value into a
// fresh V with f (a null value gives V's zero value, as encoding/json does).
// share interns the keys; then, if given, completes each value with its key.
func decodeMap[V any](d *decoder, m *map[string]V, share bool, f func(*V) error, then ...func(string, *V)) error {
	if d.null() {
		*m = nil
		return nil
	}
	if d.peek() != '{' {
		return errFallback
	}
	if *m == nil {
		*m = make(map[string]V)
	}
	return d.object(func(k []byte) error {
		var v V
		if !d.null() {
			if err := f(&v); err != nil {
				return err
			}
		}
		key := d.key(k, share)
		for _, g := range then {
			g(key, &v)
		}
		(*m)[key] = v
		return nil
	})
}

// key makes a map key from its bytes, interned when share is true.
func (d *decoder) key(k []byte, share bool) string {
	if !share || len(k) > 64 {
		return string(k)
	}
	if s, ok := d.strs[string(k)]; ok {
		return s
	}
	if d.strs == nil {
		d.strs = make(map[string]string, 16)
	}
	s := string(k)
	d.strs[s] = s
	return s
}

func (d *decoder) boolValue(v *bool) error {
	b, err := d.boolean()
	*v = b
	return err
}

func (d *decoder) strValue(v *string) error { return d.setStr(v, false) }

// setIdentitySet decodes an identitySet member into *p (null: nil).
func (d *decoder) setIdentitySet(p **IdentitySet) error {
	if d.null() {
		*p = nil
		return nil
	}
	if d.peek() != '{' {
		return errFallback
	}
	s := d.slab.set()
	*p = s
	var sn seen
	return d.object(func(k []byte) error {
		switch string(k) {
		case "user":
			return firstThen(sn.field(0), func() error { return d.setIdentity(&s.User) })
		case "application":
			return firstThen(sn.field(1), func() error { return d.setIdentity(&s.Application) })
		case "device":
			return firstThen(sn.field(2), func() error { return d.setIdentity(&s.Device) })
		}
		return d.member(k, identitySetFields)
	})
}

func firstThen(err error, f func() error) error {
	if err != nil {
		return err
	}
	return f()
}

// setIdentity decodes an identity member into *p (null: nil).
func (d *decoder) setIdentity(p **Identity) error {
	if d.null() {
		*p = nil
		return nil
	}
	if d.peek() != '{' {
		return errFallback
	}
	id := d.slab.ident()
	*p = id
	var sn seen
	return d.object(func(k []byte) error {
		switch string(k) {
		case "id":
			return firstThen(sn.field(0), func() error { return d.setStr(&id.ID, true) })
		case "displayName":
			return firstThen(sn.field(1), func() error { return d.setStr(&id.DisplayName, true) })
		}
		return d.member(k, identityFields)
	})
}

func (a *Assignment) decodeFast(d *decoder) error {
	var sn seen
	return d.object(func(k []byte) error {
		switch string(k) {
		case "@odata.type":
			return firstThen(sn.field(0), func() error { return d.setStr(&a.ODataType, true) })
		case "assignedBy":
			return firstThen(sn.field(1), func() error { return d.setIdentitySet(&a.AssignedBy) })
		case "assignedDateTime":
			return firstThen(sn.field(2), func() error { return d.setDatePtr(&a.AssignedDateTime) })
		case "orderHint":
			return firstThen(sn.field(3), func() error { return d.setStr(&a.OrderHint, true) })
		}
		return d.member(k, assignmentFields)
	})
}

func (t *Task) decodeFast(d *decoder) error {
	var sn seen
	return d.object(func(k []byte) error {
		var bit int
		var f func() error
		switch string(k) {
		case "id":
			bit, f = 0, func() error { return d.setStr(&t.ID, false) }
		case "planId":
			bit, f = 1, func() error { return d.setStr(&t.PlanID, true) }
		case "bucketId":
			bit, f = 2, func() error { return d.setStr(&t.BucketID, true) }
		case "title":
			bit, f = 3, func() error { return d.setStr(&t.Title, false) }
		case "orderHint":
			bit, f = 4, func() error { return d.setStr(&t.OrderHint, false) }
		case "assigneePriority":
			bit, f = 5, func() error { return d.setStr(&t.AssigneePriority, false) }
		case "percentComplete":
			bit, f = 6, func() error { return d.setIntPtr(&t.PercentComplete) }
		case "priority":
			bit, f = 7, func() error { return d.setIntPtr(&t.Priority) }
		case "startDateTime":
			bit, f = 8, func() error { return d.setDatePtr(&t.StartDateTime) }
		case "dueDateTime":
			bit, f = 9, func() error { return d.setDatePtr(&t.DueDateTime) }
		case "createdDateTime":
			bit, f = 10, func() error { return d.setDatePtr(&t.CreatedDateTime) }
		case "completedDateTime":
			bit, f = 11, func() error { return d.setDatePtr(&t.CompletedDateTime) }
		case "createdBy":
			bit, f = 12, func() error { return d.setIdentitySet(&t.CreatedBy) }
		case "completedBy":
			bit, f = 13, func() error { return d.setIdentitySet(&t.CompletedBy) }
		case "hasDescription":
			bit, f = 14, func() error { return d.setBoolPtr(&t.HasDescription) }
		case "previewType":
			bit, f = 15, func() error { return d.setStr(&t.PreviewType, true) }
		case "referenceCount":
			bit, f = 16, func() error { return d.setIntPtr(&t.ReferenceCount) }
		case "checklistItemCount":
			bit, f = 17, func() error { return d.setIntPtr(&t.ChecklistItemCount) }
		case "activeChecklistItemCount":
			bit, f = 18, func() error { return d.setIntPtr(&t.ActiveChecklistItemCount) }
		case "conversationThreadId":
			bit, f = 19, func() error { return d.setStr(&t.ConversationThreadID, false) }
		case "assignments":
			bit, f = 20, func() error {
				return decodeMap(d, &t.Assignments, true, func(a *Assignment) error { return a.decodeFast(d) })
			}
		case "appliedCategories":
			bit, f = 21, func() error { return decodeMap(d, &t.AppliedCategories, true, d.boolValue) }
		case "@odata.etag":
			bit, f = 22, func() error { return d.setStr(&t.ETag, false) }
		default:
			return d.member(k, taskFields)
		}
		return firstThen(sn.field(bit), f)
	})
}

func (c *ChecklistItem) decodeFast(d *decoder) error {
	var sn seen
	return d.object(func(k []byte) error {
		var bit int
		var f func() error
		switch string(k) {
		case "@odata.type":
			bit, f = 0, func() error { return d.setStr(&c.ODataType, true) }
		case "title":
			bit, f = 1, func() error { return d.setStr(&c.Title, false) }
		case "isChecked":
			bit, f = 2, func() error { return d.setBoolPtr(&c.IsChecked) }
		case "orderHint":
			bit, f = 3, func() error { return d.setStr(&c.OrderHint, false) }
		case "lastModifiedBy":
			bit, f = 4, func() error { return d.setIdentitySet(&c.LastModifiedBy) }
		case "lastModifiedDateTime":
			bit, f = 5, func() error { return d.setDatePtr(&c.LastModifiedDateTime) }
		default:
			return d.member(k, checklistFields)
		}
		return firstThen(sn.field(bit), f)
	})
}

func (r *ExternalReference) decodeFast(d *decoder) error {
	var sn seen
	return d.object(func(k []byte) error {
		var bit int
		var f func() error
		switch string(k) {
		case "@odata.type":
			bit, f = 0, func() error { return d.setStr(&r.ODataType, true) }
		case "alias":
			bit, f = 1, func() error { return d.setStr(&r.Alias, false) }
		case "type":
			bit, f = 2, func() error { return d.setStr(&r.Type, true) }
		case "previewPriority":
			bit, f = 3, func() error { return d.setStr(&r.PreviewPriority, false) }
		case "lastModifiedBy":
			bit, f = 4, func() error { return d.setIdentitySet(&r.LastModifiedBy) }
		case "lastModifiedDateTime":
			bit, f = 5, func() error { return d.setDatePtr(&r.LastModifiedDateTime) }
		default:
			return d.member(k, referenceFields)
		}
		return firstThen(sn.field(bit), f)
	})
}

// decodeFast decodes task details as UnmarshalJSON does.
func (t *TaskDetails) decodeFast(d *decoder) error {
	var sn seen
	return d.object(func(k []byte) error {
		var bit int
		var f func() error
		switch string(k) {
		case "id":
			bit, f = 0, func() error { return d.setStr(&t.ID, false) }
		case "description":
			bit, f = 1, func() error { return d.setStr(&t.Description, false) }
		case "previewType":
			bit, f = 2, func() error { return d.setStr(&t.PreviewType, true) }
		case "checklist":
			bit, f = 3, func() error {
				return decodeMap(d, &t.Checklist, false, func(c *ChecklistItem) error { return c.decodeFast(d) })
			}
		case "references":
			bit, f = 4, func() error { return t.decodeReferences(d) }
		case "@odata.etag":
			bit, f = 5, func() error { return d.setStr(&t.ETag, false) }
		default:
			return d.member(k, detailsFields)
		}
		return firstThen(sn.field(bit), f)
	})
}

// decodeReferences keeps references under the keys Graph holds and sets
// each one's URL, as UnmarshalJSON does.
func (t *TaskDetails) decodeReferences(d *decoder) error {
	return decodeMap(d, &t.References, false, func(r *ExternalReference) error { return r.decodeFast(d) }, func(k string, r *ExternalReference) {
		r.URL = DecodeReferenceKey(k)
	})
}

func (c *PlanContainer) decodeFast(d *decoder) error {
	var sn seen
	return d.object(func(k []byte) error {
		switch string(k) {
		case "containerId":
			return firstThen(sn.field(0), func() error { return d.setStr(&c.ContainerID, false) })
		case "type":
			return firstThen(sn.field(1), func() error { return d.setStr(&c.Type, true) })
		case "url":
			return firstThen(sn.field(2), func() error { return d.setStr(&c.URL, false) })
		}
		return d.member(k, containerFields)
	})
}

func (p *Plan) decodeFast(d *decoder) error {
	var sn seen
	return d.object(func(k []byte) error {
		var bit int
		var f func() error
		switch string(k) {
		case "id":
			bit, f = 0, func() error { return d.setStr(&p.ID, false) }
		case "title":
			bit, f = 1, func() error { return d.setStr(&p.Title, false) }
		case "owner":
			bit, f = 2, func() error { return d.setStr(&p.Owner, true) }
		case "container":
			bit, f = 3, func() error {
				if d.null() {
					p.Container = nil
					return nil
				}
				p.Container = new(PlanContainer)
				return p.Container.decodeFast(d)
			}
		case "createdBy":
			bit, f = 4, func() error { return d.setIdentitySet(&p.CreatedBy) }
		case "createdDateTime":
			bit, f = 5, func() error { return d.setDatePtr(&p.CreatedDateTime) }
		case "@odata.etag":
			bit, f = 6, func() error { return d.setStr(&p.ETag, false) }
		default:
			return d.member(k, planFields)
		}
		return firstThen(sn.field(bit), f)
	})
}

func (p *PlanDetails) decodeFast(d *decoder) error {
	var sn seen
	return d.object(func(k []byte) error {
		var bit int
		var f func() error
		switch string(k) {
		case "id":
			bit, f = 0, func() error { return d.setStr(&p.ID, false) }
		case "sharedWith":
			bit, f = 1, func() error { return decodeMap(d, &p.SharedWith, true, d.boolValue) }
		case "categoryDescriptions":
			bit, f = 2, func() error {
				m := map[string]string(p.CategoryDescriptions)
				err := decodeMap(d, &m, true, d.strValue)
				p.CategoryDescriptions = m
				return err
			}
		case "@odata.etag":
			bit, f = 3, func() error { return d.setStr(&p.ETag, false) }
		default:
			return d.member(k, planDetailsFields)
		}
		return firstThen(sn.field(bit), f)
	})
}

func (b *Bucket) decodeFast(d *decoder) error {
	var sn seen
	return d.object(func(k []byte) error {
		var bit int
		var f func() error
		switch string(k) {
		case "id":
			bit, f = 0, func() error { return d.setStr(&b.ID, false) }
		case "planId":
			bit, f = 1, func() error { return d.setStr(&b.PlanID, true) }
		case "name":
			bit, f = 2, func() error { return d.setStr(&b.Name, false) }
		case "orderHint":
			bit, f = 3, func() error { return d.setStr(&b.OrderHint, false) }
		case "@odata.etag":
			bit, f = 4, func() error { return d.setStr(&b.ETag, false) }
		default:
			return d.member(k, bucketFields)
		}
		return firstThen(sn.field(bit), f)
	})
}

// decodeFast decodes a page of a collection whose items decode fast.
func (p *page[T]) decodeFast(d *decoder) error {
	if _, ok := any((*T)(nil)).(fastDecoder); !ok {
		return errFallback
	}
	var sn seen
	return d.object(func(k []byte) error {
		switch string(k) {
		case "value":
			if err := sn.field(0); err != nil {
				return err
			}
			if d.null() {
				p.Value = nil
				return nil
			}
			if d.peek() != '[' {
				return errFallback
			}
			// Decoded into a recycled slice, then copied into one of the
			// exact size: one allocation per page, none wasted.
			pool := scratchPool[T]()
			scratch, _ := pool.Get().(*[]T)
			if scratch == nil {
				scratch = new([]T)
			}
			items := (*scratch)[:0]
			err := d.array(func() error {
				var zero T
				items = append(items, zero)
				return any(&items[len(items)-1]).(fastDecoder).decodeFast(d)
			})
			p.Value = append(make([]T, 0, len(items)), items...)
			clear(items)
			*scratch = items[:0]
			pool.Put(scratch)
			return err
		case "@odata.nextLink":
			return firstThen(sn.field(1), func() error { return d.setStr(&p.NextLink, false) })
		}
		return d.member(k, pageFields)
	})
}

// scratchPools holds a *sync.Pool of *[]T per item type T, keyed by (*T)(nil).
var scratchPools sync.Map

func scratchPool[T any]() *sync.Pool {
	key := any((*T)(nil))
	if p, ok := scratchPools.Load(key); ok {
		return p.(*sync.Pool)
	}
	p, _ := scratchPools.LoadOrStore(key, new(sync.Pool))
	return p.(*sync.Pool)
}

// batchEnvelope is the body of a $batch response.
type batchEnvelope struct {
	Responses []batchReply `json:"responses"`
}

func (e *batchEnvelope) decodeFast(d *decoder) error {
	var sn seen
	return d.object(func(k []byte) error {
		if string(k) != "responses" {
			return d.member(k, envelopeFields)
		}
		if err := sn.field(0); err != nil {
			return err
		}
		if d.null() {
			e.Responses = nil
			return nil
		}
		if d.peek() != '[' {
			return errFallback
		}
		e.Responses = make([]batchReply, 0, maxBatch)
		return d.array(func() error {
			e.Responses = append(e.Responses, batchReply{})
			return e.Responses[len(e.Responses)-1].decodeFast(d)
		})
	})
}

// decodeFast keeps a reply's body as the bytes of the response (checked, not
// copied); the body is decoded once, by whoever reads it.
func (r *batchReply) decodeFast(d *decoder) error {
	var sn seen
	return d.object(func(k []byte) error {
		switch string(k) {
		case "id":
			return firstThen(sn.field(0), func() error { return d.setStr(&r.ID, false) })
		case "status":
			return firstThen(sn.field(1), func() error { return d.setInt(&r.Status) })
		case "headers":
			return firstThen(sn.field(2), func() error { return decodeMap(d, &r.Headers, true, d.strValue) })
		case "body":
			return firstThen(sn.field(3), func() error {
				b, err := d.raw()
				r.Body = b
				return err
			})
		}
		return d.member(k, replyFields)
	})
}
