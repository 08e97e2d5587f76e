package main

import (
	"context"
	"errors"
	"io"

	"github.com/larderdb/larder/edge/auth"
	"github.com/larderdb/larder/migrations/d1"
)

// backupInfo is one stored backup, as GET /api/backups lists it.
type backupInfo struct {
	Name     string `json:"name"`
	Size     int64  `json:"size"`
	Uploaded string `json:"uploaded"` // RFC 3339, UTC
	ETag     string `json:"etag"`
}

var (
	errNoBackup     = errors.New("no such backup")
	errPrecondition = errors.New("precondition failed")
)

// putCondition is a PUT's precondition, as R2 takes it: IfMatch is a
// quoted ETag or "*" (replace that version, or whatever exists),
// IfNoneMatch is "*" (create only). Exactly one is set.
type putCondition struct {
	IfMatch, IfNoneMatch string
}

// backupStore keeps database images under keys: R2 in the Worker. The
// server builds the keys (each user's own prefix); the store knows nothing
// of users.
type backupStore interface {
	// Put stores data under key if cond holds, else returns
	// errPrecondition. Before replacing an object it copies it to
	// keepAs(the replaced object), so the previous version survives.
	Put(ctx context.Context, key string, data []byte, info imageInfo, cond putCondition, keepAs func(old backupInfo) string) (backupInfo, error)
	// Get returns errNoBackup when key does not exist.
	Get(ctx context.Context, key string) (io.ReadCloser, backupInfo, error)
	// List returns the objects whose keys start with prefix.
	List(ctx context.Context, prefix string) ([]backupInfo, error)
}

// environment is what the Worker gets from the platform: bindings,
// variables, the network and the isolate's memory. In a Worker each request
// runs in a fresh Go instance, so state that outlives a request lives on
// the JS side (Isolate).
type environment interface {
	DB() (d1.Conn, error)
	Backups() (backupStore, error)
	Getenv(name string) string
	// Isolate is memory that lasts as long as the isolate: the migrated
	// bundle, the migration retry schedule, the cached JWKS.
	Isolate() auth.State
	// Fetch returns the body of a GET of url (an error unless 200).
	Fetch(ctx context.Context, url string) ([]byte, error)
}
