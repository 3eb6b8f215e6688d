package console

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/plannersql/planner/internal/auth"
	"github.com/plannersql/planner/internal/config"
	"github.com/plannersql/planner/replicate"
)

// Alert events.
const (
	eventFailed    = "failed"    // the first failed run of a streak
	eventRecovered = "recovered" // the first good run after a failed one
	eventSlow      = "slow"      // a run took slow_factor × its usual time
	eventFinished  = "finished"  // any run, with on = "always"
	eventTest      = "test"      // "Send test alert"
)

// Defaults of the alert settings.
const (
	defaultSlowFactor = 2.0
	slowSamples       = 3  // good runs needed before a run can be slow
	slowWindow        = 10 // good runs the usual time is the median of
	alertTimeout      = 30 * time.Second
	keepAlerts        = 50 // deliveries listed on the Alerts page
)

// alertPayload is the JSON body POSTed to webhooks. Text makes it readable
// by chat webhooks (Slack, Teams workflows, Mattermost) as it is.
type alertPayload struct {
	Event      string           `json:"event"`
	Job        string           `json:"job"`
	Text       string           `json:"text"`
	Status     string           `json:"status,omitempty"`
	RunID      string           `json:"run_id,omitempty"`
	Trigger    string           `json:"trigger,omitempty"`
	Attempt    int              `json:"attempt,omitempty"`
	Started    *time.Time       `json:"started,omitempty"`
	Finished   *time.Time       `json:"finished,omitempty"`
	Seconds    float64          `json:"duration_seconds,omitempty"`
	Usual      float64          `json:"usual_seconds,omitempty"`
	Error      string           `json:"error,omitempty"`
	Inserted   int64            `json:"inserted"`
	Updated    int64            `json:"updated"`
	Deleted    int64            `json:"deleted"`
	Unchanged  int64            `json:"unchanged"`
	Requests   int              `json:"requests"`
	Throttled  int              `json:"throttled"`
	Tables     []alertTableLine `json:"tables,omitempty"`
	URL        string           `json:"url,omitempty"`
	ConsoleURL string           `json:"console_url,omitempty"`
	// Sender is the process that ran the job and sends the alert, and its
	// machine: "planner console on db1", "planner jobs serve on db2".
	Sender string `json:"sender,omitempty"`
}

type alertTableLine struct {
	Destination string `json:"destination"`
	Table       string `json:"table"`
	Status      string `json:"status"`
	Error       string `json:"error,omitempty"`
	Inserted    int64  `json:"inserted"`
	Updated     int64  `json:"updated"`
	Deleted     int64  `json:"deleted"`
	Unchanged   int64  `json:"unchanged"`
}

// delivery is one alert sent (or not) on one channel.
type delivery struct {
	Time    time.Time `json:"time"`
	Job     string    `json:"job"`
	Event   string    `json:"event"`
	Channel string    `json:"channel"` // email or webhook
	OK      bool      `json:"ok"`
	Error   string    `json:"error,omitempty"`
}

// alerter decides which runs alert and delivers the alerts. The console
// has one; so has 'planner jobs serve' (see Alerts).
type alerter struct {
	settingsPath string
	log          *slog.Logger
	scrub        func(string) string // removes every secret known
	now          func() time.Time
	baseURL      string // the console's address, for links; "" for none
	client       *http.Client
	sender       string // the process sending, for people: "planner console on host"

	mu         sync.Mutex
	deliveries []delivery // newest last
	inflight   sync.WaitGroup
}

func newAlerter(s *Server) *alerter {
	return &alerter{settingsPath: s.opts.SettingsPath, log: s.log, scrub: s.scrub, now: s.now, baseURL: s.opts.BaseURL,
		client: s.opts.HTTPClient, sender: senderName("planner console")}
}

// senderName names the process sending alerts: what, on which machine.
func senderName(what string) string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return what + " on " + h
	}
	return what
}

func (a *alerter) scrubErr(err error) string {
	if err == nil {
		return ""
	}
	return a.scrub(oneLine(err.Error()))
}

// effective are a job's alert settings with the global ones applied.
type effective struct {
	on         string
	slow       bool
	factor     float64
	emailTo    []string
	webhookURL string
	secret     string
	smtp       smtpSettings
}

