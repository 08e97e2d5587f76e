// Package idb implements the "idb" SQLite VFS for
// github.com/ncruces/go-sqlite3 on IndexedDB
// (https://developer.mozilla.org/docs/Web/API/IndexedDB_API), for contexts
// without OPFS sync access handles: service workers, MV3 extension
// background workers, Safari's private mode, and pages.
//
// Importing the package registers the VFS:
//
//	import _ "github.com/larderdb/larder/wasm/idb"
//
//	db, err := sqlite3.Open("file:app.db?vfs=idb")
//
// Each database is an IndexedDB database named "larder/<name>" whose
// version is the storage layout version (1). Files (db, journal, wal) are
// stored as 4 KiB blocks in the object store "blocks", keyed by
// [file, index], and their sizes in the object store "files". Writes stay
// in Go memory until SQLite syncs; a sync (or a batch-atomic commit) is one
// readwrite IndexedDB transaction, and returns once that transaction has
// completed, so the stored file is always the file as of some completed
// sync.
//
// Commits use the browser's default IndexedDB durability, like every
// IndexedDB library: a commit survives a killed worker, a closed tab and a
// crashed browser. Open with ?durability=strict (file:app.db?vfs=idb&durability=strict)
// to also survive an OS crash or power loss, at the cost of an fsync per
// commit; relaxed is accepted too. Either way a crash never leaves a
// partial transaction: each commit is one atomic IndexedDB transaction.
//
// The main database offers SQLite batch-atomic writes
// (SQLITE_IOCAP_BATCH_ATOMIC): a transaction whose pages fit in SQLite's
// page cache commits as a single IndexedDB transaction with no journal.
// Larger transactions fall back to the rollback journal, which is stored
// the same way. Reads are served from a bounded cache (8 MiB of blocks per
// file; databases that fit are loaded whole by [Preopen]); a miss reads 64
// KiB ahead in one IndexedDB transaction. No IndexedDB transaction is ever
// kept open across another wait: Chrome aborts IndexedDB transactions left
// idle for 60 s.
//
// Locking is in-process, as for the opfs VFS: one connection per database,
// with one owner per origin enforced above the VFS.
package idb

import (
	"context"
	"fmt"

	"github.com/larderdb/larder/wasm/vfscore"
	"github.com/ncruces/go-sqlite3/vfs"
)

// VFSName is the name the VFS is registered under.
const VFSName = "idb"

// RecommendedPragmas are the statements to run on every new connection to
// an IndexedDB database, before anything else: a rollback journal
// truncated after use (only written when a transaction does not fit the
// page cache; otherwise commits are batch-atomic), and synchronous=FULL
// (batch-atomic commits need syncs on; synchronous=OFF must never be used).
//
// Do not set locking_mode=EXCLUSIVE on this VFS: SQLite then keeps the
// journal file open across transactions, and a journal opened while the
// database was empty disables batch-atomic commits for the connection's
// whole life (about four IndexedDB transactions per commit instead of one).
// In normal locking mode SQLite re-validates its page cache per
// transaction by reading the database header, which the VFS serves from
// memory.
const RecommendedPragmas = "PRAGMA journal_mode=TRUNCATE; PRAGMA synchronous=FULL;"

// layoutVersion is the version of the IndexedDB database: object stores
// and key formats. A database written by a newer layout fails to open
// (VersionError) instead of being misread by older code.
const layoutVersion = 1

// dbPrefix prefixes the IndexedDB database name of each Larder database.
const dbPrefix = "larder/"

var core = mustNew(platformBackend{})

func init() {
	vfs.Register(VFSName, core)
}

func newVFS(b vfscore.Backend) (*vfscore.VFS, error) {
	return vfscore.New(b, vfscore.Options{
		Name:       VFSName,
		SectorSize: blockSize,
		URIParams:  []string{"durability"},
	})
}

func mustNew(b vfscore.Backend) *vfscore.VFS {
	v, err := newVFS(b)
	if err != nil {
		panic(err)
	}
	return v
}

// Available reports whether IndexedDB exists here (globalThis.indexedDB).
// It is always false outside GOOS=js.
func Available() bool { return available() }

// Preopen opens the IndexedDB database of name now (creating it), reads
// its file sizes and, when the database fits the cache, all its blocks, and
// keeps it open until [Release]. name is the SQLite file name the database
// is opened with (file:<name>?vfs=idb), without leading slashes.
func Preopen(ctx context.Context, name string) error {
	return core.Preopen(ctx, name)
}

// Release closes the IndexedDB connection of database name. Call it after
// closing the SQLite connection and on pagehide. Releasing a database that
// is not open does nothing.
func Release(name string) error {
	return core.Release(name)
}

// Delete releases database name and deletes its IndexedDB database.
// Deleting a database that does not exist succeeds.
func Delete(ctx context.Context, name string) error {
	if err := vfscore.ValidName(name); err != nil {
		return fmt.Errorf("idb: delete: %w", err)
	}
	if err := core.Release(name); err != nil {
		return err
	}
	return deleteDatabase(ctx, name)
}

// Storage is the IndexedDB backend as one value: the methods a host that
// opens databases by name calls (Larder's engine.Storage; larder.wasm
// registers it as "idb").
type Storage struct{}

var pragmas = vfscore.Statements(RecommendedPragmas)

// Available is [Available].
func (Storage) Available() bool { return Available() }

// Preopen is [Preopen].
func (Storage) Preopen(ctx context.Context, name string) error { return Preopen(ctx, name) }

// URI is the SQLite filename of database name: file:NAME?vfs=idb.
func (Storage) URI(name string) string { return "file:" + name + "?vfs=" + VFSName }

// Pragmas are [RecommendedPragmas], one statement each.
func (Storage) Pragmas() []string { return pragmas }

// Release is [Release].
func (Storage) Release(name string) error { return Release(name) }

// Delete is [Delete].
func (Storage) Delete(ctx context.Context, name string) error { return Delete(ctx, name) }
