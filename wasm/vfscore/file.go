package vfscore

import (
	"errors"
	"fmt"
	"io"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"
)

// file is a persistent SQLite file over a Handle.
type file struct {
	vfs      *VFS
	db       *database
	kind     Kind
	h        Handle
	lock     vfs.LockLevel
	readOnly bool
	closed   bool
}

// atomicFile is a main database over an AtomicHandle: it offers SQLite
// batch-atomic writes.
type atomicFile struct {
	*file
	ah AtomicHandle
}

var (
	// Ensure these interfaces are implemented:
	_ vfs.FileLockState        = (*file)(nil)
	_ vfs.FileLockState        = (*atomicFile)(nil)
	_ vfs.FileBatchAtomicWrite = (*atomicFile)(nil)
	_ vfs.File                 = (*memFile)(nil)
)

// errReleased is the cause of I/O on a database after Release.
var errReleased = errors.New("database handles were released")

func (f *file) check(code sqlite3.ExtendedErrorCode) error {
	if f.db.closed.Load() {
		return vfs.SystemError(fmt.Errorf("%s: %q: %w", f.vfs.opts.Name, f.db.name, errReleased), code)
	}
	return nil
}

// Close implements [vfs.File]. The database's handles are closed with its
// last file unless Preopen pinned them.
func (f *file) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	f.Unlock(vfs.LOCK_NONE)
	return IOError(f.vfs.release(f.db), sqlite3.IOERR_CLOSE)
}

// ReadAt implements [vfs.File]. A short read returns io.EOF, which SQLite
// turns into SQLITE_IOERR_SHORT_READ with the rest zeroed.
func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if err := f.check(sqlite3.IOERR_READ); err != nil {
		return 0, err
	}
	n, err := f.h.ReadAt(p, off)
	if n == len(p) {
		return n, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return n, io.EOF
	}
	return n, IOError(err, sqlite3.IOERR_READ)
}

// WriteAt implements [vfs.File]. A short write means the storage quota is
// exhausted (a full quota makes FileSystemSyncAccessHandle.write return a
// short count instead of throwing): it fails with SQLITE_FULL.
func (f *file) WriteAt(p []byte, off int64) (int, error) {
	if err := f.check(sqlite3.IOERR_WRITE); err != nil {
		return 0, err
	}
	n, err := f.h.WriteAt(p, off)
	if err != nil {
		return n, IOError(err, sqlite3.IOERR_WRITE)
	}
	if n != len(p) {
		return 0, vfs.SystemError(fmt.Errorf("%s: write %s of %q: wrote %d of %d bytes: %w",
			f.vfs.opts.Name, f.kind, f.db.name, uint32(n), len(p), ErrQuota), sqlite3.FULL)
	}
	return n, nil
}

// Truncate implements [vfs.File].
func (f *file) Truncate(size int64) error {
	if err := f.check(sqlite3.IOERR_TRUNCATE); err != nil {
		return err
	}
	return IOError(f.h.Truncate(size), sqlite3.IOERR_TRUNCATE)
}

// Sync implements [vfs.File] by flushing the handle.
func (f *file) Sync(flags vfs.SyncFlag) error {
	if err := f.check(sqlite3.IOERR_FSYNC); err != nil {
		return err
	}
	return IOError(f.h.Flush(), sqlite3.IOERR_FSYNC)
}

// Size implements [vfs.File].
func (f *file) Size() (int64, error) {
	if err := f.check(sqlite3.IOERR_FSTAT); err != nil {
		return 0, err
	}
	size, err := f.h.Size()
	return size, IOError(err, sqlite3.IOERR_FSTAT)
}

// SectorSize implements [vfs.File].
func (f *file) SectorSize() int { return f.vfs.opts.SectorSize }

// DeviceCharacteristics implements [vfs.File].
func (f *file) DeviceCharacteristics() vfs.DeviceCharacteristic {
	return vfs.IOCAP_POWERSAFE_OVERWRITE | f.vfs.opts.Characteristics
}

