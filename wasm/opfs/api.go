// Package opfs implements the "opfs" SQLite VFS for
// github.com/ncruces/go-sqlite3 on the browser's Origin Private File System,
// through FileSystemSyncAccessHandle
// (https://developer.mozilla.org/docs/Web/API/FileSystemSyncAccessHandle).
// Sync access handles exist only in dedicated Web Workers.
//
// Importing the package registers the VFS:
//
//	import _ "github.com/larderdb/larder/wasm/opfs"
//
//	db, err := sqlite3.Open("file:app.db?vfs=opfs")
//
// Each database lives in its own OPFS directory, larder/<name>/, holding a
// layout marker (LAYOUT, format version 1) and the files db, db-journal and
// db-wal. All the Promise-returning steps (directory handles, one sync
// access handle per file) happen when the database is first opened or in
// [Preopen]; after that every read, write and flush is a synchronous call,
// so a transaction awaits nothing. A host that opened a database's handles
// before the Go program started (Larder's worker does, while larder.wasm
// compiles) hands them over through the global function
// __larderOPFSPrepared(name), which returns undefined or a Promise of
// {LAYOUT, db, "db-journal", "db-wal"} sync access handles; the VFS adopts
// them instead of opening its own.
//
// Durability: a flush of a sync access handle is an fsync. Open every
// connection with [RecommendedPragmas]: WAL in exclusive locking mode with
// synchronous=FULL commits with one flush of the WAL per transaction. The
// default rollback journal works too (and is crash-safe), with about four
// flushes per commit.
//
// Locking is in-process: one connection per database per worker is the
// supported use, and the single owner per origin is enforced above the VFS
// (Larder's worker elects it with Web Locks). A second worker or tab
// opening the same database gets SQLITE_BUSY (its createSyncAccessHandle
// fails with NoModificationAllowedError) after [Preopen]'s retries.
package opfs

import (
	"context"
	"fmt"

	"github.com/larderdb/larder/wasm/vfscore"
	"github.com/ncruces/go-sqlite3/vfs"
)

// VFSName is the name the VFS is registered under.
const VFSName = "opfs"

// RecommendedPragmas are the statements to run on every new connection to
// an OPFS database, in this order, before anything else: exclusive locking
// (required for WAL without shared memory, and it keeps SQLite's page cache
// valid across transactions), WAL, synchronous=FULL so that a commit
// flushes the WAL and survives a killed worker or a power loss, and a
// journal_size_limit so that a checkpoint after a big transaction (an
// import) gives the WAL's space back to the quota. synchronous=OFF must
// never be used.
const RecommendedPragmas = "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA journal_size_limit=4194304;"

var core = mustNew(platformBackend{})

func init() {
	vfs.Register(VFSName, core)
}

func newVFS(b vfscore.Backend) (*vfscore.VFS, error) {
	return vfscore.New(b, vfscore.Options{
		Name:       VFSName,
		SectorSize: 4096,
		// Each sync access handle call crosses into JavaScript: write a
		// commit's WAL frames in one call instead of two per page.
		WriteBuffer: 256 << 10,
	})
}

func mustNew(b vfscore.Backend) *vfscore.VFS {
	v, err := newVFS(b)
	if err != nil {
		panic(err)
	}
	return v
}

// Available reports whether OPFS sync access handles can be used here:
// navigator.storage.getDirectory and FileSystemSyncAccessHandle exist (a
// dedicated worker of a browser that has them). It is always false outside
// GOOS=js. It does not prove that storage works: Safari's private mode has
// the API but fails to open files, which [Preopen] reports.
func Available() bool { return available() }

// Preopen does every asynchronous step for database name now: it opens
// larder/<name>/ (creating it), checks its layout marker and opens a sync
// access handle on each file, keeping them until [Release]. When another
// owner still holds the handles (sync access handles are exclusive, and a
// previous page may still be closing after a reload) it retries with backoff for about 5 seconds, then fails with
// an error carrying SQLITE_BUSY. name is the SQLite file name the database
// is opened with (file:<name>?vfs=opfs), without leading slashes.
func Preopen(ctx context.Context, name string) error {
	return core.Preopen(ctx, name)
}

// Release closes every handle of database name, so that the next owner can
// open them. Call it after closing the SQLite connection and on pagehide.
// Releasing a database that is not open does nothing.
func Release(name string) error {
	return core.Release(name)
}

// Delete releases database name and removes all its storage (the directory
// larder/<name>/). Deleting a database that does not exist succeeds.
func Delete(ctx context.Context, name string) error {
	if err := vfscore.ValidName(name); err != nil {
		return fmt.Errorf("opfs: delete: %w", err)
	}
	if err := core.Release(name); err != nil {
		return err
	}
	return removeDatabase(ctx, name)
}

// Storage is the OPFS backend as one value: the methods a host that opens
// databases by name calls (Larder's engine.Storage and engine.FileExporter;
// larder.wasm registers it as "opfs").
type Storage struct{}

var pragmas = vfscore.Statements(RecommendedPragmas)

// Available is [Available].
func (Storage) Available() bool { return Available() }

// Preopen is [Preopen].
func (Storage) Preopen(ctx context.Context, name string) error { return Preopen(ctx, name) }

// URI is the SQLite filename of database name: file:NAME?vfs=opfs.
func (Storage) URI(name string) string { return "file:" + name + "?vfs=" + VFSName }

// Pragmas are [RecommendedPragmas], one statement each.
func (Storage) Pragmas() []string { return pragmas }

// Release is [Release].
func (Storage) Release(name string) error { return Release(name) }

// Delete is [Delete].
func (Storage) Delete(ctx context.Context, name string) error { return Delete(ctx, name) }

// ExportsFile reports true: a sync access handle reads a whole database
// file in one call, much faster than a backup reads it page by page.
func (Storage) ExportsFile() bool { return true }
