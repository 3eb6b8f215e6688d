package graph

import (
	"encoding/json"
	"errors"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// The client decodes the bodies it reads most — pages of tasks, buckets and
// plans, task and plan details, $batch envelopes — with a decoder of its own
// that reads each byte once, straight into the models, where encoding/json
// first validates the whole body (checkValid), then decodes it, and decodes
// a $batch body again from a copy. It gives the same values encoding/json
// would: on anything it does not decode exactly that way (a syntax error, an
// unexpected type, a key that matches a field only case-insensitively or a
// field given twice, a number that is not a plain integer, nesting deeper
// than encoding/json allows) it gives up and the caller decodes the body with
// encoding/json, so results and errors never differ. Tests compare the two
// on the emulator's awkward data and on fuzzed input.

// errFallback means: decode this document with encoding/json instead.
var errFallback = errors.New("graph: fast decoding declined")

// fastDecoder is implemented by models the client decodes itself.
type fastDecoder interface {
	decodeFast(d *decoder) error
}

// decodeInto decodes b into v, a pointer to a zero value.
func decodeInto[T any](b []byte, v *T) error {
	if fd, ok := any(v).(fastDecoder); ok {
		d := decoder{b: b}
		if err := fd.decodeFast(&d); err == nil {
			d.ws()
			if d.i == len(d.b) {
				return nil
			}
		}
		var zero T
		*v = zero
	}
	return json.Unmarshal(b, v)
}

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// decoder reads one JSON document.
type decoder struct {
	b     []byte
	i     int
	depth int
	slab  slab
	// strs interns short strings that repeat within a document (plan,
	// bucket and user ids, OData types), so each is allocated once.
	strs map[string]string
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte (0 at the end).
func (d *decoder) peek() byte {
	d.ws()
	if d.i >= len(d.b) {
		return 0
	}
	return d.b[d.i]
}

// literal consumes s (true, false, null) if it is next.
func (d *decoder) literal(s string) bool {
	if len(d.b)-d.i >= len(s) && string(d.b[d.i:d.i+len(s)]) == s {
		d.i += len(s)
		return true
	}
	return false
}

// null consumes a null if it is next.
func (d *decoder) null() bool { return d.peek() == 'n' && d.literal("null") }

// object calls f for each member of an object, with the key unescaped; f
// must consume the value.
func (d *decoder) object(f func(key []byte) error) error {
	if d.peek() != '{' {
		return errFallback
	}
	if d.depth++; d.depth > maxDepth {
		return errFallback
	}
	d.i++
	if d.peek() == '}' {
		d.i++
		d.depth--
		return nil
	}
	for {
		if d.peek() != '"' {
			return errFallback
		}
		key, err := d.strBytes()
		if err != nil {
			return err
		}
		if d.peek() != ':' {
			return errFallback
		}
		d.i++
		d.ws()
		if err := f(key); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			d.depth--
			return nil
		default:
			return errFallback
		}
	}
}

// array calls f for each element of an array; f must consume it.
func (d *decoder) array(f func() error) error {
	if d.peek() != '[' {
		return errFallback
	}
	if d.depth++; d.depth > maxDepth {
		return errFallback
	}
	d.i++
	if d.peek() == ']' {
		d.i++
		d.depth--
		return nil
	}
	for {
		d.ws()
		if err := f(); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			d.depth--
			return nil
		default:
			return errFallback
		}
	}
}

// strBytes reads a string and returns its unescaped bytes: a sub-slice of
// the input when it has no escapes and is valid UTF-8, else a new slice.
func (d *decoder) strBytes() ([]byte, error) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return nil, errFallback
	}
	start := d.i + 1
	for i := start; i < len(d.b); i++ {
		switch c := d.b[i]; {
		case c == '"':
			d.i = i + 1
			return d.b[start:i], nil
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			return d.strSlow(start)
		}
	}
	return nil, errFallback
}

// strSlow unescapes a string with escapes or non-ASCII bytes as
// encoding/json does: invalid UTF-8 and unpaired surrogates become U+FFFD.
func (d *decoder) strSlow(start int) ([]byte, error) {
	out := make([]byte, 0, 64)
	i := start
	for i < len(d.b) {
		c := d.b[i]
		switch {
		case c == '"':
			d.i = i + 1
			return out, nil
		case c < 0x20:
			return nil, errFallback
		case c == '\\':
			if i+1 >= len(d.b) {
				return nil, errFallback
			}
			switch e := d.b[i+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
				i += 2
			case 'b':
				out, i = append(out, '\b'), i+2
			case 'f':
				out, i = append(out, '\f'), i+2
			case 'n':
				out, i = append(out, '\n'), i+2
			case 'r':
				out, i = append(out, '\r'), i+2
			case 't':
				out, i = append(out, '\t'), i+2
			case 'u':
				r := hex4(d.b[i+2:])
				if r < 0 {
					return nil, errFallback
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if len(d.b)-i >= 6 && d.b[i] == '\\' && d.b[i+1] == 'u' {
						if r2 := hex4(d.b[i+2:]); r2 >= 0 {
							if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
								out = utf8.AppendRune(out, dec)
								i += 6
								continue
							}
						}
					}
					r = unicode.ReplacementChar
				}
				out = utf8.AppendRune(out, r)
			default:
				return nil, errFallback
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(d.b[i:])
			i += size
			out = utf8.AppendRune(out, r)
		}
	}
	return nil, errFallback
}

