package jsbridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/ext/serdes"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/larderdb/larder/internal/jsutil"
	"github.com/larderdb/larder/migrations"
	msqlite "github.com/larderdb/larder/migrations/sqlite"
)

// A Database is one open SQLite connection shared by every handle on it.
type Database struct {
	host    *Host
	name    string
	storage string
	st      Storage
	refs    int // guarded by host.openMu

	gate chan struct{} // held by one call, or by a transaction from begin to commit

	mu      sync.Mutex // guards conn and what follows
	conn    *sqlite3.Conn
	closed  bool
	tx      uint64 // open transaction id, 0 if none
	txSeq   uint64
	txTimer *time.Timer
	version int64
	known   []*migrations.Migration // the newest set of migrations an open passed: imports are checked against it
	pending map[string]struct{}     // tables written since the last commit
	stmts   *stmtCache              // prepared statements by SQL text
}

// Name returns the database name.
func (d *Database) Name() string { return d.name }

// Storage returns the backend the database lives on.
func (d *Database) Storage() string { return d.storage }

// Version returns the newest applied migration.
func (d *Database) Version() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.version
}

// watch records the tables each statement writes (the authorizer sees every
// INSERT, UPDATE and DELETE target at prepare time, including the truncate
// optimisation that the update hook misses) and forgets them on rollback.
func (d *Database) watch() {
	d.conn.SetAuthorizer(func(action sqlite3.AuthorizerActionCode, name3rd, _, schema, _ string) sqlite3.AuthorizerReturnCode {
		if changesSchema(action) {
			d.stmts.ddl, d.stmts.stale = true, true
		}
		switch action {
		case sqlite3.AUTH_INSERT, sqlite3.AUTH_UPDATE, sqlite3.AUTH_DELETE:
			if schema == "main" && !strings.HasPrefix(name3rd, "sqlite_") {
				d.pending[name3rd] = struct{}{}
				d.stmts.prepared = append(d.stmts.prepared, name3rd)
			}
		}
		return sqlite3.AUTH_OK
	})
	d.conn.RollbackHook(func() { clear(d.pending) })
}

// flush reports the tables written once nothing is left uncommitted.
// Called with d.mu held.
func (d *Database) flush(failed bool) {
	if len(d.pending) == 0 || !d.conn.GetAutocommit() {
		return
	}
	if failed {
		clear(d.pending)
		return
	}
	tables := make([]string, 0, len(d.pending))
	for t := range d.pending {
		tables = append(tables, t)
	}
	clear(d.pending)
	slices.Sort(tables)
	d.host.emit(d.name, Event{Type: "change", Tables: tables})
}

// acquire takes the gate for a request: requests inside the open
// transaction tx go straight through; others wait until no transaction is
// open. The returned func gives it back.
func (d *Database) acquire(ctx context.Context, tx uint64) (release func(), err error) {
	if tx != 0 {
		d.mu.Lock()
		if d.closed {
			d.mu.Unlock()
			return nil, d.closedErr()
		}
		if d.tx != tx {
			d.mu.Unlock()
			return nil, errorf("SQLITE_MISUSE", "transaction %d is no longer open (committed, rolled back, or idle for more than %s)", tx, d.txIdle())
		}
		d.touch()
		return d.mu.Unlock, nil
	}
	if err := d.takeGate(ctx); err != nil {
		return nil, err
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		<-d.gate
		return nil, d.closedErr()
	}
	return func() { d.mu.Unlock(); <-d.gate }, nil
}

