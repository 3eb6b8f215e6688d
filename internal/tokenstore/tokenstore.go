// Package tokenstore persists OAuth tokens per connection profile.
//
// What is stored is a [Record]: the refresh token and small metadata
// (account, tenant, client, scopes, access-token expiry, time saved).
// Access tokens are never stored: they stay in the memory of the process
// that obtained them, which keeps a keychain entry far below Windows' limit
// of 2,560 bytes per secret.
//
// A location (the OAuthSettingsLocation connection property) is one of:
//
//   - keyring://<name> — the OS keychain (macOS Keychain, Windows
//     Credential Manager, the Secret Service on Linux/BSD) through
//     github.com/zalando/go-keyring; service "planner", account
//     "<name>/<profile>";
//   - a file path (~/ expands to the home directory) — a JSON file
//     holding the records of one or more profiles, written atomically
//     (temporary file and rename) with mode 0600; a file that group or
//     others can read, or that belongs to another user, is refused, and so
//     is a directory that group or others can write to (unless sticky,
//     like /tmp);
//   - memory:// (or memory://<name>) — kept in the process only;
//   - "" — the default: the keychain when one is usable, else the file
//     <user config dir>/planner/tokens/<profile>.json, with a [Notice]
//     saying so.
//
// Every store has a cross-process lock (a lock file beside the token file,
// or under <user config dir>/planner/locks for the keychain) so that
// processes sharing a profile can re-read, refresh and save under it
// without losing a rotated refresh token.
//
// Lock files, temporary files and the token file are opened without
// following a symbolic link at their path (O_NOFOLLOW on Unix, a reparse
// point check on Windows): a link planted there is an error, so it can
// never make planner create or read a file elsewhere.
package tokenstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Service is the OS keychain service name of every entry.
const Service = "planner"

// DefaultKeyringName is the keychain name used when the location is empty.
const DefaultKeyringName = "default"

// DefaultProfile names the profile of a connection that has none.
const DefaultProfile = "default"

// ErrNotFound is returned by [Store.Load] when nothing is stored for the
// profile.
var ErrNotFound = errors.New("tokenstore: no token stored")

// ErrKeychainUnavailable wraps the errors of a keyring:// location whose
// keychain cannot be used.
var ErrKeychainUnavailable = errors.New("tokenstore: the OS keychain is not available")

// Record is what is stored for one profile.
type Record struct {
	RefreshToken string    `json:"refresh_token"`
	Account      string    `json:"account,omitempty"`   // the signed-in user's UPN
	Name         string    `json:"name,omitempty"`      // the user's display name
	TenantID     string    `json:"tenant_id,omitempty"` // directory (tenant) id
	ClientID     string    `json:"client_id,omitempty"` // the app the token was issued to
	Authority    string    `json:"authority,omitempty"` // identity platform base URL
	Scopes       []string  `json:"scopes,omitempty"`    // granted scopes
	Expiry       time.Time `json:"expiry,omitzero"`     // expiry of the last access token issued
	Saved        time.Time `json:"saved,omitzero"`      // when the record was written
}

// String describes the record without its refresh token.
func (r Record) String() string {
	rt := "none"
	if r.RefreshToken != "" {
		rt = "[redacted]"
	}
	return fmt.Sprintf("{account %q tenant %q client %q scopes %v expiry %s saved %s refresh token %s}",
		r.Account, r.TenantID, r.ClientID, r.Scopes, r.Expiry.Format(time.RFC3339), r.Saved.Format(time.RFC3339), rt)
}

// GoString is String: %#v must not print the refresh token either.
func (r Record) GoString() string { return "tokenstore.Record" + r.String() }

// Format prints String for every verb (GoString for %#v), so that no verb —
// %d and %t included, which would otherwise print the fields — shows the
// refresh token.
func (r Record) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, r.GoString())
		return
	}
	_, _ = io.WriteString(f, r.String())
}

// Notice is a message for the user about where tokens are kept (the CLI
// prints it once); empty when there is nothing to say.
type Notice string

// Store keeps the record of one profile at one location. Its methods are
// safe for concurrent use.
type Store interface {
	// Load returns the stored record, or an error wrapping ErrNotFound.
	Load() (*Record, error)
	// Save replaces the stored record (setting Saved when it is zero).
	Save(rec *Record) error
	// Delete removes the record; it reports whether there was one.
	Delete() (bool, error)
	// Lock takes the profile's cross-process lock, waiting until ctx is
	// done. Call the returned function to release it.
	Lock(ctx context.Context) (unlock func(), err error)
	// Location is the store's location, in OAuthSettingsLocation form.
	Location() string
	// Describe says where the record is kept, for people.
	Describe() string
}

