package graph

import (
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// The client decodes Graph's bodies with github.com/go-json-experiment/json
// (the prototype of encoding/json/v2), which reads each byte once: where
// encoding/json first validates a whole body (checkValid) and then decodes
// it, this decoder validates as it decodes. A $batch body is decoded in the
// same single pass, each item's body straight into its model (see
// batchReplies).
//
// decodeOpts keep encoding/json's meaning of a body — what the models'
// json tags have always meant — without its cost:
//   - a member matches a field by name case-insensitively, as encoding/json
//     matches (an exact match first; '-' and '_' are not ignored);
//   - a member given twice is allowed, the last one winning or merging as
//     in encoding/json;
//   - invalid UTF-8 and unpaired surrogates in strings become U+FFFD;
//   - unknown members are skipped, JSON null leaves a field as it is.
//
// Not jsonv1.DefaultOptionsV1: its ReportErrorsWithLegacySemantics
// validates the whole body before decoding it, the second pass this
// replaces. So the text of a decoding error is the v2 package's (it names
// the JSON pointer of the value at fault), not encoding/json's.
var decodeOpts = json.JoinOptions(
	json.MatchCaseInsensitiveNames(true),
	jsonv1.MatchCaseSensitiveDelimiter(true),
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
	jsonv1.MergeWithLegacySemantics(true),
)

// decodeInto decodes one JSON document b into v, a pointer to a zero value.
func decodeInto[T any](b []byte, v *T) error {
	return json.Unmarshal(b, v, decodeOpts)
}

// decodeAny is decodeInto for a pointer held in an interface, such as the
// model ListBoardFormats picks for each item.
func decodeAny(b []byte, v any) error {
	return json.Unmarshal(b, v, decodeOpts)
}
