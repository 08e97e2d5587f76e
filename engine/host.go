package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	msqlite "github.com/larderdb/larder/migrations/sqlite"
)

// Storage is a backend a database can live on: "memory" ([Memory]), and in
// larder.wasm the "opfs" and "idb" VFSes (packages wasm/opfs and wasm/idb).
type Storage interface {
	// Available reports whether the backend can work in this context
	// (OPFS needs createSyncAccessHandle, i.e. a dedicated worker).
	Available() bool
	// Preopen does every asynchronous setup step for the database up
	// front, so that SQLite's calls into the VFS never wait on a Promise.
	Preopen(ctx context.Context, name string) error
	// URI is the filename to open name with, e.g. "file:app?vfs=opfs".
	URI(name string) string
	// Pragmas run once after the connection opens (journal and locking
	// modes that suit the backend).
	Pragmas() []string
	// Release closes what Preopen opened (the database is closed).
	Release(name string) error
	// Delete removes the database's storage; it must be closed.
	Delete(ctx context.Context, name string) error
}

// FileExporter is a [Storage] whose VFS reads a whole database file in
// one ReadAt much faster than a backup reads it page by page (OPFS: one
// call into JavaScript instead of one per page). Export then checkpoints
// the WAL and reads the file itself when ExportsFile reports true.
type FileExporter interface {
	Storage
	ExportsFile() bool
}

// Event is a notification for the pages using a database.
type Event struct {
	Type     string   // "change" or "versionchange"
	Tables   []string // change: tables written, sorted
	From, To int64    // versionchange
	Breaking bool     // versionchange: a breaking migration was applied
}

// A Host holds the databases open in one larder.wasm instance.
type Host struct {
	storages map[string]Storage
	auto     []string

	// OnEvent, when set, receives every event of every database. It is
	// called from the goroutine that caused the event and must not block.
	OnEvent func(db string, ev Event)
	// TxIdle is how long a transaction may stay idle; 0 means TxIdleTimeout.
	TxIdle time.Duration

	openMu sync.Mutex // serialises Open, Close and Reset
	mu     sync.Mutex
	dbs    map[string]*Database
}

// NewHost returns a Host over the given backends. auto lists the backends
// "auto" tries, in order; the first Available one is used.
func NewHost(storages map[string]Storage, auto []string) (*Host, error) {
	for _, a := range auto {
		if storages[a] == nil {
			return nil, fmt.Errorf("engine: auto storage %q is not registered", a)
		}
	}
	return &Host{storages: storages, auto: auto, dbs: map[string]*Database{}}, nil
}

// OpenOptions are the options of open() that reach Go.
type OpenOptions struct {
	Name            string
	Storage         string // "auto", "opfs", "idb", "memory"
	Migrations      []*migrations.Migration
	AllowOutOfOrder bool
	// Sync is the sync declaration (the text of sync.toml): when set, the
	// database is installed for sync after its migrations (see Database.Sync).
	Sync string
}

// OpenResult says what Open did.
type OpenResult struct {
	Storage string // backend in use
	Version int64  // newest applied migration
	Applied []migrations.Result
}

func (h *Host) resolve(kind string) (string, Storage, error) {
	if kind == "" || kind == "auto" {
		for _, a := range h.auto {
			if h.storages[a].Available() {
				return a, h.storages[a], nil
			}
		}
		return "", nil, Errorf(CodeStorageUnavailable, "open: no storage backend works here (tried %s)", strings.Join(h.auto, ", "))
	}
	s := h.storages[kind]
	if s == nil {
		names := make([]string, 0, len(h.storages))
		for n := range h.storages {
			names = append(names, n)
		}
		slices.Sort(names)
		return "", nil, Errorf(CodeStorageUnavailable, "open: unknown storage %q (want auto, %s)", kind, strings.Join(names, ", "))
	}
	if !s.Available() {
		return "", nil, Errorf(CodeStorageUnavailable, "open: storage %q is not available in this context", kind)
	}
	return kind, s, nil
}

