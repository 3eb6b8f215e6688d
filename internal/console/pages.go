package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/plannersql/planner/driver"
	"github.com/plannersql/planner/replicate"
)

// pageTemplates are the page templates; each is parsed with the layout.
var pageTemplates = []string{"login", "error", "jobs", "job", "job_edit", "run", "history_run", "connections", "source_edit", "destination_edit", "alerts"}

var funcs = template.FuncMap{
	"pathEscape": url.PathEscape,
	"rfc3339": func(t any) string {
		if tt := timeOf(t); !tt.IsZero() {
			return tt.UTC().Format(time.RFC3339)
		}
		return ""
	},
	"utc": func(t any) string {
		if tt := timeOf(t); !tt.IsZero() {
			return tt.UTC().Format("2006-01-02 15:04 UTC")
		}
		return ""
	},
	"duration":     fmtMillis,
	"shortProblem": shortProblem,
	"statusText":   statusText,
	"tableStatus":  tableStatus,
	"join":         strings.Join,
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"destRow": func(d *jobDestView, named []destinationView) map[string]any {
		m := map[string]any{"Dest": d, "Named": namedOnly(named), "Selected": ""}
		if d != nil {
			m["Selected"] = d.Destination
		}
		return m
	},
	"prop": func(s sourceView, key string) string {
		for _, p := range s.Properties {
			if strings.EqualFold(p.Key, key) && !p.Secret {
				return p.Value
			}
		}
		return ""
	},
	// propIs reports whether the profile's key means value to the driver
	// (PlanScope = "Me" is "me").
	"propIs": func(s sourceView, key, value string) bool {
		for _, p := range s.Properties {
			if strings.EqualFold(p.Key, key) && !p.Secret {
				return sameValue(key, p.Value, value)
			}
		}
		return false
	},
	"propSet": func(s sourceView, key string) bool {
		for _, p := range s.Properties {
			if strings.EqualFold(p.Key, key) {
				return p.Set
			}
		}
		return false
	},
}

func namedOnly(ds []destinationView) []destinationView {
	var out []destinationView
	for _, d := range ds {
		if d.Name != "" {
			out = append(out, d)
		}
	}
	return out
}

func timeOf(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t
	case *time.Time:
		if t != nil {
			return *t
		}
	}
	return time.Time{}
}

// fmtMillis renders a duration in milliseconds for people.
func fmtMillis(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", ms)
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
}

func statusText(s string) string {
	switch s {
	case statusOK:
		return "ok"
	case statusPartial:
		return "partly done"
	case statusFailed:
		return "failed"
	case statusRunning:
		return "running"
	case statusInvalid:
		return "cannot run"
	}
	return "not run yet"
}

// tableStatus maps a table's status to a job status colour.
func tableStatus(s string) string {
	switch s {
	case "ok":
		return statusOK
	case "skipped":
		return statusPartial
	}
	return statusFailed
}