func effectiveFor(st *settings, job string) effective {
	e := effective{on: st.Alerts.On, slow: st.Alerts.Slow, factor: st.Alerts.SlowFactor, emailTo: st.Alerts.EmailTo,
		webhookURL: st.Alerts.WebhookURL, secret: st.Alerts.WebhookSecret, smtp: st.Alerts.SMTP}
	if ja, ok := st.JobAlerts[job]; ok && job != "" {
		if ja.On != "" {
			e.on = ja.On
		}
		if ja.Slow != nil {
			e.slow = *ja.Slow
		}
		if len(ja.EmailTo) > 0 {
			e.emailTo = ja.EmailTo
		}
		if ja.WebhookURL != "" {
			e.webhookURL = ja.WebhookURL
		}
	}
	if e.on == "" {
		e.on = alertOnFailure
	}
	if e.factor == 0 {
		e.factor = defaultSlowFactor
	}
	return e
}

// runFinished decides whether run d of job (as it ran: references
// expanded) alerts, and sends the alert: the first failure of a streak
// (retries of a slot and later failed slots do not alert again), the
// recovery after it, a slow run when asked, or every run with on =
// "always". own is the job's finished runs this process knows, newest
// first (d may be among them). A cancelled run, and a run that copied
// nothing because another process had the slot, never alert.
//
// The run before d — which decides whether d starts or ends a streak —
// is the latest, by start, of the runs in own and the runs recorded in the
// job's destinations (replicate.History: by every console, 'planner jobs
// serve' and 'planner jobs run' sharing them), cancelled and skipped runs
// left out. It is read after runFinished returns: inflight covers it.
func (a *alerter) runFinished(job config.Job, d *runDetail, own []runSummary) {
	if d.Cancelled || d.Skipped {
		return
	}
	st, err := loadSettings(a.settingsPath)
	if err != nil {
		a.log.Error("alerts not sent: the settings file does not load", "job", job.Name, "err", a.scrubErr(err))
		return
	}
	e := effectiveFor(st, job.Name)
	if e.on == alertOnNever || len(e.emailTo) == 0 && e.webhookURL == "" {
		return
	}
	var prev *runSummary // the latest run before d that counts, of own
	var good []time.Duration
	for i := range own {
		h := own[i]
		if h.ID == d.ID || h.Cancelled || h.Skipped || h.Finished == nil {
			continue
		}
		if prev == nil {
			prev = &h
		}
		if h.Status == statusOK && len(good) < slowWindow {
			good = append(good, time.Duration(h.DurationMS)*time.Millisecond)
		}
	}
	a.inflight.Add(1)
	go func() {
		defer a.inflight.Done()
		ctx, cancel := context.WithTimeout(context.Background(), alertTimeout)
		defer cancel()
		failedBefore := prev != nil && prev.Status == statusFailed
		if rec, ok := a.lastRecorded(ctx, job, d); ok && (prev == nil || rec.Started.After(prev.Started)) {
			failedBefore = rec.Status == replicate.StatusFailed || rec.Status == replicate.StatusAbandoned
		}
		event := ""
		var usual time.Duration
		switch {
		case d.Status == statusFailed && !failedBefore:
			event = eventFailed
		case d.Status != statusFailed && failedBefore:
			event = eventRecovered
		case d.Status == statusOK && e.slow && len(good) >= slowSamples:
			usual = median(good)
			if took := time.Duration(d.DurationMS) * time.Millisecond; usual > 0 && float64(took) > e.factor*float64(usual) {
				event = eventSlow
			}
		}
		if event == "" && e.on == alertOnAlways {
			event = eventFinished
		}
		if event == "" {
			return
		}
		a.deliver(ctx, e, a.payload(event, job.Name, d, usual))
	}()
}

// historyReadTimeout bounds reading a destination's history for an alert.
const historyReadTimeout = 10 * time.Second

