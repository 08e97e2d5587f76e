package engine

import (
	"slices"
	"strings"

	"github.com/ncruces/go-sqlite3"
)

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
