package console

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/plannersql/planner/internal/config"
	"github.com/plannersql/planner/replicate"
	rdest "github.com/plannersql/planner/replicate/dest"
)

// historyTimeout bounds reading one destination's history.
const historyTimeout = 20 * time.Second

// historyRun is a run recorded in a destination (replicate.History): a
// run of the job into that destination, by this console, the CLI or
// another replica.
type historyRun struct {
	ID         string         `json:"id"`
	Job        string         `json:"job"`
	Host       string         `json:"host"`
	PID        int            `json:"pid"`
	Slot       *time.Time     `json:"slot,omitempty"`
	Attempt    int            `json:"attempt,omitempty"`
	Started    time.Time      `json:"started"`
	Ended      *time.Time     `json:"ended,omitempty"`
	DurationMS int64          `json:"duration_ms"`
	Status     string         `json:"status"` // as recorded: running, ok, failed, stopped, skipped, abandoned
	Color      string         `json:"color"`  // ok (green), partial (amber), failed (red), running
	Error      string         `json:"error,omitempty"`
	Tables     int            `json:"tables"`
	Failed     int            `json:"failed"`
	Inserted   int64          `json:"inserted"`
	Updated    int64          `json:"updated"`
	Deleted    int64          `json:"deleted"`
	Unchanged  int64          `json:"unchanged"`
	Requests   int64          `json:"requests"`
	Throttled  int64          `json:"throttled"`
	TableRuns  []historyTable `json:"table_runs,omitempty"` // one run's page only
	Log        string         `json:"log,omitempty"`        // one run's page only
}

// historyTable is one destination table of a recorded run.
type historyTable struct {
	Table      string    `json:"table"`
	Statement  string    `json:"statement"`
	SourceName string    `json:"source_name,omitempty"`
	Started    time.Time `json:"started"`
	DurationMS int64     `json:"duration_ms"`
	Status     string    `json:"status"`
	Error      string    `json:"error,omitempty"`
	Inserted   int64     `json:"inserted"`
	Updated    int64     `json:"updated"`
	Deleted    int64     `json:"deleted"`
	Unchanged  int64     `json:"unchanged"`
	Requests   int64     `json:"requests"`
	Throttled  int64     `json:"throttled"`
	Warnings   []string  `json:"warnings,omitempty"`
}

// destHistory is one destination's runs of a job.
type destHistory struct {
	Index       int          `json:"index"` // of the destination in the job
	Destination jobDestView  `json:"destination"`
	Runs        []historyRun `json:"runs"`
	Total       int          `json:"total"` // runs recorded, over all pages
	Error       string       `json:"error,omitempty"`
}

// color maps a recorded status to the console's green / amber / red.
func color(st replicate.Status) string {
	switch st {
	case replicate.StatusOK:
		return statusOK
	case replicate.StatusRunning:
		return statusRunning
	case replicate.StatusFailed, replicate.StatusAbandoned:
		return statusFailed
	}
	return statusPartial // stopped, skipped
}

func (s *Server) historyRunView(r replicate.RunRecord) historyRun {
	h := historyRun{ID: r.ID, Job: r.Job, Host: r.Host, PID: r.PID, Attempt: r.Attempt, Started: r.Started.UTC(),
		DurationMS: r.Duration.Milliseconds(), Status: string(r.Status), Color: color(r.Status), Error: s.scrub(oneLine(r.Error)),
		Tables: r.TableCount, Failed: r.FailedCount, Inserted: r.Inserted, Updated: r.Updated, Deleted: r.Deleted,
		Unchanged: r.Unchanged, Requests: r.Requests, Throttled: r.Throttled}
	if !r.Slot.IsZero() {
		h.Slot = optTime(r.Slot)
	}
	if !r.Ended.IsZero() {
		h.Ended = optTime(r.Ended)
	} else if r.Status == replicate.StatusRunning {
		h.DurationMS = s.now().Sub(r.Started).Milliseconds()
	}
	for _, t := range r.Tables {
		ht := historyTable{Table: t.Table, Statement: s.scrub(t.Statement), SourceName: t.SourceName, Started: t.Started.UTC(),
			DurationMS: t.Duration.Milliseconds(), Status: string(t.Status), Error: s.scrub(oneLine(t.Error)),
			Inserted: t.Inserted, Updated: t.Updated, Deleted: t.Deleted, Unchanged: t.Unchanged, Requests: t.Requests, Throttled: t.Throttled}
		for _, w := range t.Warnings {
			ht.Warnings = append(ht.Warnings, s.scrub(w))
		}
		h.TableRuns = append(h.TableRuns, ht)
	}
	if r.Log != "" {
		h.Log = s.scrub(r.Log)
	}
	return h
}

// expandedJob returns job name as runs see it (environment references
// expanded), for reading its destinations: a 404 error for an unknown
// job, a 409 naming the variable for a job that refers to an unset one.
func (s *Server) expandedJob(name string) (config.Job, error) {
	f, err := s.loadExpanded()
	if err != nil {
		return config.Job{}, errorf(http.StatusConflict, "%s (fix the file, then reload)", s.scrubErr(err))
	}
	j, err := f.Job(name)
	switch {
	case j == nil:
		return config.Job{}, notFound("job", name)
	case err != nil:
		return config.Job{}, jobInvalid(f, j, err)
	}
	return *j, nil
}