// Lock implements [vfs.File] with in-process SQLite locks (the browser has
// no file locks; one owner per database is enforced above the VFS). It never
// waits: a conflict returns SQLITE_BUSY and SQLite's busy handler retries.
func (f *file) Lock(lock vfs.LockLevel) error {
	if f.lock >= lock {
		return nil
	}
	if f.readOnly && lock >= vfs.LOCK_RESERVED {
		return sqlite3.IOERR_LOCK
	}
	db := f.db
	db.lockMu.Lock()
	defer db.lockMu.Unlock()

	switch lock {
	case vfs.LOCK_SHARED:
		if db.pending {
			return sqlite3.BUSY
		}
		db.shared++

	case vfs.LOCK_RESERVED:
		if db.reserved {
			return sqlite3.BUSY
		}
		db.reserved = true

	case vfs.LOCK_EXCLUSIVE:
		if f.lock == vfs.LOCK_SHARED {
			if db.reserved {
				return sqlite3.BUSY
			}
			db.reserved = true
			f.lock = vfs.LOCK_RESERVED
		}
		if f.lock == vfs.LOCK_RESERVED {
			db.pending = true
			f.lock = vfs.LOCK_PENDING
		}
		if db.shared > 1 {
			return sqlite3.BUSY
		}

	default:
		return sqlite3.IOERR_LOCK
	}
	f.lock = lock
	return nil
}

// Unlock implements [vfs.File].
func (f *file) Unlock(lock vfs.LockLevel) error {
	if f.lock <= lock {
		return nil
	}
	db := f.db
	db.lockMu.Lock()
	defer db.lockMu.Unlock()

	if f.lock >= vfs.LOCK_RESERVED {
		db.reserved = false
	}
	if f.lock >= vfs.LOCK_PENDING {
		db.pending = false
	}
	if lock < vfs.LOCK_SHARED && f.lock >= vfs.LOCK_SHARED {
		db.shared--
	}
	f.lock = lock
	return nil
}

// CheckReservedLock implements [vfs.File].
func (f *file) CheckReservedLock() (bool, error) {
	if f.lock >= vfs.LOCK_RESERVED {
		return true, nil
	}
	f.db.lockMu.Lock()
	defer f.db.lockMu.Unlock()
	return f.db.reserved, nil
}

// LockState implements [vfs.FileLockState].
func (f *file) LockState() vfs.LockLevel { return f.lock }

// DeviceCharacteristics implements [vfs.File]: batch-atomic writes.
func (f *atomicFile) DeviceCharacteristics() vfs.DeviceCharacteristic {
	return f.file.DeviceCharacteristics() | vfs.IOCAP_BATCH_ATOMIC
}

// BeginAtomicWrite implements [vfs.FileBatchAtomicWrite]. An AtomicHandle
// stages every write until Flush, so there is nothing to start. Should
// unflushed writes from before the batch exist, it refuses
// (SQLITE_IOERR_BEGIN_ATOMIC), and SQLite commits through its rollback
// journal instead: flushing them here would make them durable apart from
// the rest of their transaction.
func (f *atomicFile) BeginAtomicWrite() error {
	if err := f.check(sqlite3.IOERR_BEGIN_ATOMIC); err != nil {
		return err
	}
	if f.ah.Dirty() {
		return vfs.SystemError(fmt.Errorf("%s: %q: unflushed writes before a batch-atomic write", f.vfs.opts.Name, f.db.name), sqlite3.IOERR_BEGIN_ATOMIC)
	}
	return nil
}

// CommitAtomicWrite implements [vfs.FileBatchAtomicWrite] with one atomic
// Flush: this is the commit point of the transaction.
func (f *atomicFile) CommitAtomicWrite() error {
	if err := f.check(sqlite3.IOERR_COMMIT_ATOMIC); err != nil {
		return err
	}
	return IOError(f.ah.Flush(), sqlite3.IOERR_COMMIT_ATOMIC)
}

// RollbackAtomicWrite implements [vfs.FileBatchAtomicWrite].
func (f *atomicFile) RollbackAtomicWrite() error {
	f.ah.Discard()
	return nil
}

// memFile is a temporary file in memory. SQLite does not lock these
// (OPEN_MEMORY), but answer lock calls kindly anyway.
type memFile struct{ vfsutil.SliceFile }

func (*memFile) Lock(vfs.LockLevel) error         { return nil }
func (*memFile) Unlock(vfs.LockLevel) error       { return nil }
func (*memFile) CheckReservedLock() (bool, error) { return false, nil }
func (*memFile) SectorSize() int                  { return 4096 }
func (*memFile) DeviceCharacteristics() vfs.DeviceCharacteristic {
	return vfs.IOCAP_POWERSAFE_OVERWRITE
}
