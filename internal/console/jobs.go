package console

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/plannersql/planner/internal/config"
	"github.com/plannersql/planner/replicate"
	"github.com/plannersql/planner/schema"
)

// Job statuses, shown green, amber, red and grey.
const (
	statusOK      = "ok"      // green: the last run copied every table
	statusPartial = "partial" // amber: some tables were skipped (locked, stopped) or the run was cancelled
	statusFailed  = "failed"  // red: the last run failed
	statusRunning = "running" // a run is in progress
	statusNever   = "never"   // grey: no run yet
	// statusInvalid (red ring): the job cannot run in this console's
	// environment (an unset environment variable, a missing source, a
	// schedule or script that does not parse); it is not scheduled.
	statusInvalid = "invalid"
)

// jobView is a job as the API shows it.
type jobView struct {
	Name          string        `json:"name"`
	Source        string        `json:"source"`
	Schedule      string        `json:"schedule"`                 // "" = run only on demand
	ScheduleError string        `json:"schedule_error,omitempty"` // the schedule does not parse
	Script        string        `json:"script"`                   // the whole script
	ScriptFile    string        `json:"script_file,omitempty"`    // where the script is kept, when in a file
	Tables        []string      `json:"tables"`                   // tables picked: REPLICATE <Table>;
	Statements    string        `json:"statements"`               // the rest of the script
	Destinations  []jobDestView `json:"destinations"`
	Alerts        jobAlertView  `json:"alerts"`
	Status        string        `json:"status"`
	// Error says why the job cannot run here and what to do (status
	// "invalid"): it is not scheduled and "Run now" is refused.
	Error   string      `json:"error,omitempty"`
	LastRun *runSummary `json:"last_run,omitempty"`
	NextRun *time.Time  `json:"next_run,omitempty"`
	Running *runSummary `json:"running,omitempty"`
	Line    int         `json:"line,omitempty"` // of [jobs.<name>] in the config file
}

// jobDestView is one destination of a job.
type jobDestView struct {
	Destination string `json:"destination,omitempty"` // the named destination with this URL
	URL         string `json:"url"`                   // password masked
	Kind        string `json:"kind"`
	PasswordSet bool   `json:"password_set"`
	Prefix      string `json:"prefix,omitempty"`
	Schema      string `json:"schema,omitempty"`
	SourceName  string `json:"source_name,omitempty"`
	// NameStyle is how the tables and columns are named in it: exact (as
	// the source spells them, the default), lower or snake_case
	// (replicate.NameStyle).
	NameStyle string `json:"name_style"`
}

// jobAlertView is a job's alert settings: what differs from the global
// ones. The webhook URL is write-only.
type jobAlertView struct {
	On         string   `json:"on,omitempty"` // "" = as set globally
	Slow       *bool    `json:"slow,omitempty"`
	EmailTo    []string `json:"email_to"`
	WebhookSet bool     `json:"webhook_set"`
}

// jobInput creates or updates a job.
type jobInput struct {
	Name     string `json:"name"`
	Source   string `json:"source"`
	Schedule string `json:"schedule"`
	// Tables picked from the source's catalog, each copied whole by a
	// REPLICATE <Table> statement.
	Tables []string `json:"tables"`
	// Statements are further REPLICATE statements (custom queries, options).
	Statements string `json:"statements"`
	// Script, when set, is the whole script instead of Tables and
	// Statements.
	Script       *string         `json:"script"`
	Destinations []jobDestInput  `json:"destinations"`
	Alerts       *jobAlertsInput `json:"alerts"`
}

// jobDestInput is one destination of a job: a named destination (its URL
// is copied into the job) or a URL.
type jobDestInput struct {
	Destination string `json:"destination"`
	URL         string `json:"url"`
	Prefix      string `json:"prefix"`
	Schema      string `json:"schema"`
	SourceName  string `json:"source_name"`
	// NameStyle: exact (or empty: the default), lower or snake_case.
	NameStyle string `json:"name_style"`
}

// jobAlertsInput sets a job's alerts. WebhookURL "" keeps the stored one
// (it is write-only); ClearWebhook removes it.
type jobAlertsInput struct {
	On           string   `json:"on"`
	Slow         *bool    `json:"slow"`
	EmailTo      []string `json:"email_to"`
	WebhookURL   string   `json:"webhook_url"`
	ClearWebhook bool     `json:"clear_webhook"`
}

