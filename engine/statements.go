package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"strings"

	"github.com/ncruces/go-sqlite3"

	msqlite "github.com/larderdb/larder/migrations/sqlite"
)

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
	return d.query(ctx, tx, sql, p, false)
}

// RunResultHeader is the length of what [Database.Run] puts before the
// rows: changes and lastInsertRowid, two little-endian int64s.
const RunResultHeader = 16

// Run runs every statement of sql like Exec, and answers both what exec
// and what query answer (for INSERT … RETURNING): changes, then
// lastInsertRowid (int64s, little-endian), then the rows of the last
// statement that has result columns in the encoding of [EncodeRows]. See
// [DecodeRun].
func (d *Database) Run(ctx context.Context, tx uint64, sql string, p Params) ([]byte, error) {
	return d.query(ctx, tx, sql, p, true)
}

// query is Query, and Run when withChanges: the rows are put after
// changes and lastInsertRowid, read while the gate is still held.
func (d *Database) query(ctx context.Context, tx uint64, sql string, p Params, withChanges bool) ([]byte, error) {
	release, err := d.acquire(ctx, tx)
	if err != nil {
		return nil, err
	}
	defer release()
	rows, err := d.run(sql, p, true)
	d.flush(err != nil)
	if err != nil || !withChanges {
		return rows, err
	}
	out := make([]byte, RunResultHeader, RunResultHeader+len(rows))
	binary.LittleEndian.PutUint64(out[0:], uint64(d.conn.Changes()))
	binary.LittleEndian.PutUint64(out[8:], uint64(d.conn.LastInsertRowID()))
	return append(out, rows...), nil
}

// DecodeRun splits the answer of [Database.Run].
func DecodeRun(b []byte) (x ExecResult, cols []string, rows [][]any, err error) {
	if len(b) < RunResultHeader {
		return x, nil, nil, Errorf(CodeInternal, "decode run: truncated")
	}
	x.Changes = int64(binary.LittleEndian.Uint64(b[0:]))
	x.LastInsertRowID = int64(binary.LittleEndian.Uint64(b[8:]))
	cols, rows, err = DecodeRows(b[RunResultHeader:])
	return x, cols, rows, err
}

// run executes a user's sql (exec, query, run) on d's connection. d.mu
// held.
func (d *Database) run(sql string, p Params, wantRows bool) ([]byte, error) {
	var buf []byte // not reused: the caller reads the rows after d.mu is released
	d.mode = prepareUser
	defer func() { d.mode = prepareInternal }()
	return runSQL(d.conn, d.stmts, sql, p, wantRows, &buf)
}

// RunSQL runs sql on conn as a call does, without a statement cache or
// change tracking: for the exec and query of a JS function migration, which
// run on the migration's own transaction. With wantRows it returns the rows
// of the last statement that has result columns, encoded into *buf.
func RunSQL(conn *sqlite3.Conn, sql string, p Params, wantRows bool, buf *[]byte) ([]byte, error) {
	return runSQL(conn, nil, sql, p, wantRows, buf)
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
			cache.prepared, cache.ddl, cache.refused = cache.prepared[:0], false, ""
		}
		stmt, tail, err := conn.Prepare(rest)
		if err != nil {
			if cache != nil && cache.refused != "" {
				return nil, refusal(rest, cache.refused, cache.refusedInTx)
			}
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
				return Errorf("SQLITE_RANGE", "bind: parameter %d is positional but params is an object", i)
			}
			v, ok := p.Named[name[1:]]
			if !ok {
				return Errorf("SQLITE_RANGE", "bind: missing named parameter %s (key %q)", name, name[1:])
			}
			if err := bindValue(stmt, i, v); err != nil {
				return err
			}
		}
		return nil
	}
	if len(p.Positional) < n {
		return Errorf("SQLITE_RANGE", "bind: statement has %d parameters, got %d values", n, len(p.Positional))
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
		return Errorf("SQLITE_MISMATCH", "bind: parameter %d: unsupported type %T", i, v)
	}
	return err
}
