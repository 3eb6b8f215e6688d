package console

import (
	"html"
	"regexp"
	"strings"
	"testing"
)

// handProfiles are profiles written by hand in forms the driver accepts
// but the console does not write: enums in other cases, bools other than
// true, TOML integers, booleans and arrays, trailing comments.
const handProfiles = `# Profiles written by hand.
[profiles.hand]   # a user account
AuthScheme = "devicecode"  # lower case
Tenant = "contoso.onmicrosoft.com"
OAuthClientId = "11111111-2222-3333-4444-555555555555"
PlanScope = "Me"           # mixed case
MaxConcurrency = 4         # an integer
GroupId = ["G1", "g2"]     # an array
AllowCustomHosts = false   # a boolean
Timeout = "90s"
InitiateOAuth = "refresh"

[profiles.yes]
Sandbox = "yes"            # the driver reads it as true

[profiles.demo]
Sandbox = true             # a TOML boolean
`

var (
	formInput    = regexp.MustCompile(`<input data-prop="([^"]+)"(?: value="([^"]*)")?`)
	formSelect   = regexp.MustCompile(`(?s)<select (?:id="source-kind"|data-prop="([^"]+)")>(.*?)</select>`)
	formSelected = regexp.MustCompile(`<option value="([^"]*)"[^>]* selected`)
)

// sourceForm returns what the source editor's script sends when its form
// is saved untouched: every data-prop field, and the kind select mapped to
// Sandbox and AuthScheme (app.js, sourceEditor). A select with no option
// marked selected shows, and sends, its first option.
func sourceForm(t *testing.T, page string) map[string]string {
	t.Helper()
	props := map[string]string{}
	for _, m := range formInput.FindAllStringSubmatch(page, -1) {
		props[m[1]] = strings.TrimSpace(html.UnescapeString(m[2]))
	}
	kind := ""
	for _, m := range formSelect.FindAllStringSubmatch(page, -1) {
		val := ""
		if sel := formSelected.FindStringSubmatch(m[2]); sel != nil {
			val = sel[1]
		} else if first := regexp.MustCompile(`<option value="([^"]*)"`).FindStringSubmatch(m[2]); first != nil {
			val = first[1]
		}
		if m[1] == "" {
			kind = val
		} else {
			props[m[1]] = val
		}
	}
	if kind == "" {
		t.Fatalf("the source editor has no kind select:\n%s", page)
	}
	if kind == "Sandbox" {
		props["Sandbox"], props["AuthScheme"] = "true", ""
	} else {
		props["Sandbox"], props["AuthScheme"] = "", kind
	}
	return props
}

// TestSourceFormKeepsHandWrittenProfiles: opening a hand-written source in
// the editor shows the kind the driver reads, and saving the form
// untouched leaves the file as it was; changing one field changes only
// its line.
func TestSourceFormKeepsHandWrittenProfiles(t *testing.T) {
	e := newEnv(t, handProfiles)
	s := e.session()
	for _, tt := range []struct{ name, kind, scheme string }{
		{"hand", "DeviceCode", "DeviceCode"},
		{"yes", "Sandbox", ""},
		{"demo", "Sandbox", ""},
	} {
		v := s.must(200, "GET", "/api/connections/sources/"+tt.name, nil)
		if tt.scheme != "" && v.json["auth_scheme"] != tt.scheme {
			t.Errorf("%s: auth_scheme %v, want %s", tt.name, v.json["auth_scheme"], tt.scheme)
		}
		if got := v.json["sandbox"] == true; got != (tt.kind == "Sandbox") {
			t.Errorf("%s: sandbox %v", tt.name, v.json["sandbox"])
		}
		props := sourceForm(t, s.must(200, "GET", "/connections/sources/"+tt.name+"/edit", nil).body)
		if want := tt.scheme; tt.kind != "Sandbox" && props["AuthScheme"] != want {
			t.Errorf("%s: the editor shows the kind %q, want %q", tt.name, props["AuthScheme"], want)
		}
		if tt.name == "hand" && props["PlanScope"] != "me" {
			t.Errorf("hand: the editor shows PlanScope %q, want me", props["PlanScope"])
		}
		s.must(200, "PUT", "/api/connections/sources/"+tt.name, map[string]any{"properties": props})
		if got := e.readConfig(); got != handProfiles {
			t.Errorf("saving %s untouched changed the file:\n%s", tt.name, got)
		}
	}
	// One field changed: only its line is written.
	props := sourceForm(t, s.must(200, "GET", "/connections/sources/hand/edit", nil).body)
	props["Tenant"] = "fabrikam.onmicrosoft.com"
	s.must(200, "PUT", "/api/connections/sources/hand", map[string]any{"properties": props})
	want := strings.Replace(handProfiles, `Tenant = "contoso.onmicrosoft.com"`, `Tenant = "fabrikam.onmicrosoft.com"`, 1)
	if got := e.readConfig(); got != want {
		t.Errorf("changing the tenant:\n%s\nwant\n%s", got, want)
	}
}
