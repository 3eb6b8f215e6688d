package jobcheck

import (
	"strings"
	"testing"

	"github.com/plannersql/planner/internal/config"
)

// TestCheck judges jobs built in Go, not read from a file — as the console
// builds them from a form — by the config file's rules: the sandbox source
// in any case, a profile by its exact name or its one case-insensitive
// match, a schedule limited for a tenant and not for the sandbox, and the
// script and destination URLs parsed.
func TestCheck(t *testing.T) {
	f, err := config.Parse("config.toml", "[profiles.Demo]\nSandbox = true\n[profiles.demo2]\nSandbox = true\n"+
		"[profiles.yes]\nSandbox = \"Yes\"\n[profiles.off]\nSandbox = false\n"+
		"[profiles.prod]\nTenant = \"contoso.onmicrosoft.com\"\nOAuthClientId = \"11111111-2222-3333-4444-555555555555\"\n", config.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ok := []config.Destination{{URL: "sqlite:x.db"}}
	cases := []struct {
		name string
		job  config.Job
		want string // a part of the error; "" for a job that can run
	}{
		{"sandbox", config.Job{Source: "sandbox", Schedule: "every 1m", Script: "REPLICATE Plans;", Destinations: ok}, ""},
		{"SANDBOX is the sandbox", config.Job{Source: "SANDBOX", Schedule: "every 1m", Script: "REPLICATE Plans;", Destinations: ok}, ""},
		{"Sandbox is the sandbox", config.Job{Source: "Sandbox", Script: "REPLICATE Plans;", Destinations: ok}, ""},
		{"a profile", config.Job{Source: "Demo", Schedule: "every 10m", Script: "REPLICATE Plans;", Destinations: ok}, ""},
		{"a profile in another case", config.Job{Source: "DEMO", Schedule: "every 10m", Script: "REPLICATE Plans;", Destinations: ok}, ""},
		{"a sandbox profile every minute", config.Job{Source: "demo", Schedule: "every 1m", Script: "REPLICATE Plans;", Destinations: ok}, ""},
		{"a sandbox profile written Yes", config.Job{Source: "yes", Schedule: "every 1m", Script: "REPLICATE Plans;", Destinations: ok}, ""},
		{"a profile with Sandbox off every minute", config.Job{Source: "off", Schedule: "every 1m", Script: "REPLICATE Plans;", Destinations: ok}, "too often"},
		{"a tenant every minute", config.Job{Source: "prod", Schedule: "every 1m", Script: "REPLICATE Plans;", Destinations: ok}, "too often"},
		{"a tenant every 10 minutes", config.Job{Source: "prod", Schedule: "every 10m", Script: "REPLICATE Plans;", Destinations: ok}, ""},
		{"no such profile", config.Job{Source: "nope", Script: "REPLICATE Plans;", Destinations: ok}, "source:"},
		{"a schedule that does not parse", config.Job{Source: "sandbox", Schedule: "every fortnight", Script: "REPLICATE Plans;", Destinations: ok}, "fortnight"},
		{"a script that does not parse", config.Job{Source: "sandbox", Script: "REPLICATE Plans WITH Bogus;", Destinations: ok}, "script:"},
		{"a destination of no accepted form", config.Job{Source: "sandbox", Script: "REPLICATE Plans;",
			Destinations: []config.Destination{{URL: "ftp://x/db"}}}, "destination 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.job.Name = "j"
			sc, err := Check(f, c.job)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("err %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("err %v, want one saying %q", err, c.want)
			case c.want == "" && (sc == nil) != (c.job.Schedule == ""):
				t.Errorf("schedule %v for %q", sc, c.job.Schedule)
			}
		})
	}
	if !config.IsSandbox("SandBox") || config.IsSandbox("sandbox2") || config.IsSandbox(" sandbox") {
		t.Error("IsSandbox does not match the parser's rule")
	}
}
