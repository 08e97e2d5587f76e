package engine

import (
	"slices"

	"github.com/ncruces/go-sqlite3"
)

// stmtCacheSize bounds how many prepared statements a database keeps.
const stmtCacheSize = 64

// stmtCache keeps prepared single-statement SQL by its text, so a call that
// repeats its SQL with new parameters (the common case: the same INSERT or
// SELECT in a loop) skips sqlite3_prepare, the costliest part of a small
// call. SQLite re-prepares a cached statement by itself after a schema
// change (https://sqlite.org/c3ref/prepare.html, prepare_v3).
//
// The authorizer that records the tables a call writes (for change events)
// runs when a statement is prepared, not when it runs: the cache remembers
// each statement's writes and replays them into pending on every reuse.
type stmtCache struct {
	entries map[string]*cachedStmt
	order   []string            // least recently used first
	pending map[string]struct{} // the database's tables written since the last commit
	// prepared collects the tables the authorizer saw during the current
	// Prepare (the Database's authorizer appends to it).
	prepared []string
	// The authorizer sets both on a statement that changes the schema or
	// connection state (DDL, ATTACH, PRAGMA). ddl keeps that statement out
	// of the cache; stale empties the cache before the next call, because a
	// cached statement would keep the columns of the old schema (SELECT *)
	// until it is stepped. This connection is the only one on the database,
	// so every schema change passes through its authorizer.
	ddl, stale bool
	// refused is the transaction-control statement the authorizer refused
	// during the current Prepare of a user's statement ("BEGIN",
	// "SAVEPOINT", ...; see authorizer.go), refusedInTx whether a
	// transaction was open.
	refused     string
	refusedInTx bool
}

// changesSchema reports whether an authorizer action changes the schema or
// state a prepared statement was compiled against.
func changesSchema(action sqlite3.AuthorizerActionCode) bool {
	switch action {
	case sqlite3.AUTH_INSERT, sqlite3.AUTH_UPDATE, sqlite3.AUTH_DELETE, sqlite3.AUTH_READ,
		sqlite3.AUTH_SELECT, sqlite3.AUTH_TRANSACTION, sqlite3.AUTH_FUNCTION,
		sqlite3.AUTH_SAVEPOINT, sqlite3.AUTH_RECURSIVE, sqlite3.AUTH_ANALYZE:
		return false
	}
	return true
}

type cachedStmt struct {
	stmt   *sqlite3.Stmt
	writes []string
}

func newStmtCache(pending map[string]struct{}) *stmtCache {
	return &stmtCache{entries: map[string]*cachedStmt{}, pending: pending}
}

// take removes and returns the statement cached for sql, replaying its
// writes, or nil. A taken statement is the caller's until put back.
func (c *stmtCache) take(sql string) *cachedStmt {
	if c.stale {
		c.clear()
		c.stale = false
	}
	e := c.entries[sql]
	if e == nil {
		return nil
	}
	delete(c.entries, sql)
	c.order = slices.DeleteFunc(c.order, func(s string) bool { return s == sql })
	for _, t := range e.writes {
		c.pending[t] = struct{}{}
	}
	return e
}

// put resets e's statement and keeps it for sql, evicting the least
// recently used statement when full. A statement that failed is closed.
func (c *stmtCache) put(sql string, e *cachedStmt, failed bool) {
	if failed || e.stmt.Reset() != nil || e.stmt.ClearBindings() != nil {
		e.stmt.Close()
		return
	}
	if old := c.entries[sql]; old != nil {
		old.stmt.Close()
		c.order = slices.DeleteFunc(c.order, func(s string) bool { return s == sql })
	}
	if len(c.order) >= stmtCacheSize {
		oldest := c.order[0]
		c.entries[oldest].stmt.Close()
		delete(c.entries, oldest)
		c.order = c.order[1:]
	}
	c.entries[sql] = e
	c.order = append(c.order, sql)
}

// clear closes every cached statement (before the connection closes: SQLite
// refuses to close a connection with statements left).
func (c *stmtCache) clear() {
	for _, e := range c.entries {
		e.stmt.Close()
	}
	clear(c.entries)
	c.order = c.order[:0]
}
