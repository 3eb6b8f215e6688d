// Package redact removes credentials from text meant for people: errors,
// logs, summaries and history rows.
//
// Three kinds of credentials are removed, whether or not the text around
// them parses:
//
//   - the password in the userinfo of a URL, scheme://user:PASSWORD@host —
//     including URLs that url.Parse rejects (a '%zz' escape, a space, an
//     unclosed '[', a '#' or '/' in the password). The userinfo is taken to
//     end at the last '@' of the URL, so a password holding '@', '/', '?',
//     '#' or spaces is still removed; a URL with an '@' in its path or query
//     may lose more than its password, never less. When a '#', '?' or '/'
//     in the password makes url.Parse quote only the URL's start
//     ("scheme://user:pa") and call the rest of the password a port
//     (invalid port ":pa" after host), that start is removed too, however
//     short;
//   - the password of a MySQL DSN, user:PASSWORD@tcp(host)/db,
//     user:PASSWORD@/db;
//   - the value of key=value pairs whose key names a secret (password,
//     passwd, pwd, or any key ending in secret, token or apikey, and
//     OAuth's device_code, code_verifier and client_assertion,
//     case-insensitively): Password=..., OAuthClientSecret=...,
//     access_token=..., ?password=... in a URL's query, secret:...,
//     client_secret: "...", Pwd={...} (but not prose such as "the
//     password: %40 for @"), and of JSON members so named
//     ("access_token": "...");
//   - bearer credentials (Authorization: Bearer ...) and JSON Web Tokens.
//
// What replaces a credential is Mask. The user name of a URL is kept: it
// says which account was used and is not a secret for the databases
// replicate writes to (url.URL.Redacted keeps it too).
//
// Callers that know a credential-bearing string (a destination URL given on
// the command line or in a config file) also pass its Secrets, removed
// wherever they occur: that covers messages that quote a URL in pieces,
// which no scanner can recognise as a URL.
package redact

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Mask replaces a removed credential.
const Mask = "xxxxx"

// MinSecretLen is the shortest secret Text removes wherever it occurs.
// Shorter strings would match ordinary words; URL passwords of any length are
// still removed where they appear in a URL.
const MinSecretLen = 4

// URL returns rawURL fit to show: the password of its userinfo replaced by
// Mask (scheme://user:xxxxx@host/...), and so the value of every query
// parameter whose name says it is a secret (?password=xxxxx,
// ?sslpassword=xxxxx: PostgreSQL takes the password there too). It never
// fails: text that does not parse as a URL is redacted by the same rule
// (the userinfo runs from "scheme://" to the last '@'), and text with no
// credential is returned as is.
func URL(rawURL string) string {
	return redactPairs(redactToken(rawURL))
}

