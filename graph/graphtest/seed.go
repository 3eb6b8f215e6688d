package graphtest

import (
	"fmt"
	"strings"
)

// Seeding: data as other clients left it. The service stores what its
// clients send, and some clients (older apps, scripts, the Planner apps
// themselves) send values the documented rules of the API would refuse from
// a Graph client: reference keys with more than % . : @ # encoded, or not
// encoded at all; checklist keys that are not GUIDs; date-times with any
// number of fractional digits; objects written by an application alone. The
// Seed methods store such values verbatim, without the validation the API
// applies, and give the object a new etag, as the other client's write did.
// They never normalise a key.

// Identity is who wrote something: the user and application members of an
// identitySet (either may be empty; both empty is null).
type Identity struct {
	UserID        string
	ApplicationID string
}

func (i Identity) ident() ident {
	return ident{user: strings.ToLower(i.UserID), app: i.ApplicationID}
}

// Reference is an external reference to seed on a task's details.
type Reference struct {
	Alias           string // "" is null
	Type            string // "" is null
	PreviewPriority string // stored as given ("" lets the emulator pick one)
	LastModifiedBy  Identity
	// LastModifiedDateTime as the other client's write left it, e.g.
	// "2026-11-02T09:00:00.5Z" (0 to 7 fractional digits, kept as given);
	// "" is the emulator's clock.
	LastModifiedDateTime string
}

// ChecklistItem is a checklist item to seed on a task's details.
type ChecklistItem struct {
	Title                string
	IsChecked            bool
	OrderHint            string // stored as given ("" puts it last)
	LastModifiedBy       Identity
	LastModifiedDateTime string // as for Reference
}

// TaskSeed holds task properties as another client left them. Date-times
// are ISO 8601 strings kept with the fractional digits given ("" leaves the
// property unchanged, "null" clears it); nil identities are left unchanged.
type TaskSeed struct {
	StartDateTime, DueDateTime, CreatedDateTime, CompletedDateTime string
	CreatedBy, CompletedBy                                         *Identity
}

