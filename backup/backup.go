// Package backup makes destructive operations on a Larder SQLite database
// safe: consistent backups with SQLite's online backup API
// (https://sqlite.org/backup.html), validated restores that replace the
// database file atomically, and resets that rebuild a database from its
// migrations (and seeds). Restore and Reset back up the database they
// replace first and return that backup's path.
//
// # Backups
//
// [Backup] copies the database with sqlite3_backup_step while holding a
// read transaction on it, so the copy is one consistent snapshot even while
// other connections or processes write (they wait on SQLite's locks, or,
// in WAL mode, carry on). The copy is written to a temporary file in the
// target directory, switched to journal_mode=DELETE (a single
// self-contained file that the browser's import accepts), checked with
// PRAGMA integrity_check, fsynced, and only then given its name, which is
// never an existing file's. By default the backup sits beside the database
// and is named after it with a UTC timestamp: app.db.20261121T224500Z.bak.
//
// # Restores and resets
//
// [Restore] and [Reset] build the new database in a temporary file in the
// database's directory, back up the current database, remove the current
// database's -journal, -wal and -shm leftovers and rename the new file over
// it (https://sqlite.org/atomiccommit.html: rename is atomic, so a crash
// leaves either the old database or the new one). Other processes must not
// have the database open meanwhile: one that does keeps writing to the old,
// replaced file. A -wal file that outlives Larder's own connection is taken
// as a sign of such a process, and the replacement is refused with
// [ErrInUse].
package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations/sqlite"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrInvalid: a file is not a usable Larder database (see InvalidError).
	ErrInvalid = errors.New("not a valid Larder database")
	// ErrExists: the backup path given already exists; backups never
	// overwrite a file.
	ErrExists = errors.New("backup file already exists")
	// ErrInUse: another connection still has the database open.
	ErrInUse = errors.New("database is open in another process")
)

// InvalidError says why a file was refused.
type InvalidError struct {
	Path   string
	Reason string
	Err    error // the SQLite error behind the reason, if any
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("%s: %v: %s", e.Path, ErrInvalid, e.Reason)
}

func (e *InvalidError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalid}
	}
	return []error{ErrInvalid, e.Err}
}

// TimeFormat is the UTC timestamp in default backup names.
const TimeFormat = "20060102T150405Z"

// DefaultPath is the name of a backup of db taken at t: beside db, with
// t in UTC: "data/app.db" -> "data/app.db.20261121T224500Z.bak".
func DefaultPath(db string, t time.Time) string {
	return db + "." + t.UTC().Format(TimeFormat) + ".bak"
}

// Backup writes a consistent, checked copy of the database at db and
// returns its path. out is the backup's path, which must not exist; an
// existing directory, to put the default name in it; or "" for
// DefaultPath beside db (with "-2", "-3"… added when a backup of that
// second exists).
func Backup(ctx context.Context, db, out string) (string, error) {
	if _, err := os.Stat(db); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	dst, err := target(db, out, time.Now())
	if err != nil {
		return "", err
	}
	src, err := sqlite.OpenExisting(db)
	if err != nil {
		if errors.Is(err, sqlite.ErrNotDatabase) || errors.Is(err, sqlite3.NOTADB) {
			return "", fmt.Errorf("backup: %w", &InvalidError{Path: db, Reason: "not an SQLite database", Err: err})
		}
		return "", fmt.Errorf("backup: %w", err)
	}
	defer src.Close()
	tmp, err := tempFile(filepath.Dir(dst), filepath.Base(dst))
	if err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	defer removeDB(tmp)
	if err := snapshot(ctx, src, tmp); err != nil {
		return "", fmt.Errorf("backup %s: %w", db, err)
	}
	if err := finish(ctx, tmp); err != nil {
		var ie *InvalidError
		if errors.As(err, &ie) {
			ie.Path = db // the copy is faithful: the source is what fails the check
		}
		return "", fmt.Errorf("backup %s: %w", db, err)
	}
	if err := publish(tmp, dst); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	return dst, nil
}