// hex4 reads 4 hex digits, or returns -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// str reads a string into a new string.
func (d *decoder) str() (string, error) {
	b, err := d.strBytes()
	return string(b), err
}

// shared reads a string that may repeat in the document (ids of plans,
// buckets, users; OData types) and returns it interned.
func (d *decoder) shared() (string, error) {
	b, err := d.strBytes()
	if err != nil || len(b) > 64 {
		return string(b), err
	}
	if s, ok := d.strs[string(b)]; ok {
		return s, nil
	}
	if d.strs == nil {
		d.strs = make(map[string]string, 16)
	}
	s := string(b)
	d.strs[s] = s
	return s, nil
}

// setStr decodes a string member into *p; null leaves *p as it is.
func (d *decoder) setStr(p *string, share bool) error {
	switch d.peek() {
	case 'n':
		if d.literal("null") {
			return nil
		}
		return errFallback
	case '"':
		var err error
		if share {
			*p, err = d.shared()
		} else {
			*p, err = d.str()
		}
		return err
	}
	return errFallback
}

// integer reads a JSON number that is a plain integer fitting an int.
func (d *decoder) integer() (int, error) {
	i := d.i
	neg := false
	if i < len(d.b) && d.b[i] == '-' {
		neg = true
		i++
	}
	start := i
	var n uint64
	for i < len(d.b) && '0' <= d.b[i] && d.b[i] <= '9' {
		if i-start >= 18 {
			return 0, errFallback // beyond what is checked cheaply
		}
		n = n*10 + uint64(d.b[i]-'0')
		i++
	}
	if i == start || (d.b[start] == '0' && i-start > 1) {
		return 0, errFallback
	}
	if i < len(d.b) {
		switch d.b[i] {
		case '.', 'e', 'E':
			return 0, errFallback // encoding/json refuses these for an int
		}
	}
	d.i = i
	if neg {
		return -int(n), nil
	}
	return int(n), nil
}

// setIntPtr decodes a number member into *p (null: nil).
func (d *decoder) setIntPtr(p **int) error {
	if d.null() {
		*p = nil
		return nil
	}
	n, err := d.integer()
	if err != nil {
		return err
	}
	v := d.slab.int()
	*v = n
	*p = v
	return nil
}

// setInt decodes a number member into *p (null: unchanged).
func (d *decoder) setInt(p *int) error {
	if d.null() {
		return nil
	}
	n, err := d.integer()
	if err != nil {
		return err
	}
	*p = n
	return nil
}

// boolean reads true or false.
func (d *decoder) boolean() (bool, error) {
	switch {
	case d.literal("true"):
		return true, nil
	case d.literal("false"):
		return false, nil
	}
	return false, errFallback
}

// setBoolPtr decodes a boolean member into *p (null: nil).
func (d *decoder) setBoolPtr(p **bool) error {
	if d.null() {
		*p = nil
		return nil
	}
	b, err := d.boolean()
	if err != nil {
		return err
	}
	v := d.slab.bool()
	*v = b
	*p = v
	return nil
}

// setDatePtr decodes a date-time member into *p (null: nil), with
// DateTime.UnmarshalJSON's rules.
func (d *decoder) setDatePtr(p **DateTime) error {
	if d.null() {
		*p = nil
		return nil
	}
	if d.peek() != '"' {
		return errFallback
	}
	start := d.i
	raw, err := d.strBytes()
	if err != nil {
		return err
	}
	v := d.slab.date()
	if t, ok := parseUTC(raw); ok && d.i-start == len(raw)+2 { // no escapes: raw is the text
		v.Time = t
	} else if err := v.UnmarshalJSON(d.b[start:d.i]); err != nil {
		return errFallback
	}
	*p = v
	return nil
}

