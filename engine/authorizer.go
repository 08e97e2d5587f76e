package engine

import (
	"context"
	"slices"
	"strings"

	"github.com/ncruces/go-sqlite3"
)

// SQLite calls the authorizer (https://sqlite.org/c3ref/set_authorizer.html)
// for every table, column and action of a statement while it prepares it.
// The engine uses it for three things:
//
//   - change tracking: the tables a statement writes (INSERT, UPDATE and
//     DELETE targets, including the truncate optimisation that the update
//     hook misses) go into d.pending, and into the statement cache's record
//     of the statement;
//   - transaction control in a user's statement (exec, query, run): BEGIN,
//     COMMIT, END and ROLLBACK are refused, and so are SAVEPOINT, RELEASE
//     and ROLLBACK TO outside db.transaction. A raw BEGIN would hold the
//     connection's transaction open across calls the gate does not know
//     about: another call's writes would join it and be lost with its
//     ROLLBACK. The engine's own BEGIN IMMEDIATE and COMMIT, and
//     migrations (which bring their own transaction wrappers), are not
//     user statements;
//   - the read set of a statement ([Database.ReadSet]): the tables it
//     reads, for live queries.

// prepareMode is what the authorizer does while a statement is prepared.
type prepareMode uint8

const (
	prepareInternal prepareMode = iota // the engine's own statements and migrations
	prepareUser                        // exec, query, run: transaction control is refused
	prepareReadSet                     // ReadSet: collect the tables read, nothing else
)

// authorize installs the authorizer and the rollback hook on d's connection.
func (d *Database) authorize() {
	d.conn.SetAuthorizer(func(action sqlite3.AuthorizerActionCode, name3rd, _, schema, _ string) sqlite3.AuthorizerReturnCode {
		if d.mode == prepareReadSet {
			// A table read for no column (SELECT count(*) FROM t) comes
			// with no schema name.
			if action == sqlite3.AUTH_READ && (schema == "main" || schema == "") && !internalTable(name3rd) {
				d.reads[strings.ToLower(name3rd)] = struct{}{}
			}
			return sqlite3.AUTH_OK
		}
		if changesSchema(action) {
			d.stmts.ddl, d.stmts.stale = true, true
		}
		switch action {
		case sqlite3.AUTH_INSERT, sqlite3.AUTH_UPDATE, sqlite3.AUTH_DELETE:
			if schema == "main" && !strings.HasPrefix(name3rd, "sqlite_") {
				d.pending[name3rd] = struct{}{}
				d.stmts.prepared = append(d.stmts.prepared, name3rd)
			}
		case sqlite3.AUTH_TRANSACTION, sqlite3.AUTH_SAVEPOINT:
			// Whether it is allowed depends on the call: never cached.
			d.stmts.ddl = true
			if d.mode == prepareUser && (action == sqlite3.AUTH_TRANSACTION || d.tx == 0) {
				d.stmts.refused, d.stmts.refusedInTx = name3rd, d.tx != 0
				if action == sqlite3.AUTH_SAVEPOINT {
					d.stmts.refused = savepointVerb(name3rd)
				}
				return sqlite3.AUTH_DENY
			}
		}
		return sqlite3.AUTH_OK
	})
	d.conn.RollbackHook(func() { clear(d.pending) })
}

// savepointVerb names the statement of an AUTH_SAVEPOINT operation.
func savepointVerb(op string) string {
	switch op {
	case "BEGIN":
		return "SAVEPOINT"
	case "ROLLBACK":
		return "ROLLBACK TO"
	}
	return op // RELEASE
}

// refusal is the error of a transaction-control statement sent through
// exec, query or run. sql starts at the refused statement: its first word
// names it as the app wrote it (END, which SQLite reports as COMMIT).
func refusal(sql, op string, inTx bool) error {
	verb := op
	if w := strings.ToUpper(firstWord(sql)); w != "" && op != "ROLLBACK TO" {
		verb = w
	}
	if inTx {
		return Errorf(CodeInvalidArgument, "larder: %s is not allowed inside db.transaction: its callback commits when it returns and rolls back when it throws (SAVEPOINT, RELEASE and ROLLBACK TO work)", verb)
	}
	return Errorf(CodeInvalidArgument, "larder: %s is not allowed in exec/query/run: use db.transaction(async (tx) => …)", verb)
}

// firstWord returns the first keyword of sql, after white space and
// comments.
func firstWord(sql string) string {
	i := 0
	for i < len(sql) {
		switch {
		case strings.IndexByte(" \t\n\r\f\v", sql[i]) >= 0:
			i++
		case strings.HasPrefix(sql[i:], "--"):
			if j := strings.IndexByte(sql[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(sql)
			}
		case strings.HasPrefix(sql[i:], "/*"):
			if j := strings.Index(sql[i+2:], "*/"); j >= 0 {
				i += j + 4
			} else {
				i = len(sql)
			}
		default:
			j := i
			for j < len(sql) && (sql[j]|0x20 >= 'a' && sql[j]|0x20 <= 'z') {
				j++
			}
			return sql[i:j]
		}
	}
	return ""
}

// internalTable reports whether a table is SQLite's or Larder's own, never
// part of a read set.
func internalTable(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "sqlite_") || strings.HasPrefix(n, "_larder") || n == "_migrations"
}

// ReadSet returns the tables of the main schema that sql reads (lower-case,
// sorted; SQLite's and Larder's own tables left out), as SQLite's
// authorizer reports them while it prepares every statement of sql, which
// is never run. A view counts as the tables it reads; a write counts as
// the tables its WHERE clause, SET expressions or SELECT read. Inside the
// transaction tx (0 for none).
func (d *Database) ReadSet(ctx context.Context, tx uint64, sql string) ([]string, error) {
	release, err := d.acquire(ctx, tx)
	if err != nil {
		return nil, err
	}
	defer release()
	d.mode, d.reads = prepareReadSet, map[string]struct{}{}
	defer func() { d.mode, d.reads = prepareInternal, nil }()
	for rest := sql; strings.TrimSpace(rest) != ""; {
		stmt, tail, err := d.conn.Prepare(rest)
		if err != nil {
			return nil, err
		}
		if stmt == nil {
			break
		}
		if err := stmt.Close(); err != nil {
			return nil, err
		}
		rest = tail
	}
	reads := d.reads
	d.mode, d.reads = prepareInternal, nil
	// SQLite reports the columns of a view as read too, beside the tables
	// the view reads: only tables change.
	views, err := viewNames(d.conn)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(reads))
	for t := range reads {
		if !slices.Contains(views, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, nil
}

// viewNames returns the names of the main schema's views, lower-case.
func viewNames(c *sqlite3.Conn) ([]string, error) {
	return firstColumn(c, `SELECT lower(name) FROM main.sqlite_schema WHERE type = 'view'`)
}

// firstColumn runs a query without parameters and returns its first
// column as text, one string per row.
func firstColumn(c *sqlite3.Conn, query string) ([]string, error) {
	stmt, _, err := c.Prepare(query)
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