// Open opens (or joins, if already open here) the database o.Name and
// applies o.Migrations: validation first (edited, missing, newer), then
// every pending migration in its own transaction.
func (h *Host) Open(ctx context.Context, o OpenOptions) (*Database, OpenResult, error) {
	if o.Name == "" || strings.ContainsAny(o.Name, "/\\?#\x00") {
		return nil, OpenResult{}, Errorf(CodeInvalidArgument, "open: invalid database name %q", o.Name)
	}
	kind, st, err := h.resolve(o.Storage)
	if err != nil {
		return nil, OpenResult{}, err
	}
	h.openMu.Lock()
	defer h.openMu.Unlock()

	h.mu.Lock()
	d := h.dbs[o.Name]
	h.mu.Unlock()
	created := false
	if d != nil && d.storage != kind {
		return nil, OpenResult{}, Errorf(CodeStorageUnavailable, "open %s: already open on %s", o.Name, d.storage)
	}
	if d == nil {
		d, err = h.openDatabase(ctx, o.Name, kind, st)
		if err != nil {
			return nil, OpenResult{}, err
		}
		created = true
	}
	res, err := d.migrate(ctx, o)
	if err != nil {
		if created {
			d.shutdown()
		}
		return nil, OpenResult{}, err
	}
	if o.Sync != "" {
		migrated := false
		for _, r := range res.Applied {
			migrated = migrated || !r.Skipped
		}
		if err := d.installSync(ctx, o.Sync, migrated); err != nil {
			if created {
				d.shutdown()
			}
			return nil, OpenResult{}, err
		}
	}
	d.refs++
	if created {
		h.mu.Lock()
		h.dbs[o.Name] = d
		h.mu.Unlock()
	}
	res.Storage = kind
	return d, res, nil
}

func (h *Host) openDatabase(ctx context.Context, name, kind string, st Storage) (*Database, error) {
	if err := st.Preopen(ctx, name); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, err
		}
		return nil, &Error{Code: CodeStorageUnavailable, Message: fmt.Sprintf("open %s on %s: %v", name, kind, err), Err: err}
	}
	conn, err := sqlite3.Open(st.URI(name))
	if err != nil {
		st.Release(name)
		return nil, fmt.Errorf("open %s on %s: %w", name, kind, err)
	}
	if err := msqlite.Harden(conn); err != nil {
		conn.Close()
		st.Release(name)
		return nil, fmt.Errorf("open %s on %s: %w", name, kind, err)
	}
	for _, p := range st.Pragmas() {
		if err := conn.Exec(p); err != nil {
			conn.Close()
			st.Release(name)
			return nil, fmt.Errorf("open %s on %s: %s: %w", name, kind, p, err)
		}
	}
	d := &Database{host: h, name: name, storage: kind, st: st, conn: conn,
		gate: make(chan struct{}, 1), pending: map[string]struct{}{}}
	d.stmts = newStmtCache(d.pending)
	d.authorize()
	return d, nil
}

func (h *Host) emit(db string, ev Event) {
	if h.OnEvent != nil {
		h.OnEvent(db, ev)
	}
}

// Lookup returns the open database name, or an LARDER_CLOSED error.
func (h *Host) Lookup(name string) (*Database, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.dbs[name]
	if d == nil {
		return nil, Errorf(CodeClosed, "database %q is not open", name)
	}
	return d, nil
}

// Close drops one reference to the database; the last one closes the
// connection and releases the storage.
func (h *Host) Close(name string) error {
	h.openMu.Lock()
	defer h.openMu.Unlock()
	h.mu.Lock()
	d := h.dbs[name]
	h.mu.Unlock()
	if d == nil {
		return nil // closing twice is fine
	}
	d.refs--
	if d.refs > 0 {
		return nil
	}
	h.mu.Lock()
	delete(h.dbs, name)
	h.mu.Unlock()
	return d.shutdown()
}

// Shutdown closes the database name for every user at once (the owner of
// a database stops serving it).
func (h *Host) Shutdown(name string) error {
	h.mu.Lock()
	if d := h.dbs[name]; d != nil {
		d.refs = 1
	}
	h.mu.Unlock()
	return h.Close(name)
}

// CloseAll closes every database (pagehide: release the OPFS handles).
func (h *Host) CloseAll() {
	h.mu.Lock()
	names := make([]string, 0, len(h.dbs))
	for n := range h.dbs {
		names = append(names, n)
	}
	h.mu.Unlock()
	for _, n := range names {
		h.mu.Lock()
		if d := h.dbs[n]; d != nil {
			d.refs = 1
		}
		h.mu.Unlock()
		h.Close(n)
	}
}

// Reset closes the database name (if open here, for every user) and deletes
// its storage, so that the next open starts from an empty database.
func (h *Host) Reset(ctx context.Context, name, storage string) error {
	h.openMu.Lock()
	defer h.openMu.Unlock()
	h.mu.Lock()
	d := h.dbs[name]
	delete(h.dbs, name)
	h.mu.Unlock()
	var st Storage
	if d != nil {
		st = d.st
		if err := d.shutdown(); err != nil {
			return fmt.Errorf("reset %s: %w", name, err)
		}
	} else {
		var err error
		if _, st, err = h.resolve(storage); err != nil {
			return err
		}
	}
	if err := st.Delete(ctx, name); err != nil {
		return fmt.Errorf("reset %s: %w", name, err)
	}
	return nil
}

// TxIdleTimeout is the default of [Host.TxIdle]: how long a transaction may
// sit without a request before it is rolled back and the database is given
// to the next caller (the page that opened it died or forgot it).
const TxIdleTimeout = 15 * time.Second