// Secrets returns the strings a message must never contain for rawURL: the
// password of its userinfo and the values of its secret query parameters
// (see URL), each as written, percent-decoded, as Go quotes it (%q), and
// the parts of it that parsers quote when they cut a URL at '#', '?', '/',
// '@', '[', '%' or a space — each at least MinSecretLen bytes long. It
// returns nil for a URL without a password.
func Secrets(rawURL string) []string {
	var raw []string
	if pw, ok := password(rawURL); ok && pw != "" {
		raw = append(raw, pw)
	}
	raw = append(raw, queryPasswords(rawURL)...)
	var cands []string
	for _, pw := range raw {
		cands = append(cands, pw)
		if dec, err := url.PathUnescape(pw); err == nil {
			cands = append(cands, dec)
		}
		if dec, err := url.QueryUnescape(pw); err == nil {
			cands = append(cands, dec)
		}
		// Parsers cut URLs at these characters ('#' starts a fragment, '?' a
		// query, ...) and quote only a part in their errors: every part counts.
		for i := 0; i < len(pw); i++ {
			if strings.IndexByte("#?/@ [%", pw[i]) >= 0 {
				cands = append(cands, pw[:i], pw[i+1:])
			}
		}
		cands = append(cands, strings.FieldsFunc(pw, func(r rune) bool { return strings.ContainsRune("#?/@ [%", r) })...)
	}
	for _, c := range slices.Clone(cands) {
		q := strconv.Quote(c)
		cands = append(cands, q[1:len(q)-1])
	}
	var out []string
	for _, c := range cands {
		if len(c) >= MinSecretLen && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// queryPasswords returns the values of the query parameters of rawURL
// (after its userinfo) whose names say they are secrets, as written.
func queryPasswords(rawURL string) []string {
	_, at := userinfoSpan(rawURL)
	q := rawURL[max(at, 0):]
	i := strings.IndexByte(q, '?')
	if i < 0 {
		return nil
	}
	q = q[i+1:]
	if j := strings.IndexByte(q, '#'); j >= 0 {
		q = q[:j]
	}
	var out []string
	for _, pair := range strings.FieldsFunc(q, func(r rune) bool { return r == '&' || r == ';' }) {
		k, v, ok := strings.Cut(pair, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if ok && v != "" && secretKeyRE.MatchString(k) {
			out = append(out, v)
		}
	}
	return out
}

// password returns the password of a URL's userinfo, by the rule of URL.
func password(rawURL string) (string, bool) {
	start, at := userinfoSpan(rawURL)
	if at < 0 {
		return "", false
	}
	ui := rawURL[start:at]
	_, pw, ok := strings.Cut(ui, ":")
	return pw, ok
}

// userinfoSpan returns where the userinfo of the URL (or MySQL DSN) s starts
// and the index of the '@' that ends it; at is -1 when s has no userinfo.
func userinfoSpan(s string) (start, at int) {
	i := strings.Index(s, "://")
	if i >= 0 && isScheme(s[:i]) || strings.HasPrefix(s, "//") {
		// scheme://userinfo@host, or //userinfo@host without the scheme
		start = i + 3
		if i < 0 || !isScheme(s[:i]) {
			start = 2
		}
		if at = strings.LastIndexByte(s, '@'); at < start {
			return start, -1
		}
		return start, at
	}
	// user:password@tcp(host)/db, user:password@unix(/path)/db,
	// user:password@/db, user:password@tcp/db, ...
	if m := dsnRE.FindStringSubmatchIndex(s); m != nil {
		return m[2], m[3]
	}
	return 0, -1
}

// dsnRE matches the start of a go-sql-driver DSN,
// [user[:password]@][protocol[(address)]]/dbname: a user, a ':', the
// password (up to the last '@' that a protocol and '(' or '/' follow) — and
// so a URL written without its scheme, user:password@host:5432/db.
var dsnRE = regexp.MustCompile(`^([^\s@/]*:[^\s]*)@` + dsnHost)

// dsnHost is what follows the '@' of a DSN or of a URL written without its
// scheme: a protocol and '(' (tcp(host:port)), or a host, port or IPv6
// address and '/' (@/db, @host:5432/db).
const dsnHost = `[A-Za-z0-9.\-\[\]:]*[(/]`

func isScheme(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// redactToken redacts one URL or DSN.
func redactToken(s string) string {
	start, at := userinfoSpan(s)
	if at < 0 {
		return redactCutAuthority(s)
	}
	ui := s[start:at]
	user, _, ok := strings.Cut(ui, ":")
	if !ok {
		return s // a user name alone
	}
	return s[:start] + user + ":" + Mask + s[at:]
}

// redactCutAuthority redacts a URL with no '@' whose authority is
// "name:rest" with a rest that is no port: what url.Parse quotes when a '#',
// '?' or '/' in the password ends the authority early ("scheme://user:pa"
// of "scheme://user:pa#ss@host"). rest is then the start of a password, not
// a port (ports are digits), and is replaced by Mask. A bracketed IPv6 host
// is left alone.
func redactCutAuthority(s string) string {
	i := strings.Index(s, "://")
	if i < 0 || !isScheme(s[:i]) {
		return s
	}
	start := i + 3
	end := len(s)
	if j := strings.IndexAny(s[start:], "/?#"); j >= 0 {
		end = start + j
	}
	auth := s[start:end]
	if strings.HasPrefix(auth, "[") {
		return s
	}
	colon := strings.IndexByte(auth, ':')
	if colon < 0 || isPort(auth[colon+1:]) {
		return s
	}
	return s[:start+colon+1] + Mask + s[end:]
}

// isPort reports whether s is empty or digits only.
func isPort(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// badPortRE finds url.Parse's `parse "URL": invalid port ":xyz" after
// host`. When URL's authority (up to its first '/', '?' or '#') has no '@',
// a '#', '?' or '/' in the password cut it short and xyz is the start of
// the password; with an '@' it is a real (bad) port, as in
// mysql://u@tcp(h:3306)/db, and is kept. Without the parse "URL" part the
// port is removed.
var badPortRE = regexp.MustCompile(`(parse "([^"]*)": )?invalid port ":[^"]*" after host`)

// redactBadPorts applies badPortRE.
func redactBadPorts(s string) string {
	return badPortRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := badPortRE.FindStringSubmatch(m)
		if sub[1] != "" {
			auth := sub[2]
			if i := strings.Index(auth, "://"); i >= 0 {
				auth = auth[i+3:]
			}
			if j := strings.IndexAny(auth, "/?#"); j >= 0 {
				auth = auth[:j]
			}
			if strings.Contains(auth, "@") {
				return m
			}
		}
		return sub[1] + `invalid port ":` + Mask + `" after host`
	})
}

// schemeRE finds the start of URLs ("scheme://") and MySQL DSNs in text.
var schemeRE = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.\-]*://|[^\s@/"'` + "`" + `<>()\[\]{},;=]+:[^\s"'` + "`" + `]*@` + dsnHost)

// keyValueRE finds key=value pairs whose key names a secret: key=value,
// key = value, key:value, or key: followed by a quoted value. A ':' followed
// by a space and a bare word is prose ("the password: %40 for @", "using
// password: YES"), not a pair, and is left alone so that the advice stays
// readable.
var keyValueRE = regexp.MustCompile(`(?i)\b(` + secretKey + `)` +
	`(?:(\s*=\s*|:)(` + kvQuoted + `|[^\s;&,"')}\]]+)|(:\s+)(` + kvQuoted + `))`)

// secretKey is a key naming a secret: one ending in password, passwd,
// pwd, secret, token, apikey or api_key, or the device code, PKCE verifier
// and client assertion of OAuth requests.
const secretKey = `[A-Za-z0-9_.\-]*(?:password|passwd|pwd|secret|token|api_?key|device_code|code_verifier|assertion)`

// secretKeyRE matches a whole key naming a secret.
var secretKeyRE = regexp.MustCompile(`(?i)^` + secretKey + `$`)

// kvQuoted is a quoted value of a key=value pair: '…', "…", or {…} (ODBC
// connection strings brace values holding ';').
const kvQuoted = `'[^']*'|"(?:[^"\\]|\\.)*"|\{[^}]*\}`

// jsonPairRE finds a JSON member whose name names a secret,
// "access_token": "…", as token endpoints answer and logs quote them.
var jsonPairRE = regexp.MustCompile(`(?i)("` + secretKey + `"\s*:\s*)"(?:[^"\\]|\\.)*"`)

// bearerRE finds the credential of an Authorization header value,
// "Bearer <token>" (a word of 16 or more token characters, so that prose
// such as "a bearer token" stays).
var bearerRE = regexp.MustCompile(`(?i)\b(bearer)(\s+)[A-Za-z0-9\-._~+/]{16,}=*`)

// jwtRE finds a JSON Web Token (the access and id tokens of the Microsoft
// identity platform) wherever it occurs.
var jwtRE = regexp.MustCompile(`\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*`)

// Text returns s with every credential removed: URL passwords, MySQL DSN
// passwords, secret key=value pairs, and every occurrence of the given
// secrets (those shorter than MinSecretLen are ignored). A URL that follows
// a quote ("…", '…' or `…`, as Go's %q quotes URLs in errors) runs to the
// closing quote, spaces included; otherwise it ends at white space or one of
// <>"'`.
func Text(s string, secrets ...string) string {
	if strings.Contains(s, "invalid port") {
		s = redactBadPorts(s) // while the URL it follows is still as parsed
	}
	for _, sec := range secrets {
		if len(sec) >= MinSecretLen {
			s = strings.ReplaceAll(s, sec, Mask)
		}
	}
	if strings.Contains(s, "@") || strings.Contains(s, "://") {
		s = redactURLs(s)
	}
	return redactPairs(s)
}

// redactPairs masks the values of secret key=value pairs and JSON members,
// bearer credentials and JWTs in s.
func redactPairs(s string) string {
	if strings.Contains(s, "eyJ") {
		s = jwtRE.ReplaceAllString(s, Mask)
	}
	s = bearerRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := bearerRE.FindStringSubmatch(m)
		return sub[1] + sub[2] + Mask
	})
	s = jsonPairRE.ReplaceAllString(s, `${1}"`+Mask+`"`)
	return keyValueRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := keyValueRE.FindStringSubmatch(m)
		sep, val := sub[2], sub[3]
		if sep == "" {
			sep, val = sub[4], sub[5]
		}
		if val == Mask || strings.Trim(val, `'"`) == Mask {
			return m
		}
		return sub[1] + sep + Mask
	})
}

