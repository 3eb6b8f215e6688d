package driver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/plannersql/planner/graph"
)

// What each Verbosity level logs, at slog.LevelInfo:
//
//	1  "statement": each SQL statement (sql, args: how many)
//	2  "graph request": each Graph HTTP attempt (method, path, status, ms,
//	   throttled, retries, error) and "identity request": each sign-in
//	   request (method, path, status, ms)
//	3  "http body": the request and response bodies of both (method, url,
//	   status, request, response), with tokens, secrets and codes redacted
const (
	logStatements = 1
	logRequests   = 2
	logBodies     = 3
)

// maxLoggedBody caps each body in the log.
const maxLoggedBody = 64 << 10

// openLog sets up the connector's logger from the configuration: the
// Config's Logger, else Logfile, else slog.Default() when Verbosity > 0.
func (c *Connector) openLog() error {
	cfg := c.cfg
	c.verbosity = cfg.Verbosity
	switch {
	case cfg.Logger != nil:
		c.log = cfg.Logger
	case cfg.Logfile != "":
		path, err := expandHome(cfg.Logfile)
		if err != nil {
			return fmt.Errorf("planner: connection property Logfile: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("planner: connection property Logfile: cannot open the log file: %w; give a path in a directory you can write to", err)
		}
		c.logFile = f
		c.log = slog.New(slog.NewTextHandler(f, nil))
	case cfg.Verbosity > 0:
		c.log = slog.Default()
	default:
		c.verbosity = 0
	}
	return nil
}

// expandHome expands a leading ~ of a path to the home directory, as
// OAuthSettingsLocation does.
func expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") && !strings.HasPrefix(p, `~\`) {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot expand ~ in %q: %w; give the full path", p, err)
	}
	return filepath.Join(home, p[1:]), nil
}

// logging reports whether level is logged.
func (c *Connector) logging(level int) bool { return c.log != nil && c.verbosity >= level }

// logStatement logs a statement at Verbosity 1.
func (c *Connector) logStatement(ctx context.Context, query string, args int) {
	if c.logging(logStatements) {
		c.log.LogAttrs(ctx, slog.LevelInfo, "statement", slog.String("sql", strings.TrimSpace(query)), slog.Int("args", args))
	}
}

// logRequest logs a Graph HTTP attempt at Verbosity 2.
func (c *Connector) logRequest(ri graph.RequestInfo) {
	if !c.logging(logRequests) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", ri.Method), slog.String("path", ri.Path), slog.Int("status", ri.Status),
		slog.Int64("ms", ri.Duration.Milliseconds()), slog.Bool("throttled", throttled(ri.Status)),
		slog.Int("retries", max(ri.Attempt-1, 0)),
	}
	if ri.Err != nil {
		attrs = append(attrs, slog.String("error", redactText(ri.Err.Error())))
	}
	c.log.LogAttrs(context.Background(), slog.LevelInfo, "graph request", attrs...)
}

func throttled(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// loggingClient returns a copy of hc whose requests are logged: at
// Verbosity 3 with their bodies, and, when line is set, at Verbosity 2 as
// one line each (Graph requests are logged by the Graph client's hook
// instead, which knows about retries).
func (c *Connector) loggingClient(hc *http.Client, line string) *http.Client {
	cp := *hc
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cp.Transport = &logTransport{c: c, base: base, line: line}
	return &cp
}

// logTransport logs the requests it passes on.
type logTransport struct {
	c    *Connector
	base http.RoundTripper
	line string
}

// RoundTrip implements http.RoundTripper.
func (t *logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	bodies := t.c.logging(logBodies)
	var reqBody []byte
	if bodies && req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	start := time.Now()
	res, err := t.base.RoundTrip(req)
	ms := time.Since(start).Milliseconds()
	status := 0
	if res != nil {
		status = res.StatusCode
	}
	if t.line != "" && t.c.logging(logRequests) {
		attrs := []slog.Attr{slog.String("method", req.Method), slog.String("path", req.URL.Path), slog.Int("status", status), slog.Int64("ms", ms)}
		if err != nil {
			attrs = append(attrs, slog.String("error", redactText(err.Error())))
		}
		t.c.log.LogAttrs(req.Context(), slog.LevelInfo, t.line, attrs...)
	}
	if !bodies {
		return res, err
	}
	var resBody []byte
	if res != nil && res.Body != nil {
		b, rerr := io.ReadAll(res.Body)
		res.Body.Close()
		resBody = b
		if rerr != nil {
			res.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), errReader{rerr}))
		} else {
			res.Body = io.NopCloser(bytes.NewReader(b))
		}
	}
	attrs := []slog.Attr{
		slog.String("method", req.Method), slog.String("url", redactURL(req.URL)), slog.Int("status", status),
		slog.String("request", redactBody(req.Header.Get("Content-Type"), reqBody)),
	}
	if res != nil {
		attrs = append(attrs, slog.String("response", redactBody(res.Header.Get("Content-Type"), resBody)))
	}
	t.c.log.LogAttrs(req.Context(), slog.LevelInfo, "http body", attrs...)
	return res, err
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// secretKey reports whether a form or query key holds a secret: tokens of
// every kind, secrets, passwords, assertions, authorization codes, PKCE
// verifiers and device codes. (A device's user_code is shown to the user
// anyway.)
func secretKey(k string) bool {
	switch strings.ToLower(k) {
	case "code", "code_verifier", "state":
		return true
	}
	return secretJSONKey(k)
}