// takeGate waits for the gate. Its holder may be a transaction that only
// a later call from the page ends, so a wait is announced to the bridge
// (jsutil.Blocking), which then answers the page asynchronously.
func (d *Database) takeGate(ctx context.Context) error {
	select {
	case d.gate <- struct{}{}:
		return nil
	default:
	}
	done := jsutil.Blocking()
	defer done()
	select {
	case d.gate <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *Database) closedErr() error {
	return errorf(CodeClosed, "database %q is closed", d.name)
}

func (d *Database) txIdle() time.Duration {
	if d.host.TxIdle > 0 {
		return d.host.TxIdle
	}
	return TxIdleTimeout
}

// touch restarts the idle timer of the open transaction. d.mu held.
func (d *Database) touch() {
	if d.txTimer != nil {
		d.txTimer.Reset(d.txIdle())
	}
}

// Params are the bound parameters of a statement: Positional for ?, ?NNN
// (and named parameters by position), or Named for :name, @name, $name with
// keys written without the prefix. Values are nil, bool, int64, float64,
// string or []byte.
type Params struct {
	Positional []any
	Named      map[string]any
}

// ExecResult is what exec answers.
type ExecResult struct {
	Changes         int64
	LastInsertRowID int64
}

// Exec runs every statement of sql, binding params to each, inside the
// transaction tx (0 for none).
func (d *Database) Exec(ctx context.Context, tx uint64, sql string, p Params) (ExecResult, error) {
	release, err := d.acquire(ctx, tx)
	if err != nil {
		return ExecResult{}, err
	}
	defer release()
	_, err = d.run(sql, p, false)
	d.flush(err != nil)
	if err != nil {
		return ExecResult{}, err
	}
	return ExecResult{Changes: d.conn.Changes(), LastInsertRowID: d.conn.LastInsertRowID()}, nil
}

// Query runs every statement of sql and returns the rows of the last one
// that has result columns, in the encoding of [EncodeRows].
func (d *Database) Query(ctx context.Context, tx uint64, sql string, p Params) ([]byte, error) {
	release, err := d.acquire(ctx, tx)
	if err != nil {
		return nil, err
	}
	defer release()
	rows, err := d.run(sql, p, true)
	d.flush(err != nil)
	return rows, err
}

// run executes sql on d's connection. d.mu held.
func (d *Database) run(sql string, p Params, wantRows bool) ([]byte, error) {
	var buf []byte // not reused: the caller reads the rows after d.mu is released
	return runSQL(d.conn, d.stmts, sql, p, wantRows, &buf)
}

// runSQL executes sql statement by statement (SQLite splits it: prepare
// with tail), binding p to each. With wantRows it returns the rows of the
// last statement that has result columns, encoded into *buf.
//
// With a cache, SQL that is a single statement is prepared once and reused.
func runSQL(conn *sqlite3.Conn, cache *stmtCache, sql string, p Params, wantRows bool, buf *[]byte) ([]byte, error) {
	var rows []byte
	if e := cache.takeIfAny(sql); e != nil {
		rows, err := step(e.stmt, p, wantRows, buf)
		cache.put(sql, e, err != nil)
		if err != nil {
			return nil, err
		}
		return rowsOrEmpty(rows, wantRows, buf), nil
	}
	rest := sql
	for {
		if cache != nil {
			cache.prepared, cache.ddl = cache.prepared[:0], false
		}
		stmt, tail, err := conn.Prepare(rest)
		if err != nil {
			return nil, err
		}
		if stmt == nil {
			break
		}
		r, err := step(stmt, p, wantRows, buf)
		if r != nil {
			rows = r
		}
		if cache != nil && !cache.ddl && rest == sql && strings.TrimSpace(tail) == "" {
			cache.put(sql, &cachedStmt{stmt: stmt, writes: slices.Clone(cache.prepared)}, err != nil)
		} else if cerr := stmt.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		rest = tail
		if strings.TrimSpace(rest) == "" {
			break
		}
	}
	return rowsOrEmpty(rows, wantRows, buf), nil
}

// step binds p to stmt and runs it, returning its encoded rows when
// wantRows and it has result columns (nil otherwise).
func step(stmt *sqlite3.Stmt, p Params, wantRows bool, buf *[]byte) ([]byte, error) {
	if err := bind(stmt, p); err != nil {
		return nil, err
	}
	if wantRows && stmt.ColumnCount() > 0 {
		var err error
		*buf, err = EncodeRows(stmt, *buf)
		return *buf, err
	}
	return nil, stmt.Exec()
}

// takeIfAny is take on a cache that may be nil.
func (c *stmtCache) takeIfAny(sql string) *cachedStmt {
	if c == nil {
		return nil
	}
	return c.take(sql)
}

func rowsOrEmpty(rows []byte, wantRows bool, buf *[]byte) []byte {
	if wantRows && rows == nil {
		*buf, _ = appendEmptyRows((*buf)[:0])
		rows = *buf
	}
	return rows
}

func appendEmptyRows(b []byte) ([]byte, error) {
	return append(b, 0, 0, 0, 0, 0, 0, 0, 0), nil
}

func bind(stmt *sqlite3.Stmt, p Params) error {
	n := stmt.BindCount()
	if n == 0 {
		return nil
	}
	if p.Named != nil {
		for i := 1; i <= n; i++ {
			name := stmt.BindName(i)
			if name == "" || name[0] == '?' {
				return errorf("SQLITE_RANGE", "bind: parameter %d is positional but params is an object", i)
			}
			v, ok := p.Named[name[1:]]
			if !ok {
				return errorf("SQLITE_RANGE", "bind: missing named parameter %s (key %q)", name, name[1:])
			}
			if err := bindValue(stmt, i, v); err != nil {
				return err
			}
		}
		return nil
	}
	if len(p.Positional) < n {
		return errorf("SQLITE_RANGE", "bind: statement has %d parameters, got %d values", n, len(p.Positional))
	}
	for i := 1; i <= n; i++ {
		if err := bindValue(stmt, i, p.Positional[i-1]); err != nil {
			return err
		}
	}
	return nil
}

func bindValue(stmt *sqlite3.Stmt, i int, v any) error {
	err := msqlite.BindValue(stmt, i, v)
	if errors.Is(err, msqlite.ErrUnsupportedType) {
		return errorf("SQLITE_MISMATCH", "bind: parameter %d: unsupported type %T", i, v)
	}
	return err
}

// Begin starts a transaction (BEGIN IMMEDIATE) and returns its id. Until
// Commit or Rollback, requests without that id wait.
func (d *Database) Begin(ctx context.Context) (uint64, error) {
	release, err := d.acquire(ctx, 0)
	if err != nil {
		return 0, err
	}
	if err := d.conn.Exec("BEGIN IMMEDIATE"); err != nil {
		release()
		return 0, err
	}
	d.txSeq++
	id := d.txSeq
	d.tx = id
	d.txTimer = time.AfterFunc(d.txIdle(), func() { d.abandon(id) })
	d.mu.Unlock() // keep the gate
	return id, nil
}

// end finishes transaction tx with COMMIT or ROLLBACK and frees the gate.
func (d *Database) end(tx uint64, sql string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return d.closedErr()
	}
	if d.tx != tx || tx == 0 {
		return errorf("SQLITE_MISUSE", "transaction %d is no longer open", tx)
	}
	err := d.conn.Exec(sql)
	if err != nil && !d.conn.GetAutocommit() {
		d.conn.Exec("ROLLBACK")
	}
	d.finishTx()
	d.flush(err != nil)
	return err
}