// redactURLs redacts every URL and DSN in s.
func redactURLs(s string) string {
	var b strings.Builder
	rest := s
	for {
		loc := schemeRE.FindStringIndex(rest)
		if loc == nil {
			b.WriteString(rest)
			return b.String()
		}
		begin := loc[0]
		end := tokenEnd(rest, begin)
		if begin == 0 || !strings.ContainsRune("\"'`", rune(rest[begin-1])) {
			// Unquoted: punctuation after the URL is the sentence's
			// ("origin http://h:8400, and ..."), not the URL's.
			end = begin + len(strings.TrimRight(rest[begin:end], ",.;:!?)]}"))
		}
		b.WriteString(rest[:begin])
		b.WriteString(redactToken(rest[begin:end]))
		rest = rest[end:]
	}
}

// tokenEnd returns where the URL starting at begin ends.
func tokenEnd(s string, begin int) int {
	if begin > 0 {
		switch q := s[begin-1]; q {
		case '"', '\'', '`':
			// Quoted: up to the closing quote (skipping \" escapes).
			for i := begin; i < len(s); i++ {
				switch s[i] {
				case '\\':
					if q == '"' {
						i++
					}
				case q:
					return i
				}
			}
			return len(s)
		}
	}
	for i := begin; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r', '"', '\'', '`', '<', '>':
			return i
		}
	}
	return len(s)
}