func parseTemplates() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, name := range pageTemplates {
		t, err := template.New(name).Funcs(funcs).ParseFS(webFS,
			"web/templates/layout.html", "web/templates/partials.html", "web/templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// pageData is what every page template gets.
type pageData struct {
	Title        string
	Nav          string
	CSRF         string
	ConfigPath   string
	SettingsPath string
	Data         any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title, nav string, data any) {
	pd := pageData{Title: title, Nav: nav, ConfigPath: s.opts.ConfigPath, SettingsPath: s.opts.SettingsPath, Data: data}
	if p := principalOf(r); p.sess != nil {
		pd.CSRF = p.sess.csrf
	}
	var buf bytes.Buffer
	if err := s.tmpl[name].ExecuteTemplate(&buf, "layout", pd); err != nil {
		s.log.Error("page failed", "page", name, "err", err)
		http.Error(w, "console: the page could not be drawn: "+s.scrub(err.Error()), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(s.scrub(buf.String())))
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	title := http.StatusText(status)
	s.render(w, r, status, "error", title, "", s.scrub(msg))
}

// pageError renders err as a page: its status and message.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	if ae, ok := err.(*apiError); ok {
		s.renderError(w, r, ae.status, ae.message)
		return
	}
	s.renderError(w, r, http.StatusInternalServerError, err.Error())
}

func (s *Server) staticHandler() http.Handler {
	fsrv := http.FileServerFS(s.static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := fs.Stat(s.static, strings.TrimPrefix(r.URL.Path, "/")); err != nil || r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		fsrv.ServeHTTP(w, r)
	})
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if tok := r.URL.Query().Get("token"); tok != "" {
		if _, err := s.startSession(w, r, tok); err != nil {
			s.renderLogin(w, r, err.status, err.message, next)
			return
		}
		// The token leaves the address bar at once.
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	if _, ok := s.auth.authenticate(r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.renderLogin(w, r, http.StatusOK, "", next)
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg, next string) {
	s.render(w, r, status, "login", "Log in", "", map[string]any{
		"Error": msg, "Next": next, "Password": s.opts.Password != "", "Token": s.opts.Token != "",
	})
}

func (s *Server) jobsPage(w http.ResponseWriter, r *http.Request) {
	jobs, err := s.jobViews(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	f, _ := s.loadRaw()
	hasSources := f != nil && len(f.Profiles()) > 0
	s.render(w, r, http.StatusOK, "jobs", "Jobs", "jobs", map[string]any{"Jobs": jobs, "HasSources": hasSources})
}

func (s *Server) jobPage(w http.ResponseWriter, r *http.Request) {
	j, err := s.getJobView(r.Context(), r.PathValue("name"), true)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	hist, err := s.jobHistory(r.Context(), j.Name, historyPageLimit, 0)
	historyError := ""
	if err != nil {
		// A job that cannot run here may not be readable either (its
		// destination URL refers to an unset variable): the page says so
		// and shows the rest.
		ae, ok := err.(*apiError)
		if !ok || ae.status != http.StatusConflict {
			s.pageError(w, r, err)
			return
		}
		historyError = ae.message
	}
	var next []time.Time
	if j.NextRun != nil {
		next = s.previewSchedule(j.Source, j.Schedule, s.now()).Next
	}
	type destSection struct {
		destHistory
		Chart template.HTML
	}
	var sections []destSection
	for _, h := range hist {
		pts := make([]chartPoint, 0, len(h.Runs))
		for _, run := range h.Runs {
			if run.Status == string(replicate.StatusRunning) {
				continue
			}
			pts = append(pts, chartPoint{Started: run.Started, DurationMS: run.DurationMS, Rows: run.Inserted + run.Updated + run.Deleted, Status: run.Color})
		}
		sections = append(sections, destSection{destHistory: h, Chart: historyChart(pts)})
	}
	s.render(w, r, http.StatusOK, "job", j.Name, "jobs", map[string]any{
		"Job": j, "History": sections, "HistoryError": historyError, "Next": next, "Console": s.runs.history(j.Name),
	})
}

func (s *Server) historyRunPage(w http.ResponseWriter, r *http.Request) {
	dest, err := strconv.Atoi(r.PathValue("dest"))
	if err != nil {
		s.renderError(w, r, http.StatusNotFound, "No such destination.")
		return
	}
	h, err := s.historyRunDetail(r.Context(), r.PathValue("name"), dest, r.PathValue("run"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	j, err := s.getJob(r.PathValue("name"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	var d jobDestView
	if dest < len(j.Destinations) {
		d = j.Destinations[dest]
	}
	s.render(w, r, http.StatusOK, "history_run", "Run "+h.ID, "jobs", map[string]any{"Job": j, "Dest": d, "DestIndex": dest, "Run": h})
}

func (s *Server) jobEditPage(w http.ResponseWriter, r *http.Request) {
	create := r.PathValue("name") == ""
	var j jobView
	if create {
		j = jobView{Source: sandboxName, Tables: []string{}, Destinations: []jobDestView{}, Alerts: jobAlertView{EmailTo: []string{}}}
		if src := r.URL.Query().Get("source"); src != "" {
			j.Source = src
		}
	} else {
		var err error
		if j, err = s.getJob(r.PathValue("name")); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	conns, err := s.connections(r.Context(), false)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if create {
		// Start with one destination row: the first named destination.
		row := jobDestView{}
		for _, d := range conns.Destinations {
			if d.Name != "" {
				row.Destination = d.Name
				break
			}
		}
		j.Destinations = append(j.Destinations, row)
	}
	title := "New job"
	if !create {
		title = "Edit " + j.Name
	}
	s.render(w, r, http.StatusOK, "job_edit", title, "jobs", map[string]any{
		"Create": create, "Job": j, "Sources": conns.Sources, "Destinations": conns.Destinations, "Zone": zoneName(s.now().Local()),
	})
}

func (s *Server) runPage(w http.ResponseWriter, r *http.Request) {
	d, ok := s.runs.get(r.Context(), r.PathValue("id"), 0)
	if !ok {
		s.renderError(w, r, http.StatusNotFound, fmt.Sprintf("No run %q is recorded.", r.PathValue("id")))
		return
	}
	s.render(w, r, http.StatusOK, "run", "Run "+d.ID, "jobs", d)
}

func (s *Server) connectionsPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.connections(r.Context(), true)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "connections", "Connections", "connections", v)
}

// advancedProperties are the connection properties under "Advanced".
var advancedProperties = []string{"InitiateOAuth", "Scope", "CallbackURL", "GraphURL", "AuthorityURL", "AllowCustomHosts",
	"MaxConcurrency", "Timeout", "MaxRetries", "Verbosity", "Logfile"}

func (s *Server) sourceEditPage(w http.ResponseWriter, r *http.Request) {
	create := r.PathValue("name") == ""
	src := sourceView{Properties: []propertyView{}}
	if !create {
		v, err := s.findSource(r)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		if v.Builtin {
			s.renderError(w, r, http.StatusBadRequest, "The built-in sandbox cannot be edited.")
			return
		}
		src = v
	}
	kind := src.AuthScheme
	if src.Sandbox {
		kind = "Sandbox"
	}
	if kind == "" {
		kind = string(driver.AuthAzureAD)
	}
	title := "Add a source"
	if !create {
		title = "Edit " + src.Name
	}
	s.render(w, r, http.StatusOK, "source_edit", title, "connections", map[string]any{
		"Create": create, "Source": src, "Kind": kind, "Advanced": advancedProperties,
	})
}

func (s *Server) destinationEditPage(w http.ResponseWriter, r *http.Request) {
	create := r.PathValue("name") == ""
	d := destinationView{}
	if !create {
		v, err := s.findDestination(r.PathValue("name"))
		if err != nil || v.Name == "" {
			s.pageError(w, r, notFound("destination", r.PathValue("name")))
			return
		}
		d = v
	}
	title := "Add a destination"
	if !create {
		title = "Edit " + d.Name
	}
	s.render(w, r, http.StatusOK, "destination_edit", title, "connections", map[string]any{"Create": create, "Destination": d})
}

func (s *Server) alertsPage(w http.ResponseWriter, r *http.Request) {
	st, err := s.loadSettings()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "alerts", "Alerts", "alerts", map[string]any{"Alerts": s.alerts.view(st)})
}

// chartPoint is one run on the history chart.
type chartPoint struct {
	Started    time.Time
	DurationMS int64
	Rows       int64 // inserted + updated + deleted
	Status     string
}

// historyChart draws the runs' durations (bars) and rows changed (a line)
// as an SVG, oldest on the left. It uses classes only: the page's CSP
// allows no inline style.
func historyChart(runs []chartPoint) template.HTML {
	if len(runs) == 0 {
		return ""
	}
	if len(runs) > historyPageLimit {
		runs = runs[:historyPageLimit]
	}
	const w, h, pad, top = 800.0, 160.0, 44.0, 12.0
	n := len(runs)
	var maxDur, maxRows float64
	for _, r := range runs {
		maxDur = math.Max(maxDur, float64(r.DurationMS)/1000)
		maxRows = math.Max(maxRows, float64(r.Rows))
	}
	if maxDur == 0 {
		maxDur = 1
	}
	if maxRows == 0 {
		maxRows = 1
	}
	slot := math.Min((w-2*pad)/float64(n), 36)
	bw := math.Max(2, slot*0.6)
	plotH := h - top - 20
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="history-chart" viewBox="0 0 %.0f %.0f" preserveAspectRatio="xMinYMid meet" role="img" aria-label="Duration and rows changed of the last %d runs" xmlns="http://www.w3.org/2000/svg">`, w, h, n)
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, pad, top+plotH, w-pad, top+plotH)
	fmt.Fprintf(&b, `<text class="label" x="2" y="%.1f">%s</text><text class="label" x="2" y="%.1f">0</text>`, top+8, template.HTMLEscapeString(fmtMillis(int64(maxDur*1000))), top+plotH)
	fmt.Fprintf(&b, `<text class="label right" x="%.1f" y="%.1f" text-anchor="end">%d rows</text>`, w-2, top+8, int64(maxRows))
	var pts []string
	for i := range runs {
		r := runs[n-1-i] // oldest first
		x := pad + float64(i)*slot + (slot-bw)/2
		d := float64(r.DurationMS) / 1000
		bh := math.Max(1, d/maxDur*plotH)
		rows := float64(r.Rows)
		fmt.Fprintf(&b, `<rect class="bar %s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %s, %d rows changed, %s</title></rect>`,
			template.HTMLEscapeString(r.Status), x, top+plotH-bh, bw, bh,
			template.HTMLEscapeString(r.Started.UTC().Format("2006-01-02 15:04 UTC")), template.HTMLEscapeString(fmtMillis(r.DurationMS)),
			int64(rows), template.HTMLEscapeString(statusText(r.Status)))
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x+bw/2, top+plotH-rows/maxRows*plotH))
	}
	if n > 1 {
		fmt.Fprintf(&b, `<polyline class="rows" points="%s"/>`, strings.Join(pts, " "))
	}
	for _, p := range pts {
		xy := strings.SplitN(p, ",", 2)
		fmt.Fprintf(&b, `<circle class="rows" cx="%s" cy="%s" r="2.5"/>`, xy[0], xy[1])
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// shortProblem is a job's problem for the jobs list: without the "job
// NAME (FILE:LINE): " and "config: FILE:LINE: " prefixes that locate it
// (its page has the whole message).
func shortProblem(msg string) string {
	for _, re := range problemPrefixes {
		msg = re.ReplaceAllString(msg, "")
	}
	return msg
}

var problemPrefixes = []*regexp.Regexp{
	regexp.MustCompile(`^job [^(]* \([^)]*:\d+\): `),
	regexp.MustCompile(`^config: [^ ]*:\d+: `),
}

// zoneName names the time zone of t for people: "CET, UTC+01:00".
func zoneName(t time.Time) string {
	name, off := t.Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	utc := fmt.Sprintf("UTC%s%02d:%02d", sign, off/3600, off%3600/60)
	if off == 0 {
		utc = "UTC"
	}
	if name == "" || name == utc || name == "UTC" || strings.HasPrefix(name, "+") || strings.HasPrefix(name, "-") {
		return utc
	}
	return name + ", " + utc
}
