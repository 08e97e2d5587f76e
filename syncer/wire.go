package syncer

import (
	"fmt"
)

// Operations a Change carries.
const (
	OpInsert = "insert" // a new row: every column
	OpUpdate = "update" // the columns the write changed
	OpDelete = "delete" // the row is gone, for good (see docs/sync.md)
)

// Change is one captured write to one row: what a device pushes. Its ID is
// its HLC, unique across devices because the HLC ends with the node id.
type Change struct {
	ID    string           `json:"id"`
	Table string           `json:"table"`
	PK    string           `json:"pk"`
	Op    string           `json:"op"`
	Cols  map[string]Value `json:"cols,omitempty"`
}

// Hello is what a device says about its schema on every request: the
// newest migration version it applied and the newest breaking migration
// among those.
type Hello struct {
	Version  int64 `json:"version"`
	Breaking int64 `json:"breaking"`
}

// PushRequest carries a batch of one user's changes, oldest first.
type PushRequest struct {
	Hello   Hello    `json:"hello"`
	Changes []Change `json:"changes"`
}

// PushResponse tells the device which changes the server now holds. The
// device removes every listed id from its outbox: Accepted and Duplicate
// are on the server; Rejected never will be (each says why).
type PushResponse struct {
	Accepted  []string    `json:"accepted"`
	Duplicate []string    `json:"duplicate"`
	Rejected  []Rejection `json:"rejected"`
	// Seq is the server sequence after this batch.
	Seq int64 `json:"seq"`
}

// Rejection is one change the server refused, with a Larder code, and the
// row it was for. Gone says that the server holds no version of the row
// this user may see (a new row given to someone else, a row of another
// user): the device drops its copy. Otherwise the server serves its
// version of the row again, so the device's next pull brings it back.
type Rejection struct {
	ID      string `json:"id"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Table   string `json:"table,omitempty"`
	PK      string `json:"pk,omitempty"`
	Gone    bool   `json:"gone,omitempty"`
}

// PullRequest asks for the rows changed after Cursor that the user may see.
type PullRequest struct {
	Hello  Hello `json:"hello"`
	Cursor int64 `json:"cursor"`
	Limit  int   `json:"limit"`
}

// PullResponse is one page: the current state of each row changed after
// the request's cursor, in server sequence order. The device applies it and
// stores Cursor; More says another page follows.
type PullResponse struct {
	Rows   []RowState `json:"rows"`
	Cursor int64      `json:"cursor"`
	More   bool       `json:"more"`
}

// RowState is the server's current state of one row: its values and the
// HLC of the write that set each, or a tombstone.
type RowState struct {
	Table   string            `json:"table"`
	PK      string            `json:"pk"`
	Seq     int64             `json:"seq"`
	Deleted bool              `json:"deleted,omitempty"`
	Cols    map[string]Value  `json:"cols,omitempty"`
	Clocks  map[string]string `json:"clocks,omitempty"`
}

// Larder codes of sync.
const (
	CodeOutdated     = "LARDER_OUTDATED"      // the device is behind a breaking migration: reload with new code
	CodeServerBehind = "LARDER_SERVER_BEHIND" // the server lacks a breaking migration the device has: deploy the migrations to the edge
	CodeInvalid      = "LARDER_INVALID_ARGUMENT"
	CodeForbidden    = "LARDER_FORBIDDEN" // the row is not the user's, or the write would give it away
)

// Error is a sync failure with a Larder code.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return "sync: " + e.Message + " (" + e.Code + ")" }

// ServerVersion describes the server's migrations: its newest applied
// version and the newest breaking one among them.
type ServerVersion = Hello

// CheckVersions decides whether a device and a server can exchange
// changes. A device whose version is below the server's newest breaking
// migration gets CodeOutdated (old code must not write into a schema it
// does not know). A server that lacks a breaking migration the device has
// applied gets CodeServerBehind. Any other difference syncs: columns one
// side does not know are kept (see docs/sync.md).
func CheckVersions(device Hello, server ServerVersion) error {
	if device.Version < 0 || device.Breaking < 0 || device.Breaking > device.Version {
		return &Error{CodeInvalid, fmt.Sprintf("hello: version %d, breaking %d: want 0 <= breaking <= version", device.Version, device.Breaking)}
	}
	if device.Version < server.Breaking {
		return &Error{CodeOutdated, fmt.Sprintf("this device is at migration %d, the server has breaking migration %d: reload the app to upgrade", device.Version, server.Breaking)}
	}
	if device.Breaking > server.Version {
		return &Error{CodeServerBehind, fmt.Sprintf("the server is at migration %d, this device has breaking migration %d: apply the migrations to the edge database", server.Version, device.Breaking)}
	}
	return nil
}
