package syncer

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/ncruces/go-sqlite3"
)

// Store is the database the server side runs on: SQLite natively (see
// ConnStore) and Cloudflare D1 in the edge Worker. Values in and out are
// nil, int64, float64, string or []byte; a Store over D1, whose numbers
// arrive as JavaScript numbers, may return whole numbers as float64 where
// the server reads its own INTEGER columns (asInt accepts both).
type Store interface {
	// Query runs one read statement and returns its rows.
	Query(ctx context.Context, sql string, args ...any) ([][]any, error)
	// Exec runs the statements atomically, in order: all or none (a
	// transaction on SQLite, one batch() on D1).
	Exec(ctx context.Context, stmts []Stmt) error
}

// Stmt is one statement of an Exec batch.
type Stmt struct {
	SQL  string
	Args []any
}

// ConnStore is a Store over one ncruces/go-sqlite3 connection. It keeps
// its prepared statements for reuse: Close it before the connection. Like
// the connection, it is not safe for concurrent use.
type ConnStore struct{ db *cache }

var _ Store = (*ConnStore)(nil)

// NewConnStore returns a Store over conn.
func NewConnStore(conn *sqlite3.Conn) *ConnStore { return &ConnStore{newCache(conn)} }

// Close finalizes the store's prepared statements (not the connection).
func (s *ConnStore) Close() error { return s.db.close() }

// Query implements Store.
func (s *ConnStore) Query(ctx context.Context, sql string, args ...any) ([][]any, error) {
	return s.db.query(sql, args...)
}

// Exec implements Store: BEGIN IMMEDIATE, the statements, COMMIT; ROLLBACK
// on the first error.
func (s *ConnStore) Exec(ctx context.Context, stmts []Stmt) (err error) {
	tx, err := s.db.conn.BeginImmediate()
	if err != nil {
		return err
	}
	defer tx.End(&err)
	for _, st := range stmts {
		if err := s.db.exec(st.SQL, st.Args...); err != nil {
			return err
		}
	}
	return nil
}

// cache keeps the prepared statements of one connection: preparing is most
// of the cost of a small statement (and more so in wasm).
type cache struct {
	conn  *sqlite3.Conn
	stmts map[string]*sqlite3.Stmt
}

func newCache(conn *sqlite3.Conn) *cache {
	return &cache{conn: conn, stmts: map[string]*sqlite3.Stmt{}}
}

func (c *cache) get(sql string, args []any) (*sqlite3.Stmt, error) {
	stmt := c.stmts[sql]
	if stmt == nil {
		var err error
		if stmt, err = prepareOne(c.conn, sql); err != nil {
			return nil, err
		}
		c.stmts[sql] = stmt
	}
	if err := bindAll(stmt, sql, args); err != nil {
		stmt.ClearBindings()
		return nil, err
	}
	return stmt, nil
}

func (c *cache) query(sql string, args ...any) ([][]any, error) {
	stmt, err := c.get(sql, args)
	if err != nil {
		return nil, err
	}
	defer stmt.ClearBindings()
	defer stmt.Reset()
	return collect(stmt)
}

func (c *cache) exec(sql string, args ...any) error {
	stmt, err := c.get(sql, args)
	if err != nil {
		return err
	}
	defer stmt.ClearBindings()
	return stmt.Exec()
}

func (c *cache) close() error {
	var first error
	for sql, stmt := range c.stmts {
		if err := stmt.Close(); err != nil && first == nil {
			first = err
		}
		delete(c.stmts, sql)
	}
	return first
}

func prepareOne(conn *sqlite3.Conn, sql string) (*sqlite3.Stmt, error) {
	stmt, tail, err := conn.Prepare(sql)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, sql)
	}
	if strings.TrimSpace(tail) != "" {
		stmt.Close()
		return nil, fmt.Errorf("one statement expected, found more: %q", tail)
	}
	return stmt, nil
}

func bindAll(stmt *sqlite3.Stmt, sql string, args []any) error {
	if n := stmt.BindCount(); n != len(args) {
		return fmt.Errorf("%d arguments for %d parameters (in %s)", len(args), n, sql)
	}
	for i, a := range args {
		if err := bind(stmt, i+1, a); err != nil {
			return err
		}
	}
	return nil
}

func prepare(conn *sqlite3.Conn, sql string, args []any) (*sqlite3.Stmt, error) {
	stmt, err := prepareOne(conn, sql)
	if err != nil {
		return nil, err
	}
	if err := bindAll(stmt, sql, args); err != nil {
		stmt.Close()
		return nil, err
	}
	return stmt, nil
}

func bind(stmt *sqlite3.Stmt, i int, a any) error {
	switch x := a.(type) {
	case nil:
		return stmt.BindNull(i)
	case int64:
		return stmt.BindInt64(i, x)
	case int:
		return stmt.BindInt64(i, int64(x))
	case float64:
		if math.IsNaN(x) {
			return stmt.BindNull(i)
		}
		return stmt.BindFloat(i, x)
	case string:
		return stmt.BindText(i, x)
	case []byte:
		if x == nil {
			x = []byte{}
		}
		return stmt.BindBlob(i, x)
	case bool:
		return stmt.BindBool(i, x)
	}
	return fmt.Errorf("bind parameter %d: unsupported Go type %T", i, a)
}

func queryConn(conn *sqlite3.Conn, sql string, args ...any) ([][]any, error) {
	stmt, err := prepare(conn, sql, args)
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	return collect(stmt)
}

func collect(stmt *sqlite3.Stmt) ([][]any, error) {
	var rows [][]any
	for stmt.Step() {
		row := make([]any, stmt.ColumnCount())
		if err := stmt.Columns(row...); err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, stmt.Err()
}

func execConn(conn *sqlite3.Conn, sql string, args ...any) error {
	stmt, err := prepare(conn, sql, args)
	if err != nil {
		return err
	}
	defer stmt.Close()
	return stmt.Exec()
}

// asInt reads an INTEGER column: int64, or a whole float64 from a Store
// whose numbers are floating point (D1). Anything else reads as 0.
func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	}
	return 0
}

// quote quotes an SQL identifier.
func quote(name string) string {
	out := make([]byte, 0, len(name)+2)
	out = append(out, '"')
	for i := 0; i < len(name); i++ {
		if name[i] == '"' {
			out = append(out, '"')
		}
		out = append(out, name[i])
	}
	return string(append(out, '"'))
}
