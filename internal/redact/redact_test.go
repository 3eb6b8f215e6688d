package redact

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// secret is the password of every hostile URL below.
const secret = "S3cr3tPW"

// hostileURLs are destination URLs whose password must never be shown,
// most of which url.Parse rejects.
var hostileURLs = []string{
	"postgres://user:" + secret + "@127.0.0.1:1/db",
	"postgres://user:" + secret + "%zz@127.0.0.1:1/db",          // bad escape
	"postgres://user:" + secret + " x@127.0.0.1:1/db",           // space
	"postgres://user:[" + secret + "@127.0.0.1:1/db",            // unclosed [
	"postgres://user:pw#" + secret + "@127.0.0.1:1/db",          // '#' hides the rest from url.Parse
	"postgres://user:" + secret + "#@127.0.0.1:1/db",            // '#' at the end
	"postgres://user:a/" + secret + "@127.0.0.1:1/db",           // '/' in the password
	"postgres://user:" + secret + "@x@127.0.0.1:1/db",           // '@' in the password
	"postgres://user:p?" + secret + "@127.0.0.1:1/db",           // '?' in the password
	"mysql://root:" + secret + "@127.0.0.1:3306/db?tls=%zz",     // bad query escape
	"mysql://root:" + secret + "@[::1:3306/db",                  // unclosed IPv6 bracket
	"postgresql://u:" + secret + "@h/db?application_name=a@b",   // '@' in the query
	"POSTGRES://user:" + secret + "@h/db",                       // upper-case scheme
	"postgres://user:" + url.QueryEscape(secret+"@/") + "@h/db", // escaped
	"root:" + secret + "@tcp(127.0.0.1:3306)/db",                // MySQL DSN
	"root:" + secret + "@/db",                                   // MySQL DSN, default address
	"root:p@" + secret + "@tcp/db",                              // MySQL DSN, protocol without address
	"user:" + secret + "@db.example.com:5432/db",                // a URL without its scheme
	"//user:" + secret + "@[::1]:5432/db",                       // scheme-relative
	"postgres://u@h/db?password=" + secret,                      // PostgreSQL takes it in the query too
	"postgres://u@h/db?sslmode=require&sslpassword=" + secret + "&x=1",
}

