package replicate

import (
	"errors"

	"github.com/plannersql/planner/replicate/internal/dberr"
)

// hintedError is a destination error with what to do about it appended,
// chosen from the error's kind (disk full, permission, lock, ...).
type hintedError struct {
	err  error
	hint string
}

func (e *hintedError) Error() string { return e.err.Error() + "; " + e.hint }
func (e *hintedError) Unwrap() error { return e.err }

// sourceError marks an error of the source (its query, its rows), which
// gets no destination hint.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// fromSource marks err as the source's.
func fromSource(err error) error {
	if err == nil {
		return nil
	}
	return &sourceError{err}
}

// withHint appends to a destination error what the user can do about it,
// when its kind says (see dberr.Kind.Hint); other errors, source errors and
// errors already hinted are returned as they are.
func withHint(err error) error {
	if err == nil {
		return nil
	}
	var h *hintedError
	var s *sourceError
	if errors.As(err, &h) || errors.As(err, &s) {
		return err
	}
	if hint := dberr.Hint(err); hint != "" {
		return &hintedError{err: err, hint: hint}
	}
	return err
}
