package console

import (
	"fmt"
	"net/http"

	"github.com/plannersql/planner/internal/config"
	"github.com/plannersql/planner/internal/schedule"
)

// checkJob checks job j of f (the config file as runs see it, references
// expanded) with Options.CheckJob. It returns the job's schedule (nil: on
// demand only), or a 409 error saying why the job cannot run in this
// console's environment and what to do about it.
func (s *Server) checkJob(f *config.File, j config.Job) (schedule.Schedule, error) {
	sc, err := s.opts.CheckJob(f, j)
	if err == nil {
		return sc, nil
	}
	return nil, &apiError{status: http.StatusConflict, message: s.scrubErr(err) + " — " + jobFix(f, j)}
}

// jobFix says what to do about a job that does not pass checkJob.
func jobFix(f *config.File, j config.Job) string {
	if j.Err() != nil {
		return "set the environment variable where 'planner console' runs and restart it, or edit the job so that it does not need it"
	}
	if !config.IsSandbox(j.Source) {
		p, err := f.Profile(j.Source)
		switch {
		case p == nil:
			return fmt.Sprintf("add the source %s on the Connections page, or edit the job to read another source", j.Source)
		case err != nil:
			return "set the environment variable where 'planner console' runs and restart it, or edit the source on the Connections page"
		}
	}
	return "edit the job"
}

// jobInvalid returns the 409 error of a job that refers to unset
// environment variables (err from File.Job): its destinations, and so its
// history, cannot be read in this environment.
func jobInvalid(f *config.File, j *config.Job, err error) *apiError {
	return &apiError{status: http.StatusConflict, message: oneLine(err.Error()) + " — " + jobFix(f, *j)}
}