// skip consumes any value, checking its syntax.
func (d *decoder) skip() error {
	switch c := d.peek(); {
	case c == '{':
		return d.object(func([]byte) error { return d.skip() })
	case c == '[':
		return d.array(d.skip)
	case c == '"':
		return d.skipString()
	case c == 't':
		if d.literal("true") {
			return nil
		}
	case c == 'f':
		if d.literal("false") {
			return nil
		}
	case c == 'n':
		if d.literal("null") {
			return nil
		}
	case c == '-' || '0' <= c && c <= '9':
		return d.skipNumber()
	}
	return errFallback
}

// skipString consumes a string, checking its escapes.
func (d *decoder) skipString() error {
	i := d.i + 1
	for i < len(d.b) {
		switch c := d.b[i]; {
		case c == '"':
			d.i = i + 1
			return nil
		case c < 0x20:
			return errFallback
		case c == '\\':
			if i+1 >= len(d.b) {
				return errFallback
			}
			switch d.b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if hex4(d.b[i+2:]) < 0 {
					return errFallback
				}
				i += 6
			default:
				return errFallback
			}
		default:
			i++
		}
	}
	return errFallback
}

// skipNumber consumes a number of JSON's grammar.
func (d *decoder) skipNumber() error {
	i := d.i
	if i < len(d.b) && d.b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(d.b) && '0' <= d.b[i] && d.b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(d.b) && d.b[i] == '0':
		i++
	case digits() == 0:
		return errFallback
	}
	if i < len(d.b) && d.b[i] == '.' {
		i++
		if digits() == 0 {
			return errFallback
		}
	}
	if i < len(d.b) && (d.b[i] == 'e' || d.b[i] == 'E') {
		i++
		if i < len(d.b) && (d.b[i] == '+' || d.b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return errFallback
		}
	}
	d.i = i
	return nil
}

// raw consumes any value and returns its bytes: a sub-slice of the input,
// capped so that appending to it cannot overwrite what follows.
func (d *decoder) raw() ([]byte, error) {
	d.ws()
	start := d.i
	if err := d.skip(); err != nil {
		return nil, err
	}
	return d.b[start:d.i:d.i], nil
}

// member handles a key a model does not know: a key that matches one of
// its fields only case-insensitively (or by Unicode folding) is one
// encoding/json would decode into that field, so the document goes to
// encoding/json; any other is skipped.
func (d *decoder) member(key []byte, fields []string) error {
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return errFallback
		}
	}
	for _, f := range fields {
		if equalFoldASCII(string(key), f) {
			return errFallback
		}
	}
	return d.skip()
}

// seen records a field of the object being decoded; a field given twice
// goes to encoding/json (which merges some kinds of repeated values).
type seen uint64

func (s *seen) first(bit int) bool {
	m := seen(1) << bit
	if *s&m != 0 {
		return false
	}
	*s |= m
	return true
}

// slab hands out small values from shared arrays, so that a page of tasks
// costs a few allocations rather than a few per task. Chunks start small (a
// single object needs few values) and double up to 256.
type slab struct {
	ints   chunk[int]
	bools  chunk[bool]
	dates  chunk[DateTime]
	sets   chunk[IdentitySet]
	idents chunk[Identity]
}

type chunk[T any] struct {
	free []T
	size int
}

func (c *chunk[T]) take() *T {
	if len(c.free) == 0 {
		c.size = min(max(4, c.size*2), 256)
		c.free = make([]T, c.size)
	}
	p := &c.free[0]
	c.free = c.free[1:]
	return p
}

func (s *slab) int() *int         { return s.ints.take() }
func (s *slab) bool() *bool       { return s.bools.take() }
func (s *slab) date() *DateTime   { return s.dates.take() }
func (s *slab) set() *IdentitySet { return s.sets.take() }
func (s *slab) ident() *Identity  { return s.idents.take() }

// parseUTC parses the form Graph sends, "2006-01-02T15:04:05.9999999Z"
// (0 to 9 fractional digits), as time.Parse(time.RFC3339Nano) then UTC()
// would; ok is false for anything else (DateTime.UnmarshalJSON decides).
func parseUTC(b []byte) (t time.Time, ok bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		return time.Time{}, false
	}
	num := func(lo, hi int) int {
		n := 0
		for _, c := range b[lo:hi] {
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, sec := num(11, 13), num(14, 16), num(17, 19)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	if day > daysIn(time.Month(month), year) {
		return time.Time{}, false
	}
	ns := 0
	switch frac := b[19 : len(b)-1]; {
	case len(frac) == 0:
	case frac[0] != '.' || len(frac) < 2 || len(frac) > 10:
		return time.Time{}, false
	default:
		n := num(20, len(b)-1)
		if n < 0 {
			return time.Time{}, false
		}
		for k := len(frac) - 1; k < 9; k++ {
			n *= 10
		}
		ns = n
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, ns, time.UTC), true
}

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}
