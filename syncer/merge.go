package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
)

// merge is one push being merged: the rows it touched, in memory, until
// flush writes them in one Exec.
type merge struct {
	s       *Server
	sub     string
	ahead   bool
	seq0    int64 // the server sequence when the rows were read
	seq     int64 // the last sequence handed out
	seen    map[string]bool
	rows    map[rowKey]*rowState
	order   []rowKey
	newSeen []seenID
	bumped  bool // a row got a sequence without an accepted change
	resp    PushResponse
}

type rowKey struct{ table, pk string }

type seenID struct {
	id  string
	seq int64
}

// conflictError is a write refused because another push moved the
// sequence first: the device retries.
type conflictError struct{ err error }

func (e *conflictError) Error() string {
	return "sync: push: another push committed first; retry: " + e.err.Error()
}
func (e *conflictError) Unwrap() error { return e.err }

// Is makes a conflictError match ErrBusy.
func (e *conflictError) Is(target error) bool { return target == ErrBusy }

// ErrBusy is matched (errors.Is) by a push that failed whole because
// another push committed first (two devices, or two Worker instances, at
// once): nothing of it was written, and sending it again is safe.
var ErrBusy = errors.New("sync: another push committed first")

// rowState is one row as the merge sees it.
type rowState struct {
	t         *Table
	inTable   bool           // the row is in the table on the server (as read)
	live      bool           // the row exists after the changes merged so far
	tomb      string         // HLC of the delete, "" while live
	wasTomb   bool           // the tombstone was already stored
	values    map[string]any // the row, PK included
	extras    map[string]any // columns the server's schema lacks
	clocks    map[string]string
	image     map[string]any // a tombstone's last image (where-rule tables)
	dirty     map[string]bool
	seq       int64
	created   bool
	tombWrite bool
}

func (s *Server) newMerge(ctx context.Context, sub string, ahead bool, changes []Change) (*merge, error) {
	rows, err := s.db.Query(ctx, "SELECT v FROM _sync_meta WHERE k = 'seq'")
	if err != nil || len(rows) == 0 {
		return nil, fmt.Errorf("sync: read sequence: %v", err)
	}
	return s.newMergeAt(ctx, sub, ahead, asInt(rows[0][0]), changes)
}

