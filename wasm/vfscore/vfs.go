package vfscore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"
)

// VFS is a SQLite VFS over a [Backend]. Create one with [New] and register
// it with vfs.Register.
type VFS struct {
	backend Backend
	opts    Options

	mu  sync.Mutex
	dbs map[string]*database // +checklocks:mu
}

var _ vfs.VFSFilename = (*VFS)(nil)

// New returns a VFS storing databases in b.
func New(b Backend, opts Options) (*VFS, error) {
	if b == nil {
		return nil, errors.New("vfscore: nil backend")
	}
	if opts.Name == "" {
		return nil, errors.New("vfscore: options need a Name")
	}
	if opts.SectorSize == 0 {
		opts.SectorSize = 4096
	}
	if opts.SectorSize < 512 || opts.SectorSize&(opts.SectorSize-1) != 0 {
		return nil, fmt.Errorf("vfscore: sector size %d is not a power of two ≥ 512", opts.SectorSize)
	}
	return &VFS{backend: b, opts: opts, dbs: map[string]*database{}}, nil
}

// database is one acquired database: its handles, the number of SQLite
// files open on it, and its lock state.
type database struct {
	name   string
	files  Files
	refs   int  // open SQLite files; guarded by VFS.mu
	pinned bool // kept by Preopen until Release; guarded by VFS.mu
	closed atomic.Bool

	// handles are the handles of the files, wrapped once per database
	// (buffered when Options.WriteBuffer is set), so that every
	// connection of the worker sees the same bytes. Guarded by VFS.mu.
	handles [3]Handle

	lockMu   sync.Mutex
	shared   int  // +checklocks:lockMu
	reserved bool // +checklocks:lockMu
	pending  bool // +checklocks:lockMu
}

// handleLocked returns the (possibly buffered) handle of the file of kind k.
// +checklocks:v.mu
func (v *VFS) handleLocked(db *database, k Kind) (Handle, error) {
	if int(k) < 0 || int(k) >= len(db.handles) {
		return nil, fmt.Errorf("no file of kind %d", k)
	}
	if h := db.handles[k]; h != nil {
		return h, nil
	}
	h, err := db.files.Handle(k)
	if err != nil {
		return nil, err
	}
	if _, atomic := h.(AtomicHandle); !atomic && v.opts.WriteBuffer > 0 {
		h = newBufferedHandle(h, v.opts.WriteBuffer)
	}
	db.handles[k] = h
	return h, nil
}

// handle is handleLocked for callers that do not hold v.mu.
func (v *VFS) handle(db *database, k Kind) (Handle, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.handleLocked(db, k)
}

// Preopen acquires the handles of database name now and keeps them until
// [VFS.Release], so that opening the database later does no Backend work.
func (v *VFS) Preopen(ctx context.Context, name string) error {
	name, err := v.dbName(name)
	if err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	db, err := v.acquireLocked(ctx, name)
	if err != nil {
		return err
	}
	db.pinned = true
	return nil
}

// Release closes every handle of database name, so that another owner (the
// next page after a reload, another tab) can open them. SQLite files still
// open on it fail with SQLITE_IOERR from then on. Releasing a database that
// is not open does nothing.
func (v *VFS) Release(name string) error {
	name, err := v.dbName(name)
	if err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	db := v.dbs[name]
	if db == nil {
		return nil
	}
	return v.closeLocked(db)
}

// IsOpen reports whether the handles of database name are held.
func (v *VFS) IsOpen(name string) bool {
	name, err := v.dbName(name)
	if err != nil {
		return false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.dbs[name] != nil
}

// +checklocks:v.mu
func (v *VFS) acquireLocked(ctx context.Context, name string) (*database, error) {
	if db := v.dbs[name]; db != nil {
		r, ok := db.files.(Revocable)
		if !ok || !r.Revoked() {
			return db, nil
		}
		v.closeLocked(db) // revoked by the browser: start over
	}
	files, err := v.backend.Acquire(ctx, name)
	if err != nil {
		return nil, OpenError(fmt.Errorf("%s: open %q: %w", v.opts.Name, name, err))
	}
	db := &database{name: name, files: files}
	v.dbs[name] = db
	return db, nil
}

// +checklocks:v.mu
func (v *VFS) closeLocked(db *database) error {
	db.closed.Store(true)
	delete(v.dbs, db.name)
	var errs []error
	for _, h := range db.handles {
		if b, ok := h.(*bufferedHandle); ok {
			errs = append(errs, b.drain()) // unsynced, but not dropped
		}
	}
	errs = append(errs, db.files.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: close %q: %w", v.opts.Name, db.name, err)
	}
	return nil
}

func (v *VFS) release(db *database) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	db.refs--
	if db.refs > 0 || db.pinned || db.closed.Load() {
		return nil
	}
	return v.closeLocked(db)
}

// dbName validates a database name: what SQLite calls the main database's
// path, without leading slashes.
func (v *VFS) dbName(name string) (string, error) {
	name = strings.TrimLeft(name, "/")
	if err := ValidName(name); err != nil {
		return "", fmt.Errorf("%s: %w", v.opts.Name, err)
	}
	return name, nil
}

// ValidName reports whether name can name a database: not empty, at most
// 200 bytes, no path separators, NUL or other control characters, and not "."
// or "..".
func ValidName(name string) error {
	switch {
	case name == "":
		return errors.New("empty database name")
	case len(name) > 200:
		return fmt.Errorf("database name longer than 200 bytes: %.20q…", name)
	case name == "." || name == "..":
		return fmt.Errorf("invalid database name %q", name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' {
			return fmt.Errorf("invalid character %q in database name %q", r, name)
		}
	}
	return nil
}

