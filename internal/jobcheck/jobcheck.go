// Package jobcheck judges whether a job of the config file can run, without
// running it: the one judgement that 'planner jobs' (list, run, serve) and
// the console (its jobs page, scheduler and API) make, so that they never
// disagree about a job.
//
// Names follow the config file's rules (package config): the job source
// "sandbox" is matched in any case, as the file's parser reads it; any
// other source names a profile, found as File.Profile finds it (the exact
// name, else the one name that matches ignoring case).
package jobcheck

import (
	"fmt"
	"strings"
	"time"

	"github.com/plannersql/planner/driver"
	"github.com/plannersql/planner/internal/config"
	"github.com/plannersql/planner/internal/schedule"
	"github.com/plannersql/planner/replicate"
	"github.com/plannersql/planner/replicate/dest"
)

// SandboxSource reports whether a job's source reads the emulated tenant:
// the built-in source "sandbox", or a profile of f (nil: none) that sets
// Sandbox to true, read as the driver reads the property.
func SandboxSource(f *config.File, source string) bool {
	if config.IsSandbox(source) {
		return true
	}
	if f == nil {
		return false
	}
	p, err := f.Profile(source)
	if err != nil {
		return false
	}
	v, ok := p.Get("Sandbox")
	if !ok {
		return false
	}
	c := driver.NewConfig()
	return c.Set("Sandbox", v) == nil && c.Sandbox
}

// ForSchedule returns job j as Schedule judges it: with the source
// "sandbox" when its source is a profile of f that reads the sandbox
// (SandboxSource), so that such a job has the sandbox's minimum interval.
func ForSchedule(f *config.File, j config.Job) config.Job {
	if !config.IsSandbox(j.Source) && SandboxSource(f, j.Source) {
		j.Source = config.SandboxSource
	}
	return j
}

// Schedule parses job j's schedule in the local time zone: nil, nil for a
// job with none (run on demand only). A job reading the sandbox may run
// every minute (schedule.SandboxMinInterval), one reading a tenant every 10
// minutes at most (schedule.MinInterval): Graph requests are the scarce
// resource.
func Schedule(j config.Job) (schedule.Schedule, error) {
	if strings.TrimSpace(j.Schedule) == "" {
		return nil, nil
	}
	min := schedule.MinInterval
	if config.IsSandbox(j.Source) {
		min = schedule.SandboxMinInterval
	}
	return schedule.ParseWithMin(j.Schedule, time.Local, min)
}

// Check checks what can be checked of job j of f (the file as runs see it,
// ${NAME} references expanded) without running it, in this order: the
// environment variables it refers to (Job.Err), its source (the sandbox, or
// a profile of f whose own variables are set), its schedule (Schedule), its
// script (replicate.Parse) and its destinations' URLs (dest.Check, which
// never shows a password). It returns the job's schedule, nil for a job
// run on demand only; the error names the job, the file and the line.
func Check(f *config.File, j config.Job) (schedule.Schedule, error) {
	return CheckWith(f, j, Schedule)
}

// CheckWith is Check with parse reading the schedule (tests use a fixed
// time zone).
func CheckWith(f *config.File, j config.Job, parse func(config.Job) (schedule.Schedule, error)) (schedule.Schedule, error) {
	where := fmt.Sprintf("job %s (%s:%d)", j.Name, f.Path, j.Line)
	if err := j.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if !config.IsSandbox(j.Source) {
		if _, err := f.Profile(j.Source); err != nil {
			return nil, fmt.Errorf("%s: source: %w", where, err)
		}
	}
	s, err := parse(ForSchedule(f, j))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	script, err := j.LoadScript()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if _, err := replicate.Parse(script); err != nil {
		return nil, fmt.Errorf("%s: script: %w", where, err)
	}
	for i, d := range j.Destinations {
		if err := dest.Check(d.URL); err != nil {
			return nil, fmt.Errorf("job %s (%s:%d): destination %d: %s", j.Name, f.Path, d.Line, i+1,
				strings.TrimPrefix(err.Error(), "replicate: destination: "))
		}
	}
	return s, nil
}