// lastRecorded returns the latest run of job recorded in its destinations
// before run d that counts for a streak: finished (ok, failed or
// abandoned), not d's own records. ok is false when there is none, or no
// destination can be read (the runs this process knows decide then).
func (a *alerter) lastRecorded(ctx context.Context, job config.Job, d *runDetail) (last replicate.RunRecord, ok bool) {
	mine := map[string]bool{}
	for _, dv := range d.Destinations {
		if dv.RunID != "" {
			mine[dv.RunID] = true
		}
	}
	for _, dest := range job.Destinations {
		hctx, cancel := context.WithTimeout(ctx, historyReadTimeout)
		l, err := destinationRuns(hctx, job, dest, 10, 0)
		cancel()
		if err != nil {
			a.log.Debug("alerts: the destination's history cannot be read: the runs of this process decide", "job", job.Name,
				"destination", a.scrub(describeDestination(dest)), "err", a.scrubErr(err))
			continue
		}
		for _, r := range l.Runs {
			if mine[r.ID] || !r.Started.Before(d.Started) {
				continue
			}
			if r.Status != replicate.StatusOK && r.Status != replicate.StatusFailed && r.Status != replicate.StatusAbandoned {
				continue // running, skipped (another process had the slot) or stopped
			}
			if !ok || r.Started.After(last.Started) {
				last, ok = r, true
			}
			break // newest first
		}
	}
	return last, ok
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// payload describes run d for an alert.
func (a *alerter) payload(event, job string, d *runDetail, usual time.Duration) alertPayload {
	p := alertPayload{Event: event, Job: job, ConsoleURL: a.baseURL, Sender: a.sender}
	if d != nil {
		start := d.Started
		p.Status, p.RunID, p.Trigger, p.Attempt, p.Started, p.Finished = d.Status, d.ID, d.Trigger, d.Attempt, &start, d.Finished
		p.Seconds = float64(d.DurationMS) / 1000
		p.Error, p.Inserted, p.Updated, p.Deleted, p.Unchanged = d.Error, d.Inserted, d.Updated, d.Deleted, d.Unchanged
		p.Requests, p.Throttled = d.Requests, d.Throttled
		for _, dv := range d.Destinations {
			for _, t := range dv.Tables {
				p.Tables = append(p.Tables, alertTableLine{Destination: dv.URL, Table: t.Table, Status: t.Status, Error: t.Error,
					Inserted: t.Inserted, Updated: t.Updated, Deleted: t.Deleted, Unchanged: t.Unchanged})
			}
			if dv.Error != "" {
				p.Tables = append(p.Tables, alertTableLine{Destination: dv.URL, Status: statusFailed, Error: dv.Error})
			}
		}
		if a.baseURL != "" {
			p.URL = strings.TrimSuffix(a.baseURL, "/") + "/runs/" + url.PathEscape(d.ID)
		}
	}
	if usual > 0 {
		p.Usual = usual.Seconds()
	}
	switch event {
	case eventFailed:
		p.Text = fmt.Sprintf("planner: job %s failed: %s", job, strings.TrimPrefix(p.Error, "job "+job+": "))
	case eventRecovered:
		p.Text = fmt.Sprintf("planner: job %s recovered: the run of %s succeeded", job, startText(p))
	case eventSlow:
		p.Text = fmt.Sprintf("planner: job %s was slow: %.0f s, usually %.0f s", job, p.Seconds, p.Usual)
	case eventFinished:
		p.Text = fmt.Sprintf("planner: job %s finished: %s, %d inserted, %d updated, %d deleted", job, p.Status, p.Inserted, p.Updated, p.Deleted)
		if p.Error != "" {
			p.Text += ": " + strings.TrimPrefix(p.Error, "job "+job+": ")
		}
	case eventTest:
		p.Text = "planner: a test alert from the console: alerts reach this channel"
		if job != "" {
			p.Text = fmt.Sprintf("planner: a test alert for job %s from the console: alerts reach this channel", job)
		}
	}
	if p.URL != "" {
		p.Text += " — " + p.URL
	}
	return p
}

func startText(p alertPayload) string {
	if p.Started == nil {
		return "now"
	}
	return p.Started.UTC().Format(time.RFC3339)
}

// channelResult is the outcome of one channel of an alert.
type channelResult struct {
	Channel string `json:"channel"`
	OK      bool   `json:"ok"`
	Error   string `json:"error,omitempty"`
}

// deliver sends p by email and webhook, as configured, and records the
// outcome of each.
func (a *alerter) deliver(ctx context.Context, e effective, p alertPayload) []channelResult {
	var out []channelResult
	record := func(channel string, err error) {
		r := channelResult{Channel: channel, OK: err == nil}
		if err != nil {
			r.Error = a.scrubErr(err)
			a.log.Error("alert not delivered", "job", p.Job, "event", p.Event, "channel", channel, "err", r.Error)
		} else {
			a.log.Info("alert delivered", "job", p.Job, "event", p.Event, "channel", channel)
		}
		out = append(out, r)
		a.mu.Lock()
		a.deliveries = append(a.deliveries, delivery{Time: a.now().UTC(), Job: p.Job, Event: p.Event, Channel: channel, OK: r.OK, Error: r.Error})
		if len(a.deliveries) > keepAlerts {
			a.deliveries = slices.Clone(a.deliveries[len(a.deliveries)-keepAlerts:])
		}
		a.mu.Unlock()
	}
	if len(e.emailTo) > 0 {
		record("email", a.sendMail(ctx, e, p))
	}
	if e.webhookURL != "" {
		record("webhook", a.postWebhook(ctx, e, p))
	}
	return out
}

// recent returns the latest deliveries, newest first.
func (a *alerter) recent() []delivery {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]delivery, 0, len(a.deliveries))
	for i := len(a.deliveries) - 1; i >= 0; i-- {
		out = append(out, a.deliveries[i])
	}
	return out
}

