package engine

import (
	"slices"
	"strings"
)

// Change tracking: the authorizer (authorizer.go) adds every table a
// statement writes to d.pending when the statement is prepared (the
// statement cache replays a cached statement's writes on reuse), a
// rollback forgets them, and flush reports them as one "change" event once
// they are committed. Sync's own tables (_sync_outbox, _sync_state, …)
// are left out of the event: a commit that queued changes in the outbox
// says so with Captured instead.

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
	captured := false
	tables := make([]string, 0, len(d.pending))
	for t := range d.pending {
		tables = append(tables, t)
		captured = captured || strings.EqualFold(t, syncOutbox)
	}
	clear(d.pending)
	d.emitChange(tables, captured)
}

// syncOutbox is the table the capture triggers write (syncer's outbox).
const syncOutbox = "_sync_outbox"

// emitChange reports a change of tables, leaving sync's own tables out; it
// reports nothing when only those were written.
func (d *Database) emitChange(tables []string, captured bool) {
	tables = slices.DeleteFunc(slices.Clone(tables), syncTable)
	if len(tables) == 0 {
		return
	}
	slices.Sort(tables)
	d.host.emit(d.name, Event{Type: "change", Tables: tables, Captured: captured})
}

// syncTable reports whether a table is one of sync's own.
func syncTable(name string) bool {
	return strings.HasPrefix(strings.ToLower(name), "_sync_")
}
