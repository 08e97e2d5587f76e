package syncer

import (
	"context"
	"fmt"
	"math"

	"github.com/ncruces/go-sqlite3"
)

// Store is the database the server side runs on: SQLite natively (see
// ConnStore) and Cloudflare D1 in the edge Worker. Values in and out are
// nil, int64, float64, string or []byte.
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

// ConnStore is a Store over one ncruces/go-sqlite3 connection.
type ConnStore struct{ Conn *sqlite3.Conn }

var _ Store = ConnStore{}

// Query implements Store.
func (s ConnStore) Query(ctx context.Context, sql string, args ...any) ([][]any, error) {
	return queryConn(s.Conn, sql, args...)
}

// Exec implements Store: BEGIN IMMEDIATE, the statements, COMMIT; ROLLBACK
// on the first error.
func (s ConnStore) Exec(ctx context.Context, stmts []Stmt) (err error) {
	tx, err := s.Conn.BeginImmediate()
	if err != nil {
		return err
	}
	defer tx.End(&err)
	for _, st := range stmts {
		if err := execConn(s.Conn, st.SQL, st.Args...); err != nil {
			return err
		}
	}
	return nil
}

func prepare(conn *sqlite3.Conn, sql string, args []any) (*sqlite3.Stmt, error) {
	stmt, tail, err := conn.Prepare(sql)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, sql)
	}
	if tail != "" {
		stmt.Close()
		return nil, fmt.Errorf("one statement expected, found more: %q", tail)
	}
	if n := stmt.BindCount(); n != len(args) {
		stmt.Close()
		return nil, fmt.Errorf("%d arguments for %d parameters (in %s)", len(args), n, sql)
	}
	for i, a := range args {
		if err := bind(stmt, i+1, a); err != nil {
			stmt.Close()
			return nil, err
		}
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
