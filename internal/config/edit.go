package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/BurntSushi/toml"
)

// Document is a TOML document being edited in place: every operation
// changes only the lines of the keys and sections it names, so comments,
// order, blank lines and every other section stay exactly as written.
// The console uses it to save profiles and jobs into a hand-written
// config file. Keys are matched ignoring case, as Load matches them.
type Document struct {
	lines []string // without line terminators
	crlf  bool
}

// ErrNotSection is wrapped by edits of a table that is not written as a
// [table] (or [[array]]) section of its own: an inline table or dotted
// keys. Such a file has to be edited by hand.
var ErrNotSection = errors.New("not written as a section of its own")

// NewDocument returns a Document holding src.
func NewDocument(src string) *Document {
	d := &Document{crlf: strings.Contains(src, "\r\n")}
	src = strings.ReplaceAll(src, "\r\n", "\n")
	src = strings.TrimSuffix(src, "\n")
	if src != "" {
		d.lines = strings.Split(src, "\n")
	}
	return d
}

// String returns the document's text, ending with a newline when not empty.
func (d *Document) String() string {
	if len(d.lines) == 0 {
		return ""
	}
	nl := "\n"
	if d.crlf {
		nl = "\r\n"
	}
	return strings.Join(d.lines, nl) + nl
}

// Value is a value to write: its TOML text is produced by the Document.
type Value struct {
	Key string
	// Text is the string to write. Values are always written as TOML
	// strings, so "${NAME}" stays a reference to the environment.
	Text string
}

// section is a table header found by scanLines and the definitions that
// belong to it.
type section struct {
	header   int // index in keys of the header
	last     int // index in keys of the section's last definition (header when none)
	startRow int // 0-based first row: the header, or the comment block right above it
	endRow   int // 0-based row of the section's last line of definitions
}

func (d *Document) scan() []keyLine { return scanLines(strings.Join(d.lines, "\n")) }

// sections returns the sections whose header path equals path: the one
// [path] section, or every [[path]] element in order.
func (d *Document) sections(keys []keyLine, path []string, array bool) []section {
	var out []section
	for i, k := range keys {
		if !k.header || k.arrayTable != array || !equalFoldPath(k.path, path) {
			continue
		}
		s := section{header: i, last: i, endRow: k.endLine - 1}
		for j := i + 1; j < len(keys) && !keys[j].header; j++ {
			s.last, s.endRow = j, keys[j].endLine-1
		}
		s.startRow = d.commentStart(k.line - 1)
		out = append(out, s)
	}
	return out
}

// commentStart returns the first row of the comment block that ends right
// above row (no blank line between), or row.
func (d *Document) commentStart(row int) int {
	for row > 0 {
		s := strings.TrimSpace(d.lines[row-1])
		if !strings.HasPrefix(s, "#") {
			break
		}
		row--
	}
	return row
}

func equalFoldPath(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

// HasSection reports whether [path] is written as a section of its own.
func (d *Document) HasSection(path ...string) bool {
	return len(d.sections(d.scan(), path, false)) > 0
}

// ArrayLen returns the number of [[path]] elements.
func (d *Document) ArrayLen(path ...string) int {
	return len(d.sections(d.scan(), path, true))
}

// find returns the section [path] (elem < 0) or the elem-th [[path]].
func (d *Document) find(keys []keyLine, path []string, elem int) (section, error) {
	if elem < 0 {
		s := d.sections(keys, path, false)
		if len(s) == 0 {
			return section{}, fmt.Errorf("[%s] is %w", displayPath(path), ErrNotSection)
		}
		return s[0], nil
	}
	s := d.sections(keys, path, true)
	if elem >= len(s) {
		return section{}, fmt.Errorf("[[%s]] element %d is %w", displayPath(path), elem+1, ErrNotSection)
	}
	return s[elem], nil
}

func displayPath(path []string) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = quoteKey(p)
	}
	return strings.Join(parts, ".")
}