// sendMail sends p over SMTP.
func (a *alerter) sendMail(ctx context.Context, e effective, p alertPayload) error {
	sm := e.smtp
	if sm.Host == "" {
		return errors.New("email: no SMTP server is set: fill in the SMTP host on the Alerts page")
	}
	if sm.From == "" {
		return errors.New("email: no sender is set: fill in the From address on the Alerts page")
	}
	user, err := expandEnv(sm.Username)
	if err != nil {
		return fmt.Errorf("email: SMTP username: %w", err)
	}
	pass, err := expandEnv(sm.Password)
	if err != nil {
		return fmt.Errorf("email: SMTP password: %w", err)
	}
	mode := sm.TLS
	if mode == "" {
		mode = tlsStartTLS
	}
	port := sm.Port
	if port == 0 {
		port = map[string]int{tlsStartTLS: 587, tlsImplicit: 465, tlsNone: 25}[mode]
	}
	if mode == tlsNone && pass != "" && !loopbackHost(sm.Host) {
		return fmt.Errorf("email: the SMTP password would cross the network unencrypted to %s: use tls = starttls or tls", sm.Host)
	}
	tc := &tls.Config{ServerName: sm.Host, MinVersion: tls.VersionTLS12}
	if sm.CAFile != "" {
		pem, err := os.ReadFile(sm.CAFile)
		if err != nil {
			return fmt.Errorf("email: ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("email: ca_file %s holds no PEM certificate", sm.CAFile)
		}
		tc.RootCAs = pool
	}
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTLSConfig(tc), gomail.WithTimeout(alertTimeout)}
	switch mode {
	case tlsImplicit:
		opts = append(opts, gomail.WithSSL())
	case tlsNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if user != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(user), gomail.WithPassword(pass))
	}
	c, err := gomail.NewClient(sm.Host, opts...)
	if err != nil {
		return fmt.Errorf("email: %w", err)
	}
	m := gomail.NewMsg()
	if err := m.From(sm.From); err != nil {
		return fmt.Errorf("email: from %q: %w", sm.From, err)
	}
	if err := m.To(e.emailTo...); err != nil {
		return fmt.Errorf("email: to: %w", err)
	}
	m.Subject(subject(p))
	m.SetDate()
	m.SetMessageID()
	m.SetBodyString(gomail.TypeTextPlain, mailBody(p))
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return fmt.Errorf("email via %s:%d: %w", sm.Host, port, err)
	}
	return nil
}

