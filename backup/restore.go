package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
	"github.com/larderdb/larder/seed"
)

// header is the first 16 bytes of every SQLite database file
// (https://sqlite.org/fileformat.html#the_database_header).
const header = "SQLite format 3\x00"

// Verify checks that path is a usable Larder database without changing
// it: the SQLite header, PRAGMA integrity_check, and a readable
// _migrations table. It returns an *InvalidError saying what is wrong.
func Verify(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	buf := make([]byte, 100)
	n, err := io.ReadFull(f, buf)
	f.Close()
	if n < len(buf) || !bytes.Equal(buf[:len(header)], []byte(header)) {
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("verify: %w", err)
		}
		return &InvalidError{Path: path, Reason: "no SQLite header (not an SQLite database file)"}
	}
	conn, err := sqlite3.OpenFlags(path, sqlite3.OPEN_READONLY)
	if err != nil {
		return &InvalidError{Path: path, Reason: "cannot open: " + err.Error(), Err: err}
	}
	defer conn.Close()
	old := conn.SetInterrupt(ctx)
	defer conn.SetInterrupt(old)
	if err := integrityCheck(conn, path); err != nil {
		return err
	}
	found, err := sqlite.HasTable(conn, "_migrations")
	if err != nil {
		return &InvalidError{Path: path, Reason: "cannot read the schema: " + err.Error(), Err: err}
	}
	if !found {
		return &InvalidError{Path: path, Reason: "no _migrations table (not a Larder database)"}
	}
	if _, err := sqlite.NewStore(conn).Applied(ctx); err != nil {
		return &InvalidError{Path: path, Reason: "_migrations is not readable: " + err.Error(), Err: err}
	}
	return nil
}

// A Snapshot is the backup a destructive operation made of the database
// it replaced.
type Snapshot struct {
	// Path is the backup's path; "" when there was no database to back up.
	Path string `json:"path"`
	// Raw is true when the database could not be read as SQLite (corrupt,
	// or not a database): Path is then a byte-for-byte copy of its file.
	Raw bool `json:"raw"`
}

// Restore replaces the database at db with a copy of the backup at from.
// It verifies from first (header, integrity, _migrations readable) and
// refuses an invalid file with an *InvalidError, leaving db untouched.
// The current database, if any, is backed up beside itself before it is
// replaced; the returned Snapshot names that backup, also when a later
// step fails.
func Restore(ctx context.Context, db, from string) (Snapshot, error) {
	if err := Verify(ctx, from); err != nil {
		return Snapshot{}, fmt.Errorf("restore: %w", err)
	}
	dir := filepath.Dir(db)
	tmp, err := tempFile(dir, filepath.Base(db))
	if err != nil {
		return Snapshot{}, fmt.Errorf("restore: %w", err)
	}
	defer removeDB(tmp)
	src, err := sqlite3.OpenFlags(from, sqlite3.OPEN_READONLY)
	if err != nil {
		return Snapshot{}, fmt.Errorf("restore: open %s: %w", from, err)
	}
	err = src.BusyTimeout(defaultBusy)
	if err == nil {
		err = snapshot(ctx, src, tmp)
	}
	src.Close()
	if err != nil {
		return Snapshot{}, fmt.Errorf("restore: copy %s: %w", from, err)
	}
	if err := finish(ctx, tmp); err != nil {
		return Snapshot{}, fmt.Errorf("restore: %w", err)
	}
	return replace(ctx, db, tmp, "restore")
}

// ResetOptions say what a reset database is built from.
type ResetOptions struct {
	// Migrations to apply to the new, empty database. Required.
	Migrations []*migrations.Migration
	// Migrate tunes the migration run.
	Migrate migrations.Options
	// Seeds, if any, are applied after the migrations.
	Seeds []*seed.Seed
}

// ResetResult is what Reset did.
type ResetResult struct {
	Backup   Snapshot            // the backup of the database it replaced
	Migrated []migrations.Result // migrations applied to the new database
	Seeded   []seed.Result       // seeds applied to it
}

