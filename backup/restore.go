package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/internal/imagecheck"
	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
	"github.com/larderdb/larder/seed"
)

// RestoreOptions tune Restore and Verify.
type RestoreOptions struct {
	// Migrations are the migrations this code knows: the file's
	// _migrations rows must match them and its schema must be what they
	// build. Without them the schema cannot be checked, and the file is
	// refused unless AllowExtraSchema is set.
	Migrations []*migrations.Migration
	// AllowExtraSchema accepts schema objects the migrations do not
	// build (extra triggers, views, tables; objects that differ).
	AllowExtraSchema bool
	// Timeout bounds the checks (default imagecheck.DefaultTimeout, 5s):
	// a file too expensive to check is refused.
	Timeout time.Duration
}

// Verify checks that path is a Larder database Restore would accept,
// without changing it: the checks run on a private copy in a temporary
// directory. It returns an *InvalidError saying what is wrong.
func Verify(ctx context.Context, path string, opts RestoreOptions) error {
	dir, err := os.MkdirTemp("", "larder-verify-")
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := private(ctx, path, filepath.Join(dir, "copy.db"), opts); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	return nil
}

// private copies the database file from (and a -wal beside it) to the new
// file tmp, makes the copy a self-contained rollback-journal database and
// checks it (imagecheck), once, under the time budget, with defensive
// settings on. The source is only read, byte by byte: SQLite never opens
// it. A refusal is an *InvalidError naming from.
func private(ctx context.Context, from, tmp string, opts RestoreOptions) error {
	invalid := func(err error) error {
		var ie *imagecheck.Error
		if errors.As(err, &ie) {
			return &InvalidError{Path: from, Reason: ie.Reason, Err: err}
		}
		return err
	}
	wal, err := copyFile(from, tmp)
	if err != nil {
		return invalid(err)
	}
	budget, cancel := imagecheck.Budget(ctx, opts.Timeout)
	defer cancel()
	conn, err := imagecheck.Open(tmp, sqlite3.OPEN_READWRITE)
	if err != nil {
		return invalid(err)
	}
	defer conn.Close()
	if wal {
		// The copied -wal is replayed and checkpointed into the copy.
		old := conn.SetInterrupt(budget)
		err = conn.Exec("PRAGMA journal_mode=DELETE")
		conn.SetInterrupt(old)
		if err != nil {
			return invalid(&imagecheck.Error{Reason: "cannot replay its -wal file: " + err.Error(), Err: err})
		}
	}
	if _, err := imagecheck.Check(budget, conn, imagecheck.Options{Migrations: opts.Migrations, AllowExtraSchema: opts.AllowExtraSchema}); err != nil {
		return invalid(err)
	}
	if err := conn.Close(); err != nil {
		return err
	}
	os.Remove(tmp + "-wal")
	return syncFile(tmp)
}

// copyFile copies the database file from to the existing file dst,
// checking its header first. A WAL-mode header is turned into a
// rollback-journal one (bytes 18/19 = 1) unless a non-empty -wal file
// sits beside from: that is copied too, and wal reports it.
func copyFile(from, dst string) (wal bool, err error) {
	in, err := os.Open(from)
	if err != nil {
		return false, err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return false, err
	}
	head := make([]byte, 100)
	n, err := io.ReadFull(in, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return false, err
	}
	h, err := imagecheck.ParseHeader(head[:n], fi.Size())
	if err != nil {
		return false, err
	}
	if h.WAL {
		if wi, err := os.Stat(from + "-wal"); err == nil && wi.Size() > 0 {
			wal = true
		} else {
			head[18], head[19] = 1, 1
		}
	}
	if err := writeCopy(dst, head, in); err != nil {
		return false, err
	}
	if wal {
		w, err := os.Open(from + "-wal")
		if err != nil {
			return false, err
		}
		defer w.Close()
		if err := writeCopy(dst+"-wal", nil, w); err != nil {
			return false, err
		}
	}
	return wal, nil
}

// writeCopy writes head and then the rest of r to path.
func writeCopy(path string, head []byte, r io.Reader) error {
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = out.Write(head)
	if err == nil {
		_, err = io.Copy(out, r)
	}
	if e := out.Close(); err == nil {
		err = e
	}
	return err
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
// The copy is made first, beside db, and checked (see package
// imagecheck: header, _migrations against opts.Migrations, schema,
// integrity, under opts.Timeout); an invalid file is refused with an
// *InvalidError, leaving db untouched. The current database, if any, is
// backed up beside itself before it is replaced; the returned Snapshot
// names that backup, also when a later step fails.
func Restore(ctx context.Context, db, from string, opts RestoreOptions) (Snapshot, error) {
	tmp, err := tempFile(filepath.Dir(db), filepath.Base(db))
	if err != nil {
		return Snapshot{}, fmt.Errorf("restore: %w", err)
	}
	defer removeDB(tmp)
	if err := private(ctx, from, tmp, opts); err != nil {
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