func subject(p alertPayload) string {
	switch p.Event {
	case eventFailed:
		return fmt.Sprintf("[planner] job %s failed", p.Job)
	case eventRecovered:
		return fmt.Sprintf("[planner] job %s recovered", p.Job)
	case eventSlow:
		return fmt.Sprintf("[planner] job %s was slow", p.Job)
	case eventTest:
		return "[planner] test alert"
	}
	return fmt.Sprintf("[planner] job %s: %s", p.Job, p.Status)
}

func mailBody(p alertPayload) string {
	var b strings.Builder
	b.WriteString(p.Text + "\n\n")
	if p.RunID != "" {
		fmt.Fprintf(&b, "Run:        %s (%s, attempt %d)\n", p.RunID, p.Trigger, p.Attempt)
		fmt.Fprintf(&b, "Started:    %s\n", startText(p))
		fmt.Fprintf(&b, "Duration:   %.1f s\n", p.Seconds)
		fmt.Fprintf(&b, "Status:     %s\n", p.Status)
		fmt.Fprintf(&b, "Rows:       %d inserted, %d updated, %d deleted, %d unchanged\n", p.Inserted, p.Updated, p.Deleted, p.Unchanged)
		fmt.Fprintf(&b, "Graph:      %d requests, %d throttled\n", p.Requests, p.Throttled)
		if p.Error != "" {
			fmt.Fprintf(&b, "Error:      %s\n", p.Error)
		}
		if len(p.Tables) > 0 {
			b.WriteString("\nTables:\n")
			for _, t := range p.Tables {
				fmt.Fprintf(&b, "  %-8s %s %s: +%d ~%d -%d =%d", t.Status, t.Destination, t.Table, t.Inserted, t.Updated, t.Deleted, t.Unchanged)
				if t.Error != "" {
					b.WriteString(" — " + t.Error)
				}
				b.WriteString("\n")
			}
		}
	}
	if p.URL != "" {
		fmt.Fprintf(&b, "\n%s\n", p.URL)
	}
	if p.Sender != "" {
		fmt.Fprintf(&b, "\nSent by %s.\n", p.Sender)
	}
	return b.String()
}

// postWebhook POSTs p as JSON; with a webhook secret, the body's
// HMAC-SHA256 goes in X-Planner-Signature: sha256=<hex>.
func (a *alerter) postWebhook(ctx context.Context, e effective, p alertPayload) error {
	u, err := expandEnv(e.webhookURL)
	if err != nil {
		return fmt.Errorf("webhook URL: %w", err)
	}
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: bad URL (%s)", hostOf(u))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "plannersql-console")
	req.Header.Set("X-Planner-Event", p.Event)
	if e.secret != "" {
		key, err := expandEnv(e.secret)
		if err != nil {
			return fmt.Errorf("webhook secret: %w", err)
		}
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write(body)
		req.Header.Set("X-Planner-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
	resp, err := a.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may hold a token
		}
		return fmt.Errorf("webhook to %s: %w", hostOf(u), err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook to %s answered %s", hostOf(u), resp.Status)
	}
	return nil
}

// hostOf is the host of a webhook URL, which may be shown: the rest of it
// may hold a token.
func hostOf(u string) string {
	pu, err := url.Parse(u)
	if err != nil || pu.Host == "" {
		return "(unparsable URL)"
	}
	return pu.Host
}

// checkAddress checks an email address.
func checkAddress(a string) error {
	if strings.Contains(a, "${") {
		return nil
	}
	if _, err := mail.ParseAddress(a); err != nil {
		return fmt.Errorf("%q is not an email address", a)
	}
	return nil
}

// checkWebhookURL checks a webhook URL: http(s) with a host.
func checkWebhookURL(u string) error {
	if strings.HasPrefix(u, "${") && strings.HasSuffix(u, "}") {
		return nil
	}
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
		return errors.New("the webhook URL must be an http:// or https:// address")
	}
	if pu.Scheme == "http" {
		if !auth.IsLoopback(pu.Hostname()) {
			return errors.New("use https:// for a webhook on another machine (its URL and the alerts would cross the network in clear)")
		}
	}
	return nil
}

