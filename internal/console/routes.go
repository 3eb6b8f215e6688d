package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

type principalKey struct{}

func principalOf(r *http.Request) principal {
	p, _ := r.Context().Value(principalKey{}).(principal)
	return p
}

// maxWait bounds the long polls (?wait=) of the API.
const maxWait = 60 * time.Second

// waitParam reads ?wait=<seconds or duration>.
func waitParam(r *http.Request) time.Duration {
	v := r.URL.Query().Get("wait")
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		return min(time.Duration(n)*time.Second, maxWait)
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return min(d, maxWait)
	}
	if v == "true" || v == "1" {
		return 30 * time.Second
	}
	return 0
}

func (s *Server) routes() {
	mux := http.NewServeMux()
	s.mux = mux
	// Open to everyone.
	mux.Handle("GET /static/", http.StripPrefix("/static/", s.staticHandler()))
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.loginForm)
	mux.HandleFunc("POST /api/login", s.api(s.apiLogin))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})

	page := func(pattern string, h http.HandlerFunc) { mux.HandleFunc(pattern, s.authed(false, h)) }
	api := func(pattern string, h apiFunc) { mux.HandleFunc(pattern, s.authed(true, s.api(h))) }

	page("POST /logout", s.logoutForm)
	page("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/jobs", http.StatusSeeOther) })
	page("GET /jobs", s.jobsPage)
	page("GET /jobs/new", s.jobEditPage)
	page("GET /jobs/{name}", s.jobPage)
	page("GET /jobs/{name}/edit", s.jobEditPage)
	page("GET /runs/{id}", s.runPage)
	page("GET /jobs/{name}/history/{dest}/{run}", s.historyRunPage)
	page("GET /connections", s.connectionsPage)
	page("GET /connections/sources/new", s.sourceEditPage)
	page("GET /connections/sources/{name}/edit", s.sourceEditPage)
	page("GET /connections/destinations/new", s.destinationEditPage)
	page("GET /connections/destinations/{name}/edit", s.destinationEditPage)
	page("GET /alerts", s.alertsPage)
	// Any other path, or another method on a page's path.
	mux.HandleFunc("/", s.authed(false, func(w http.ResponseWriter, r *http.Request) {
		if allow := s.allowedMethods(r); allow != nil {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.renderError(w, r, http.StatusMethodNotAllowed, "The page "+r.URL.Path+" does not answer "+r.Method+".")
			return
		}
		s.renderError(w, r, http.StatusNotFound, "There is no page at "+r.URL.Path+".")
	}))

	api("POST /api/logout", s.apiLogout)
	api("GET /api/session", s.apiSession)

	api("GET /api/connections", s.apiConnections)
	api("GET /api/connections/sources/{name}", s.apiGetSource)
	api("POST /api/connections/sources", s.apiCreateSource)
	api("PUT /api/connections/sources/{name}", s.apiUpdateSource)
	api("DELETE /api/connections/sources/{name}", s.apiDeleteSource)
	api("POST /api/connections/sources/{name}/test", s.apiTestSource)
	api("GET /api/connections/sources/{name}/catalog", s.apiCatalog)
	api("POST /api/connections/sources/{name}/signin", s.apiStartSignIn)
	api("GET /api/connections/sources/{name}/signin", s.apiSignInState)
	api("DELETE /api/connections/sources/{name}/signin", s.apiCancelSignIn)
	api("POST /api/connections/sources/{name}/signout", s.apiSignOut)
	api("GET /api/connections/destinations/{id}", s.apiGetDestination)
	api("POST /api/connections/destinations", s.apiCreateDestination)
	api("PUT /api/connections/destinations/{name}", s.apiUpdateDestination)
	api("DELETE /api/connections/destinations/{name}", s.apiDeleteDestination)
	api("POST /api/connections/destinations/{id}/test", s.apiTestDestination)
	api("POST /api/connections/destinations/test", s.apiTestDestinationURL)

	api("GET /api/jobs", s.apiJobs)
	api("POST /api/jobs", s.apiCreateJob)
	api("GET /api/jobs/{name}", s.apiGetJob)
	api("PUT /api/jobs/{name}", s.apiUpdateJob)
	api("DELETE /api/jobs/{name}", s.apiDeleteJob)
	api("POST /api/jobs/{name}/run", s.apiRunJob)
	api("POST /api/jobs/{name}/cancel", s.apiCancelJob)
	api("GET /api/jobs/{name}/runs", s.apiJobRuns)
	api("GET /api/runs/{id}", s.apiRun)
	api("GET /api/jobs/{name}/history", s.apiJobHistory)
	api("GET /api/jobs/{name}/history/{dest}/{run}", s.apiHistoryRun)

	api("POST /api/validate/script", s.apiValidateScript)
	api("GET /api/schedule", s.apiSchedule)

	api("GET /api/alerts", s.apiAlerts)
	api("PUT /api/alerts", s.apiSaveAlerts)
	api("POST /api/alerts/test", s.apiTestAlert)
	// Unknown API paths answer JSON; so does another method on a route's
	// path (405, with the methods it takes in Allow).
	mux.HandleFunc("/api/", s.authed(true, s.api(func(w http.ResponseWriter, r *http.Request) error {
		if allow := s.allowedMethods(r); allow != nil {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			return errorf(http.StatusMethodNotAllowed, "%s %s is not a route: %s takes %s (see docs/api.md)",
				r.Method, r.URL.Path, r.URL.Path, strings.Join(allow, ", "))
		}
		return errorf(http.StatusNotFound, "no API route %s %s: see docs/api.md", r.Method, r.URL.Path)
	})))
}

