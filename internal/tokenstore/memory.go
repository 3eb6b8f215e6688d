package tokenstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// memory holds the records of memory:// stores of this process.
var (
	memMu   sync.Mutex
	memRecs = map[string]Record{}
)

// memoryStore keeps a record in process memory: stores opened with the
// same location and profile share it; nothing survives the process.
type memoryStore struct {
	location string
	profile  string
	label    string // the profile for messages (see labelOf)
}

func newMemoryStore(location, profile, label string) *memoryStore {
	return &memoryStore{location: location, profile: profile, label: label}
}

func (s *memoryStore) key() string { return s.location + "\x00" + s.profile }

func (s *memoryStore) Location() string { return s.location }

func (s *memoryStore) Describe() string {
	return fmt.Sprintf("memory of this process only (%s, %s)", s.location, s.label)
}

func (s *memoryStore) Load() (*Record, error) {
	memMu.Lock()
	defer memMu.Unlock()
	r, ok := memRecs[s.key()]
	if !ok {
		return nil, fmt.Errorf("%w for %s in %s", ErrNotFound, s.label, s.location)
	}
	r.Scopes = append([]string(nil), r.Scopes...)
	return &r, nil
}

func (s *memoryStore) Save(rec *Record) error {
	if rec == nil {
		return errors.New("tokenstore: Save of a nil record")
	}
	r := *rec
	r.Scopes = append([]string(nil), r.Scopes...)
	if r.Saved.IsZero() {
		r.Saved = time.Now().UTC()
	}
	memMu.Lock()
	defer memMu.Unlock()
	memRecs[s.key()] = r
	return nil
}

func (s *memoryStore) Delete() (bool, error) {
	memMu.Lock()
	defer memMu.Unlock()
	_, ok := memRecs[s.key()]
	delete(memRecs, s.key())
	return ok, nil
}

func (s *memoryStore) Lock(ctx context.Context) (func(), error) {
	unlock, err := procLock(ctx, "memory\x00"+s.key())
	if err != nil {
		return nil, lockError(s.location, s.label, err)
	}
	return unlock, nil
}
