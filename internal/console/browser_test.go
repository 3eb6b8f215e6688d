package console_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/plannersql/planner/driver"
	"github.com/plannersql/planner/internal/cli"
	"github.com/plannersql/planner/internal/console"
	"github.com/plannersql/planner/replicate"
	"github.com/plannersql/planner/replicate/dest"
	_ "modernc.org/sqlite"
)

// chromiumPath finds Debian's chromium (installed by .ci/run), or
// $CHROMIUM.
func chromiumPath() string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	return ""
}

// screenshotDir is where the browser test saves a screenshot of each
// page: $CONSOLE_SCREENSHOTS, else testoutput/ beside this file (ignored
// by git).
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("CONSOLE_SCREENSHOTS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "testoutput", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startConsole runs 'planner console' in process, as a user would, and
// returns the login link it prints.
func startConsole(t *testing.T, ctx context.Context, configPath, logPath string) (login string, done <-chan int) {
	t.Helper()
	pr, pw := io.Pipe()
	ch := make(chan int, 1)
	go func() {
		code := cli.MainContext(ctx, []string{"console", "--addr", "127.0.0.1:0", "--config", configPath, "--lock-timeout", "5s"},
			cli.IO{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: pw})
		pw.Close()
		ch <- code
	}()
	re := regexp.MustCompile(`(http://127\.0\.0\.1:\d+/login\?token=[0-9a-f]+)`)
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if m := re.FindString(sc.Text()); m != "" {
			login = m
			break
		}
	}
	if login == "" {
		t.Fatalf("planner console printed no login link")
	}
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer logf.Close()
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
		}
		_, _ = io.Copy(logf, pr)
	}()
	return login, ch
}