// alertSettingsView is GET /api/alerts. Secrets show only that they are set.
type alertSettingsView struct {
	On            string          `json:"on"`
	Slow          bool            `json:"slow"`
	SlowFactor    float64         `json:"slow_factor"`
	EmailTo       []string        `json:"email_to"`
	WebhookSet    bool            `json:"webhook_set"`
	WebhookHost   string          `json:"webhook_host,omitempty"`
	WebhookSecret bool            `json:"webhook_secret_set"`
	SMTP          smtpView        `json:"smtp"`
	Jobs          map[string]any  `json:"jobs"`
	Recent        []delivery      `json:"recent"`
	Effective     map[string]bool `json:"channels"` // email, webhook: configured
}

type smtpView struct {
	Host        string `json:"host"`
	Port        int    `json:"port,omitempty"`
	Username    string `json:"username,omitempty"`
	PasswordSet bool   `json:"password_set"`
	From        string `json:"from"`
	TLS         string `json:"tls"`
	CAFile      string `json:"ca_file,omitempty"`
}

func (a *alerter) view(st *settings) alertSettingsView {
	al := st.Alerts
	v := alertSettingsView{On: al.On, Slow: al.Slow, SlowFactor: al.SlowFactor, EmailTo: al.EmailTo,
		WebhookSet: al.WebhookURL != "", WebhookSecret: al.WebhookSecret != "",
		SMTP: smtpView{Host: al.SMTP.Host, Port: al.SMTP.Port, Username: al.SMTP.Username, PasswordSet: al.SMTP.Password != "",
			From: al.SMTP.From, TLS: al.SMTP.TLS, CAFile: al.SMTP.CAFile},
		Jobs: map[string]any{}, Recent: a.recent()}
	if v.On == "" {
		v.On = alertOnFailure
	}
	if v.SlowFactor == 0 {
		v.SlowFactor = defaultSlowFactor
	}
	if v.SMTP.TLS == "" {
		v.SMTP.TLS = tlsStartTLS
	}
	if v.EmailTo == nil {
		v.EmailTo = []string{}
	}
	if al.WebhookURL != "" && !strings.HasPrefix(al.WebhookURL, "${") {
		v.WebhookHost = hostOf(al.WebhookURL)
	}
	for n, ja := range st.JobAlerts {
		v.Jobs[n] = jobAlertView{On: ja.On, Slow: ja.Slow, EmailTo: ja.EmailTo, WebhookSet: ja.WebhookURL != ""}
	}
	v.Effective = map[string]bool{"email": len(al.EmailTo) > 0 && al.SMTP.Host != "", "webhook": al.WebhookURL != ""}
	return v
}

// alertsInput updates the global alert settings. Secrets (SMTP password,
// webhook URL and secret) are write-only: empty keeps the stored value,
// the Clear* flags remove it.
type alertsInput struct {
	On                 string   `json:"on"`
	Slow               bool     `json:"slow"`
	SlowFactor         float64  `json:"slow_factor"`
	EmailTo            []string `json:"email_to"`
	WebhookURL         string   `json:"webhook_url"`
	ClearWebhook       bool     `json:"clear_webhook"`
	WebhookSecret      string   `json:"webhook_secret"`
	ClearWebhookSecret bool     `json:"clear_webhook_secret"`
	SMTP               struct {
		Host          string `json:"host"`
		Port          int    `json:"port"`
		Username      string `json:"username"`
		Password      string `json:"password"`
		ClearPassword bool   `json:"clear_password"`
		From          string `json:"from"`
		TLS           string `json:"tls"`
		CAFile        string `json:"ca_file"`
	} `json:"smtp"`
}