// Reset replaces the database at db with a new one built from
// opts.Migrations and opts.Seeds. The new database is built beside db
// first, so a failing migration or seed leaves db untouched; then the
// current database, if any, is backed up and replaced. The result names
// the backup, also when a later step fails.
func Reset(ctx context.Context, db string, opts ResetOptions) (ResetResult, error) {
	var res ResetResult
	if len(opts.Migrations) == 0 {
		return res, fmt.Errorf("reset: %w", migrations.ErrNoMigrations)
	}
	tmp, err := tempFile(filepath.Dir(db), filepath.Base(db))
	if err != nil {
		return res, fmt.Errorf("reset: %w", err)
	}
	defer removeDB(tmp)
	if err := build(ctx, tmp, opts, &res); err != nil {
		return res, fmt.Errorf("reset: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return res, fmt.Errorf("reset: %w", err)
	}
	res.Backup, err = replace(ctx, db, tmp, "reset")
	return res, err
}

func build(ctx context.Context, path string, opts ResetOptions, res *ResetResult) error {
	conn, err := sqlite.Open(path)
	if err != nil {
		return err
	}
	defer conn.Close()
	if res.Migrated, err = sqlite.Migrate(ctx, conn, opts.Migrations, opts.Migrate); err != nil {
		return err
	}
	if len(opts.Seeds) > 0 {
		if res.Seeded, err = seed.Apply(ctx, conn, opts.Seeds, seed.Options{Migrations: opts.Migrations}); err != nil {
			return err
		}
	}
	return conn.Close()
}

// defaultBusy is how long a backup waits for writers holding a lock.
const defaultBusy = 30 * time.Second

// replace backs up db (if it exists) and renames the finished database tmp
// over it, removing db's journal leftovers first.
func replace(ctx context.Context, db, tmp, op string) (Snapshot, error) {
	snap, err := saveCurrent(ctx, db)
	if err != nil {
		return snap, fmt.Errorf("%s: back up the current database first: %w", op, err)
	}
	if !snap.Raw && snap.Path != "" {
		// Our connection is closed: SQLite deletes the -wal file when
		// the last connection closes, so one still there belongs to
		// another open connection, which would keep writing to the old
		// file.
		if _, err := os.Stat(db + "-wal"); err == nil {
			return snap, fmt.Errorf("%s: %s: %w (its -wal file is in use); close it and retry", op, db, ErrInUse)
		}
	}
	for _, suffix := range []string{"-journal", "-wal", "-shm"} {
		if err := os.Remove(db + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return snap, fmt.Errorf("%s: remove %s: %w", op, db+suffix, err)
		}
	}
	if err := os.Rename(tmp, db); err != nil {
		return snap, fmt.Errorf("%s: %w", op, err)
	}
	if err := syncDir(filepath.Dir(db)); err != nil {
		return snap, fmt.Errorf("%s: %w", op, err)
	}
	return snap, nil
}

// saveCurrent backs up db before it is replaced: with Backup when it is a
// readable database, else as a raw copy of its bytes, so that nothing is
// lost either way.
func saveCurrent(ctx context.Context, db string) (Snapshot, error) {
	if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
		return Snapshot{}, nil
	}
	p, err := Backup(ctx, db, "")
	if err == nil {
		return Snapshot{Path: p}, nil
	}
	if !unreadable(err) {
		return Snapshot{}, err
	}
	p = unique(DefaultPath(db, time.Now()))
	if err := rawCopy(db, p); err != nil {
		return Snapshot{}, fmt.Errorf("raw copy: %w", err)
	}
	return Snapshot{Path: p, Raw: true}, nil
}

// unreadable reports whether err says the database itself is broken, as
// opposed to a failure to reach it (permissions, locks, disk).
func unreadable(err error) bool {
	if errors.Is(err, ErrInvalid) || errors.Is(err, sqlite.ErrNotDatabase) {
		return true
	}
	return errors.Is(err, sqlite3.CORRUPT) || errors.Is(err, sqlite3.NOTADB)
}

func rawCopy(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := tempFile(filepath.Dir(dst), filepath.Base(dst))
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if e := out.Close(); err == nil {
		err = e
	}
	if err != nil {
		return err
	}
	return publish(tmp, dst)
}