// SetKeys sets keys of the section [path] (elem < 0) or of the elem-th
// [[path]] element (elem from 0), and removes the keys named in unset. A
// key already present (ignoring case) has its definition replaced where
// it stands — unless its current value is already the string to write, in
// which case the line is left as written; a new key goes after the
// section's last definition.
func (d *Document) SetKeys(path []string, elem int, set []Value, unset []string) error {
	for _, v := range set {
		keys := d.scan()
		s, err := d.find(keys, path, elem)
		if err != nil {
			return err
		}
		if i := keyIn(keys, s, path, v.Key); i >= 0 {
			k := keys[i]
			if cur, ok := d.stringValue(k); ok && cur == v.Text {
				continue
			}
			d.replaceRows(k.line-1, k.endLine-1, []string{indentOf(d.lines[k.line-1]) + quoteKey(k.path[len(k.path)-1]) + " = " + tomlString(v.Text)})
			continue
		}
		d.insertRows(keys[s.last].endLine, []string{quoteKey(v.Key) + " = " + tomlString(v.Text)})
	}
	for _, name := range unset {
		keys := d.scan()
		s, err := d.find(keys, path, elem)
		if err != nil {
			return err
		}
		if i := keyIn(keys, s, path, name); i >= 0 {
			d.replaceRows(keys[i].line-1, keys[i].endLine-1, nil)
		}
	}
	return nil
}

// keyIn returns the index in keys of the definition of name in section s.
func keyIn(keys []keyLine, s section, path []string, name string) int {
	for i := s.header + 1; i <= s.last; i++ {
		k := keys[i]
		if len(k.path) == len(path)+1 && strings.EqualFold(k.path[len(path)], name) {
			return i
		}
	}
	return -1
}

// stringValue returns the string a single-definition key holds, when its
// value is a plain TOML string.
func (d *Document) stringValue(k keyLine) (string, bool) {
	text := strings.Join(d.lines[k.line-1:k.endLine], "\n")
	var v map[string]any
	if _, err := toml.Decode(text, &v); err != nil {
		return "", false
	}
	for _, x := range v {
		for {
			m, ok := x.(map[string]any)
			if !ok {
				break
			}
			for _, y := range m {
				x = y
			}
		}
		s, ok := x.(string)
		return s, ok
	}
	return "", false
}

// AppendSection adds a [path] section (array false) or a [[path]] element
// holding values. A [[path]] element goes right after the last element of
// the same array, or after the section [after] when there is none (nil
// after: the end of the document); a [path] section goes at the end.
func (d *Document) AppendSection(path []string, array bool, values []Value, after []string) error {
	head := "[" + displayPath(path) + "]"
	if array {
		head = "[" + head + "]"
	}
	rows := []string{head}
	for _, v := range values {
		rows = append(rows, quoteKey(v.Key)+" = "+tomlString(v.Text))
	}
	keys := d.scan()
	at := -1 // insert after this 0-based row
	if array {
		if s := d.sections(keys, path, true); len(s) > 0 {
			at = s[len(s)-1].endRow
		} else if after != nil {
			parent := d.sections(keys, after, false)
			if len(parent) == 0 {
				return fmt.Errorf("[%s] is %w", displayPath(after), ErrNotSection)
			}
			at = parent[0].endRow
			// Keep the new element after the sections under the parent
			// that directly follow it ([[parent.x]] elements, [parent.y]).
			for i := parent[0].last + 1; i < len(keys); i++ {
				k := keys[i]
				if !k.header {
					continue
				}
				if len(k.path) <= len(after) || !equalFoldPath(k.path[:len(after)], after) {
					break
				}
				at = d.sectionsAt(keys, i).endRow
			}
		}
	}
	if at < 0 {
		// At the end, after one blank line.
		for len(d.lines) > 0 && strings.TrimSpace(d.lines[len(d.lines)-1]) == "" {
			d.lines = d.lines[:len(d.lines)-1]
		}
		if len(d.lines) > 0 {
			d.lines = append(d.lines, "")
		}
		d.replaceRows(len(d.lines), len(d.lines)-1, rows)
		return nil
	}
	d.insertRows(at+1, append([]string{""}, rows...))
	return nil
}

// RemoveSection removes the section [path] with every section below it
// ([path.x], [[path.y]]), each with the comment block right above its
// header. It reports whether anything was removed.
func (d *Document) RemoveSection(path []string) bool {
	removed := false
	for {
		keys := d.scan()
		var target *section
		for i, k := range keys {
			if !k.header || len(k.path) < len(path) || !equalFoldPath(k.path[:len(path)], path) {
				continue
			}
			s := d.sectionsAt(keys, i)
			target = &s
			break
		}
		if target == nil {
			return removed
		}
		d.removeRows(target.startRow, target.endRow)
		removed = true
	}
}