// Open returns the store of profile at location. See the package
// documentation for locations. An empty profile — a connection that names
// none — is stored as DefaultProfile, and messages call it "connections
// without a profile" rather than name a profile that does not exist.
func Open(location, profile string) (Store, Notice, error) {
	label := labelOf(profile)
	if profile == "" {
		profile = DefaultProfile
	}
	loc := strings.TrimSpace(location)
	lower := strings.ToLower(loc)
	switch {
	case loc == "":
		return openDefault(profile, label)
	case strings.HasPrefix(lower, "keyring://"):
		name := loc[len("keyring://"):]
		if name == "" {
			name = DefaultKeyringName
		}
		if strings.Contains(name, "/") {
			return nil, "", fmt.Errorf("tokenstore: keyring location %q: the name after keyring:// cannot contain /", location)
		}
		if err := keyringUsable(name, profile); err != nil {
			return nil, "", fmt.Errorf("%w (%s) for %s: start a desktop session with a keychain, or set OAuthSettingsLocation to a file path",
				ErrKeychainUnavailable, err.Error(), label)
		}
		return newKeyringStore(name, profile, label)
	case strings.HasPrefix(lower, "memory://"):
		return newMemoryStore(loc, profile, label), "", nil
	case strings.HasPrefix(lower, "file://"):
		return openFilePath(loc[len("file://"):], profile, label)
	case strings.Contains(loc, "://"):
		return nil, "", fmt.Errorf("tokenstore: unknown OAuthSettingsLocation %q: use keyring://<name>, a file path, or memory://", location)
	default:
		return openFilePath(loc, profile, label)
	}
}

// labelOf names a profile's sign-in in messages: `profile "NAME"`, or, for
// a connection that names none, "connections without a profile".
func labelOf(profile string) string {
	if profile == "" {
		return "connections without a profile"
	}
	return fmt.Sprintf("profile %q", profile)
}

func openFilePath(p, profile, label string) (Store, Notice, error) {
	if p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`) {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, "", fmt.Errorf("tokenstore: cannot expand ~ in %q: %w", p, err)
		}
		p = filepath.Join(home, p[1:])
	}
	if p == "" {
		return nil, "", errors.New("tokenstore: empty token file path")
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, "", fmt.Errorf("tokenstore: token file %q: %w", p, err)
	}
	return newFileStore(abs, profile, label), "", nil
}

// configDir is <user config dir>/planner.
func configDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("tokenstore: cannot locate the user config directory (%w): set OAuthSettingsLocation", err)
	}
	return filepath.Join(dir, "planner"), nil
}

// DefaultFile is the token file used for profile when no keychain is usable.
func DefaultFile(profile string) (string, error) {
	if profile == "" {
		profile = DefaultProfile
	}
	dir, err := configDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "tokens", sanitize(profile)+".json"), nil
}

// openDefault picks the keychain when usable, else the default file.
func openDefault(profile, label string) (Store, Notice, error) {
	path, err := DefaultFile(profile)
	if err != nil {
		return nil, "", err
	}
	file := newFileStore(path, profile, label)
	kerr := keyringUsable(DefaultKeyringName, profile)
	if kerr == nil {
		ks, _, err := newKeyringStore(DefaultKeyringName, profile, label)
		if err != nil {
			return nil, "", err
		}
		// Tokens saved to the fallback file while no keychain was usable
		// stay in use until the user signs in again.
		if _, err := ks.Load(); errors.Is(err, ErrNotFound) {
			if _, ferr := file.Load(); ferr == nil {
				return file, Notice(fmt.Sprintf("planner: using the sign-in of %s saved in %s (kept there when no OS keychain was usable); "+
					"sign in again to move it to the keychain", label, path)), nil
			}
		}
		return ks, "", nil
	}
	return file, Notice(fmt.Sprintf("planner: no usable OS keychain (%s); the sign-in of %s is kept in %s, readable only by you. "+
		"Set OAuthSettingsLocation to choose another place.", kerr.Error(), label, path)), nil
}

// sanitize makes a profile or keyring name safe as a file name; the
// records inside a file are keyed by the real name, so collisions are
// harmless.
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := b.String()
	if out == "" || strings.Trim(out, ".") == "" {
		out = "_" + out
	}
	return out
}
