package config

import (
	"strconv"
	"strings"
)

// keyLine is a table header or a key definition found by scanLines, with
// the 1-based line it starts on. Array-table headers ([[a.b]]) have
// arrayTable set; their path carries no element index, like toml.MetaData.
type keyLine struct {
	path       []string
	line       int
	header     bool // a [table] or [[array table]] header
	arrayTable bool
	endLine    int // last line of the definition (multi-line values)
}

// scanLines finds the position of every table header and key definition
// of a TOML document. toml.MetaData keeps positions to itself, so errors
// about keys (unknown key, unset environment variable) locate them here.
// The scanner is lexical: it understands comments, the four string forms
// (multi-line ones included), quoted and dotted keys, and arrays or inline
// tables spanning lines. It assumes the document already parsed.
func scanLines(src string) []keyLine {
	var (
		out     []keyLine
		table   []string
		v       valueScanner
		current = -1 // index in out of the definition whose value is being scanned
	)
	lines := strings.Split(src, "\n")
	for i, raw := range lines {
		n := i + 1
		line := strings.TrimSuffix(raw, "\r")
		if v.open() {
			v.feed(line)
			if current >= 0 {
				out[current].endLine = n
			}
			continue
		}
		s := strings.TrimLeft(line, " \t")
		if s == "" || s[0] == '#' {
			continue
		}
		if s[0] == '[' {
			arr := strings.HasPrefix(s, "[[")
			body := s[1:]
			if arr {
				body = s[2:]
			}
			path, _, ok := parseKeyPath(body)
			if !ok {
				continue
			}
			table = path
			out = append(out, keyLine{path: path, line: n, endLine: n, header: true, arrayTable: arr})
			current = -1
			continue
		}
		path, rest, ok := parseKeyPath(s)
		if !ok || !strings.HasPrefix(rest, "=") {
			continue
		}
		full := append(append([]string(nil), table...), path...)
		out = append(out, keyLine{path: full, line: n, endLine: n})
		current = len(out) - 1
		v = valueScanner{}
		v.feed(rest[1:])
	}
	return out
}

// parseKeyPath parses a TOML key (bare, "basic", 'literal', dotted) at the
// start of s, returning its parts and the text after it with leading blanks
// removed.
func parseKeyPath(s string) (parts []string, rest string, ok bool) {
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return nil, "", false
		}
		var part string
		switch s[0] {
		case '"':
			end := 1
			for end < len(s) && s[end] != '"' {
				if s[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(s) {
				return nil, "", false
			}
			u, err := strconv.Unquote(s[:end+1])
			if err != nil {
				u = s[1:end]
			}
			part, s = u, s[end+1:]
		case '\'':
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return nil, "", false
			}
			part, s = s[1:end+1], s[end+2:]
		default:
			end := 0
			for end < len(s) && isBareKeyByte(s[end]) {
				end++
			}
			if end == 0 {
				return nil, "", false
			}
			part, s = s[:end], s[end:]
		}
		parts = append(parts, part)
		s = strings.TrimLeft(s, " \t")
		if strings.HasPrefix(s, ".") {
			s = s[1:]
			continue
		}
		return parts, s, true
	}
}

func isBareKeyByte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// valueScanner follows a TOML value across lines: open strings and
// bracket nesting.
type valueScanner struct {
	depth int    // [ and { nesting outside strings
	str   string // the open multi-line string delimiter (""" or '''), or ""
}

func (v *valueScanner) open() bool { return v.depth > 0 || v.str != "" }

// feed scans one line of value text.
func (v *valueScanner) feed(s string) {
	for i := 0; i < len(s); i++ {
		if v.str != "" {
			if v.str == `"""` && s[i] == '\\' {
				i++
				continue
			}
			if strings.HasPrefix(s[i:], v.str) {
				// A closing delimiter may be followed by up to two quotes
				// that belong to the string.
				j := i + 3
				for j < len(s) && j < i+5 && s[j] == v.str[0] {
					j++
				}
				i = j - 1
				v.str = ""
			}
			continue
		}
		switch c := s[i]; c {
		case '#':
			return
		case '[', '{':
			v.depth++
		case ']', '}':
			if v.depth > 0 {
				v.depth--
			}
		case '"', '\'':
			delim := strings.Repeat(string(c), 3)
			if strings.HasPrefix(s[i:], delim) {
				v.str = delim
				i += 2
				continue
			}
			for i++; i < len(s) && s[i] != c; i++ {
				if c == '"' && s[i] == '\\' {
					i++
				}
			}
		}
	}
}

// locator maps the keys of toml.MetaData.Keys (in document order) to lines.
type locator struct {
	lines  []keyLine
	cursor int
}

// find returns the line of the next definition of path, searching forward
// from the previous match so that repeated paths (elements of an array of
// tables) resolve in order. It returns the line of the last match when the
// key is not found (a key inside an inline table, say), or 0.
func (l *locator) find(path []string) int {
	for i := l.cursor; i < len(l.lines); i++ {
		if equalPath(l.lines[i].path, path) {
			l.cursor = i + 1
			return l.lines[i].line
		}
	}
	if l.cursor > 0 {
		return l.lines[l.cursor-1].line
	}
	return 0
}

func equalPath(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