// splitScript separates a script into the tables it copies whole with a
// plain REPLICATE <Table> (or TABLES (...)) statement and the rest of its
// text, comments included. A script that does not parse is all rest.
func splitScript(script string) (tables []string, rest string) {
	stmts, err := replicate.Parse(script)
	if err != nil {
		return []string{}, strings.TrimSpace(script)
	}
	type span struct{ from, to int }
	var cut []span
	tables = []string{}
	for _, st := range stmts {
		names, ok := plainTables(st)
		if !ok {
			continue
		}
		from := offsetOf(script, st.Line, st.Column)
		to := from + len(st.Text)
		// Take the ';' and the rest of its line when only blanks follow.
		j := to
		for j < len(script) && (script[j] == ' ' || script[j] == '\t') {
			j++
		}
		if j < len(script) && script[j] == ';' {
			j++
			k := j
			for k < len(script) && (script[k] == ' ' || script[k] == '\t' || script[k] == '\r') {
				k++
			}
			if k == len(script) || script[k] == '\n' {
				j = min(k+1, len(script))
			}
			to = j
		}
		cut = append(cut, span{from, to})
		for _, n := range names {
			if !slices.Contains(tables, n) {
				tables = append(tables, n)
			}
		}
	}
	var b strings.Builder
	prev := 0
	for _, c := range cut {
		b.WriteString(script[prev:c.from])
		prev = c.to
	}
	b.WriteString(script[prev:])
	return tables, strings.TrimSpace(b.String())
}

// plainTables returns the catalog tables a statement copies whole, as
// written in the table picker: REPLICATE <Table> or REPLICATE TABLES
// (...) with no option, query, schema or excluded column.
func plainTables(st replicate.Statement) ([]string, bool) {
	w := st.With
	if w.DropTable || w.TruncateTable || !w.AlterSchema || w.SoftDelete || len(w.Key) > 0 || w.HasSourceName {
		return nil, false
	}
	switch st.Kind {
	case replicate.KindTable:
		if st.Query != "" || st.Dest.Schema != "" || st.Source.Schema != "" || len(st.ExcludeColumns) > 0 ||
			!strings.EqualFold(st.Dest.Table, st.Source.Table) {
			return nil, false
		}
		t := schema.Lookup(st.Source.Table)
		if t == nil || t.Name != st.Dest.Table && strings.Contains(st.Text, `"`) {
			return nil, false
		}
		return []string{t.Name}, true
	case replicate.KindTables:
		var out []string
		for _, r := range st.Tables {
			t := schema.Lookup(r.Table.Table)
			if t == nil || r.Table.Schema != "" || len(r.ExcludeColumns) > 0 {
				return nil, false
			}
			out = append(out, t.Name)
		}
		return out, true
	}
	return nil, false
}

// offsetOf converts a 1-based line and column (in characters) to a byte
// offset of s.
func offsetOf(s string, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(s[off:], '\n')
		if i < 0 {
			return len(s)
		}
		off += i + 1
	}
	for c := 1; c < col && off < len(s); c++ {
		_, size := utf8.DecodeRuneInString(s[off:])
		off += size
	}
	return off
}

