// Package vfscore is the plain-Go storage core shared by Larder's browser
// SQLite VFSes ([github.com/larderdb/larder/wasm/opfs] and
// [github.com/larderdb/larder/wasm/idb]).
//
// It implements the SQLite VFS interface of github.com/ncruces/go-sqlite3
// ([vfs.VFS], https://sqlite.org/c3ref/vfs.html) over a small [Handle]
// interface — ReadAt, WriteAt, Truncate, Size, Flush — so that all the logic
// that decides durability (name mapping, locking, error codes, short writes,
// batch-atomic commits) builds and is tested natively, with fault-injecting
// fake handles and real SQLite. The browser packages only adapt OPFS sync
// access handles or IndexedDB to [Handle] and implement a [Backend].
//
// Each database is a set of up to three persistent files (the main database,
// its rollback journal and its WAL, see [Kind]); every other file SQLite asks
// for (temporary databases, statement sub-journals, super-journals) lives in
// memory. Locking is in-process only: the browser allows one owner per
// database, enforced above the VFS with Web Locks, and GOOS=js has no file
// locks.
package vfscore

import (
	"context"
	"io"
	"strings"

	"github.com/ncruces/go-sqlite3/vfs"
)

// Handle is one open persistent file: an OPFS FileSystemSyncAccessHandle, or
// a file kept as blocks in IndexedDB.
//
// WriteAt may return a count shorter than len(p) with a nil error (an OPFS
// sync access handle does that when the quota is exhausted): the core treats
// any short count as SQLITE_FULL. ReadAt past the end returns a short count
// and io.EOF (or nil). Flush makes every write before it durable.
type Handle interface {
	io.ReaderAt
	io.WriterAt
	Truncate(size int64) error
	Size() (int64, error)
	Flush() error
}

// AtomicHandle is a [Handle] whose Flush is atomic: after a crash the file
// holds exactly the contents of some completed Flush. Writes since the last
// Flush can be dropped with Discard. A main database on an AtomicHandle
// offers SQLite batch-atomic writes ([vfs.FileBatchAtomicWrite]), so a
// transaction commits as a single Flush with no journal.
type AtomicHandle interface {
	Handle
	// Discard drops every write and truncate since the last Flush.
	Discard()
	// Dirty reports whether there are writes or truncates since the last
	// Flush.
	Dirty() bool
}

// Configurable is a [Handle] that takes settings from the URI parameters a
// database is opened with (file:app.db?vfs=idb&durability=strict). The keys
// it understands are listed in [Options].URIParams; Configure is called on
// each of the database's handles when its main file is opened with one of
// them set.
type Configurable interface {
	Handle
	Configure(key, value string) error
}

// Kind is which of a database's persistent files a [Handle] holds.
type Kind int

const (
	MainDB  Kind = iota // the database file
	Journal             // the rollback journal ("-journal")
	WAL                 // the write-ahead log ("-wal")
)

func (k Kind) String() string {
	switch k {
	case MainDB:
		return "db"
	case Journal:
		return "journal"
	case WAL:
		return "wal"
	}
	return "unknown"
}

// Backend gives access to the stored databases of one browser storage.
type Backend interface {
	// Acquire opens (creating them when missing) the persistent files of
	// database name. It may block the calling goroutine on browser Promises;
	// the core calls it only when the database is not open yet, never on the
	// path of a transaction of an open database.
	Acquire(ctx context.Context, name string) (Files, error)
}

// Files is the set of open handles of one database, from [Backend.Acquire].
type Files interface {
	// Handle returns the handle of the file of kind k.
	Handle(k Kind) (Handle, error)
	// Close closes every handle, so that another owner can open them.
	Close() error
}

// Revocable is a [Files] that the browser can take away (an IndexedDB
// connection closed by a versionchange from another context). Once Revoked
// reports true, the core acquires the database afresh on its next open;
// files still open on the old handles fail with I/O errors.
type Revocable interface {
	Files
	Revoked() bool
}

// Options configure a [VFS].
type Options struct {
	// Name is used in error messages ("opfs", "idb").
	Name string
	// SectorSize reported to SQLite; 4096 when zero.
	SectorSize int
	// Characteristics are extra SQLite device characteristics
	// (https://sqlite.org/c3ref/c_iocap_atomic.html) that the backend
	// guarantees. IOCAP_POWERSAFE_OVERWRITE is always reported;
	// IOCAP_BATCH_ATOMIC is reported for main databases on an [AtomicHandle].
	Characteristics vfs.DeviceCharacteristic
	// URIParams are the URI parameters passed on to [Configurable]
	// handles.
	URIParams []string
	// WriteBuffer, when positive, coalesces contiguous writes of up to
	// that many bytes into one WriteAt of a (non-atomic) handle, written
	// out before an overlapping read, a truncate or a flush. It saves the
	// per-call cost of handles that cross into JavaScript.
	WriteBuffer int
}

// Statements splits a list of SQL statements separated by semicolons (such
// as a VFS package's RecommendedPragmas) into one statement each.
func Statements(list string) []string {
	var out []string
	for _, s := range strings.Split(list, ";") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