// finishTx forgets the open transaction and frees the gate. d.mu held.
func (d *Database) finishTx() {
	d.tx = 0
	if d.txTimer != nil {
		d.txTimer.Stop()
		d.txTimer = nil
	}
	<-d.gate
}

// Commit commits transaction tx; if COMMIT fails it is rolled back.
func (d *Database) Commit(tx uint64) error { return d.end(tx, "COMMIT") }

// Rollback rolls transaction tx back.
func (d *Database) Rollback(tx uint64) error { return d.end(tx, "ROLLBACK") }

func (d *Database) abandon(tx uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || d.tx != tx {
		return
	}
	if !d.conn.GetAutocommit() {
		d.conn.Exec("ROLLBACK")
	}
	d.finishTx()
	clear(d.pending)
}

// migrate validates and applies o.Migrations. Called from Open.
//
// The browser's rule for a database migrated past the code's newest
// migration (a newer tab, or a newer deployment, got there first) is the
// engine's AllowNewerNonBreaking: if every newer applied migration is
// non-breaking, this code still works with the schema, so the open
// succeeds at the database's version (after validating the migrations it
// does know and applying its pending ones); if one of them is breaking, it
// fails with LARDER_OUTDATED.
func (d *Database) migrate(ctx context.Context, o OpenOptions) (OpenResult, error) {
	release, err := d.acquire(ctx, 0)
	if err != nil {
		return OpenResult{}, err
	}
	defer release()
	store := msqlite.NewStore(d.conn)
	if len(o.Migrations) == 0 {
		v, err := store.Version(ctx)
		if err != nil {
			return OpenResult{}, err
		}
		d.version = v
		return OpenResult{Version: v}, nil
	}
	p, err := migrations.NewProvider(store, o.Migrations, migrations.Options{AllowOutOfOrder: o.AllowOutOfOrder, AllowNewerNonBreaking: true})
	if err != nil {
		return OpenResult{}, &Error{Code: CodeInvalidArgument, Message: "open: migrations: " + err.Error(), Err: err}
	}
	migs := p.Migrations()
	newest := migs[len(migs)-1].Version
	if len(d.known) == 0 || newest >= d.known[len(d.known)-1].Version {
		d.known = migs
	}
	results, err := p.Up(ctx, 0)
	clear(d.pending)
	var ve *migrations.ValidationError
	if errors.As(err, &ve) {
		for _, pr := range ve.Problems {
			if pr.Err == migrations.ErrDatabaseNewer { // a breaking one: see AllowNewerNonBreaking
				return OpenResult{}, &Error{Code: CodeOutdated, Message: fmt.Sprintf(
					"open %s: the database is at a newer schema: migration %04d_%s is breaking and this code knows migrations up to %d only; load the new version of the app",
					d.name, pr.Version, pr.Name, newest)}
			}
		}
	}
	from, breaking := int64(0), false
	applied := map[int64]bool{}
	for _, r := range results {
		if !r.Skipped {
			applied[r.Migration.Version] = true
			breaking = breaking || r.Migration.Breaking
		}
	}
	for _, m := range migs {
		if !applied[m.Version] {
			from = max(from, m.Version)
		}
	}
	if err != nil {
		var me *migrations.MigrationError
		if errors.As(err, &me) {
			return OpenResult{Applied: results}, &Error{Code: "LARDER_MIGRATION_FAILED", Message: err.Error(),
				Migration: &MigrationRef{Version: me.Version, Name: me.Name}, Err: err}
		}
		return OpenResult{Applied: results}, err
	}
	// After a successful Up every known migration is applied, so the
	// version is the newest known one, unless newer code applied
	// non-breaking migrations above it.
	v, err := p.Version(ctx)
	if err != nil {
		return OpenResult{Applied: results}, err
	}
	d.version = max(v, newest)
	if len(applied) > 0 && d.version == newest {
		// A database that newer code upgraded already announced its version.
		d.host.emit(d.name, Event{Type: "versionchange", From: from, To: newest, Breaking: breaking})
	}
	return OpenResult{Version: d.version, Applied: results}, nil
}