// secretJSONKey is secretKey for JSON bodies, where "code" is Graph's error
// code, not an authorization code.
func secretJSONKey(k string) bool {
	k = strings.ToLower(k)
	return k == "device_code" || k == "authorization" || strings.Contains(k, "token") || strings.Contains(k, "secret") ||
		strings.Contains(k, "password") || strings.Contains(k, "assertion")
}

const redacted = "[redacted]"

var (
	// jwtPattern matches a JWT-shaped token anywhere in text.
	jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)
	// secretField matches "key": "value" and key=value pairs of secret
	// keys, for text that does not parse.
	secretField = regexp.MustCompile(`(?i)("?[a-z_]*(?:token|secret|password|assertion|code|code_verifier|state)"?\s*[:=]\s*"?)([^"&\s,}]+)`)
	// secretParam matches a secret parameter of a URL's query or fragment
	// inside text (a link, a redirect URI in a JSON string).
	secretParam = regexp.MustCompile(`(?i)([?&#](?:code|code_verifier|state|[a-z_]*(?:token|secret|password|assertion))=)[^&#\s"'<>]+`)
)

// redactText removes what looks like a token from free text.
func redactText(s string) string {
	s = jwtPattern.ReplaceAllString(s, redacted)
	s = secretParam.ReplaceAllString(s, "${1}"+redacted)
	return secretField.ReplaceAllString(s, "${1}"+redacted)
}

// redactJWTs removes JWT-shaped tokens from text.
func redactJWTs(s string) string { return jwtPattern.ReplaceAllString(s, redacted) }

// redactURL is u with secret query parameters redacted.
func redactURL(u *url.URL) string {
	cp := *u
	cp.User = nil
	if cp.RawQuery != "" {
		q := cp.Query()
		for k := range q {
			if secretKey(k) {
				q[k] = []string{redacted}
			}
		}
		cp.RawQuery = q.Encode()
	}
	return secretParam.ReplaceAllString(redactJWTs(cp.String()), "${1}"+redacted)
}

// redactBody renders a body for the log: JSON and form bodies with the
// values of secret keys replaced, anything else with token-like text
// replaced; cut at maxLoggedBody.
func redactBody(contentType string, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	var out string
	switch {
	case mt == "application/x-www-form-urlencoded":
		q, err := url.ParseQuery(string(b))
		if err != nil {
			out = redactText(string(b))
			break
		}
		for k := range q {
			if secretKey(k) {
				q[k] = []string{redacted}
			}
		}
		out = q.Encode()
	case strings.HasSuffix(mt, "json") || bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")):
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			out = redactText(string(b))
			break
		}
		enc, err := json.Marshal(redactJSON(v))
		if err != nil {
			out = redactText(string(b))
			break
		}
		out = string(enc)
	default:
		out = redactText(string(b))
	}
	out = redactJWTs(out)
	if len(out) > maxLoggedBody {
		out = fmt.Sprintf("%s…(%d more bytes)", out[:maxLoggedBody], len(out)-maxLoggedBody)
	}
	return out
}

// redactJSON replaces the values of secret keys in a decoded JSON value,
// whatever their kind (a string, a number, an array or an object of
// tokens), but for lifetimes ("refresh_token_expires_in": 7776000); and
// the secret parameters of URLs inside strings.
func redactJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if secretJSONKey(k) && !lifetimeKey(k, val) {
				x[k] = redacted
				continue
			}
			x[k] = redactJSON(val)
		}
		return x
	case []any:
		for i := range x {
			x[i] = redactJSON(x[i])
		}
		return x
	case string:
		return secretParam.ReplaceAllString(x, "${1}"+redacted)
	}
	return v
}

// lifetimeKey reports whether a secret-looking key holds a token's
// lifetime, a number: "expires_in", "refresh_token_expires_in",
// "ext_expires_on".
func lifetimeKey(k string, v any) bool {
	_, isNumber := v.(json.Number)
	k = strings.ToLower(k)
	return isNumber && (strings.HasSuffix(k, "_in") || strings.HasSuffix(k, "_on") || strings.HasSuffix(k, "_at"))
}
