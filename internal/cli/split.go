package cli

import "strings"

// splitStatements returns the complete statements of buf (each without its
// terminating ';', trimmed, comment-only ones dropped) and the incomplete
// text that follows them. Semicolons inside strings, quoted identifiers and
// comments do not end a statement.
func splitStatements(buf string) (stmts []string, rest string) {
	start := 0
	i := 0
	for i < len(buf) {
		c := buf[i]
		switch {
		case c == '\'' || c == '"' || c == '`' || c == '[':
			closer := c
			if c == '[' {
				closer = ']'
			}
			j := i + 1
			for j < len(buf) {
				if buf[j] == closer {
					if closer != ']' && j+1 < len(buf) && buf[j+1] == closer {
						j += 2
						continue
					}
					break
				}
				j++
			}
			if j >= len(buf) {
				return stmts, buf[start:] // unterminated: wait for more
			}
			i = j + 1
		case c == '-' && i+1 < len(buf) && buf[i+1] == '-':
			nl := strings.IndexByte(buf[i:], '\n')
			if nl < 0 {
				i = len(buf)
			} else {
				i += nl + 1
			}
		case c == '/' && i+1 < len(buf) && buf[i+1] == '*':
			end := strings.Index(buf[i+2:], "*/")
			if end < 0 {
				return stmts, buf[start:]
			}
			i += end + 4
		case c == ';':
			if s := strings.TrimSpace(buf[start:i]); !isBlankSQL(s) {
				stmts = append(stmts, s)
			}
			i++
			start = i
		default:
			i++
		}
	}
	return stmts, buf[start:]
}

// isBlankSQL reports whether s holds nothing but space and comments.
func isBlankSQL(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			nl := strings.IndexByte(s[i:], '\n')
			if nl < 0 {
				return true
			}
			i += nl + 1
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return true
			}
			i += end + 4
		default:
			return false
		}
	}
	return true
}

// firstKeyword returns the statement's first word, upper-cased, skipping
// comments and opening parentheses.
func firstKeyword(s string) string {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			nl := strings.IndexByte(s[i:], '\n')
			if nl < 0 {
				return ""
			}
			i += nl + 1
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return ""
			}
			i += end + 4
		default:
			j := i
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
				j++
			}
			return strings.ToUpper(s[i:j])
		}
	}
	return ""
}

// returnsRows reports whether a statement is run as a query (it may return
// rows) rather than executed.
func returnsRows(stmt string) bool {
	switch firstKeyword(stmt) {
	case "INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "BEGIN", "COMMIT", "END",
		"ROLLBACK", "SAVEPOINT", "RELEASE", "ATTACH", "DETACH", "VACUUM", "REINDEX", "ANALYZE":
		return strings.Contains(strings.ToUpper(stmt), "RETURNING")
	}
	return true
}
