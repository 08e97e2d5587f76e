package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/internal/sqlutil"
)

// Store is a migrations.Store on one SQLite connection. It is not safe for
// concurrent use; several Stores (processes, connections) on one database
// file are, through SQLite's locking.
type Store struct {
	conn    *sqlite3.Conn
	now     func() time.Time
	notices []string              // of the last Apply
	wrapper *migrations.TxWrapper // recognised by the last Apply
}

var (
	_ migrations.NoticeStore = (*Store)(nil)
	_ migrations.Versioner   = (*Store)(nil)
)

// NewStore returns a Store on conn. The caller keeps ownership of conn.
func NewStore(conn *sqlite3.Conn) *Store {
	return &Store{conn: conn, now: time.Now}
}

// Init creates _migrations if needed.
func (s *Store) Init(ctx context.Context) error {
	return Exec(ctx, s.conn, migrations.TrackingTableSQL, 1)
}

// Applied reads _migrations in version order. A database without the
// table has applied nothing: Applied never creates it.
func (s *Store) Applied(ctx context.Context) ([]migrations.Record, error) {
	return readApplied(ctx, s.conn)
}

// Version reads the newest applied version: 0 when none is, or when the
// database has no _migrations table (which it does not create).
func (s *Store) Version(ctx context.Context) (int64, error) {
	old := s.conn.SetInterrupt(ctx)
	defer s.conn.SetInterrupt(old)
	if ok, err := HasTable(s.conn, "_migrations"); err != nil || !ok {
		return 0, err
	}
	return sqlutil.QueryInt(s.conn, `SELECT coalesce(max(version), 0) FROM _migrations`)
}

func readApplied(ctx context.Context, conn *sqlite3.Conn) ([]migrations.Record, error) {
	old := conn.SetInterrupt(ctx)
	defer conn.SetInterrupt(old)
	if ok, err := HasTable(conn, "_migrations"); err != nil || !ok {
		return nil, err
	}
	stmt, _, err := conn.Prepare(`SELECT version, name, checksum, applied_at, duration_ms, breaking FROM _migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	var recs []migrations.Record
	for stmt.Step() {
		r := migrations.Record{
			Version:    stmt.ColumnInt64(0),
			Name:       stmt.ColumnText(1),
			Checksum:   stmt.ColumnText(2),
			DurationMS: stmt.ColumnInt64(4),
			Breaking:   stmt.ColumnInt64(5) != 0,
		}
		at := stmt.ColumnText(3)
		if r.AppliedAt, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, fmt.Errorf("_migrations row %d: applied_at %q is not RFC 3339", r.Version, at)
		}
		recs = append(recs, r)
	}
	return recs, stmt.Err()
}

// Stamp inserts recs, skipping versions already present, in one transaction.
func (s *Store) Stamp(ctx context.Context, recs []migrations.Record) (err error) {
	c := s.conn
	if err := c.Exec("BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil && !c.GetAutocommit() {
			c.Exec("ROLLBACK")
		}
	}()
	for _, r := range recs {
		applied, err := isApplied(c, r.Version)
		if err != nil {
			return err
		}
		if !applied {
			if err := insertRecord(c, r); err != nil {
				return err
			}
		}
	}
	return c.Exec("COMMIT")
}

func isApplied(c *sqlite3.Conn, version int64) (bool, error) {
	stmt, _, err := c.Prepare("SELECT 1 FROM _migrations WHERE version = ?")
	if err != nil {
		return false, err
	}
	defer stmt.Close()
	if err := stmt.BindInt64(1, version); err != nil {
		return false, err
	}
	found := stmt.Step()
	return found, stmt.Err()
}

// HasTable reports whether the main schema of conn has a table called name.
func HasTable(c *sqlite3.Conn, name string) (bool, error) {
	stmt, _, err := c.Prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?")
	if err != nil {
		return false, err
	}
	defer stmt.Close()
	if err := stmt.BindText(1, name); err != nil {
		return false, err
	}
	found := stmt.Step()
	return found, stmt.Err()
}

func insertRecord(c *sqlite3.Conn, r migrations.Record) error {
	return Exec(context.Background(), c,
		`INSERT INTO _migrations (version, name, checksum, applied_at, duration_ms, breaking) VALUES (?, ?, ?, ?, ?, ?)`, 0,
		r.Version, r.Name, r.Checksum, r.AppliedAt.UTC().Format(migrations.TimeFormat), r.DurationMS, r.Breaking)
}

// ErrForeignKeyViolation reports rows that PRAGMA foreign_key_check found
// after a migration that ran with foreign keys off (also inside a table
// rebuild: it is rebuild.ErrForeignKeyViolation).
var ErrForeignKeyViolation = sqlutil.ErrForeignKeyViolation

// Tx is what a Go migration running on a Store gets: statements run inside
// the migration's transaction.
type Tx struct{ conn *sqlite3.Conn }

var _ migrations.Tx = (*Tx)(nil)

// Exec runs query (one or more statements), binding args to the first.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) error {
	return Exec(ctx, tx.conn, query, 1, args...)
}

// Conn is the connection, for what Exec cannot do (queries, blobs). Do not
// commit or roll back through it.
func (tx *Tx) Conn() *sqlite3.Conn { return tx.conn }

// Go wraps Go functions taking a *Tx as a code migration.
func Go(version int64, name string, up, down func(ctx context.Context, tx *Tx) error) *migrations.Migration {
	wrap := func(f func(context.Context, *Tx) error) migrations.Func {
		if f == nil {
			return nil
		}
		return func(ctx context.Context, tx migrations.Tx) error {
			t, ok := tx.(*Tx)
			if !ok {
				return fmt.Errorf("migration %d_%s needs a SQLite store, got %T", version, name, tx)
			}
			return f(ctx, t)
		}
	}
	return migrations.Go(version, name, wrap(up), wrap(down))
}