// classify maps an SQLite file name and open flags to a database name and
// the kind of its file. ok is false for files kept in memory.
func classify(name string, flags vfs.OpenFlag) (db string, k Kind, ok bool) {
	name = strings.TrimLeft(name, "/")
	switch {
	case flags&vfs.OPEN_MAIN_DB != 0:
		return name, MainDB, true
	case flags&vfs.OPEN_MAIN_JOURNAL != 0:
		db, ok = strings.CutSuffix(name, "-journal")
		return db, Journal, ok
	case flags&vfs.OPEN_WAL != 0:
		db, ok = strings.CutSuffix(name, "-wal")
		return db, WAL, ok
	}
	return "", 0, false
}

// kindOf maps a file name without open flags (Delete, Access).
func kindOf(name string) (db string, k Kind) {
	name = strings.TrimLeft(name, "/")
	if db, ok := strings.CutSuffix(name, "-journal"); ok {
		return db, Journal
	}
	if db, ok := strings.CutSuffix(name, "-wal"); ok {
		return db, WAL
	}
	return name, MainDB
}

// Open implements [vfs.VFS]. Persistent files of a database not acquired
// yet are acquired from the Backend (which may wait on the browser);
// temporary files live in memory.
func (v *VFS) Open(name string, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	return v.open(name, nil, flags)
}

// OpenFilename implements [vfs.VFSFilename]: like Open, and the URI
// parameters listed in Options.URIParams configure the database's handles.
func (v *VFS) OpenFilename(name *vfs.Filename, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	return v.open(name.String(), name, flags)
}

func (v *VFS) open(name string, fn *vfs.Filename, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	dbName, kind, ok := classify(name, flags)
	if !ok {
		if flags&(vfs.OPEN_MAIN_DB|vfs.OPEN_MAIN_JOURNAL|vfs.OPEN_WAL) != 0 {
			return nil, flags, sqlite3.CANTOPEN
		}
		return &memFile{}, flags | vfs.OPEN_MEMORY, nil
	}
	dbName, err := v.dbName(dbName)
	if err != nil {
		return nil, flags, vfs.SystemError(err, sqlite3.CANTOPEN)
	}

	v.mu.Lock()
	db, err := v.acquireLocked(context.Background(), dbName)
	if err != nil {
		v.mu.Unlock()
		return nil, flags, err
	}
	h, err := v.handleLocked(db, kind)
	if err == nil && kind == MainDB && fn != nil {
		err = v.configure(db, fn)
	}
	if err != nil {
		v.mu.Unlock()
		return nil, flags, OpenError(fmt.Errorf("%s: open %s of %q: %w", v.opts.Name, kind, dbName, err))
	}
	db.refs++
	v.mu.Unlock()

	f := &file{
		vfs:      v,
		db:       db,
		kind:     kind,
		h:        h,
		readOnly: flags&vfs.OPEN_READONLY != 0,
	}
	if ah, ok := h.(AtomicHandle); ok && kind == MainDB {
		return &atomicFile{file: f, ah: ah}, flags, nil
	}
	return f, flags, nil
}

// configure passes the URI parameters of a main database's name to its
// handles.
func (v *VFS) configure(db *database, fn *vfs.Filename) error {
	for _, key := range v.opts.URIParams {
		value := fn.URIParameter(key)
		if value == "" {
			continue
		}
		for _, k := range [...]Kind{MainDB, Journal, WAL} {
			h, err := v.handleLocked(db, k)
			if err != nil {
				continue
			}
			if c, ok := h.(Configurable); ok {
				if err := c.Configure(key, value); err != nil {
					return fmt.Errorf("URI parameter %s=%q: %w", key, value, err)
				}
			}
		}
	}
	return nil
}

// opened returns the acquired database name, or nil.
func (v *VFS) opened(name string) *database {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.dbs[name]
}

// Delete implements [vfs.VFS]. Journals and WALs keep their handle: deleting
// one truncates it to zero bytes and flushes, which SQLite treats the same
// as a missing file.
func (v *VFS) Delete(name string, syncDir bool) error {
	dbName, kind := kindOf(name)
	if kind == MainDB {
		return vfs.SystemError(fmt.Errorf("%s: deleting a database file through SQLite is not supported", v.opts.Name), sqlite3.IOERR_DELETE)
	}
	db := v.opened(dbName)
	if db == nil || db.closed.Load() {
		return sqlite3.IOERR_DELETE_NOENT
	}
	h, err := v.handle(db, kind)
	if err != nil {
		return IOError(err, sqlite3.IOERR_DELETE)
	}
	if err := h.Truncate(0); err != nil {
		return IOError(err, sqlite3.IOERR_DELETE)
	}
	return IOError(h.Flush(), sqlite3.IOERR_DELETE)
}

// Access implements [vfs.VFS]: a journal or WAL exists when it is not empty.
func (v *VFS) Access(name string, flags vfs.AccessFlag) (bool, error) {
	dbName, kind := kindOf(name)
	db := v.opened(dbName)
	if db == nil || db.closed.Load() {
		return false, nil
	}
	h, err := v.handle(db, kind)
	if err != nil {
		return false, IOError(err, sqlite3.IOERR_ACCESS)
	}
	size, err := h.Size()
	if err != nil {
		return false, IOError(err, sqlite3.IOERR_ACCESS)
	}
	return size > 0 || kind == MainDB, nil
}

// FullPathname implements [vfs.VFS]: names are flat, leading slashes dropped.
func (v *VFS) FullPathname(name string) (string, error) {
	return strings.TrimLeft(name, "/"), nil
}