// CheckCurrent returns LARDER_OUTDATED if a breaking migration newer than
// known (the newest migration the calling page's code has) was applied:
// old code must not write into a schema it does not know. known 0 skips
// the check.
func (d *Database) CheckCurrent(known int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return d.closedErr()
	}
	if known <= 0 || known >= d.version {
		return nil
	}
	recs, err := msqlite.NewStore(d.conn).Applied(context.Background())
	if err != nil {
		return err
	}
	if r, ok := migrations.NewerBreaking(recs, known); ok {
		return &Error{Code: CodeOutdated, Message: fmt.Sprintf(
			"database %s was upgraded past this code (migration %04d_%s is breaking): load the new version of the app",
			d.name, r.Version, r.Name)}
	}
	return nil
}

// Migrations returns the rows of _migrations (none when the database has
// no such table).
func (d *Database) Migrations(ctx context.Context, tx uint64) ([]migrations.Record, error) {
	release, err := d.acquire(ctx, tx)
	if err != nil {
		return nil, err
	}
	defer release()
	return msqlite.NewStore(d.conn).Applied(ctx)
}

// Export returns the database as a standard SQLite file image. It holds
// the database meanwhile (calls wait), so the image is consistent. The
// backup API copies it page by page; on a [FileExporter] storage the file
// is read whole instead, in one read, after a checkpoint has moved every
// commit out of the WAL, unless it cannot stand for the database (the
// checkpoint could not finish, the file is shorter than its pages).
func (d *Database) Export(ctx context.Context) ([]byte, error) {
	release, err := d.acquire(ctx, 0)
	if err != nil {
		return nil, err
	}
	defer release()
	var b []byte
	if fe, ok := d.st.(FileExporter); ok && fe.ExportsFile() {
		if b, err = d.readFile(); err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
	}
	if b == nil {
		if b, err = serdes.Serialize(d.conn, "main"); err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
	}
	// The backup copies page 1 as is: a WAL database (OPFS) would export a
	// WAL-mode header. Write a rollback-journal file, which any SQLite opens
	// without a -wal beside it.
	if len(b) >= 20 && (b[18] == 2 || b[19] == 2) {
		b[18], b[19] = 1, 1
	}
	return b, nil
}