// RemoveElement removes the elem-th [[path]] element (from 0).
func (d *Document) RemoveElement(path []string, elem int) error {
	keys := d.scan()
	s, err := d.find(keys, path, elem)
	if err != nil {
		return err
	}
	d.removeRows(s.startRow, s.endRow)
	return nil
}

// sectionsAt returns the section headed by keys[i].
func (d *Document) sectionsAt(keys []keyLine, i int) section {
	k := keys[i]
	s := section{header: i, last: i, endRow: k.endLine - 1, startRow: d.commentStart(k.line - 1)}
	for j := i + 1; j < len(keys) && !keys[j].header; j++ {
		s.last, s.endRow = j, keys[j].endLine-1
	}
	return s
}

// removeRows deletes rows from..to (0-based, inclusive) and one blank
// line around them, so that the blank lines separating sections stay
// single.
func (d *Document) removeRows(from, to int) {
	blank := func(i int) bool { return i >= 0 && i < len(d.lines) && strings.TrimSpace(d.lines[i]) == "" }
	if blank(to+1) && (from == 0 || blank(from-1)) {
		to++
	} else if blank(from-1) && to+1 >= len(d.lines) {
		from--
	}
	d.replaceRows(from, to, nil)
}

func (d *Document) replaceRows(from, to int, rows []string) {
	// A multi-line value is several rows.
	var split []string
	for _, r := range rows {
		split = append(split, strings.Split(r, "\n")...)
	}
	rows = split
	out := append(append(append([]string(nil), d.lines[:from]...), rows...), d.lines[to+1:]...)
	d.lines = out
}

func (d *Document) insertRows(at int, rows []string) {
	d.replaceRows(at, at-1, rows)
}

func indentOf(s string) string { return s[:len(s)-len(strings.TrimLeft(s, " \t"))] }

// tomlString writes s as a TOML string: a multi-line literal string
// (three single quotes around it) when it spans lines and can be written so, else a basic
// string.
func tomlString(s string) string {
	if strings.Contains(s, "\n") && !strings.Contains(s, "'''") && !strings.HasSuffix(s, "'") &&
		strings.IndexFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r == '\r' }) < 0 {
		return "'''\n" + s + "'''"
	}
	return quoteString(s)
}

// EditFile applies edit to the configuration file at path (an empty
// document when the file does not exist) and writes the result
// atomically, keeping the file's mode (0600 for a new file). The file
// must parse before the edit, and the result must parse with opts (with
// every ${NAME} reference accepted, so that validation does not depend on
// the environment); otherwise nothing is written.
func EditFile(path string, opts LoadOptions, edit func(*Document) error) error {
	opts.LookupEnv = anyEnv
	opts.MustExist = false
	return EditTOML(path, func(src string) error {
		_, err := Parse(path, src, opts)
		return err
	}, edit)
}

// EditTOML is EditFile for any TOML file: validate judges the text
// before and after the edit.
func EditTOML(path string, validate func(src string) error, edit func(*Document) error) error {
	data, err := os.ReadFile(path)
	mode := fs.FileMode(0o600)
	switch {
	case err == nil:
		if st, err := os.Stat(path); err == nil {
			mode = st.Mode().Perm()
		}
	case errors.Is(err, fs.ErrNotExist):
		data = nil
	default:
		return fmt.Errorf("config: cannot edit %s: %w", path, err)
	}
	if err := validate(string(data)); err != nil {
		return fmt.Errorf("config: %s does not parse, so it was not changed: %w", path, err)
	}
	doc := NewDocument(string(data))
	if err := edit(doc); err != nil {
		return fmt.Errorf("config: cannot edit %s: %w", path, err)
	}
	out := doc.String()
	if err := validate(out); err != nil {
		return fmt.Errorf("config: the change would break %s, so it was not written: %w", path, err)
	}
	return writeAtomic(path, []byte(out), mode)
}

// LoadRaw loads the file at path like Load, but keeps every ${NAME}
// reference as written instead of expanding it, so that a value can be
// shown and written back without resolving the environment. A value
// holding a literal "${" (written "$${") reads as "${".
func LoadRaw(path string, opts LoadOptions) (*File, error) {
	opts.LookupEnv = func(name string) (string, bool) { return "${" + name + "}", true }
	return Load(path, opts)
}
