package driver

import (
	"iter"
	"slices"
	"strings"

	"github.com/plannersql/planner/graph"
)

// Order hints (learn.microsoft.com/graph/api/resources/planner-order-hint-format).
//
// Planner orders checklist items, assignees, references, buckets and tasks by
// order hints compared ordinally. A client places an item with
// "<previous> <next>!" built from its neighbours' hints, and the service
// stores a short value of its own between them; sending a service value
// back verbatim is a 400, and users report that the documented hints for an
// empty list, " !", " !!" and " ! !", are refused on checklist items
// (microsoft-graph-docs-contrib#348). SQL users write neither form
// naturally: they leave the column out, or copy another row's value to put
// a row there. So the driver, which knows the list, computes the hint
// itself (placeHint):
//
//   - a value in the documented grammar (ending with '!') is sent as given,
//     except, on checklist items, the hints of spaces and '!' alone, which
//     place the item first;
//   - a service value (a copy of another row's hint) puts the row at that
//     value's place: before the item holding it, or after it when the row
//     moves down to it (as dragging does), or between its neighbours when no
//     item holds it;
//   - where the row gets no value, a new checklist item or assignee goes to
//     the end of its list, and the service places the other kinds.

// isComposedHint reports whether a hint is in the client grammar
// "<previous> <next>!" rather than a service value.
func isComposedHint(h string) bool { return strings.HasSuffix(h, "!") }

// isEmptyListHint reports whether a hint is made of spaces and '!' alone
// (" !", " !!", " ! !"): the documented hints for an empty list.
func isEmptyListHint(h string) bool { return h != "" && strings.Trim(h, " !") == "" }

// hintPlace says what a row's list is like for placeHint.
type hintPlace struct {
	// strict: the service refuses the empty-list hints (checklist items).
	strict bool
	// required: a new item must carry a hint (assignees); the first of an
	// empty list gets " !".
	required bool
	// appendNew: a new item given no hint goes to the end of its list.
	appendNew bool
}

// placeHint returns the hint to send for a row whose statement gives
// given ("" for none) and whose hint is cur ("" for a new row), in a list
// whose other items' hints siblings returns (called only when needed). ""
// means send none: the service places the row.
func placeHint(given, cur string, p hintPlace, siblings func() ([]string, error)) (string, error) {
	if given != "" && isComposedHint(given) && !(p.strict && isEmptyListHint(given)) {
		return given, nil
	}
	if given == "" && (cur != "" || !p.appendNew) {
		return "", nil
	}
	sib, err := siblings()
	if err != nil {
		return "", err
	}
	sib = slices.DeleteFunc(slices.Clone(sib), func(s string) bool { return s == "" })
	slices.Sort(sib)
	var prev, next string
	switch {
	case given == "": // a new item: last
		if len(sib) > 0 {
			prev = sib[len(sib)-1]
		}
	case isEmptyListHint(given): // first
		if len(sib) > 0 {
			next = sib[0]
		}
	default: // a service value: its place
		i, found := slices.BinarySearch(sib, given)
		switch {
		case found && cur != "" && cur < given: // moving down to it: after it
			j := i
			for j < len(sib) && sib[j] == given {
				j++
			}
			prev = given
			if j < len(sib) {
				next = sib[j]
			}
		case found: // before it
			next = given
			if i > 0 {
				prev = sib[i-1]
			}
		default: // between its neighbours
			if i > 0 {
				prev = sib[i-1]
			}
			if i < len(sib) {
				next = sib[i]
			}
		}
	}
	if prev == "" && next == "" {
		// An empty list: the documented hint where one is required, else
		// the service's choice (" !" is refused on checklist items).
		if p.required {
			return " !", nil
		}
		return "", nil
	}
	return prev + " " + next + "!", nil
}

// hintsOf returns a siblings function for placeHint: the hints of the
// objects seq yields, leaving out the object skip (the row itself).
func hintsOf[T any](seq func() iter.Seq2[*T, error], skip string, id, hint func(*T) string) func() ([]string, error) {
	return func() ([]string, error) {
		var out []string
		for o, err := range seq() {
			if err != nil {
				return nil, err
			}
			if id(o) != skip {
				out = append(out, hint(o))
			}
		}
		return out, nil
	}
}

// mapHints returns a siblings function over the values of a map, leaving
// out the key skip.
func mapHints[V any](m map[string]V, skip string, hint func(V) string) func() ([]string, error) {
	return func() ([]string, error) {
		out := make([]string, 0, len(m))
		for k, v := range m {
			if k != skip {
				out = append(out, hint(v))
			}
		}
		return out, nil
	}
}

// placePatched recomputes, with placeHint, the hint an UPDATE's patch p
// sends as prop: a NULL or an empty string (no particular place) puts
// the row at the end of its list, on every kind of list (Graph refuses a
// null hint); in an empty list nothing is sent.
func placePatched(p graph.Patch, prop, cur string, place hintPlace, siblings func() ([]string, error)) error {
	v, ok := p[prop]
	if !ok {
		return nil
	}
	if v == nil || str(v) == "" {
		// An empty string is no hint either: as for INSERT, it is NULL (it used to
		// leave the row where it was while the UPDATE counted it).
		// No particular place: last, as a new item given none goes.
		// Graph refuses a null hint, so one is never sent.
		cur, place.appendNew = "", true
	}
	h, err := placeHint(str(v), cur, place, siblings)
	if err != nil {
		return err
	}
	if h == "" {
		delete(p, prop)
	} else {
		p[prop] = h
	}
	return nil
}
