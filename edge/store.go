package main

import (
	"context"
	"errors"
	"io"

	"github.com/larderdb/larder/edge/d1"
)

// backupInfo is one stored backup, as GET /api/backups lists it.
type backupInfo struct {
	Name     string `json:"name"`
	Size     int64  `json:"size"`
	Uploaded string `json:"uploaded"` // RFC 3339, UTC
	ETag     string `json:"etag"`
}

var errNoBackup = errors.New("no such backup")

// backupStore keeps database images: R2 in the Worker.
type backupStore interface {
	Put(ctx context.Context, name string, data []byte, info imageInfo) (backupInfo, error)
	// Get returns errNoBackup when name does not exist.
	Get(ctx context.Context, name string) (io.ReadCloser, backupInfo, error)
	List(ctx context.Context) ([]backupInfo, error)
}

// environment is what the Worker gets from the platform: bindings,
// variables and the isolate's memory. In a Worker each request runs in a
// fresh Go instance, so state that outlives a request lives on the JS side.
type environment interface {
	DB() (d1.Conn, error)
	Backups() (backupStore, error)
	Getenv(name string) string
	// Migrated and SetMigrated read and write the id of the bundle this
	// isolate has already brought D1 up to.
	Migrated() string
	SetMigrated(id string)
}