// destinationRuns reads the runs of job j recorded in destination d: the
// runs made with its job name, table prefix and source name (several jobs
// and accounts may share a database), newest first.
func destinationRuns(ctx context.Context, j config.Job, d config.Destination, limit, offset int) (replicate.RunList, error) {
	ctx, cancel := context.WithTimeout(ctx, historyTimeout)
	defer cancel()
	h, err := rdest.OpenHistory(ctx, d.URL, replicate.HistoryOptions{Schema: d.Schema})
	if err != nil {
		return replicate.RunList{}, err
	}
	defer h.Close()
	prefix, source := d.Prefix, d.SourceName
	return h.Runs(ctx, replicate.RunFilter{Job: j.Name, TablePrefix: &prefix, SourceName: &source, Limit: limit, Offset: offset})
}

// jobHistory reads the runs of job name in each of its destinations.
func (s *Server) jobHistory(ctx context.Context, name string, limit, offset int) ([]destHistory, error) {
	j, err := s.expandedJob(name)
	if err != nil {
		return nil, err
	}
	view, err := s.getJob(name)
	if err != nil {
		return nil, err
	}
	out := make([]destHistory, 0, len(j.Destinations))
	for i, d := range j.Destinations {
		dh := destHistory{Index: i, Runs: []historyRun{}}
		if i < len(view.Destinations) {
			dh.Destination = view.Destinations[i]
		}
		l, err := destinationRuns(ctx, j, d, limit, offset)
		if err != nil {
			dh.Error = "the history cannot be read: " + s.scrubErr(err)
		}
		for _, r := range l.Runs {
			dh.Runs = append(dh.Runs, s.historyRunView(r))
		}
		dh.Total = l.Total
		out = append(out, dh)
	}
	return out, nil
}

// historyRunDetail reads one recorded run of job name in its destination
// number dest, with its tables and log.
func (s *Server) historyRunDetail(ctx context.Context, name string, dest int, id string) (historyRun, error) {
	j, err := s.expandedJob(name)
	if err != nil {
		return historyRun{}, err
	}
	if dest < 0 || dest >= len(j.Destinations) {
		return historyRun{}, errorf(http.StatusNotFound, "job %s has no destination %d", j.Name, dest)
	}
	d := j.Destinations[dest]
	ctx, cancel := context.WithTimeout(ctx, historyTimeout)
	defer cancel()
	h, err := rdest.OpenHistory(ctx, d.URL, replicate.HistoryOptions{Schema: d.Schema})
	if err != nil {
		return historyRun{}, errorf(http.StatusBadGateway, "the history of %s cannot be read: %s", s.scrub(describeDestination(d)), s.scrubErr(err))
	}
	defer h.Close()
	r, err := h.Run(ctx, id)
	if errors.Is(err, replicate.ErrRunNotFound) || err == nil && (r.Job != j.Name || r.TablePrefix != d.Prefix || r.SourceName != d.SourceName) {
		return historyRun{}, notFound("run", id)
	}
	if err != nil {
		return historyRun{}, errorf(http.StatusBadGateway, "the history of %s cannot be read: %s", s.scrub(describeDestination(d)), s.scrubErr(err))
	}
	return s.historyRunView(r), nil
}

// describeDestination names a destination for people: its URL without a
// password, and its schema, prefix and source name.
func describeDestination(d config.Destination) string {
	u, _ := displayURL(d.URL)
	var extra []string
	if d.Schema != "" {
		extra = append(extra, "schema "+d.Schema)
	}
	if d.Prefix != "" {
		extra = append(extra, "prefix "+d.Prefix)
	}
	if d.SourceName != "" {
		extra = append(extra, "SourceName "+d.SourceName)
	}
	if st := nameStyleOf(d.NameStyle); st != string(replicate.NameExact) {
		extra = append(extra, "names "+st)
	}
	if len(extra) > 0 {
		u += " (" + strings.Join(extra, ", ") + ")"
	}
	return u
}

// lastRecorded is the job's last run as its destinations recorded it: the
// latest start over the destinations, with the worst of their latest
// statuses. ok is false when no destination has a run or none can be read.
func (s *Server) lastRecorded(ctx context.Context, j config.Job) (last runSummary, ok bool) {
	rank := map[string]int{statusOK: 0, statusPartial: 1, statusFailed: 2, statusRunning: 3}
	for _, d := range j.Destinations {
		l, err := destinationRuns(ctx, j, d, 5, 0)
		if err != nil {
			continue
		}
		// A run skipped because another process had the slot (replicas,
		// 'planner jobs serve' beside the console) says nothing of the
		// job's state: the run before it does.
		i := slices.IndexFunc(l.Runs, func(r replicate.RunRecord) bool { return r.Status != replicate.StatusSkipped })
		if i < 0 {
			continue
		}
		r := s.historyRunView(l.Runs[i])
		if !ok || r.Started.After(last.Started) {
			last.ID, last.Started, last.DurationMS = r.ID, r.Started, r.DurationMS
			last.Finished = r.Ended
		}
		if !ok || rank[r.Color] > rank[last.Status] {
			last.Status, last.Error = r.Color, r.Error
		}
		last.Job = j.Name
		last.Tables += r.Tables
		last.Inserted += r.Inserted
		last.Updated += r.Updated
		last.Deleted += r.Deleted
		last.Unchanged += r.Unchanged
		last.Requests += int(r.Requests)
		last.Throttled += int(r.Throttled)
		ok = true
	}
	return last, ok
}

// historyPageLimit is how many runs per destination the job page shows.
const historyPageLimit = 30