// composeScript writes the tables picked and the further statements as
// one script.
func composeScript(tables []string, statements string) string {
	var b strings.Builder
	for _, t := range tables {
		fmt.Fprintf(&b, "REPLICATE %s;\n", t)
	}
	if st := strings.TrimSpace(statements); st != "" {
		b.WriteString(st)
		if !strings.HasSuffix(st, ";") && !strings.HasSuffix(st, "*/") && !strings.Contains(lastLine(st), "--") {
			b.WriteString(";")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// scriptCheck is the answer of POST /api/validate/script.
type scriptCheck struct {
	OK         bool              `json:"ok"`
	Error      string            `json:"error,omitempty"`
	Line       int               `json:"line,omitempty"`
	Column     int               `json:"column,omitempty"`
	Statements []statementDigest `json:"statements"`
}

// statementDigest describes a parsed statement for the page.
type statementDigest struct {
	Line   int    `json:"line"`
	Kind   string `json:"kind"`   // TABLE, TABLES or ALL
	Target string `json:"target"` // the destination table(s)
}

// checkScript parses a script as the replicate package will.
func checkScript(script string) scriptCheck {
	out := scriptCheck{Statements: []statementDigest{}}
	stmts, err := replicate.Parse(script)
	if err != nil {
		var se *replicate.SyntaxError
		if errors.As(err, &se) {
			out.Error, out.Line, out.Column = se.Msg, se.Line, se.Column
		} else {
			out.Error = err.Error()
		}
		return out
	}
	out.OK = true
	for _, st := range stmts {
		d := statementDigest{Line: st.Line, Kind: st.Kind.String()}
		switch st.Kind {
		case replicate.KindTables:
			var n []string
			for _, t := range st.Tables {
				n = append(n, t.Table.String())
			}
			d.Target = strings.Join(n, ", ")
		case replicate.KindAll:
			d.Target = "every table"
			if len(st.ExcludeTables) > 0 {
				d.Target += " except " + strings.Join(st.ExcludeTables, ", ")
			}
		default:
			d.Target = st.Dest.String()
		}
		out.Statements = append(out.Statements, d)
	}
	return out
}

// schedulePreview is the answer of GET /api/schedule.
type schedulePreview struct {
	OK       bool        `json:"ok"`
	Schedule string      `json:"schedule"`
	Manual   bool        `json:"manual"` // no schedule: runs only on demand
	Next     []time.Time `json:"next"`   // the next five slots, UTC
	Error    string      `json:"error,omitempty"`
}

// previewSchedule parses spec (of a job reading source) and lists its next
// five slots after now.
func (s *Server) previewSchedule(source, spec string, now time.Time) schedulePreview {
	spec = strings.TrimSpace(spec)
	out := schedulePreview{Schedule: spec, Next: []time.Time{}}
	if spec == "" {
		out.OK, out.Manual = true, true
		return out
	}
	sc, err := s.parseSchedule(nil, source, spec)
	if err != nil {
		out.Error = strings.TrimPrefix(oneLine(err.Error()), "schedule: ")
		return out
	}
	out.OK = true
	t := now
	for range 5 {
		t = sc.Next(t)
		if t.IsZero() {
			break
		}
		out.Next = append(out.Next, t.UTC())
	}
	return out
}

// jobViews returns every job of the config file.
func (s *Server) jobViews(ctx context.Context) ([]jobView, error) {
	f, err := s.loadRaw()
	if err != nil {
		return nil, err
	}
	st, err := s.loadSettings()
	if err != nil {
		return nil, err
	}
	exp, err := s.loadExpanded()
	if err != nil {
		return nil, errorf(http.StatusConflict, "%s (fix the file, then reload)", s.scrubErr(err))
	}
	out := []jobView{}
	for _, j := range f.Jobs() {
		out = append(out, s.jobView(ctx, j, exp, st, true))
	}
	return out, nil
}

// jobView describes job j (as written). exp is the config file as runs
// see it (references expanded): it decides whether the job can run and,
// with withHistory, its last run is read from its destinations' history.
func (s *Server) jobView(ctx context.Context, j config.Job, exp *config.File, st *settings, withHistory bool) jobView {
	v := jobView{Name: j.Name, Source: j.Source, Schedule: j.Schedule, Script: j.Script, Line: j.Line, Destinations: []jobDestView{}}
	if j.ScriptFile != "" {
		v.ScriptFile = j.ScriptFile
		if b, err := os.ReadFile(j.ScriptFile); err == nil {
			v.Script = string(b)
		}
	}
	v.Tables, v.Statements = splitScript(v.Script)
	names := map[string]string{}
	for _, n := range st.destOrder {
		if _, ok := names[st.Destinations[n]]; !ok {
			names[st.Destinations[n]] = n
		}
	}
	for _, d := range j.Destinations {
		shown, pw := displayURL(d.URL)
		v.Destinations = append(v.Destinations, jobDestView{Destination: names[d.URL], URL: shown, Kind: destKind(d.URL),
			PasswordSet: pw, Prefix: d.Prefix, Schema: d.Schema, SourceName: d.SourceName, NameStyle: nameStyleOf(d.NameStyle)})
	}
	ja := st.JobAlerts[j.Name]
	v.Alerts = jobAlertView{On: ja.On, Slow: ja.Slow, EmailTo: ja.EmailTo, WebhookSet: ja.WebhookURL != ""}
	if v.Alerts.EmailTo == nil {
		v.Alerts.EmailTo = []string{}
	}
	now := s.now()
	if j.Schedule != "" {
		if _, err := s.parseSchedule(exp, j.Source, j.Schedule); err != nil {
			v.ScheduleError = strings.TrimPrefix(oneLine(err.Error()), "schedule: ")
		}
	}
	// As runs see it: whether it can run, and when it runs next.
	var ej *config.Job
	if exp != nil {
		var jerr error
		ej, jerr = exp.Job(j.Name)
		switch {
		case ej == nil:
			v.Error = fmt.Sprintf("job %s is not in the config file as loaded to run: reload the page", j.Name)
		default:
			if sc, err := s.checkJob(exp, *ej); err != nil {
				v.Error = err.Error()
			} else if sc != nil {
				if n := sc.Next(now); !n.IsZero() {
					v.NextRun = optTime(n)
				}
			}
			if jerr != nil {
				ej = nil // its destinations are not all known
			}
		}
	}
	v.Status = statusNever
	// The last run: as the destinations recorded it (by any process), or
	// this console's record when newer (a run that could not reach its
	// destination leaves no record there).
	if ej != nil && withHistory {
		if last, ok := s.lastRecorded(ctx, *ej); ok {
			v.LastRun, v.Status = &last, last.Status
		}
	}
	if last := s.runs.last(j.Name); last != nil && (v.LastRun == nil || last.Started.After(v.LastRun.Started)) {
		v.LastRun, v.Status = last, last.Status
	}
	if v.Error != "" {
		v.Status = statusInvalid
	}
	if cur := s.runs.current(j.Name); cur != nil {
		v.Running = cur
		v.Status = statusRunning
	}
	return v
}

// getJob describes job name without reading its destinations (its last
// run is this console's record).
func (s *Server) getJob(name string) (jobView, error) {
	return s.getJobView(context.Background(), name, false)
}

// getJobView describes job name; withHistory reads its last run from its
// destinations' history.
func (s *Server) getJobView(ctx context.Context, name string, withHistory bool) (jobView, error) {
	f, err := s.loadRaw()
	if err != nil {
		return jobView{}, err
	}
	j, err := f.Job(name)
	if err != nil {
		return jobView{}, notFound("job", name)
	}
	st, err := s.loadSettings()
	if err != nil {
		return jobView{}, err
	}
	exp, err := s.loadExpanded()
	if err != nil {
		return jobView{}, errorf(http.StatusConflict, "%s (fix the file, then reload)", s.scrubErr(err))
	}
	return s.jobView(ctx, *j, exp, st, withHistory), nil
}

// resolvedJob is a validated jobInput ready to be written.
type resolvedJob struct {
	source, schedule, script string
	dests                    []config.Destination
	// keepStyle[i]: destination i keeps its name_style as written (the
	// same style, perhaps spelt otherwise).
	keepStyle []bool
}

// resolveJob validates in against the config file; old is the job being
// updated (nil on create).
func (s *Server) resolveJob(f *config.File, st *settings, in jobInput, old *config.Job, oldScript string) (*resolvedJob, error) {
	r := &resolvedJob{}
	src := strings.TrimSpace(in.Source)
	switch {
	case src == "":
		return nil, fieldError("source", "choose the source account (a connection, or sandbox)")
	case config.IsSandbox(src):
		src = sandboxName
	default:
		p, err := f.Profile(src)
		if err != nil {
			return nil, fieldError("source", "no source named %q: add it on the Connections page first", src)
		}
		src = p.Name
	}
	r.source = src
	r.schedule = strings.Join(strings.Fields(in.Schedule), " ")
	if r.schedule != "" {
		if _, err := s.parseSchedule(f, r.source, r.schedule); err != nil {
			return nil, fieldError("schedule", "%s", strings.TrimPrefix(oneLine(err.Error()), "schedule: "))
		}
	}
	// The script.
	if in.Script != nil {
		if len(in.Tables) > 0 || strings.TrimSpace(in.Statements) != "" {
			return nil, fieldError("script", "give either script, or tables and statements, not both")
		}
		r.script = *in.Script
		if chk := checkScript(r.script); !chk.OK {
			return nil, &apiError{status: http.StatusUnprocessableEntity, field: "script", line: chk.Line, column: chk.Column,
				message: fmt.Sprintf("script: line %d, column %d: %s", chk.Line, chk.Column, chk.Error)}
		}
	} else {
		var tables []string
		for _, t := range in.Tables {
			tt := schema.Lookup(strings.TrimSpace(t))
			if tt == nil {
				return nil, fieldError("tables", "no table named %q in the catalog", t)
			}
			if !slices.Contains(tables, tt.Name) {
				tables = append(tables, tt.Name)
			}
		}
		stmts := strings.TrimSpace(in.Statements)
		composed := composeScript(tables, stmts)
		if chk := checkScript(composed); !chk.OK {
			// The tables come first, one line each: report the position in
			// the statements as typed.
			if len(tables) == 0 && strings.Contains(chk.Error, "empty script") {
				return nil, fieldError("tables", "pick at least one table, or write a REPLICATE statement")
			}
			line, column := chk.Line-len(tables), chk.Column
			if line < 1 {
				return nil, fieldError("tables", "the tables do not parse: %s", chk.Error)
			}
			// The statements were trimmed: count the blank lines and the
			// indentation of the first line that were cut.
			lead := in.Statements[:len(in.Statements)-len(strings.TrimLeftFunc(in.Statements, unicode.IsSpace))]
			if line == 1 {
				column += utf8.RuneCountInString(lead[strings.LastIndex(lead, "\n")+1:])
			}
			line += strings.Count(lead, "\n")
			return nil, &apiError{status: http.StatusUnprocessableEntity, field: "statements", line: line, column: column,
				message: fmt.Sprintf("statements: line %d, column %d: %s", line, column, chk.Error)}
		}
		// Keep the script as written when it says the same.
		curTables, curRest := splitScript(oldScript)
		if old != nil && slices.Equal(curTables, tables) && curRest == stmts {
			r.script = oldScript
		} else {
			r.script = composed
		}
	}
	// Destinations.
	if len(in.Destinations) == 0 {
		return nil, fieldError("destinations", "add at least one destination")
	}
	seen := map[string]bool{}
	for i, d := range in.Destinations {
		field := fmt.Sprintf("destinations[%d]", i)
		var u string
		switch {
		case d.Destination != "":
			nu, ok := st.Destinations[d.Destination]
			if !ok {
				return nil, fieldError(field+".destination", "no destination named %q: add it on the Connections page first", d.Destination)
			}
			u = nu
		default:
			u = strings.TrimSpace(d.URL)
			prev := ""
			if old != nil && i < len(old.Destinations) {
				prev = old.Destinations[i].URL
			}
			var ok bool
			if u, ok = restoreURL(u, prev); !ok {
				return nil, fieldError(field+".url", "the URL names another server or user than before: type the password again")
			}
			if err := checkDestinationURL(u); err != nil {
				var ae *apiError
				if errors.As(err, &ae) {
					ae.field = field + ".url"
				}
				return nil, err
			}
		}
		for _, v := range []struct{ name, val string }{{"prefix", d.Prefix}, {"schema", d.Schema}, {"source_name", d.SourceName}} {
			if strings.ContainsAny(v.val, "\r\n\"'`;") {
				return nil, fieldError(field+"."+v.name, "%s may not hold quotes, semicolons or line breaks", v.name)
			}
		}
		if len(d.SourceName) > 64 {
			return nil, fieldError(field+".source_name", "source_name is longer than 64 characters")
		}
		style, err := replicate.ParseNameStyle(d.NameStyle)
		if err != nil {
			return nil, fieldError(field+".name_style", "name_style %q is not a name style: use %s", d.NameStyle, replicate.NameStyles)
		}
		key := u + "\x00" + d.Prefix + "\x00" + d.Schema + "\x00" + d.SourceName
		if seen[key] {
			return nil, fieldError(field, "destination %d repeats an earlier one of this job (a destination differing only in its name style would share its run lock and history: give it a prefix, a schema or a SourceName)", i+1)
		}
		seen[key] = true
		keep := old != nil && i < len(old.Destinations) && nameStyleOf(old.Destinations[i].NameStyle) == string(style)
		written := string(style)
		if style == replicate.NameExact {
			written = "" // the default: no key
		}
		r.dests = append(r.dests, config.Destination{URL: u, Prefix: strings.TrimSpace(d.Prefix), Schema: strings.TrimSpace(d.Schema),
			SourceName: strings.TrimSpace(d.SourceName), NameStyle: written})
		r.keepStyle = append(r.keepStyle, keep)
	}
	return r, nil
}

// saveJob creates (old == "") or updates the job name.
func (s *Server) saveJob(name string, in jobInput, create bool) error {
	unlock, err := s.lockEdits()
	if err != nil {
		return err
	}
	defer unlock()
	f, err := s.loadRaw()
	if err != nil {
		return err
	}
	st, err := s.loadSettings()
	if err != nil {
		return err
	}
	var old *config.Job
	oldScript := ""
	if j, err := f.Job(name); err == nil {
		if create {
			return fieldError("name", "a job named %q already exists; choose another name or edit it", j.Name)
		}
		old, name = j, j.Name
		oldScript = j.Script
		if j.ScriptFile != "" {
			b, err := os.ReadFile(j.ScriptFile)
			if err != nil {
				return errorf(http.StatusConflict, "job %s: cannot read its script_file: %v", name, err)
			}
			oldScript = string(b)
		}
	} else if !create {
		return notFound("job", name)
	}
	r, err := s.resolveJob(f, st, in, old, oldScript)
	if err != nil {
		return err
	}
	if in.Alerts != nil {
		if err := checkJobAlerts(*in.Alerts); err != nil {
			return err
		}
	}
	if old != nil && old.ScriptFile != "" && r.script != oldScript {
		if err := writeScriptFile(old.ScriptFile, r.script); err != nil {
			return errorf(http.StatusConflict, "job %s: %v", name, err)
		}
	}
	path := []string{"jobs", name}
	err = config.EditFile(s.opts.ConfigPath, loadOptions(), func(d *config.Document) error {
		if create {
			vals := []config.Value{{Key: "source", Text: r.source}}
			if r.schedule != "" {
				vals = append(vals, config.Value{Key: "schedule", Text: r.schedule})
			}
			vals = append(vals, config.Value{Key: "script", Text: r.script})
			if err := d.AppendSection(path, false, vals, nil); err != nil {
				return err
			}
			for _, dest := range r.dests {
				if err := d.AppendSection(append(path, "destinations"), true, destValues(dest, nil, false), path); err != nil {
					return err
				}
			}
			return nil
		}
		if !d.HasSection(path...) || d.ArrayLen(append(path, "destinations")...) != len(old.Destinations) {
			return fmt.Errorf("job %s is %w (with [[jobs.%s.destinations]] sections); edit it by hand", name, config.ErrNotSection, name)
		}
		// The source and the schedule as written stay when they mean what
		// was sent: source = "SANDBOX" or a profile's name in another case,
		// a schedule spaced otherwise.
		var set []config.Value
		if !sameSource(f, old.Source, r.source) {
			set = append(set, config.Value{Key: "source", Text: r.source})
		}
		var unset []string
		switch {
		case r.schedule == "":
			unset = append(unset, "schedule")
		case strings.Join(strings.Fields(old.Schedule), " ") != r.schedule:
			set = append(set, config.Value{Key: "schedule", Text: r.schedule})
		}
		if old.ScriptFile == "" {
			set = append(set, config.Value{Key: "script", Text: r.script})
		}
		if err := d.SetKeys(path, -1, set, unset); err != nil {
			return err
		}
		dp := append(slices.Clone(path), "destinations")
		for i, dest := range r.dests {
			if i < len(old.Destinations) {
				var unset []string
				vals := destValues(dest, &unset, r.keepStyle[i])
				if err := d.SetKeys(dp, i, vals, unset); err != nil {
					return err
				}
				continue
			}
			if err := d.AppendSection(dp, true, destValues(dest, nil, false), path); err != nil {
				return err
			}
		}
		for i := len(old.Destinations) - 1; i >= len(r.dests); i-- {
			if err := d.RemoveElement(dp, i); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return errorf(http.StatusConflict, "%v", err)
	}
	if in.Alerts != nil {
		if err := s.saveJobAlerts(name, *in.Alerts); err != nil {
			return err
		}
	}
	s.configChanged()
	return nil
}

// sameSource reports whether the source written in a job, written,
// names the source resolved, canonical (sandbox or a profile's name).
func sameSource(f *config.File, written, resolved string) bool {
	if config.IsSandbox(written) {
		return resolved == sandboxName
	}
	p, err := f.Profile(written)
	return err == nil && p.Name == resolved
}

// destValues returns the keys of a destination; empty ones go to unset
// (when given) instead. keepStyle leaves name_style as written.
func destValues(d config.Destination, unset *[]string, keepStyle bool) []config.Value {
	vals := []config.Value{{Key: "url", Text: d.URL}}
	kvs := [][2]string{{"prefix", d.Prefix}, {"schema", d.Schema}, {"source_name", d.SourceName}}
	if !keepStyle {
		kvs = append(kvs, [2]string{"name_style", d.NameStyle})
	}
	for _, kv := range kvs {
		if kv[1] != "" {
			vals = append(vals, config.Value{Key: kv[0], Text: kv[1]})
		} else if unset != nil {
			*unset = append(*unset, kv[0])
		}
	}
	return vals
}

// writeScriptFile replaces a job's script file atomically, keeping its mode.
func writeScriptFile(path, script string) error {
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("cannot write its script_file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(script); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write its script_file: %w", err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write its script_file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write its script_file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cannot write its script_file: %w", err)
	}
	return nil
}

// checkJobAlerts validates a job's alert settings.
func checkJobAlerts(in jobAlertsInput) error {
	switch in.On {
	case "", alertOnFailure, alertOnAlways, alertOnNever:
	default:
		return fieldError("alerts.on", "on must be failure, always or never (or empty: as set globally)")
	}
	for _, a := range in.EmailTo {
		if err := checkAddress(a); err != nil {
			return fieldError("alerts.email_to", "%v", err)
		}
	}
	if in.WebhookURL != "" {
		if err := checkWebhookURL(in.WebhookURL); err != nil {
			return fieldError("alerts.webhook_url", "%v", err)
		}
	}
	return nil
}

// saveJobAlerts writes [alerts.jobs.<name>] into console.toml.
func (s *Server) saveJobAlerts(name string, in jobAlertsInput) error {
	if err := checkJobAlerts(in); err != nil {
		return err
	}
	kv := [][2]string{{"on", in.On}, {"email_to", strings.Join(in.EmailTo, ", ")}}
	if in.Slow != nil {
		kv = append(kv, [2]string{"slow", fmt.Sprint(*in.Slow)})
	} else {
		kv = append(kv, [2]string{"slow", ""})
	}
	if in.WebhookURL != "" {
		kv = append(kv, [2]string{"webhook_url", in.WebhookURL})
	} else if in.ClearWebhook {
		kv = append(kv, [2]string{"webhook_url", ""})
	}
	if err := editSettings(s.opts.SettingsPath, func(d *config.Document) error {
		return setOrUnset(d, []string{"alerts", "jobs", name}, kv)
	}); err != nil {
		return errorf(http.StatusConflict, "the job was saved, but not its alerts: %v", err)
	}
	return nil
}

// deleteJob removes a job (and its alert settings); a running job must be
// cancelled first.
func (s *Server) deleteJob(name string) error {
	unlock, err := s.lockEdits()
	if err != nil {
		return err
	}
	defer unlock()
	f, err := s.loadRaw()
	if err != nil {
		return err
	}
	j, err := f.Job(name)
	if err != nil {
		return notFound("job", name)
	}
	if s.runs.current(j.Name) != nil {
		return errorf(http.StatusConflict, "job %s is running: cancel the run first", j.Name)
	}
	err = config.EditFile(s.opts.ConfigPath, loadOptions(), func(d *config.Document) error {
		if !d.RemoveSection([]string{"jobs", j.Name}) {
			return fmt.Errorf("job %s is %w; edit it by hand", j.Name, config.ErrNotSection)
		}
		return nil
	})
	if err != nil {
		return errorf(http.StatusConflict, "%v", err)
	}
	if err := editSettings(s.opts.SettingsPath, func(d *config.Document) error {
		d.RemoveSection([]string{"alerts", "jobs", j.Name})
		return nil
	}); err != nil {
		s.log.Warn("job deleted, but its alert settings were not", "job", j.Name, "err", s.scrubErr(err))
	}
	s.configChanged()
	return nil
}

// nameStyleOf returns the name style a destination's name_style value
// means, spelt as replicate spells it ("exact" for none).
func nameStyleOf(v string) string {
	st, err := replicate.ParseNameStyle(v)
	if err != nil {
		return v
	}
	return string(st)
}
