package tokenstore

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zalando/go-keyring"
)

func TestMain(m *testing.M) {
	// Helper modes of the re-executed test binary.
	if path := os.Getenv("TOKENSTORE_LOCK_HELPER"); path != "" {
		os.Exit(lockHelper(path))
	}
	if os.Getenv("KEYRING_REAL") != "1" {
		keyring.MockInit()
	}
	os.Exit(m.Run())
}

// mockKeychain skips tests that rely on go-keyring's mock when the real
// keychain is in use, and pretends a D-Bus session exists so that the mock
// is reached on Secret Service platforms.
func mockKeychain(t *testing.T) {
	t.Helper()
	if os.Getenv("KEYRING_REAL") == "1" {
		t.Skip("KEYRING_REAL=1: this test needs go-keyring's mock")
	}
	keyring.MockInit()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/mock-session")
	t.Cleanup(keyring.MockInit)
}

// isolate points the user config dir at a temporary directory.
func isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("HOME", dir)
	t.Setenv("AppData", dir)
	return dir
}

// longToken returns a realistic refresh token: Entra ID's are opaque
// base64url strings of about 1.5 KB.
func longToken(t testing.TB, n int) string {
	b := make([]byte, n*3/4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return ("1.AQ" + base64.RawURLEncoding.EncodeToString(b))[:n]
}

func sampleRecord(rt string) *Record {
	return &Record{
		RefreshToken: rt,
		Account:      "adele.vance@contoso.onmicrosoft.com",
		Name:         "Adele Vance",
		TenantID:     "72f988bf-86f1-41af-91ab-2d7cd011db47",
		ClientID:     "11111111-2222-3333-4444-555555555555",
		Authority:    "https://login.microsoftonline.com",
		Scopes:       []string{"https://graph.microsoft.com/Tasks.ReadWrite", "https://graph.microsoft.com/User.Read", "openid", "profile", "offline_access"},
		Expiry:       time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		Saved:        time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC),
	}
}

func TestFileStoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "tokens.json")
	st, notice, err := Open(path, "prod")
	if err != nil || notice != "" {
		t.Fatalf("Open = %v, %q", err, notice)
	}
	if _, err := st.Load(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load of an empty store: %v, want ErrNotFound", err)
	}
	rec := sampleRecord("rt-prod")
	if err := st.Save(rec); err != nil {
		t.Fatal(err)
	}
	got, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(rec, got); d != "" {
		t.Errorf("(-saved +loaded):\n%s", d)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("token file mode %04o, want 0600", fi.Mode().Perm())
		}
		di, _ := os.Stat(filepath.Dir(path))
		if di.Mode().Perm() != 0o700 {
			t.Errorf("token directory mode %04o, want 0700", di.Mode().Perm())
		}
	}
	// A second profile shares the file without disturbing the first.
	other, _, err := Open(path, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Save(sampleRecord("rt-test")); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Load(); got == nil || got.RefreshToken != "rt-prod" {
		t.Errorf("profile prod after saving test: %v", got)
	}
	if ok, err := st.Delete(); !ok || err != nil {
		t.Errorf("Delete = %v, %v", ok, err)
	}
	if ok, err := st.Delete(); ok || err != nil {
		t.Errorf("second Delete = %v, %v; want false, nil", ok, err)
	}
	if got, err := other.Load(); err != nil || got.RefreshToken != "rt-test" {
		t.Errorf("profile test after deleting prod: %v, %v", got, err)
	}
	if _, err := other.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the file should be removed with its last profile: %v", err)
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	if st.Location() != path || !strings.Contains(st.Describe(), path) {
		t.Errorf("Location %q Describe %q", st.Location(), st.Describe())
	}
}

func TestFileStoreRefusesReadableFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("permission bits are not enforced on Windows")
	}
	path := filepath.Join(t.TempDir(), "tokens.json")
	st, _, err := Open(path, "prod")
	if err != nil {
		t.Fatal(err)
	}
	secret := "rt-must-not-leak-" + longToken(t, 40)
	if err := st.Save(sampleRecord(secret)); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o660} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := st.Load()
		if err == nil {
			t.Fatalf("mode %04o: Load succeeded", mode)
		}
		msg := err.Error()
		for _, want := range []string{"refusing to read", path, fmt.Sprintf("%04o", mode), "group or others", "chmod 600 " + path} {
			if !strings.Contains(msg, want) {
				t.Errorf("mode %04o: error %q lacks %q", mode, msg, want)
			}
		}
		if strings.Contains(msg, secret) {
			t.Fatal("the error shows the refresh token")
		}
		// Saving must not silently rewrite (and so bless) the file either.
		if err := st.Save(sampleRecord("x")); err == nil {
			t.Errorf("mode %04o: Save over a readable file succeeded", mode)
		}
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Load(); err != nil || got.RefreshToken != secret {
		t.Errorf("after chmod 600: %v", err)
	}
}

func TestFileStoreCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, _, _ := Open(path, "p")
	_, err := st.Load()
	if err == nil || !strings.Contains(err.Error(), "not a valid token file") || !strings.Contains(err.Error(), "sign in again") {
		t.Errorf("corrupt file: %v", err)
	}
	if err := os.WriteFile(path, []byte(`{"version":99,"profiles":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(); err == nil || !strings.Contains(err.Error(), "newer planner") {
		t.Errorf("newer format: %v", err)
	}
}

func TestOpenLocations(t *testing.T) {
	mockKeychain(t)
	dir := isolate(t)
	home, _ := os.UserHomeDir()
	abs, _ := filepath.Abs("rel/tokens.json")
	tests := []struct {
		location, profile string
		wantLocation      string
		wantType          string
		wantErr           string
	}{
		{"memory://", "p", "memory://", "*tokenstore.memoryStore", ""},
		{"memory://shared", "", "memory://shared", "*tokenstore.memoryStore", ""},
		{"keyring://planner-prod", "prod", "keyring://planner-prod", "*tokenstore.keyringStore", ""},
		{"KEYRING://x", "prod", "keyring://x", "*tokenstore.keyringStore", ""},
		{"keyring://", "prod", "keyring://default", "*tokenstore.keyringStore", ""},
		{"keyring://a/b", "prod", "", "", "cannot contain /"},
		{"~/planner-tokens.json", "p", filepath.Join(home, "planner-tokens.json"), "*tokenstore.fileStore", ""},
		{"file://" + filepath.Join(dir, "t.json"), "p", filepath.Join(dir, "t.json"), "*tokenstore.fileStore", ""},
		{"rel/tokens.json", "p", abs, "*tokenstore.fileStore", ""},
		{"ftp://host/x", "p", "", "", "use keyring://<name>, a file path, or memory://"},
	}
	for _, tt := range tests {
		st, _, err := Open(tt.location, tt.profile)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Open(%q): err %v, want %q", tt.location, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Open(%q): %v", tt.location, err)
			continue
		}
		if got := fmt.Sprintf("%T", st); got != tt.wantType || st.Location() != tt.wantLocation {
			t.Errorf("Open(%q) = %s at %q, want %s at %q", tt.location, got, st.Location(), tt.wantType, tt.wantLocation)
		}
	}
}

func TestMemoryStoreSharedInProcess(t *testing.T) {
	a, _, _ := Open("memory://test-shared", "p")
	b, _, _ := Open("memory://test-shared", "p")
	c, _, _ := Open("memory://test-shared", "q")
	if err := a.Save(sampleRecord("rt")); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Load(); err != nil || got.RefreshToken != "rt" {
		t.Errorf("same location and profile: %v, %v", got, err)
	}
	if _, err := c.Load(); !errors.Is(err, ErrNotFound) {
		t.Errorf("other profile: %v", err)
	}
	got, _ := b.Load()
	got.Scopes[0] = "changed"
	if again, _ := a.Load(); again.Scopes[0] == "changed" {
		t.Error("Load returns shared memory")
	}
	if ok, _ := b.Delete(); !ok {
		t.Error("Delete found nothing")
	}
	if _, err := a.Load(); !errors.Is(err, ErrNotFound) {
		t.Errorf("after Delete: %v", err)
	}
}

func TestKeychainMockRoundTrip(t *testing.T) {
	mockKeychain(t)
	isolate(t)
	st, notice, err := Open("keyring://planner-prod", "prod")
	if err != nil || notice != "" {
		t.Fatalf("Open = %v, %q", err, notice)
	}
	rec := sampleRecord(longToken(t, 1536))
	if err := st.Save(rec); err != nil {
		t.Fatal(err)
	}
	raw, err := keyring.Get(Service, "planner-prod/prod")
	if err != nil {
		t.Fatalf("entry not under service %q, account planner-prod/prod: %v", Service, err)
	}
	if !strings.Contains(raw, rec.RefreshToken) {
		t.Error("the keychain secret lacks the refresh token")
	}
	got, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(rec, got); d != "" {
		t.Errorf("(-saved +loaded):\n%s", d)
	}
	if !strings.Contains(st.Describe(), "planner-prod/prod") {
		t.Errorf("Describe = %q", st.Describe())
	}
	if ok, err := st.Delete(); !ok || err != nil {
		t.Errorf("Delete = %v, %v", ok, err)
	}
	if _, err := st.Load(); !errors.Is(err, ErrNotFound) {
		t.Errorf("after Delete: %v", err)
	}
	if err := keyring.Set(Service, "planner-prod/prod", "garbage"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(); err == nil || !strings.Contains(err.Error(), "sign in again") {
		t.Errorf("garbage entry: %v", err)
	}
}

// TestKeychainSecretSize: a realistic record — a 1.5 KB refresh token and
// full metadata — stays well under Windows' 2,560-byte limit.
func TestKeychainSecretSize(t *testing.T) {
	rec := sampleRecord(longToken(t, 1536))
	rec.Account = "a.very.long.user.principal.name.for.testing@a-long-tenant-domain.onmicrosoft.com"
	rec.Name = "A Rather Long Display Name With Several Words"
	secret, err := encodeSecret(rec)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("keychain secret: %d bytes for a %d-byte refresh token (limit %d)", len(secret), len(rec.RefreshToken), MaxKeyringSecret)
	if len(secret) > MaxKeyringSecret-400 {
		t.Errorf("secret is %d bytes: less than 400 bytes of headroom under %d", len(secret), MaxKeyringSecret)
	}
}

func TestKeychainErrors(t *testing.T) {
	mockKeychain(t)
	isolate(t)
	st, _, err := Open("keyring://big", "p")
	if err != nil {
		t.Fatal(err)
	}
	keyring.MockInitWithError(keyring.ErrSetDataTooBig)
	err = st.Save(sampleRecord("rt-secret-value"))
	if err == nil || !strings.Contains(err.Error(), "too large") || strings.Contains(err.Error(), "rt-secret-value") {
		t.Errorf("ErrSetDataTooBig: %v", err)
	}
	keyring.MockInitWithError(keyring.ErrUnsupportedPlatform)
	if _, _, err := Open("keyring://x", "p"); !errors.Is(err, ErrKeychainUnavailable) || !strings.Contains(err.Error(), "OAuthSettingsLocation") {
		t.Errorf("unsupported platform: %v", err)
	}
}

func TestKeychainNeedsDBusSession(t *testing.T) {
	if !usesSecretService() {
		t.Skip("no Secret Service on " + runtime.GOOS)
	}
	mockKeychain(t)
	isolate(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	// Any go-keyring call would fail the test: the check must come first.
	keyring.MockInitWithError(errors.New("go-keyring was called without a D-Bus session"))
	_, _, err := Open("keyring://planner-prod", "prod")
	if !errors.Is(err, ErrKeychainUnavailable) || !strings.Contains(err.Error(), "DBUS_SESSION_BUS_ADDRESS") {
		t.Errorf("err = %v", err)
	}
}

func TestDefaultLocation(t *testing.T) {
	mockKeychain(t)
	dir := isolate(t)
	cfgDir, _ := os.UserConfigDir()
	wantFile := filepath.Join(cfgDir, "planner", "tokens", "prod.json")
	if !strings.HasPrefix(wantFile, dir) {
		t.Fatalf("user config dir %s is not under the test's %s", cfgDir, dir)
	}

	// A usable keychain: used, silently.
	st, notice, err := Open("", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if st.Location() != "keyring://default" || notice != "" {
		t.Errorf("usable keychain: %s, notice %q", st.Location(), notice)
	}

	// No keychain: the file, and a notice naming it and the reason.
	keyring.MockInitWithError(keyring.ErrUnsupportedPlatform)
	st, notice, err = Open("", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if st.Location() != wantFile {
		t.Errorf("fallback location %s, want %s", st.Location(), wantFile)
	}
	if !strings.Contains(string(notice), wantFile) || !strings.Contains(string(notice), "keychain") || !strings.Contains(string(notice), "OAuthSettingsLocation") {
		t.Errorf("notice %q", notice)
	}
	if err := st.Save(sampleRecord("rt-file")); err != nil {
		t.Fatal(err)
	}

	// The keychain is back but empty: the file's sign-in stays in use.
	keyring.MockInit()
	st, notice, err = Open("", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if st.Location() != wantFile || notice == "" {
		t.Errorf("keychain back: %s, notice %q; want the file with a notice", st.Location(), notice)
	}
	if strings.Contains(string(notice), "rt-file") {
		t.Error("notice shows the token")
	}
	// Once the keychain holds a sign-in, it wins.
	ks, _, _ := Open("keyring://default", "prod")
	if err := ks.Save(sampleRecord("rt-keychain")); err != nil {
		t.Fatal(err)
	}
	st, notice, _ = Open("", "prod")
	if st.Location() != "keyring://default" || notice != "" {
		t.Errorf("keychain with a record: %s, %q", st.Location(), notice)
	}
	// Odd profile names make safe file names.
	keyring.MockInitWithError(keyring.ErrUnsupportedPlatform)
	st, _, _ = Open("", "../x y")
	if filepath.Dir(st.Location()) != filepath.Dir(wantFile) {
		t.Errorf("profile ../x y escapes the tokens directory: %s", st.Location())
	}
}

func TestRecordFormattingHidesToken(t *testing.T) {
	rec := sampleRecord("rt-SECRET-VALUE")
	// Every verb, not only those vet allows for a Stringer.
	verbs := "%d %t %x %q %10.3s %d"
	for _, s := range []string{fmt.Sprint(rec), fmt.Sprintf("%v %+v %s", *rec, *rec, rec), fmt.Sprintf("%#v", *rec), rec.String(),
		fmt.Sprintf(verbs, *rec, *rec, *rec, *rec, *rec, []Record{*rec})} {
		if strings.Contains(s, "rt-SECRET-VALUE") {
			t.Errorf("formatted record shows the refresh token: %s", s)
		}
		if !strings.Contains(s, "adele.vance") {
			t.Errorf("formatted record lacks the account: %s", s)
		}
	}
}

func TestLockExcludesGoroutines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	const workers, rounds = 4, 25
	var (
		wg      sync.WaitGroup
		inside  int
		maxSeen int
		mu      sync.Mutex
	)
	for w := range workers {
		// Separate stores of the same file, as separate connections have.
		st, _, err := Open(path, "p")
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				unlock, err := st.Lock(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				inside++
				maxSeen = max(maxSeen, inside)
				mu.Unlock()
				// Read-modify-write under the lock.
				rec, err := st.Load()
				n := 0
				if err == nil {
					fmt.Sscanf(rec.RefreshToken, "rt-%d", &n)
				}
				if err := st.Save(&Record{RefreshToken: fmt.Sprintf("rt-%d", n+1), Account: fmt.Sprintf("w%d-r%d", w, r)}); err != nil {
					t.Error(err)
				}
				mu.Lock()
				inside--
				mu.Unlock()
				unlock()
			}
		}()
	}
	wg.Wait()
	if maxSeen != 1 {
		t.Errorf("%d holders at once", maxSeen)
	}
	st, _, _ := Open(path, "p")
	rec, err := st.Load()
	if err != nil || rec.RefreshToken != fmt.Sprintf("rt-%d", workers*rounds) {
		t.Errorf("final record %v, %v: increments were lost", rec, err)
	}
}

func TestLockTimeout(t *testing.T) {
	for _, loc := range []string{filepath.Join(t.TempDir(), "t.json"), "memory://lock-timeout"} {
		st, _, _ := Open(loc, "prod")
		unlock, err := st.Lock(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, err = st.Lock(ctx)
		cancel()
		if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `profile "prod"`) {
			t.Errorf("%s: second Lock: %v", loc, err)
		}
		unlock()
		unlock() // idempotent
		unlock2, err := st.Lock(context.Background())
		if err != nil {
			t.Fatalf("%s: Lock after unlock: %v", loc, err)
		}
		unlock2()
	}
}

// lockHelper runs in a child process: it tries to take the lock of the
// token file path within 300ms and reports "locked" or "busy".
func lockHelper(path string) int {
	st, _, err := Open(path, "p")
	if err != nil {
		fmt.Println("error:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	unlock, err := st.Lock(ctx)
	if err != nil {
		fmt.Println("busy")
		return 0
	}
	unlock()
	fmt.Println("locked")
	return 0
}

func TestLockExcludesProcesses(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" && runtime.GOOS != "windows" && runtime.GOOS != "freebsd" {
		t.Skip("no OS file lock on " + runtime.GOOS)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	path := filepath.Join(t.TempDir(), "tokens.json")
	child := func() string {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), "TOKENSTORE_LOCK_HELPER="+path)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("helper: %v: %s", err, out)
		}
		line, _ := bufio.NewReader(strings.NewReader(string(out))).ReadString('\n')
		return strings.TrimSpace(line)
	}
	st, _, _ := Open(path, "p")
	unlock, err := st.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := child(); got != "busy" {
		t.Errorf("while this process holds the lock, the child got %q", got)
	}
	unlock()
	if got := child(); got != "locked" {
		t.Errorf("after release, the child got %q", got)
	}
}

// TestRealKeyring is the one round trip through the real OS keychain. It
// runs only with KEYRING_REAL=1; on Linux CI runs it as
//
//	export XDG_DATA_HOME=$(mktemp -d)
//	KEYRING_REAL=1 dbus-run-session -- sh -c 'echo pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null && go test -count=1 -run Keyring ./internal/tokenstore/'
func TestRealKeyring(t *testing.T) {
	if os.Getenv("KEYRING_REAL") != "1" {
		t.Skip("set KEYRING_REAL=1 to use the real OS keychain (see the comment for the Linux command)")
	}
	isolate(t)
	name := "planner-test-" + longToken(t, 12)
	st, notice, err := Open("keyring://"+name, "roundtrip")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if notice != "" {
		t.Errorf("notice %q", notice)
	}
	t.Cleanup(func() { _, _ = st.Delete() })
	rec := sampleRecord(longToken(t, 1536))
	if err := st.Save(rec); err != nil {
		t.Fatalf("Save: %v", err)
	}
	got, err := st.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if d := cmp.Diff(rec, got); d != "" {
		t.Errorf("(-saved +loaded):\n%s", d)
	}
	// The default location resolves to the keychain here.
	def, notice, err := Open("", "roundtrip-default")
	if err != nil || def.Location() != "keyring://default" || notice != "" {
		t.Errorf("default location = %v, %q, %v; want the keychain", def, notice, err)
	}
	if ok, err := st.Delete(); !ok || err != nil {
		t.Fatalf("Delete = %v, %v", ok, err)
	}
	if _, err := st.Load(); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load after Delete: %v, want ErrNotFound", err)
	}
}

func TestSaveNilRecord(t *testing.T) {
	mockKeychain(t)
	isolate(t)
	for _, loc := range []string{filepath.Join(t.TempDir(), "t.json"), "memory://nil-record", "keyring://nil-record"} {
		st, _, err := Open(loc, "p")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Save(nil); err == nil || !strings.Contains(err.Error(), "nil record") {
			t.Errorf("%s: Save(nil) = %v", loc, err)
		}
	}
}

// TestUnlockIdempotent: a second release must neither block nor release a
// lock another holder took since.
func TestUnlockIdempotent(t *testing.T) {
	for _, loc := range []string{filepath.Join(t.TempDir(), "t.json"), "memory://unlock-twice"} {
		st, _, _ := Open(loc, "p")
		unlock1, err := st.Lock(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		unlock1()
		unlock2, err := st.Lock(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		unlock1() // stale release: must not free unlock2's lock
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		if _, err := st.Lock(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: the stale release freed the current holder's lock: %v", loc, err)
		}
		cancel()
		unlock2()
	}
}

// TestUnnamedProfileMessages: the store of a connection that names no
// profile is kept under DefaultProfile, but its messages (where it is
// kept, nothing stored) call it "connections without a profile", never the
// profile "default", which need not exist; a named profile is named.
func TestUnnamedProfileMessages(t *testing.T) {
	dir := t.TempDir()
	for _, loc := range []string{"memory://unnamed-" + t.Name(), filepath.Join(dir, "tokens.json")} {
		for _, c := range []struct{ profile, want string }{{"", "connections without a profile"}, {"prod", `profile "prod"`}} {
			s, _, err := Open(loc, c.profile)
			if err != nil {
				t.Fatal(err)
			}
			_, lerr := s.Load()
			for _, msg := range []string{s.Describe(), fmt.Sprint(lerr)} {
				if !strings.Contains(msg, c.want) || strings.Contains(msg, `"default"`) {
					t.Errorf("%s, profile %q: %q, want it to say %s", loc, c.profile, msg, c.want)
				}
			}
		}
	}
}
