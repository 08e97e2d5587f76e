package migrations

import (
	"context"
	"time"
)

// TrackingTableSQL creates the _migrations table every runner shares.
const TrackingTableSQL = `CREATE TABLE IF NOT EXISTS _migrations (
  version     INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL,
  checksum    TEXT    NOT NULL,
  applied_at  TEXT    NOT NULL,
  duration_ms INTEGER NOT NULL,
  breaking    INTEGER NOT NULL DEFAULT 0
)`

// TimeFormat is the format of applied_at: UTC, RFC 3339 with milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// Direction says whether a migration is applied or reverted.
type Direction int

const (
	Up Direction = iota
	Down
)

func (d Direction) String() string {
	if d == Down {
		return "down"
	}
	return "up"
}

// A Record is one row of _migrations.
type Record struct {
	Version    int64     `json:"version"`
	Name       string    `json:"name"`
	Checksum   string    `json:"checksum"`
	AppliedAt  time.Time `json:"applied_at"`
	DurationMS int64     `json:"duration_ms"`
	Breaking   bool      `json:"breaking"`
}

// NewRecord is the row that marks m applied at t.
func NewRecord(m *Migration, t time.Time, d time.Duration) Record {
	return Record{Version: m.Version, Name: m.Name, Checksum: m.Checksum,
		AppliedAt: t.UTC().Truncate(time.Millisecond), DurationMS: d.Milliseconds(), Breaking: m.Breaking}
}

// A Store is a database the engine can migrate. Package sqlite implements it
// for SQLite connections (native and browser); package d1 implements it for
// Cloudflare D1 with batch() (the edge Worker). They are the only code that
// writes SQL about _migrations.
type Store interface {
	// Init creates the tracking table if it does not exist. The Provider
	// calls it only before it writes (Up, Stamp).
	Init(ctx context.Context) error
	// Applied returns the rows of _migrations in version order. It never
	// creates the table: a database without one has applied nothing (nil,
	// nil), so that Status and the plans leave a database as they found it.
	Applied(ctx context.Context) ([]Record, error)
	// Apply applies (Up) or reverts (Down) m together with inserting or
	// deleting its _migrations row, atomically: all of it or none of it.
	// Inside that transaction it re-reads whether m is applied and returns
	// ErrAlreadyApplied, changing nothing, if another runner got there
	// first. On Up it records the row built by NewRecord with the start time
	// and the duration it measured. A failure is a *MigrationError.
	Apply(ctx context.Context, m *Migration, dir Direction) (Record, error)
	// Stamp inserts rows for migrations without running them (baselining
	// an existing database), in one transaction, skipping rows present.
	Stamp(ctx context.Context, recs []Record) error
}

// A NoticeStore is a Store with remarks about the migration it last
// applied that are not errors, such as a statement it recognised and did
// not need to run. The Provider copies them into Result.Notices.
type NoticeStore interface {
	Store
	// LastNotices returns the notices of the last Apply call, one line
	// each, naming the file line they are about.
	LastNotices() []string
}

// A Versioner is a Store that reads the newest applied version without
// reading every row (SELECT max(version)). [Provider.Version] and
// [StoreVersion] use it when the store has it.
type Versioner interface {
	Store
	// Version returns the newest applied version, 0 when none is or the
	// tracking table does not exist. It never creates the table.
	Version(ctx context.Context) (int64, error)
}
