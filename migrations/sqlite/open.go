package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
)

// ErrNotDatabase is returned by Open for a file that is not an SQLite
// database.
var ErrNotDatabase = errors.New("not an SQLite database")

// Open opens (creating if needed) the SQLite database at path for
// migrating: foreign keys on, a busy timeout so concurrent runners wait for
// each other, and the file checked to be SQLite. Use OpenExisting to refuse
// a missing file.
func Open(path string) (*sqlite3.Conn, error) {
	return open(path, sqlite3.OPEN_READWRITE|sqlite3.OPEN_CREATE)
}

// OpenExisting is Open for a file that must already exist.
func OpenExisting(path string) (*sqlite3.Conn, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return open(path, sqlite3.OPEN_READWRITE)
}

func open(path string, flags sqlite3.OpenFlag) (*sqlite3.Conn, error) {
	conn, err := sqlite3.OpenFlags(path, flags)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := Harden(conn); err != nil {
		conn.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := conn.BusyTimeout(30 * time.Second); err != nil {
		conn.Close()
		return nil, err
	}
	// Reading the schema is the first access to the file: a non-SQLite
	// file fails here with SQLITE_NOTADB.
	if err := conn.Exec("PRAGMA foreign_keys=ON; SELECT count(*) FROM sqlite_schema"); err != nil {
		conn.Close()
		if errors.Is(err, sqlite3.NOTADB) {
			return nil, fmt.Errorf("open %s: %w", path, ErrNotDatabase)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return conn, nil
}

// Harden turns on SQLite's defensive settings on conn, before it reads
// anything: SQLITE_DBCONFIG_DEFENSIVE (no writable_schema, no writes to
// shadow tables or sqlite_dbpage: https://sqlite.org/c3ref/c_dbconfig_defensive.html),
// PRAGMA cell_size_check=ON (malformed b-tree cells are caught as they are
// read) and PRAGMA trusted_schema=OFF (views, triggers and indexes of the
// file may only call functions marked innocuous). Every connection Larder
// opens calls it.
func Harden(conn *sqlite3.Conn) error {
	if _, err := conn.Config(sqlite3.DBCONFIG_DEFENSIVE, true); err != nil {
		return fmt.Errorf("defensive mode: %w", err)
	}
	if err := conn.Exec("PRAGMA trusted_schema=OFF; PRAGMA cell_size_check=ON"); err != nil {
		return fmt.Errorf("defensive pragmas: %w", err)
	}
	return nil
}

// Migrate applies every pending migration in migs to conn: the one call a
// Go program makes at start-up.
func Migrate(ctx context.Context, conn *sqlite3.Conn, migs []*migrations.Migration, opts migrations.Options) ([]migrations.Result, error) {
	p, err := migrations.NewProvider(NewStore(conn), migs, opts)
	if err != nil {
		return nil, err
	}
	return p.Up(ctx, 0)
}