// saveAlerts writes [alerts] and [alerts.smtp] into console.toml.
func (s *Server) saveAlerts(in alertsInput) error {
	switch in.On {
	case "", alertOnFailure, alertOnAlways, alertOnNever:
	default:
		return fieldError("on", "on must be failure, always or never")
	}
	if in.SlowFactor != 0 && (in.SlowFactor < 1.1 || in.SlowFactor > 100) {
		return fieldError("slow_factor", "slow_factor must be from 1.1 to 100, such as 2 (twice the usual time)")
	}
	for _, a := range in.EmailTo {
		if err := checkAddress(a); err != nil {
			return fieldError("email_to", "%v", err)
		}
	}
	if in.WebhookURL != "" {
		if err := checkWebhookURL(in.WebhookURL); err != nil {
			return fieldError("webhook_url", "%v", err)
		}
	}
	sm := in.SMTP
	switch strings.ToLower(sm.TLS) {
	case "", tlsStartTLS, tlsImplicit, tlsNone:
	default:
		return fieldError("smtp.tls", "tls must be starttls, tls or none")
	}
	if sm.Port < 0 || sm.Port > 65535 {
		return fieldError("smtp.port", "port must be from 1 to 65535")
	}
	if sm.From != "" {
		if err := checkAddress(sm.From); err != nil {
			return fieldError("smtp.from", "%v", err)
		}
	}
	if len(in.EmailTo) > 0 && (strings.TrimSpace(sm.Host) == "" || sm.From == "") {
		return fieldError("smtp.host", "to send email, give the SMTP host and the From address")
	}
	if strings.ContainsAny(sm.Host, "/: \r\n") && !strings.HasPrefix(sm.Host, "[") {
		return fieldError("smtp.host", "give the SMTP host name alone (the port has its own field)")
	}
	if sm.CAFile != "" {
		if _, err := os.Stat(sm.CAFile); err != nil {
			return fieldError("smtp.ca_file", "cannot read %s: %v", sm.CAFile, err)
		}
	}
	num := func(v float64) string {
		if v == 0 {
			return ""
		}
		return fmt.Sprint(v)
	}
	port := ""
	if sm.Port > 0 {
		port = fmt.Sprint(sm.Port)
	}
	alerts := [][2]string{{"on", in.On}, {"slow", fmt.Sprint(in.Slow)}, {"slow_factor", num(in.SlowFactor)},
		{"email_to", strings.Join(in.EmailTo, ", ")}}
	if in.WebhookURL != "" {
		alerts = append(alerts, [2]string{"webhook_url", in.WebhookURL})
	} else if in.ClearWebhook {
		alerts = append(alerts, [2]string{"webhook_url", ""})
	}
	if in.WebhookSecret != "" {
		alerts = append(alerts, [2]string{"webhook_secret", in.WebhookSecret})
	} else if in.ClearWebhookSecret {
		alerts = append(alerts, [2]string{"webhook_secret", ""})
	}
	smtp := [][2]string{{"host", strings.TrimSpace(sm.Host)}, {"port", port}, {"username", sm.Username}, {"from", sm.From},
		{"tls", strings.ToLower(sm.TLS)}, {"ca_file", sm.CAFile}}
	if sm.Password != "" {
		smtp = append(smtp, [2]string{"password", sm.Password})
	} else if sm.ClearPassword {
		smtp = append(smtp, [2]string{"password", ""})
	}
	unlock, err := s.lockEdits()
	if err != nil {
		return err
	}
	defer unlock()
	if err := editSettings(s.opts.SettingsPath, func(d *config.Document) error {
		if err := setOrUnset(d, []string{"alerts"}, alerts); err != nil {
			return err
		}
		return setOrUnset(d, []string{"alerts", "smtp"}, smtp)
	}); err != nil {
		return errorf(http.StatusConflict, "%v", err)
	}
	s.configChanged()
	return nil
}

// testAlert sends a test alert for job (or the global settings) now.
func (s *Server) testAlert(ctx context.Context, job string) ([]channelResult, error) {
	st, err := s.loadSettings()
	if err != nil {
		return nil, err
	}
	if job != "" {
		f, err := s.loadRaw()
		if err != nil {
			return nil, err
		}
		j, err := f.Job(job)
		if err != nil {
			return nil, notFound("job", job)
		}
		job = j.Name
	}
	e := effectiveFor(st, job)
	if len(e.emailTo) == 0 && e.webhookURL == "" {
		return nil, errorf(http.StatusUnprocessableEntity, "no alert channel is set: give email recipients (and the SMTP server) or a webhook URL, and save")
	}
	ctx, cancel := context.WithTimeout(ctx, alertTimeout)
	defer cancel()
	return s.alerts.deliver(ctx, e, s.alerts.payload(eventTest, job, nil, 0)), nil
}