func TestURL(t *testing.T) {
	for _, u := range hostileURLs {
		got := URL(u)
		if strings.Contains(got, secret) {
			t.Errorf("URL(%q) = %q: the password is shown", u, got)
		}
		if !strings.Contains(got, Mask) {
			t.Errorf("URL(%q) = %q: no mask", u, got)
		}
	}
	for in, want := range map[string]string{
		"postgres://user:pw@host:5432/db?sslmode=disable": "postgres://user:" + Mask + "@host:5432/db?sslmode=disable",
		"postgres://user@host/db":                         "postgres://user@host/db",
		"sqlite:/var/lib/planner/prod.db":                 "sqlite:/var/lib/planner/prod.db",
		"planner.db":                                      "planner.db",
		"mysql://root@127.0.0.1:3306/test":                "mysql://root@127.0.0.1:3306/test",
		"":                                                "",
	} {
		if got := URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestText scans messages that quote hostile URLs the ways Go and drivers
// do: %q (url.Parse errors), %s, in key=value logs, in JSON.
func TestText(t *testing.T) {
	for _, u := range hostileURLs {
		_, perr := url.Parse(u)
		msgs := []string{
			fmt.Sprintf("open %s: connection refused", u),
			fmt.Sprintf("parse %q: invalid URL escape", u),
			fmt.Sprintf("destination=%s err=boom", u),
			fmt.Sprintf(`{"destination":%q}`, u),
			fmt.Sprintf("a '%s' b", u),
		}
		if perr != nil {
			msgs = append(msgs, "replicate: "+perr.Error())
		}
		for _, m := range msgs {
			got := Text(m, Secrets(u)...)
			if strings.Contains(got, secret) {
				t.Errorf("Text(%q) = %q: the password is shown", m, got)
			}
		}
	}
	// Without the URL's secrets, URLs the scanner can delimit are still redacted.
	for _, m := range []string{
		`parse "postgres://user:` + secret + ` x@127.0.0.1:1/db": invalid character " " in host name`,
		`open postgres://user:` + secret + `%zz@127.0.0.1:1/db: boom`,
		`dial root:` + secret + `@tcp(127.0.0.1:3306)/db failed`,
		`Password=` + secret + `;Host=x`,
		`OAuthClientSecret="` + secret + `" and access_token=` + secret,
		`password='` + secret + `'`,
	} {
		if got := Text(m); strings.Contains(got, secret) {
			t.Errorf("Text(%q) = %q: the password is shown", m, got)
		}
	}
	// Text that holds no credential is unchanged.
	for _, m := range []string{
		"replicate: table Tasks: 3 rows",
		"GET https://graph.microsoft.com/v1.0/users/adele@contoso.com/planner/tasks: 403",
		"mail adele@contoso.com",
		"sqlite:/tmp/x.db",
	} {
		if got := Text(m); got != m {
			t.Errorf("Text(%q) = %q, want it unchanged", m, got)
		}
	}
}

func TestSecretsShort(t *testing.T) {
	if s := Secrets("postgres://u:abc@h/db"); s != nil {
		t.Errorf("Secrets of a 3-byte password = %q, want none (too short to remove everywhere)", s)
	}
	if got := Text("postgres://u:abc@h/db is abc"); got != "postgres://u:"+Mask+"@h/db is abc" {
		t.Errorf("Text = %q", got)
	}
}

func TestError(t *testing.T) {
	base := errors.New("base")
	err := fmt.Errorf("connect to postgres://u:%s@h/db: %w", secret, base)
	red := Error(err)
	if strings.Contains(red.Error(), secret) || !errors.Is(red, base) {
		t.Errorf("Error: %q (Is base: %v)", red, errors.Is(red, base))
	}
	if Error(base) != base || Error(nil) != nil {
		t.Error("Error changed an error with nothing to remove")
	}
}

func TestHandler(t *testing.T) {
	for _, u := range hostileURLs {
		var s Set
		s.AddURL(u)
		for _, mk := range []func(*bytes.Buffer) slog.Handler{
			func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			var buf bytes.Buffer
			log := slog.New(s.Handler(mk(&buf))).With("destination", u)
			log.Info("open "+u, "err", fmt.Errorf("dial %s", u), "grp", slog.GroupValue(slog.String("u", u)),
				"any", []string{u}, "bytes", []byte(u), "n", 3)
			if strings.Contains(buf.String(), secret) || strings.Contains(buf.String(), base64.StdEncoding.EncodeToString([]byte(u))) {
				t.Errorf("log of %q shows the password:\n%s", u, buf.String())
			}
			if !strings.Contains(buf.String(), "n=3") && !strings.Contains(buf.String(), `"n":3`) {
				t.Errorf("log lost an attribute:\n%s", buf.String())
			}
		}
	}
}

// TestHandlerFunc: Handler applies the caller's own rule to the message,
// the attributes given to With, groups, errors and other values.
func TestHandlerFunc(t *testing.T) {
	const sec = "known-secret-value"
	var buf bytes.Buffer
	scrub := func(s string) string { return strings.ReplaceAll(s, sec, Mask) }
	log := slog.New(Handler(slog.NewTextHandler(&buf, nil), scrub)).With("with", sec).WithGroup("g")
	log.Info("msg "+sec, "err", fmt.Errorf("failed with %s", sec), "grp", slog.GroupValue(slog.String("x", sec)),
		"any", []string{sec}, "n", 3)
	if out := buf.String(); strings.Contains(out, sec) || strings.Count(out, Mask) != 5 || !strings.Contains(out, "g.n=3") {
		t.Errorf("log:\n%s", out)
	}
}

// TestTextCutPassword covers what url.Parse quotes when a character in the
// password ends the URL's authority early ('#' a fragment, '?' a query, '/'
// a path): the part of the password before that character, however short,
// in the quoted URL and in Go's "invalid port" message. It is removed with
// or without the URL's Secrets.
func TestTextCutPassword(t *testing.T) {
	for _, pw := range []string{"SE#CRET", "S#x", "ab?cdefgh", "ab/cdefgh", "Zq#"} {
		u := "postgres://u:" + pw + "@127.0.0.1:1/db"
		_, perr := url.Parse(u)
		if perr == nil {
			t.Fatalf("url.Parse(%q) accepted it", u)
		}
		cut := pw[:strings.IndexAny(pw, "#?/")]
		msg := "replicate: bad PostgreSQL URL " + URL(u) + ": " + perr.Error()
		for _, secrets := range [][]string{nil, Secrets(u)} {
			got := Text(msg, secrets...)
			if strings.Contains(got, ":"+cut) {
				t.Errorf("Text(%q) = %q: shows %q, the start of the password", msg, got, cut)
			}
		}
	}
	// Nothing else changes: valid ports and IPv6 hosts stay.
	for _, m := range []string{
		`parse "postgres://h:5432/db": boom`,
		`dial http://[::1]:8080/v1.0: refused`,
		`GET https://graph.microsoft.com/v1.0/me: 401`,
		`refusing to follow a redirect to 127.0.0.1:41901: it is not the configured Graph origin http://127.0.0.1:41243, and the access token goes nowhere else`,
		`(see http://localhost:8400). Or http://h:1; http://h:2: done`,
		// A bad port after the userinfo is a port, not a password.
		`bad MySQL URL mysql://root@tcp(127.0.0.1:3306)/test: parse "mysql://root@tcp(127.0.0.1:3306)/test": invalid port ":3306)" after host`,
	} {
		if got := Text(m); got != m {
			t.Errorf("Text(%q) = %q, want it unchanged", m, got)
		}
	}
}

// TestTextProse checks that prose about passwords and secrets is not taken
// for key: value pairs: the advice it gives must stay readable.
func TestTextProse(t *testing.T) {
	for _, m := range []string{
		"bad URL (percent-encode special characters of the password: %40 for @, %23 for #, %25 for %)",
		"GraphURL must not carry a user name or password: remove the part before @",
		"MySQL: Access denied for user 'u'@'h' (using password: YES)",
		"the client secret: check it in the portal",
	} {
		if got := Text(m); got != m {
			t.Errorf("Text(%q) = %q, want it unchanged", m, got)
		}
	}
	// key:value and key: "value" still count.
	for _, m := range []string{
		"password:" + secret,
		`client_secret: "` + secret + `"`,
		"Password = " + secret,
		"token:'" + secret + "'",
	} {
		if got := Text(m); strings.Contains(got, secret) {
			t.Errorf("Text(%q) = %q: the secret is shown", m, got)
		}
	}
}

// TestTextPairs: secrets in the forms token endpoints, HTTP headers and
// connection strings write them are removed, prose is not.
func TestTextPairs(t *testing.T) {
	for _, m := range []string{
		`{"token_type":"Bearer","access_token":"` + secret + `","refresh_token": "` + secret + `"}`,
		`{"device_code":"` + secret + `","user_code":"ABCD"}`,
		`{"password":"` + secret + `\"x"}`,
		"Authorization: Bearer " + secret + secret,
		"grant_type=authorization_code&code_verifier=" + secret + "&client_assertion=" + secret,
		"Driver={PostgreSQL};Server=h;Pwd={" + secret + ";" + secret + "};",
		"apikey=" + secret,
		"token eyJ0eXAiOiJKV1Qi.eyJhdWQiOiJodHRw.Zm9v" + secret,
	} {
		if got := Text(m); strings.Contains(got, secret) {
			t.Errorf("Text(%q) = %q: the secret is shown", m, got)
		}
	}
	for _, m := range []string{
		"a bearer token is needed: sign in again",
		`{"error":{"code":"InvalidAuthenticationToken","message":"Access token is empty."}}`,
		`{"user_code":"ABCD-EFGH","verification_uri":"https://microsoft.com/devicelogin"}`,
	} {
		if got := Text(m); got != m {
			t.Errorf("Text(%q) = %q, want it unchanged", m, got)
		}
	}
}

// TestSecretsQuery: the values of a URL's secret query parameters are
// secrets, as written and decoded.
func TestSecretsQuery(t *testing.T) {
	got := Secrets("postgres://u@h/db?sslmode=disable&password=" + url.QueryEscape("a b"+secret) + "&sslpassword=" + secret + "2")
	for _, want := range []string{"a+b" + secret, "a b" + secret, secret + "2"} {
		if !slices.Contains(got, want) {
			t.Errorf("Secrets = %q, want %q among them", got, want)
		}
	}
	if slices.Contains(got, "disable") {
		t.Errorf("Secrets = %q: sslmode is no secret", got)
	}
}