// allowedMethods returns the methods the routes at r's path take, nil when
// no route but the catch-alls has that path.
func (s *Server) allowedMethods(r *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/" && pattern != "/api/" {
			allow = append(allow, m)
		}
	}
	return allow
}

// authed requires a login, and on state-changing requests from a session
// the CSRF token and a same-origin browser request.
func (s *Server) authed(api bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.auth.authenticate(r)
		if !ok {
			if api {
				writeJSON(w, http.StatusUnauthorized, errorBody{Error: "log in first: " + s.auth.hint() +
					" (scripts: send the token as Authorization: Bearer <token>)"})
				return
			}
			next := r.URL.RequestURI()
			http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		if !safeMethod(r.Method) && !p.bearer {
			if !sameOrigin(r) {
				s.refuse(w, r, api, "cross-origin request refused: the console accepts changes only from its own pages")
				return
			}
			tok := r.Header.Get(csrfHeader)
			if tok == "" && !api && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
				tok = r.PostFormValue("csrf_token")
			}
			if !equalSecret(tok, p.sess.csrf) {
				s.refuse(w, r, api, "missing or wrong CSRF token: send the session's token (GET /api/session) in the "+csrfHeader+" header")
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request, api bool, msg string) {
	if api {
		writeJSON(w, http.StatusForbidden, errorBody{Error: msg})
		return
	}
	s.renderError(w, r, http.StatusForbidden, msg)
}

// safeNext returns a local path to go to after logging in.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.HasPrefix(next, "/login") {
		return "/jobs"
	}
	return next
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request, secret string) (string, *apiError) {
	id, csrf, err := s.auth.login(clientAddr(r), secret)
	if err != nil {
		return "", err
	}
	http.SetCookie(w, s.auth.cookie(id, int(sessionMax/time.Second)))
	return csrf, nil
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		s.renderError(w, r, http.StatusForbidden, "cross-origin login refused")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	secret := r.PostFormValue("secret")
	next := safeNext(r.PostFormValue("next"))
	if _, err := s.startSession(w, r, secret); err != nil {
		s.renderLogin(w, r, err.status, err.message, next)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) error {
	if !sameOrigin(r) {
		return errorf(http.StatusForbidden, "cross-origin login refused")
	}
	var in struct {
		Password string `json:"password"`
		Token    string `json:"token"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	secret := in.Password
	if secret == "" {
		secret = in.Token
	}
	csrf, err := s.startSession(w, r, secret)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"csrf_token": csrf})
	return nil
}

func (s *Server) logoutForm(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p.id != "" {
		s.auth.logout(p.id)
	}
	http.SetCookie(w, s.auth.cookie("", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r)
	if p.id != "" {
		s.auth.logout(p.id)
	}
	http.SetCookie(w, s.auth.cookie("", -1))
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	return nil
}

func (s *Server) apiSession(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r)
	out := map[string]any{"auth": "session"}
	if p.bearer {
		out["auth"] = "bearer"
	} else {
		out["csrf_token"] = p.sess.csrf
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// ---- connections

func (s *Server) apiConnections(w http.ResponseWriter, r *http.Request) error {
	v, err := s.connections(r.Context(), true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) findSource(r *http.Request) (sourceView, error) {
	name := r.PathValue("name")
	f, err := s.loadRaw()
	if err != nil {
		return sourceView{}, err
	}
	if strings.EqualFold(name, sandboxName) {
		return s.sandboxView(f), nil
	}
	p, err := f.Profile(name)
	if err != nil {
		return sourceView{}, notFound("source", name)
	}
	return s.sourceView(r.Context(), f, p, true), nil
}

func (s *Server) apiGetSource(w http.ResponseWriter, r *http.Request) error {
	v, err := s.findSource(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) apiCreateSource(w http.ResponseWriter, r *http.Request) error {
	var in sourceInput
	if err := decode(r, &in); err != nil {
		return err
	}
	name, err := cleanName("name", "source", in.Name)
	if err != nil {
		return err
	}
	if err := s.saveSource(name, in, true); err != nil {
		return err
	}
	r.SetPathValue("name", name)
	v, err := s.findSource(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) apiUpdateSource(w http.ResponseWriter, r *http.Request) error {
	var in sourceInput
	if err := decode(r, &in); err != nil {
		return err
	}
	name := r.PathValue("name")
	if in.Name != "" && in.Name != name {
		return fieldError("name", "a source cannot be renamed here: create a new one and move its jobs")
	}
	if err := s.saveSource(name, in, false); err != nil {
		return err
	}
	v, err := s.findSource(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) apiDeleteSource(w http.ResponseWriter, r *http.Request) error {
	if err := s.deleteSource(r.PathValue("name")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"deleted": true})
	return nil
}

func (s *Server) apiTestSource(w http.ResponseWriter, r *http.Request) error {
	out, err := s.testSource(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) apiCatalog(w http.ResponseWriter, r *http.Request) error {
	v, err := s.sourceCatalog(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) apiStartSignIn(w http.ResponseWriter, r *http.Request) error {
	var in signInInput
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	flow, err := s.startSignIn(r.PathValue("name"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, flow)
	return nil
}

func (s *Server) apiSignInState(w http.ResponseWriter, r *http.Request) error {
	after, _ := strconv.Atoi(r.URL.Query().Get("after"))
	flow, ok := s.signins.get(r.Context(), r.PathValue("name"), after, waitParam(r))
	if !ok {
		return errorf(http.StatusNotFound, "no sign-in of %s was started from this console", r.PathValue("name"))
	}
	writeJSON(w, http.StatusOK, flow)
	return nil
}

func (s *Server) apiCancelSignIn(w http.ResponseWriter, r *http.Request) error {
	if !s.cancelSignIn(r.PathValue("name")) {
		return errorf(http.StatusNotFound, "no sign-in of %s is in progress", r.PathValue("name"))
	}
	writeJSON(w, http.StatusOK, map[string]bool{"cancelled": true})
	return nil
}

func (s *Server) apiSignOut(w http.ResponseWriter, r *http.Request) error {
	had, err := s.signOut(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"signed_out": had})
	return nil
}

func (s *Server) findDestination(id string) (destinationView, error) {
	f, err := s.loadRaw()
	if err != nil {
		return destinationView{}, err
	}
	st, err := s.loadSettings()
	if err != nil {
		return destinationView{}, err
	}
	for _, d := range destinations(f, st) {
		if d.ID == id {
			return d, nil
		}
	}
	return destinationView{}, notFound("destination", id)
}

func (s *Server) apiGetDestination(w http.ResponseWriter, r *http.Request) error {
	d, err := s.findDestination(r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) apiCreateDestination(w http.ResponseWriter, r *http.Request) error {
	var in destinationInput
	if err := decode(r, &in); err != nil {
		return err
	}
	name, err := cleanName("name", "destination", in.Name)
	if err != nil {
		return err
	}
	if strings.HasPrefix(name, "job:") {
		return fieldError("name", "a destination name may not start with job:")
	}
	if err := s.saveDestination(name, in, true); err != nil {
		return err
	}
	d, err := s.findDestination(name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, d)
	return nil
}

func (s *Server) apiUpdateDestination(w http.ResponseWriter, r *http.Request) error {
	var in destinationInput
	if err := decode(r, &in); err != nil {
		return err
	}
	name := r.PathValue("name")
	if in.Name != "" && in.Name != name {
		return fieldError("name", "a destination cannot be renamed here: create a new one")
	}
	if err := s.saveDestination(name, in, false); err != nil {
		return err
	}
	d, err := s.findDestination(name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) apiDeleteDestination(w http.ResponseWriter, r *http.Request) error {
	if err := s.deleteDestination(r.PathValue("name")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"deleted": true})
	return nil
}

func (s *Server) apiTestDestination(w http.ResponseWriter, r *http.Request) error {
	u, err := s.destinationURL(r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.testDestination(r.Context(), u))
	return nil
}

// apiTestDestinationURL tests a URL being typed (not saved yet); a masked
// password is taken from the destination named in "name", if any.
func (s *Server) apiTestDestinationURL(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		URL  string `json:"url"`
		Name string `json:"name"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	u := strings.TrimSpace(in.URL)
	if in.Name != "" {
		old, err := s.destinationURL(in.Name)
		if err != nil {
			return err
		}
		var ok bool
		if u, ok = restoreURL(u, old); !ok {
			return fieldError("url", "the URL names another server or user than before: type the password again")
		}
	} else if strings.Contains(u, mask) {
		return fieldError("url", "type the password")
	}
	if err := checkDestinationURL(u); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.testDestination(r.Context(), u))
	return nil
}

// ---- jobs

func (s *Server) apiJobs(w http.ResponseWriter, r *http.Request) error {
	jobs, err := s.jobViews(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": jobs})
	return nil
}

func (s *Server) apiGetJob(w http.ResponseWriter, r *http.Request) error {
	v, err := s.getJobView(r.Context(), r.PathValue("name"), true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) apiCreateJob(w http.ResponseWriter, r *http.Request) error {
	var in jobInput
	if err := decode(r, &in); err != nil {
		return err
	}
	name, err := cleanName("name", "job", in.Name)
	if err != nil {
		return err
	}
	if err := s.saveJob(name, in, true); err != nil {
		return err
	}
	v, err := s.getJob(name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) apiUpdateJob(w http.ResponseWriter, r *http.Request) error {
	var in jobInput
	if err := decode(r, &in); err != nil {
		return err
	}
	name := r.PathValue("name")
	if in.Name != "" && in.Name != name {
		return fieldError("name", "a job cannot be renamed here: create a new job and delete this one")
	}
	if err := s.saveJob(name, in, false); err != nil {
		return err
	}
	v, err := s.getJob(name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) apiDeleteJob(w http.ResponseWriter, r *http.Request) error {
	if err := s.deleteJob(r.PathValue("name")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"deleted": true})
	return nil
}

func (s *Server) apiRunJob(w http.ResponseWriter, r *http.Request) error {
	sum, err := s.runs.runNow(r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, sum)
	return nil
}

func (s *Server) apiCancelJob(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		// Force stops at once: the table in flight is rolled back.
		Force bool `json:"force"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	name := r.PathValue("name")
	if _, err := s.getJob(name); err != nil {
		return err
	}
	sum, err := s.runs.cancelRun(name, in.Force)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, sum)
	return nil
}

func (s *Server) apiJobRuns(w http.ResponseWriter, r *http.Request) error {
	v, err := s.getJob(r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"job": v.Name, "running": v.Running, "runs": s.runs.history(v.Name)})
	return nil
}

func (s *Server) apiRun(w http.ResponseWriter, r *http.Request) error {
	d, ok := s.runs.get(r.Context(), r.PathValue("id"), waitParam(r))
	if !ok {
		return notFound("run", r.PathValue("id"))
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// intParam reads a non-negative integer query parameter.
func intParam(r *http.Request, name string, def, max int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > max {
		return 0, &apiError{status: http.StatusBadRequest, field: name, message: fmt.Sprintf("%s must be a whole number from 0 to %d", name, max)}
	}
	return n, nil
}

func (s *Server) apiJobHistory(w http.ResponseWriter, r *http.Request) error {
	limit, err := intParam(r, "limit", historyPageLimit, 1000)
	if err != nil {
		return err
	}
	offset, err := intParam(r, "offset", 0, 1<<30)
	if err != nil {
		return err
	}
	hs, err := s.jobHistory(r.Context(), r.PathValue("name"), limit, offset)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"job": r.PathValue("name"), "destinations": hs})
	return nil
}

func (s *Server) apiHistoryRun(w http.ResponseWriter, r *http.Request) error {
	dest, err := strconv.Atoi(r.PathValue("dest"))
	if err != nil {
		return errorf(http.StatusNotFound, "no destination %q: destinations are numbered from 0", r.PathValue("dest"))
	}
	h, err := s.historyRunDetail(r.Context(), r.PathValue("name"), dest, r.PathValue("run"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

func (s *Server) apiValidateScript(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Script string `json:"script"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, checkScript(in.Script))
	return nil
}

func (s *Server) apiSchedule(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	writeJSON(w, http.StatusOK, s.previewSchedule(q.Get("source"), q.Get("schedule"), s.now()))
	return nil
}

// ---- alerts

func (s *Server) apiAlerts(w http.ResponseWriter, r *http.Request) error {
	st, err := s.loadSettings()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.alerts.view(st))
	return nil
}

func (s *Server) apiSaveAlerts(w http.ResponseWriter, r *http.Request) error {
	var in alertsInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.saveAlerts(in); err != nil {
		return err
	}
	return s.apiAlerts(w, r)
}

func (s *Server) apiTestAlert(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Job string `json:"job"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	res, err := s.testAlert(r.Context(), in.Job)
	if err != nil {
		return err
	}
	ok := true
	for _, c := range res {
		ok = ok && c.OK
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": ok, "channels": res})
	return nil
}
