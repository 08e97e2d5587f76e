package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/ext/serdes"
	"github.com/ncruces/go-sqlite3/vfs"

	msqlite "github.com/larderdb/larder/migrations/sqlite"
)

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
	return firstColumn(c, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
}