// readFile reads the main database file whole after a full checkpoint of
// its WAL (none, for the rollback journal of IndexedDB and memory): the
// file then holds exactly the database's pages. It returns nil, nil when
// the file cannot be used that way.
func (d *Database) readFile() ([]byte, error) {
	busy, err := pragmaInt(d.conn, "PRAGMA main.wal_checkpoint(TRUNCATE)")
	if err != nil || busy != 0 {
		return nil, err
	}
	pageSize, err := pragmaInt(d.conn, "PRAGMA main.page_size")
	if err != nil {
		return nil, err
	}
	pages, err := pragmaInt(d.conn, "PRAGMA main.page_count")
	if err != nil {
		return nil, err
	}
	fp, err := d.conn.FileControl("main", sqlite3.FCNTL_FILE_POINTER)
	if err != nil {
		return nil, nil
	}
	f, ok := fp.(vfs.File)
	if !ok {
		return nil, nil
	}
	want := pageSize * pages
	if size, err := f.Size(); err != nil || size < want || want == 0 {
		return nil, err
	}
	b := make([]byte, want)
	if n, err := f.ReadAt(b, 0); int64(n) != want {
		return nil, err
	}
	return b, nil
}

// pragmaInt runs a pragma and returns the first column of its first row.
func pragmaInt(c *sqlite3.Conn, sql string) (int64, error) {
	st, _, err := c.Prepare(sql)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	if !st.Step() {
		return 0, errors.Join(st.Err(), fmt.Errorf("%s: no result", sql))
	}
	return st.ColumnInt64(0), nil
}

// Import is ImportWith with the default options.
func (d *Database) Import(ctx context.Context, b []byte) error {
	return d.ImportWith(ctx, b, ImportOptions{})
}

// ImportWith replaces the database with the SQLite file image b,
// atomically: b is checked once, on a private copy in memory, against the
// migrations the database was opened with ([CheckImage]), then copied
// over the live database with the backup API, which is one write
// transaction through the VFS. A refused image changes nothing.
func (d *Database) ImportWith(ctx context.Context, b []byte, o ImportOptions) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return d.closedErr()
	}
	known := d.known
	pageSize, err := pragmaInt(d.conn, "PRAGMA main.page_size")
	d.mu.Unlock()
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	b, err = CheckImage(ctx, b, known, int(pageSize), o)
	if err != nil {
		return err
	}
	release, err := d.acquire(ctx, 0)
	if err != nil {
		return err
	}
	defer release()
	d.stmts.clear() // the whole schema is replaced
	if err := serdes.Deserialize(d.conn, "main", b); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	v, err := msqlite.NewStore(d.conn).Version(ctx)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	d.version = v
	tables, _ := tableNames(d.conn)
	clear(d.pending)
	d.host.emit(d.name, Event{Type: "change", Tables: tables})
	return nil
}

func tableNames(c *sqlite3.Conn) ([]string, error) {
	stmt, _, err := c.Prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	var out []string
	for stmt.Step() {
		out = append(out, stmt.ColumnText(0))
	}
	return out, stmt.Err()
}

// shutdown closes the connection and releases the storage; every handle on
// d then gets LARDER_CLOSED. Called with host.openMu held.
func (d *Database) shutdown() error {
	d.mu.Lock()
	if d.tx != 0 { // an open transaction: roll it back rather than wait for it
		d.mu.Unlock()
		d.abandon(d.tx)
	} else {
		d.mu.Unlock()
	}
	d.takeGate(context.Background()) // wait for the running call
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		<-d.gate
		return nil
	}
	d.closed = true
	d.stmts.clear()
	err := d.conn.Close()
	if rerr := d.st.Release(d.name); err == nil {
		err = rerr
	}
	<-d.gate
	return err
}