// Error returns err with its message redacted by Text (with secrets); the
// result still unwraps to err, so errors.Is and errors.As keep working. It
// returns err itself when there is nothing to remove, and nil for nil.
func Error(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	red := Text(msg, secrets...)
	if red == msg {
		return err
	}
	return &redactedError{msg: red, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Set is a concurrency-safe set of secrets, collected as a program learns
// them (command-line flags, config files) and applied to everything it
// prints. The zero value is empty and ready to use.
type Set struct {
	mu      sync.RWMutex
	secrets []string
}

// AddURL adds the Secrets of a URL.
func (s *Set) AddURL(rawURL string) { s.Add(Secrets(rawURL)...) }

// Add adds secrets (shorter than MinSecretLen ones are ignored). Adding to
// a nil Set does nothing.
func (s *Set) Add(secrets ...string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range secrets {
		if len(x) >= MinSecretLen && !slices.Contains(s.secrets, x) {
			s.secrets = append(s.secrets, x)
		}
	}
	// Longest first, so that a secret containing another is removed whole.
	slices.SortFunc(s.secrets, func(a, b string) int { return len(b) - len(a) })
}

// Text is the package's Text with the set's secrets; a nil Set has none.
func (s *Set) Text(t string) string {
	if s == nil {
		return Text(t)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return Text(t, s.secrets...)
}

// Error is the package's Error with the set's secrets.
func (s *Set) Error(err error) error {
	if s == nil {
		return Error(err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return Error(err, s.secrets...)
}

// Handler returns a slog.Handler that redacts, with the set's secrets, the
// message and every attribute value (strings, errors, anything formatted as
// text) of each record before passing it to h.
func (s *Set) Handler(h slog.Handler) slog.Handler { return Handler(h, s.Text) }

// Handler returns a slog.Handler that rewrites with text the message and
// every attribute value (strings, errors, anything formatted as text) of
// each record before passing it to h: the mechanism of Set.Handler, for a
// caller with its own rule of what to remove.
func Handler(h slog.Handler, text func(string) string) slog.Handler {
	return &handler{h: h, text: text}
}

type handler struct {
	h    slog.Handler
	text func(string) string
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.text(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.h.Handle(ctx, out)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = h.attr(a)
	}
	return &handler{h: h.h.WithAttrs(red), text: h.text}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{h: h.h.WithGroup(name), text: h.text}
}

func (h *handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.text(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, x := range g {
			red[i] = h.attr(x)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.text(x.Error()))
		case interface{ String() string }:
			return slog.String(a.Key, h.text(x.String()))
		case []byte:
			// The text handler prints bytes as a string, the JSON one
			// in base64: both show what they hold.
			if s := string(x); h.text(s) != s {
				return slog.String(a.Key, h.text(s))
			}
			return a
		case nil:
			return a
		default:
			// Anything else is printed with fmt by the handler: redact that
			// text, keeping the value when there is nothing to remove.
			txt := fmt.Sprint(x)
			if red := h.text(txt); red != txt {
				return slog.String(a.Key, red)
			}
			return slog.Any(a.Key, x)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