// SeedReference stores a reference on a task's details under key, exactly as
// given: the key is not encoded, decoded or validated, so keys other clients
// wrote (e.g. "https%3A//contoso%2Esharepoint%2Ecom/Shared%20Documents/a%2Exlsx",
// with %20 beyond the documented encoding) can be seeded beside the keys the
// API's own clients write. A reference already under key is replaced.
func (s *Server) SeedReference(taskID, key string, ref Reference) error {
	if key == "" {
		return fmt.Errorf("graphtest: seed reference on task %s: the key is empty", taskID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.seedTask(taskID)
	if err != nil {
		return err
	}
	at, err := s.seedTime(ref.LastModifiedDateTime)
	if err != nil {
		return fmt.Errorf("graphtest: seed reference %q on task %s: %w", key, taskID, err)
	}
	r := reference{key: key, alias: ref.Alias, typ: ref.Type, priority: ref.PreviewPriority, by: ref.LastModifiedBy.ident(), at: at}
	i := findReference(t.references, key)
	if r.priority == "" {
		if i >= 0 {
			r.priority = t.references[i].priority
		} else {
			first := ""
			for _, o := range t.references {
				if first == "" || o.priority < first {
					first = o.priority
				}
			}
			r.priority = hintBefore(first)
		}
	}
	if i >= 0 {
		t.references[i] = r
	} else {
		t.references = insertAt(t.references, -1-i, r)
		s.bumpTask(t, nil) // referenceCount changed
	}
	s.bumpDetails(t, []string{"references/" + key})
	return nil
}

// SeedChecklistItem stores a checklist item on a task's details under key,
// exactly as given (not validated: the Planner apps write keys such as
// "20886" that the documented rules of the API would refuse). An item
// already under key is replaced.
func (s *Server) SeedChecklistItem(taskID, key string, item ChecklistItem) error {
	if key == "" {
		return fmt.Errorf("graphtest: seed checklist item on task %s: the key is empty", taskID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.seedTask(taskID)
	if err != nil {
		return err
	}
	at, err := s.seedTime(item.LastModifiedDateTime)
	if err != nil {
		return fmt.Errorf("graphtest: seed checklist item %q on task %s: %w", key, taskID, err)
	}
	ci := checklistItem{key: key, title: item.Title, checked: item.IsChecked, hint: item.OrderHint, by: item.LastModifiedBy.ident(), at: at}
	if ci.hint == "" {
		last := ""
		for _, o := range t.checklist {
			last = max(last, o.hint)
		}
		ci.hint = hintAfter(last)
	}
	if i := findChecklist(t.checklist, key); i >= 0 {
		t.checklist[i] = ci
	} else {
		t.checklist = insertAt(t.checklist, -1-i, ci)
	}
	s.bumpTask(t, nil) // the counts may have changed
	s.bumpDetails(t, []string{"checklist/" + key})
	return nil
}

// SeedTask sets task properties as another client left them (see TaskSeed).
func (s *Server) SeedTask(taskID string, seed TaskSeed) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.seedTask(taskID)
	if err != nil {
		return err
	}
	cl := t.clone()
	var paths []string
	for _, f := range []struct {
		name, v string
		dst     *stamp
	}{
		{"startDateTime", seed.StartDateTime, &cl.start},
		{"dueDateTime", seed.DueDateTime, &cl.due},
		{"createdDateTime", seed.CreatedDateTime, &cl.created},
		{"completedDateTime", seed.CompletedDateTime, &cl.completed},
	} {
		switch f.v {
		case "":
			continue
		case "null":
			*f.dst = stamp{}
		default:
			st, ok := parseGraphTime(f.v)
			if !ok {
				return fmt.Errorf("graphtest: seed task %s: %s %q is not an ISO 8601 date-time", taskID, f.name, f.v)
			}
			*f.dst = st
		}
		paths = append(paths, f.name)
	}
	if seed.CreatedBy != nil {
		cl.createdBy = seed.CreatedBy.ident()
		paths = append(paths, "createdBy")
	}
	if seed.CompletedBy != nil {
		cl.completedBy = seed.CompletedBy.ident()
		paths = append(paths, "completedBy")
	}
	*t = *cl
	s.bumpTask(t, paths)
	return nil
}

// DeleteGroup deletes a group and, as the service does, its plans with
// their buckets and tasks (see WithTasksOfDeletedPlans for the tasks that
// users' task lists keep returning).
func (s *Server) DeleteGroup(groupID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groupsByID[strings.ToLower(groupID)]
	if g == nil {
		return fmt.Errorf("graphtest: delete group %s: no such group", groupID)
	}
	for len(g.plans) > 0 {
		s.removePlan(g.plans[0])
	}
	delete(s.groupsByID, g.id)
	for i, o := range s.groups {
		if o == g {
			s.groups = removeAt(s.groups, i)
			break
		}
	}
	return nil
}

// bumpTask gives a task a new etag for a change of paths (nil: a change the
// service made itself).
func (s *Server) bumpTask(t *task, paths []string) {
	prev := t.etag
	t.etag = s.nextVersion()
	s.recordChange(kindTask, t.id, prev, t.etag, paths)
}

// bumpDetails gives a task's details a new etag for a change of paths.
func (s *Server) bumpDetails(t *task, paths []string) {
	prev := t.detailsEtag
	t.detailsEtag = s.nextVersion()
	s.recordChange(kindTaskDetails, t.id, prev, t.detailsEtag, paths)
}

func (s *Server) seedTask(id string) (*task, error) {
	t := s.tasks[id]
	if t == nil {
		return nil, fmt.Errorf("graphtest: seed: no task has the id %q", id)
	}
	return t, nil
}

// seedTime parses a seeded date-time ("" is the emulator's clock).
func (s *Server) seedTime(v string) (stamp, error) {
	if v == "" {
		return s.nowStamp(), nil
	}
	st, ok := parseGraphTime(v)
	if !ok {
		return stamp{}, fmt.Errorf("%q is not an ISO 8601 date-time", v)
	}
	return st, nil
}