// newMergeAt starts a merge from the server sequence seq, read before
// anything of the rows (the guard of flush compares with it).
func (s *Server) newMergeAt(ctx context.Context, sub string, ahead bool, seq int64, changes []Change) (*merge, error) {
	m := &merge{s: s, sub: sub, ahead: ahead, seen: map[string]bool{}, rows: map[rowKey]*rowState{}}
	m.resp = PushResponse{Accepted: []string{}, Duplicate: []string{}, Rejected: []Rejection{}}
	m.seq0 = seq
	m.seq = m.seq0
	if len(changes) == 0 {
		return m, nil
	}
	ids := make([]string, len(changes))
	for i, ch := range changes {
		ids[i] = ch.ID
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	found, err := s.db.Query(ctx, "SELECT id FROM _sync_seen WHERE sub = ? AND id IN (SELECT value FROM json_each(?))", sub, string(b))
	if err != nil {
		return nil, fmt.Errorf("sync: read seen changes: %w", err)
	}
	for _, r := range found {
		m.seen[r[0].(string)] = true
	}
	return m, nil
}

func (m *merge) load(ctx context.Context, t *Table, pk string) (*rowState, error) {
	key := rowKey{t.Name, pk}
	if st := m.rows[key]; st != nil {
		return st, nil
	}
	states, err := loadRows(ctx, m.s.db, t, []string{pk})
	if err != nil {
		return nil, err
	}
	m.rows[key] = states[pk]
	m.order = append(m.order, key)
	return states[pk], nil
}

// reject refuses ch; gone says the user may see no version of its row
// on the server (see Rejection).
func (m *merge) reject(ch Change, code, msg string, gone bool) {
	m.resp.Rejected = append(m.resp.Rejected, Rejection{ID: ch.ID, Code: code, Message: msg, Table: ch.Table, PK: ch.PK, Gone: gone})
}

func (m *merge) accept(ch Change, st *rowState) {
	m.seq++
	if st != nil {
		st.seq = m.seq
	}
	m.seen[ch.ID] = true
	m.newSeen = append(m.newSeen, seenID{ch.ID, m.seq})
	m.resp.Accepted = append(m.resp.Accepted, ch.ID)
}

// apply merges one change into the rows in memory.
func (m *merge) apply(ctx context.Context, ch Change) error {
	if r := m.validate(ch); r != nil {
		m.resp.Rejected = append(m.resp.Rejected, *r)
		return nil
	}
	if m.seen[ch.ID] {
		m.resp.Duplicate = append(m.resp.Duplicate, ch.ID)
		return nil
	}
	t := m.s.schema.Tables[ch.Table]
	if t.Rule.Where != "" {
		// A where rule may read other tables: let it see this batch so far.
		if err := m.flush(ctx); err != nil {
			return err
		}
	}
	st, err := m.load(ctx, t, ch.PK)
	if err != nil {
		return fmt.Errorf("sync: push: read %s %s: %w", t.Name, ch.PK, err)
	}
	forbidden := func(gone bool) {
		m.reject(ch, CodeForbidden, fmt.Sprintf("%s %s: not a row of this user", t.Name, ch.PK), gone)
	}
	visible := func(img map[string]any) (bool, error) { return t.visible(ctx, m.s.db, img, m.sub) }

	if st.tomb != "" { // deletes win: the change is taken and changes nothing
		if ok, err := visible(st.image); err != nil || !ok {
			forbidden(true)
			return err
		}
		m.accept(ch, st)
		return nil
	}
	if !st.live {
		if ch.Op != OpInsert {
			m.reject(ch, CodeInvalid, fmt.Sprintf("%s %s: %s of a row the server does not have", t.Name, ch.PK, ch.Op), true)
			return nil
		}
	} else if ok, err := visible(st.values); err != nil || !ok {
		forbidden(true)
		return err
	}
	if ch.Op == OpDelete {
		st.tomb, st.tombWrite, st.live = ch.ID, true, false
		st.image = maps.Clone(st.values)
		if t.Rule.Owner != "" {
			st.image = map[string]any{t.Rule.Owner: st.values[t.Rule.Owner]}
		}
		m.accept(ch, st)
		return nil
	}
	values, extras := maps.Clone(st.values), maps.Clone(st.extras)
	values[t.PK] = ch.PK
	won := map[string]bool{}
	for col, v := range ch.Cols {
		if ch.ID <= st.clocks[col] {
			continue // an equal or newer write already set this column
		}
		won[col] = true
		if t.has(col) {
			values[col] = v.V
		} else {
			extras[col] = v.V
		}
	}
	if ok, err := visible(values); err != nil || !ok {
		forbidden(!st.live) // a new row given away: the server keeps none
		if st.live && err == nil {
			m.bump(st) // the device changed its copy: serve it the row again
		}
		return err
	}
	if !st.live {
		st.created, st.live = true, true
	}
	st.values, st.extras = values, extras
	for col := range won {
		st.clocks[col], st.dirty[col] = ch.ID, true
	}
	m.accept(ch, st)
	return nil
}

// discard forgets the changes merged since the last flush: the write
// failed, so none of them is on the server.
func (m *merge) discard() {
	n := len(m.newSeen)
	for _, id := range m.newSeen {
		delete(m.seen, id.id)
	}
	m.resp.Accepted = m.resp.Accepted[:len(m.resp.Accepted)-n]
	m.seq, m.rows, m.order, m.newSeen, m.bumped = m.seq0, map[rowKey]*rowState{}, nil, nil, false
}

// revert serves the row of a rejected change again (see bump), when the
// user may see it; served reports whether it does.
func (m *merge) revert(ctx context.Context, ch Change) (served bool, err error) {
	t := m.s.schema.Tables[ch.Table]
	st, err := m.load(ctx, t, ch.PK)
	if err != nil || !st.live {
		return false, err
	}
	if ok, err := t.visible(ctx, m.s.db, st.values, m.sub); err != nil || !ok {
		return false, err
	}
	m.bump(st)
	return true, m.flush(ctx)
}

// flush writes the merged rows, the new change ids and the sequence in one
// Exec, guarded against a concurrent push, and starts a new round.
func (m *merge) flush(ctx context.Context) error {
	if len(m.newSeen) == 0 && !m.bumped {
		return nil
	}
	stmts := []Stmt{
		{"INSERT INTO _sync_guard (expect, actual) VALUES (?, (SELECT v FROM _sync_meta WHERE k = 'seq'))", []any{m.seq0}},
		{"PRAGMA defer_foreign_keys = ON", nil},
	}
	// The clocks, _sync_rows lines and change ids of the whole batch are
	// written by one statement each, from a JSON array: on D1 every
	// statement of a batch costs, and a push of 500 inserts would
	// otherwise be thousands of them.
	var clocks, lines [][]any
	var ins inserts
	for _, key := range m.order {
		st := m.rows[key]
		if st.seq == 0 {
			continue
		}
		rowStmts, err := st.statements(key.pk, &ins, &clocks, &lines)
		if err != nil {
			return err
		}
		stmts = append(stmts, rowStmts...)
	}
	stmts = append(stmts, ins.statements()...)
	seen := make([][]any, len(m.newSeen))
	for i, n := range m.newSeen {
		seen[i] = []any{n.id, n.seq}
	}
	for _, w := range []struct {
		sql  string
		rows [][]any
	}{
		{`INSERT OR REPLACE INTO _sync_clock (tbl, pk, col, hlc)
			SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?)`, clocks},
		{`INSERT INTO _sync_rows (tbl, pk, seq, owner, deleted, image)
			SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 FROM json_each(?) WHERE true
			ON CONFLICT (tbl, pk) DO UPDATE SET seq = excluded.seq, owner = excluded.owner, deleted = excluded.deleted, image = excluded.image`, lines},
		{`INSERT INTO _sync_seen (sub, id, seq) SELECT ?, value ->> 0, value ->> 1 FROM json_each(?)`, seen},
	} {
		if len(w.rows) == 0 {
			continue
		}
		b, err := json.Marshal(w.rows)
		if err != nil {
			return fmt.Errorf("sync: push: %w", err)
		}
		if strings.Contains(w.sql, "_sync_seen") {
			stmts = append(stmts, Stmt{w.sql, []any{m.sub, string(b)}})
		} else {
			stmts = append(stmts, Stmt{w.sql, []any{string(b)}})
		}
	}
	stmts = append(stmts,
		Stmt{"UPDATE _sync_meta SET v = ? WHERE k = 'seq'", []any{m.seq}},
		Stmt{"DELETE FROM _sync_guard", nil})
	if err := m.s.db.Exec(ctx, stmts); err != nil {
		if strings.Contains(err.Error(), "_sync_guard") || strings.Contains(err.Error(), "_sync_rows.seq") {
			return &conflictError{err}
		}
		return fmt.Errorf("sync: push: %w", err)
	}
	m.seq0, m.rows, m.order, m.newSeen, m.bumped = m.seq, map[rowKey]*rowState{}, nil, nil, false
	return nil
}

// bump gives a row the next sequence without changing it, so every device
// of its users pulls it again: one whose change to it was rejected gets
// the server's version back.
func (m *merge) bump(st *rowState) {
	m.seq++
	st.seq, m.bumped = m.seq, true
}

// statements writes one merged row: the table and its extras; its clocks
// (tbl, pk, col, hlc) and _sync_rows line (tbl, pk, seq, owner, deleted,
// image) are appended to clocks and lines, written for the whole batch.
func (st *rowState) statements(pk string, ins *inserts, clocks, lines *[][]any) ([]Stmt, error) {
	t := st.t
	tq, pkq := quote(t.Name), quote(t.PK)
	var out []Stmt
	var owner any
	if t.Rule.Owner != "" {
		owner = st.values[t.Rule.Owner]
		if st.tomb != "" {
			owner = st.image[t.Rule.Owner]
		}
	}
	var deleted, image any
	switch {
	case st.tombWrite:
		if st.inTable {
			out = append(out, Stmt{fmt.Sprintf("DELETE FROM %s WHERE %s = ?", tq, pkq), []any{pk}})
		}
		out = append(out,
			Stmt{"DELETE FROM _sync_clock WHERE tbl = ? AND pk = ?", []any{t.Name, pk}},
			Stmt{"DELETE FROM _sync_extra WHERE tbl = ? AND pk = ?", []any{t.Name, pk}})
		deleted = st.tomb
		if st.image != nil {
			img, err := encodeImage(st.image)
			if err != nil {
				return nil, err
			}
			image = img
		}
	case st.wasTomb:
		deleted = st.tomb
		if st.image != nil {
			img, _ := encodeImage(st.image)
			image = img
		}
	default:
		var cols, sets []string
		var args []any
		for _, c := range t.Columns {
			if _, given := st.values[c]; st.created && given || st.dirty[c] {
				cols, sets = append(cols, quote(c)), append(sets, quote(c)+" = ?")
				args = append(args, st.values[c])
			}
		}
		switch {
		case st.created:
			ins.add(fmt.Sprintf("INSERT INTO %s (%s) VALUES ", tq, strings.Join(append([]string{pkq}, cols...), ", ")), append([]any{pk}, args...))
		case len(sets) > 0:
			out = append(out, Stmt{fmt.Sprintf("UPDATE %s SET %s WHERE %s = ?", tq, strings.Join(sets, ", "), pkq), append(args, pk)})
		}
		for c := range st.dirty {
			*clocks = append(*clocks, []any{t.Name, pk, c, st.clocks[c]})
			if !t.has(c) {
				out = append(out, Stmt{"INSERT OR REPLACE INTO _sync_extra (tbl, pk, col, val) VALUES (?, ?, ?, ?)", []any{t.Name, pk, c, st.extras[c]}})
			} else if _, stale := st.extras[c]; stale {
				out = append(out, Stmt{"DELETE FROM _sync_extra WHERE tbl = ? AND pk = ? AND col = ?", []any{t.Name, pk, c}})
			}
		}
	}
	if _, ok := owner.(string); !ok {
		owner = nil // never visible to anyone (the owner rule compares text)
	}
	*lines = append(*lines, []any{t.Name, pk, st.seq, owner, deleted, image})
	return out, nil
}

func encodeImage(img map[string]any) (string, error) {
	vals := make(map[string]Value, len(img))
	for k, v := range img {
		vals[k] = Value{v}
	}
	b, err := json.Marshal(vals)
	return string(b), err
}

func decodeImage(s string) (map[string]any, error) {
	var vals map[string]Value
	if err := json.Unmarshal([]byte(s), &vals); err != nil {
		return nil, err
	}
	img := make(map[string]any, len(vals))
	for k, v := range vals {
		img[k] = v.V
	}
	return img, nil
}

// maxParams bounds the parameters of one statement: D1 allows 100.
const maxParams = 90

// inserts groups the INSERTs of new rows by table and column list, written
// as multi-row VALUES of at most maxParams parameters: on D1 each
// statement of a batch costs, and a push of 500 new rows would otherwise
// be 500 INSERTs. Values stay bound parameters (exact, blobs included).
// Should the grouped order trip a constraint the row-by-row order would
// not, Push merges again change by change (pushEach).
type inserts struct {
	order  []string
	groups map[string][][]any
}

func (in *inserts) add(head string, args []any) {
	if in.groups == nil {
		in.groups = map[string][][]any{}
	}
	if _, ok := in.groups[head]; !ok {
		in.order = append(in.order, head)
	}
	in.groups[head] = append(in.groups[head], args)
}

func (in *inserts) statements() []Stmt {
	var out []Stmt
	for _, head := range in.order {
		rows := in.groups[head]
		width := len(rows[0])
		per := max(1, maxParams/width)
		tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
		for i := 0; i < len(rows); i += per {
			chunk := rows[i:min(i+per, len(rows))]
			args := make([]any, 0, len(chunk)*width)
			for _, r := range chunk {
				args = append(args, r...)
			}
			out = append(out, Stmt{head + strings.TrimSuffix(strings.Repeat(tuple+", ", len(chunk)), ", "), args})
		}
	}
	return out
}