// TestBrowser drives the console in headless Chromium: log in, add a
// sandbox source and a SQLite destination, create a job from the table
// picker, run it, read its history, set up alerts, make the job fail and
// see the alert arrive by email and webhook. Each page is saved as a
// screenshot. It fails rather than skips when CI=true.
func TestBrowser(t *testing.T) {
	chrome := chromiumPath()
	if chrome == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed: .ci/run installs Debian's chromium package")
		}
		t.Skip("chromium not installed (apt-get install chromium)")
	}
	shots := screenshotDir(t)
	dir := t.TempDir()
	configPath := filepath.Join(dir, "config.toml")
	dbPath := filepath.Join(dir, "planner.db")
	t.Setenv("PLANNER_CONFIG", configPath)
	t.Setenv(cli.ConsolePasswordEnv, "")
	t.Setenv(cli.ConsoleTokenEnv, "")
	smtpSrv := console.NewTestSMTP(t)
	hook := console.NewTestHook(t)
	t.Setenv("TEST_SMTP_PASSWORD", smtpSrv.Pass)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cctx, stopConsole := context.WithCancel(ctx)
	login, done := startConsole(t, cctx, configPath, filepath.Join(shots, "console.log"))
	defer func() {
		stopConsole()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Error("the console did not stop")
		}
	}()
	base := strings.SplitN(login, "/login", 2)[0]

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	// Start the browser on a context without a deadline: it lives as long
	// as the context of its first action.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}

	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 45*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			loc, _ := chromedp.Run(bctx, chromedp.Location())
			if buf, serr := chromedp.Run(bctx, chromedp.FullScreenshot(100)); serr == nil {
				_ = os.WriteFile(filepath.Join(shots, "failed.png"), buf, 0o644)
			}
			t.Fatalf("%s: %v (page %s; its screenshot is %s)", name, err, loc, filepath.Join(shots, "failed.png"))
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	// $CONSOLE_DOC_SCREENSHOTS names a folder (docs/console) where the
	// screenshots docs/console.md shows are written, small.
	docShots := os.Getenv("CONSOLE_DOC_SCREENSHOTS")
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			for doc, from := range console.DocShots {
				if from == name && docShots != "" {
					img, err := png.Decode(bytes.NewReader(buf))
					if err != nil {
						return err
					}
					console.WriteDocShot(t, img, filepath.Join(docShots, doc))
				}
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644)
		})
	}
	// choose sets a <select> and fires its change event.
	choose := func(sel, value string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			got, err := chromedp.Evaluate[string](fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q; e.dispatchEvent(new Event('change', {bubbles: true})); return e.value; })()`, sel, value))(ctx, tg)
			if err == nil && got != value {
				err = fmt.Errorf("%s has no option %q", sel, value)
			}
			return err
		})
	}
	// clear empties a text field as a user would, firing its input event.
	clear := func(sel string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = ''; e.dispatchEvent(new Event('input', {bubbles: true})); return true; })()`, sel))(ctx, tg)
			return err
		})
	}
	// appendText types text at the end of a field.
	appendText := func(sel, text string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.focus(); e.setSelectionRange(e.value.length, e.value.length); return true; })()`, sel))(ctx, tg)
			if err != nil {
				return err
			}
			_, err = chromedp.SendKeys(chromedp.CSS(sel), text)(ctx, tg)
			return err
		})
	}
	ready := chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`))

	// Log in with the link printed at start: a fresh console has no job.
	step("log in", chromedp.Navigate(login), chromedp.WaitVisible(chromedp.CSS(`section.empty`)), ready, shot("01-jobs-empty"))

	// A sandbox source.
	step("add a source",
		chromedp.Navigate(base+"/connections"), chromedp.WaitVisible(chromedp.CSS(`#sources-table`)), ready,
		chromedp.Click(chromedp.CSS(`#add-source`)), chromedp.WaitVisible(chromedp.CSS(`#source-form`)), ready,
		chromedp.SendKeys(chromedp.CSS(`#source-name`), "demo"), choose(`#source-kind`, "Sandbox"),
		shot("02-source-new"),
		chromedp.Click(chromedp.CSS(`#save-source`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-source="demo"]`)), ready,
		chromedp.Click(chromedp.CSS(`tr[data-source="demo"] button[data-test]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-source="demo"] + tr .result.ok`)),
	)
	testText := text(`tr[data-source="demo"] + tr .result`)
	if !strings.Contains(testText, "4 plans reachable") {
		t.Errorf("source test says %q, want 4 plans reachable", testText)
	}

	// A SQLite destination, tested before it is saved.
	step("add a destination",
		chromedp.Click(chromedp.CSS(`#add-destination`)), chromedp.WaitVisible(chromedp.CSS(`#destination-form`)), ready,
		chromedp.SendKeys(chromedp.CSS(`#destination-name`), "local"),
		chromedp.SendKeys(chromedp.CSS(`#destination-url`), "sqlite:"+dbPath),
		chromedp.Click(chromedp.CSS(`#test-destination`)), chromedp.WaitVisible(chromedp.CSS(`#destination-test.ok`)),
		shot("03-destination-new"),
		chromedp.Click(chromedp.CSS(`#save-destination`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-destination="local"]`)), ready,
		shot("04-connections"),
	)

	// A job from the table picker, with a custom statement checked as it
	// is typed.
	step("create a job",
		chromedp.Navigate(base+"/jobs/new"), chromedp.WaitVisible(chromedp.CSS(`#job-form`)), ready,
		chromedp.SendKeys(chromedp.CSS(`#job-name`), "nightly"),
		choose(`#job-source`, "demo"),
		chromedp.WaitVisible(chromedp.CSS(`input[data-table="Tasks"]`)),
		chromedp.Click(chromedp.CSS(`input[data-table="Tasks"]`)),
		chromedp.Click(chromedp.CSS(`input[data-table="Plans"]`)),
		chromedp.Click(chromedp.CSS(`input[data-table="Buckets"]`)),
		chromedp.SendKeys(chromedp.CSS(`#statements`), "REPLICATE OpenTasks WITH TruncateTabel SELECT TaskId, Title FROM Tasks WHERE PercentComplete < 100"),
		chromedp.WaitVisible(chromedp.CSS(`#statements-check.bad`)),
	)
	checkText := text(`#statements-check`)
	if !strings.Contains(checkText, "Line 1, column 26") {
		t.Errorf("the statement check says %q, want the line and column of the error", checkText)
	}
	step("fix the statement",
		clear(`#statements`),
		chromedp.SendKeys(chromedp.CSS(`#statements`), "REPLICATE OpenTasks WITH TruncateTable SELECT TaskId, Title FROM Tasks WHERE PercentComplete < 100"),
		chromedp.WaitVisible(chromedp.CSS(`#statements-check.ok`)),
		choose(`#schedule-pick`, "daily at"),
		chromedp.WaitVisible(chromedp.CSS(`#next-runs li:nth-child(5)`)),
		choose(`.dest-row select[data-field="destination"]`, "local"),
		choose(`.dest-row select[data-field="name_style"]`, "lower"),
		shot("05-job-edit"),
		chromedp.Click(chromedp.CSS(`#save-job`)),
		chromedp.WaitVisible(chromedp.CSS(`#run-now`)), ready,
	)

	// Run it and see the history row with counts.
	step("run now",
		chromedp.Click(chromedp.CSS(`#run-now`)),
		chromedp.WaitVisible(chromedp.CSS(`.history-table tr.run-row .dot.ok`)), ready,
		shot("06-job-history"),
	)
	inserted := text(`.history-table tr.run-row td.inserted`)
	if inserted == "" || inserted == "0" {
		t.Errorf("the run inserted %q rows, want more than 0", inserted)
	}
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tasks, open int
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM Tasks), (SELECT count(*) FROM OpenTasks)`).Scan(&tasks, &open); err != nil {
		t.Fatalf("the destination: %v", err)
	}
	if tasks != 48 || open == 0 || open >= tasks {
		t.Errorf("destination holds %d tasks, %d open; want 48 and some", tasks, open)
	}
	// The destination's name style: lower case.
	var lowered int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('tasks', 'plans', 'buckets', 'opentasks')`).Scan(&lowered); err != nil || lowered != 4 {
		t.Errorf("%d tables named in lower case, want 4 (%v)", lowered, err)
	}
	step("run page",
		chromedp.Click(chromedp.CSS(`.history-table tr.run-row a`)), chromedp.WaitVisible(chromedp.CSS(`#run-log`)), ready,
		shot("07-run"),
	)

	// Alerts by email (STARTTLS, auth, the password from the environment)
	// and webhook, checked with a test alert.
	step("set up alerts",
		chromedp.Navigate(base+"/alerts"), chromedp.WaitVisible(chromedp.CSS(`#alerts-form`)), ready,
		chromedp.SendKeys(chromedp.CSS(`input[name="email_to"]`), "ops@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name="smtp.host"]`), smtpSrv.Host),
		chromedp.SendKeys(chromedp.CSS(`input[name="smtp.port"]`), smtpSrv.PortString()),
		chromedp.SendKeys(chromedp.CSS(`input[name="smtp.from"]`), "planner@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name="smtp.username"]`), smtpSrv.User),
		chromedp.SendKeys(chromedp.CSS(`input[name="smtp.password"]`), "${TEST_SMTP_PASSWORD}"),
		chromedp.SendKeys(chromedp.CSS(`input[name="smtp.ca_file"]`), smtpSrv.CAFile),
		chromedp.SendKeys(chromedp.CSS(`input[name="webhook_url"]`), hook.URL),
		chromedp.Click(chromedp.CSS(`#save-alerts`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="smtp.clear_password"]`)), ready,
		chromedp.Click(chromedp.CSS(`#test-alert`)),
		chromedp.WaitVisible(chromedp.CSS(`#alert-test-result.ok`)),
	)
	alertText := text(`#alert-test-result`)
	if alertText != "email: delivered · webhook: delivered" {
		t.Errorf("test alert: %q", alertText)
	}
	if m := smtpSrv.WaitMail(t, 30*time.Second); !m.TLS || m.User != smtpSrv.User || !strings.Contains(m.Data, "test alert") {
		t.Errorf("test email: TLS %v, user %q, body %q", m.TLS, m.User, m.Data)
	}
	if c := hook.WaitCall(t, 30*time.Second); c.Body["event"] != "test" {
		t.Errorf("test webhook: %s", c.Raw)
	}

	// A failing statement: the run fails and the alert arrives.
	step("make the job fail",
		chromedp.Navigate(base+"/jobs/nightly/edit"), chromedp.WaitVisible(chromedp.CSS(`#job-form`)), ready,
		chromedp.WaitVisible(chromedp.CSS(`input[data-table="Tasks"]:checked`)),
		appendText(`#statements`, "\nREPLICATE Broken SELECT * FROM NoSuchTable;"),
		chromedp.WaitVisible(chromedp.CSS(`#statements-check.ok`)),
		chromedp.Click(chromedp.CSS(`#save-job`)),
		chromedp.WaitVisible(chromedp.CSS(`#run-now`)), ready,
		chromedp.Click(chromedp.CSS(`#run-now`)),
		chromedp.WaitVisible(chromedp.CSS(`.history-table tbody tr:first-child .dot.failed`)), ready,
		shot("08-job-failed"),
	)
	m := smtpSrv.WaitMail(t, 30*time.Second)
	if !strings.Contains(m.Data, "Subject: [planner] job nightly failed") || !strings.Contains(m.Data, "NoSuchTable") {
		t.Errorf("failure email:\n%s", m.Data)
	}
	c := hook.WaitCall(t, 30*time.Second)
	if c.Body["event"] != "failed" || c.Body["job"] != "nightly" || !strings.Contains(fmt.Sprint(c.Body["error"]), "NoSuchTable") {
		t.Errorf("failure webhook: %s", c.Raw)
	}
	step("alerts page", chromedp.Navigate(base+"/alerts"), chromedp.WaitVisible(chromedp.CSS(`#deliveries`)), ready, shot("09-alerts"))

	// More jobs, written by hand as a user might: one not run yet, one
	// that cannot run here (its destination's password is in a variable
	// the console's environment lacks), and one whose last run — 'planner
	// jobs run', interrupted — skipped its tables. The jobs page shows each
	// state at a glance.
	cf, err := os.OpenFile(configPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(cf, `
[jobs.weekly]
source = "demo"
schedule = "weekly at 06:00"
script = "REPLICATE Plans;"
[[jobs.weekly.destinations]]
url = "sqlite:%[1]s"
prefix = "W_"

[jobs.contoso]
source = "demo"
schedule = "every 6 hours"
script = "REPLICATE ALL;"
[[jobs.contoso.destinations]]
url = "postgres://replicator:${CONSOLE_BROWSER_TEST_UNSET}@db.internal/warehouse"

[jobs.hourly]
source = "demo"
schedule = "hourly"
script = "REPLICATE Buckets; REPLICATE Tasks;"
[[jobs.hourly.destinations]]
url = "sqlite:%[1]s"
prefix = "H_"
`, dbPath)
	cf.Close()
	os.Unsetenv("CONSOLE_BROWSER_TEST_UNSET")
	interrupted(t, dbPath, "hourly", "H_")
	step("connections page", chromedp.Navigate(base+"/connections"), chromedp.WaitVisible(chromedp.CSS(`#sources-table`)), ready, shot("04-connections"))
	step("jobs page", chromedp.Navigate(base+"/jobs"), chromedp.WaitVisible(chromedp.CSS(`#jobs-table`)), ready,
		chromedp.WaitVisible(chromedp.CSS(`tr[data-job="nightly"] .dot.failed`)), chromedp.WaitVisible(chromedp.CSS(`tr[data-job="weekly"] .dot.never`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-job="hourly"] .dot.partial`)), chromedp.WaitVisible(chromedp.CSS(`tr[data-job="contoso"] .dot.invalid`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-problem-for="contoso"]`)),
		shot("10-jobs"))
	if p := text(`tr[data-problem-for="contoso"]`); !strings.Contains(p, "CONSOLE_BROWSER_TEST_UNSET") || !strings.Contains(p, "restart it") {
		t.Errorf("the jobs page says of the job that cannot run: %q", p)
	}

	// The config file the CLI reads holds the job.
	b, err := os.ReadFile(configPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[profiles.demo]", "[jobs.nightly]", `schedule = "daily at 02:00"`, "REPLICATE Tasks;", "[[jobs.nightly.destinations]]"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("config file lacks %q:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), smtpSrv.Pass) {
		t.Error("the SMTP password reached the config file")
	}
}

// interrupted makes a run of job into the SQLite file at path that was
// stopped before its first table, as 'planner jobs run' interrupted by
// Ctrl-C records it: its tables skipped.
func interrupted(t *testing.T, path, job, prefix string) {
	t.Helper()
	cn, err := driver.NewConnector(&driver.Config{Sandbox: true})
	if err != nil {
		t.Fatal(err)
	}
	src := sql.OpenDB(cn)
	defer src.Close()
	dst, err := dest.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	stop := make(chan struct{})
	close(stop)
	res, err := replicate.Run(context.Background(), src, dst, "REPLICATE Buckets; REPLICATE Tasks;",
		replicate.Options{Job: job, TablePrefix: prefix, Stop: stop, Requests: cn})
	if len(res) == 0 || res[0].Status() != replicate.StatusSkipped {
		t.Fatalf("an interrupted run: %+v, %v", res, err)
	}
}
