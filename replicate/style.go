package replicate

import (
	"fmt"
	"strings"
	"unicode"
)

// NameStyle is how a destination spells the names of the tables and
// columns replicate creates in it (Options.NameStyle).
type NameStyle string

// The name styles.
const (
	// NameExact keeps names as the source spells them (Tasks.TaskId);
	// PostgreSQL users then quote them ("Tasks"."TaskId"). The default.
	NameExact NameStyle = "exact"
	// NameLower lower-cases names (tasks.taskid).
	NameLower NameStyle = "lower"
	// NameSnake writes names in snake_case (tasks.task_id,
	// task_details.created_by_user_id): a lower-case letter or digit
	// followed by an upper-case letter starts a word, and so does the last
	// upper-case letter of a run followed by a lower-case one (ETag → e_tag,
	// HTTPServer → http_server); characters other than letters and digits
	// become '_', runs of '_' collapse, and leading and trailing '_' go.
	NameSnake NameStyle = "snake_case"
)

// NameStyles lists the accepted name styles, for messages.
const NameStyles = "exact, lower, snake_case"

// ParseNameStyle returns the style a word names ("" is NameExact);
// matching is case-insensitive, and "snake" is accepted for snake_case.
func ParseNameStyle(s string) (NameStyle, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "exact":
		return NameExact, nil
	case "lower":
		return NameLower, nil
	case "snake_case", "snake":
		return NameSnake, nil
	}
	return "", fmt.Errorf("replicate: unknown name style %q: use %s", s, NameStyles)
}

// Apply spells name in the style.
func (s NameStyle) Apply(name string) string {
	switch s {
	case NameLower:
		return strings.ToLower(name)
	case NameSnake:
		return snakeCase(name)
	}
	return name
}

func snakeCase(name string) string {
	rs := []rune(name)
	var b strings.Builder
	under := func() {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "_") {
			b.WriteByte('_')
		}
	}
	for i, r := range rs {
		switch {
		case unicode.IsUpper(r):
			prevLowerOrDigit := i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]))
			acronymEnd := i > 0 && unicode.IsUpper(rs[i-1]) && i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if prevLowerOrDigit || acronymEnd {
				under()
			}
			b.WriteRune(unicode.ToLower(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		default:
			under()
		}
	}
	out := strings.Trim(b.String(), "_")
	if out == "" {
		return strings.ToLower(name) // a name of punctuation only stays itself
	}
	return out
}

// bookNames are the names of the bookkeeping columns replicate adds to
// destination tables, in the destination's name style.
type bookNames struct {
	sourceName, isDeleted, deletedAt string
}

func newBookNames(s NameStyle) bookNames {
	return bookNames{sourceName: s.Apply(colSourceName), isDeleted: s.Apply(colIsDeleted), deletedAt: s.Apply(colDeletedAt)}
}