// target resolves Backup's out argument.
func target(db, out string, now time.Time) (string, error) {
	if out != "" {
		fi, err := os.Stat(out)
		switch {
		case err == nil && fi.IsDir():
			return unique(filepath.Join(out, filepath.Base(DefaultPath(db, now)))), nil
		case err == nil:
			return "", fmt.Errorf("backup: %s: %w", out, ErrExists)
		case !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("backup: %w", err)
		}
		if _, err := os.Stat(filepath.Dir(out)); err != nil {
			return "", fmt.Errorf("backup: directory of %s: %w", out, err)
		}
		return out, nil
	}
	return unique(DefaultPath(db, now)), nil
}

// unique adds -2, -3, … before ".bak" until the name is free.
func unique(p string) string {
	base := strings.TrimSuffix(p, ".bak")
	for i := 2; ; i++ {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			return p
		}
		p = base + "-" + strconv.Itoa(i) + ".bak"
	}
}

// snapshot copies the main database of src into the new file dst with the
// online backup API, in one step under a read transaction on src, so the
// copy is a single consistent state of the database.
func snapshot(ctx context.Context, src *sqlite3.Conn, dst string) (err error) {
	old := src.SetInterrupt(ctx)
	defer src.SetInterrupt(old)
	// BEGIN alone takes no lock: reading the schema takes the shared lock,
	// waiting for writers through the busy timeout.
	if err := src.Exec("BEGIN; SELECT count(*) FROM sqlite_schema"); err != nil {
		if !src.GetAutocommit() {
			src.Exec("ROLLBACK")
		}
		return err
	}
	defer src.Exec("ROLLBACK")
	b, err := src.BackupInit("main", dst)
	if err != nil {
		return err
	}
	defer func() {
		if e := b.Close(); err == nil {
			err = e
		}
	}()
	done, err := b.Step(-1)
	if err == nil && !done {
		err = errors.New("backup step stopped before the end")
	}
	return err
}

// finish makes the copy at path a self-contained rollback-journal
// database, checks it and flushes it to disk.
func finish(ctx context.Context, path string) error {
	conn, err := sqlite3.OpenFlags(path, sqlite3.OPEN_READWRITE)
	if err != nil {
		return err
	}
	if err := sqlite.Harden(conn); err != nil {
		conn.Close()
		return err
	}
	old := conn.SetInterrupt(ctx)
	err = conn.Exec("PRAGMA journal_mode=DELETE")
	if err == nil {
		err = integrityCheck(conn, path)
	}
	conn.SetInterrupt(old)
	if e := conn.Close(); err == nil {
		err = e
	}
	if err != nil {
		return err
	}
	return syncFile(path)
}

// integrityCheck runs PRAGMA integrity_check and returns an *InvalidError
// with its first messages unless it says "ok".
func integrityCheck(conn *sqlite3.Conn, path string) error {
	stmt, _, err := conn.Prepare("PRAGMA integrity_check(10)")
	if err != nil {
		return &InvalidError{Path: path, Reason: "integrity_check: " + err.Error(), Err: err}
	}
	defer stmt.Close()
	var msgs []string
	for stmt.Step() {
		msgs = append(msgs, stmt.ColumnText(0))
	}
	if err := stmt.Err(); err != nil {
		return &InvalidError{Path: path, Reason: "integrity_check: " + err.Error(), Err: err}
	}
	if len(msgs) == 1 && msgs[0] == "ok" {
		return nil
	}
	return &InvalidError{Path: path, Reason: "integrity_check: " + strings.Join(msgs, "; ")}
}

// tempFile creates an empty file in dir for a database being built, named
// after the file it will become.
func tempFile(dir, name string) (string, error) {
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return "", err
	}
	return f.Name(), f.Close()
}

// removeDB removes a database file and its journal files; missing files
// are fine.
func removeDB(path string) {
	for _, suffix := range []string{"", "-journal", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
}

// publish gives the finished file tmp the name dst, refusing to replace
// an existing file, and flushes the directory.
func publish(tmp, dst string) error {
	if err := os.Link(tmp, dst); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %w", dst, ErrExists)
		}
		// No hard links here (some file systems): check, then rename.
		if _, serr := os.Lstat(dst); serr == nil {
			return fmt.Errorf("%s: %w", dst, ErrExists)
		}
		if err := os.Rename(tmp, dst); err != nil {
			return err
		}
	} else if err := os.Remove(tmp); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dst))
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if e := f.Close(); err == nil {
		err = e
	}
	return err
}

func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for syncing; renames are durable
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
