package engine

import "slices"

// Change tracking: the authorizer (authorizer.go) adds every table a
// statement writes to d.pending when the statement is prepared (the
// statement cache replays a cached statement's writes on reuse), a
// rollback forgets them, and flush reports them as one "change" event once
// they are committed.

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
