package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// apiError is an error answered as JSON: {"error": message, "field": ...}.
// Messages say what to do next and never hold a secret.
type apiError struct {
	status  int
	message string
	field   string // the request field at fault, when one is
	line    int    // script errors: 1-based line and column
	column  int
}

func (e *apiError) Error() string { return e.message }

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, message: fmt.Sprintf(format, args...)}
}

func fieldError(field, format string, args ...any) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, field: field, message: fmt.Sprintf(format, args...)}
}

// notFound is the 404 for an object that does not exist, saying where the
// ones that do are listed.
func notFound(what, name string) *apiError {
	msg := fmt.Sprintf("no %s named %q", what, name)
	if hint := notFoundHints[what]; hint != "" {
		msg += ": " + hint
	}
	return errorf(http.StatusNotFound, "%s", msg)
}

// notFoundHints says, per kind of object, where the existing ones are listed.
var notFoundHints = map[string]string{
	"job":         "the Jobs page (GET /api/jobs) lists the jobs",
	"source":      "the Connections page (GET /api/connections) lists the sources",
	"destination": "the Connections page (GET /api/connections) lists the destinations",
	"run":         "a job's page lists its runs (GET /api/jobs/NAME/runs: those this console started; GET /api/jobs/NAME/history: those recorded in its destinations)",
}

// errorBody is the JSON form of an error response.
type errorBody struct {
	Error  string `json:"error"`
	Field  string `json:"field,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// writeError answers err as JSON. An error that is not an *apiError is a
// 500 whose message has been scrubbed of secrets by the caller.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{status: http.StatusInternalServerError, message: err.Error()}
	}
	msg := s.scrub(oneLine(ae.message))
	if ae.status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", ae.status, "err", msg)
	}
	writeJSON(w, ae.status, errorBody{Error: msg, Field: ae.field, Line: ae.line, Column: ae.column})
}

// maxBody bounds request bodies (scripts included).
const maxBody = 1 << 20

// decode reads a JSON request body into v, refusing unknown fields so
// that a misspelt field is an error rather than silently ignored.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return errorf(http.StatusUnsupportedMediaType, "send the request body as JSON with Content-Type: application/json")
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return errorf(http.StatusRequestEntityTooLarge, "the request body is larger than %d MiB: send a shorter one (a job's script can be kept in a file named by script_file in the config file)", maxBody>>20)
		}
		if errors.Is(err, io.EOF) {
			return errorf(http.StatusBadRequest, "the request has no JSON body")
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return errorf(http.StatusBadRequest, "the request body is not valid JSON (it ends early)")
		}
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return errorf(http.StatusBadRequest, "the request body is not valid JSON (at byte %d)", se.Offset)
		case errors.As(err, &te) && te.Field == "":
			return errorf(http.StatusBadRequest, "the request body must be a JSON object ({...}), not %s", jsonKindOf(te.Value))
		case errors.As(err, &te):
			return &apiError{status: http.StatusBadRequest, field: te.Field, message: fmt.Sprintf("field %q must be %s", te.Field, jsonKind(te.Type.Kind().String()))}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return &apiError{status: http.StatusBadRequest, field: f, message: fmt.Sprintf("unknown field %q: check its spelling against the route's fields in docs/api.md (unknown fields are refused, not ignored)", f)}
		}
		return errorf(http.StatusBadRequest, "the request body cannot be read: %v", err)
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "the request body holds more than one JSON value")
	}
	return nil
}

// jsonKindOf names a JSON value kind as UnmarshalTypeError.Value gives it.
func jsonKindOf(v string) string {
	switch v {
	case "array":
		return "an array"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	}
	return "a " + v
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "a number"
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// apiFunc is an API handler that returns its error; api adapts it to an
// http.HandlerFunc that answers the error as JSON (writeError).
type apiFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) api(f apiFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}
