package tokenstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
)

// MaxKeyringSecret is the largest secret Windows' Credential Manager
// accepts, in bytes; records stay well under it.
const MaxKeyringSecret = 2560

// keyringTimeout bounds every keychain call: a keychain that does not
// answer (a locked collection waiting on a prompt nobody sees) must not
// hang the program.
var keyringTimeout = 10 * time.Second

// keyringMu serializes keychain calls: go-keyring's mock is not safe for
// concurrent use, and the real back ends gain nothing from concurrency.
var keyringMu sync.Mutex

// errKeyringTimeout is returned when the keychain does not answer in time.
var errKeyringTimeout = errors.New("the OS keychain did not answer within " + keyringTimeout.String())

// withTimeout runs f (a go-keyring call) with keyringTimeout.
func withTimeout[T any](f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		keyringMu.Lock()
		defer keyringMu.Unlock()
		v, err := f()
		ch <- result{v, err}
	}()
	t := time.NewTimer(keyringTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-t.C:
		var zero T
		return zero, errKeyringTimeout
	}
}

// usesSecretService reports whether go-keyring talks to the D-Bus Secret
// Service on this platform.
func usesSecretService() bool {
	switch runtime.GOOS {
	case "linux", "freebsd", "netbsd", "openbsd", "dragonfly":
		return true
	}
	return false
}

// keyringUsable checks that the keychain answers, without side effects.
// On Secret Service platforms it first requires a D-Bus session: without
// one, go-keyring would autolaunch stray dbus daemons.
func keyringUsable(name, profile string) error {
	if usesSecretService() && os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return errors.New("DBUS_SESSION_BUS_ADDRESS is not set, so there is no Secret Service session")
	}
	_, err := withTimeout(func() (string, error) { return keyring.Get(Service, name+"/"+profile) })
	switch {
	case err == nil, errors.Is(err, keyring.ErrNotFound):
		return nil
	case errors.Is(err, keyring.ErrUnsupportedPlatform):
		return fmt.Errorf("no keychain support on %s", runtime.GOOS)
	default:
		return err
	}
}

// keyringStore keeps a record as one keychain secret.
type keyringStore struct {
	name     string
	profile  string
	label    string // the profile for messages (see labelOf)
	lockFile string
}

func newKeyringStore(name, profile, label string) (*keyringStore, Notice, error) {
	dir, err := configDir()
	if err != nil {
		return nil, "", err
	}
	lock := filepath.Join(dir, "locks", "keyring-"+sanitize(name)+"-"+sanitize(profile)+".lock")
	return &keyringStore{name: name, profile: profile, label: label, lockFile: lock}, "", nil
}

func (s *keyringStore) user() string { return s.name + "/" + s.profile }

func (s *keyringStore) Location() string { return "keyring://" + s.name }

func (s *keyringStore) Describe() string {
	return fmt.Sprintf("OS keychain (service %q, account %q)", Service, s.user())
}

func (s *keyringStore) Load() (*Record, error) {
	secret, err := withTimeout(func() (string, error) { return keyring.Get(Service, s.user()) })
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, fmt.Errorf("%w for %s in the OS keychain (account %q)", ErrNotFound, s.label, s.user())
	}
	if err != nil {
		return nil, fmt.Errorf("tokenstore: reading the OS keychain (account %q): %w", s.user(), err)
	}
	var r Record
	if err := json.Unmarshal([]byte(secret), &r); err != nil {
		return nil, fmt.Errorf("tokenstore: the OS keychain entry %q of service %q is not a planner token (%v): sign in again to replace it",
			s.user(), Service, err)
	}
	return &r, nil
}

// encodeSecret is the keychain secret of a record.
func encodeSecret(rec *Record) (string, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return "", fmt.Errorf("tokenstore: encoding the record: %w", err)
	}
	return string(b), nil
}

func (s *keyringStore) Save(rec *Record) error {
	if rec == nil {
		return errors.New("tokenstore: Save of a nil record")
	}
	r := *rec
	if r.Saved.IsZero() {
		r.Saved = time.Now().UTC()
	}
	secret, err := encodeSecret(&r)
	if err != nil {
		return err
	}
	_, err = withTimeout(func() (struct{}, error) { return struct{}{}, keyring.Set(Service, s.user(), secret) })
	if errors.Is(err, keyring.ErrSetDataTooBig) {
		return fmt.Errorf("tokenstore: the sign-in of %s is too large for the OS keychain (%d bytes): set OAuthSettingsLocation to a file path",
			s.label, len(secret))
	}
	if err != nil {
		return fmt.Errorf("tokenstore: writing to the OS keychain (account %q): %w", s.user(), err)
	}
	return nil
}

func (s *keyringStore) Delete() (bool, error) {
	_, err := withTimeout(func() (struct{}, error) { return struct{}{}, keyring.Delete(Service, s.user()) })
	if errors.Is(err, keyring.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("tokenstore: deleting from the OS keychain (account %q): %w", s.user(), err)
	}
	return true, nil
}

func (s *keyringStore) Lock(ctx context.Context) (func(), error) {
	return lockPath(ctx, s.lockFile, s.label)
}
