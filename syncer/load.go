package syncer

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// maxKeys bounds the keys one read passes, as one JSON array parameter
// (D1 allows 100 parameters per statement, not 100 keys).
const maxKeys = MaxBatch

// columnList is "pk", "c1", ... of t, quoted, with a prefix on each; every
// column but the primary key is selected through typed (decode with
// untyped).
func columnList(t *Table, prefix string) (names []string, sql string) {
	names = append([]string{t.PK}, t.Columns...)
	q := make([]string, len(names))
	for i, c := range names {
		q[i] = prefix + quote(c)
		if i > 0 {
			q[i] = typed(q[i])
		}
	}
	return names, strings.Join(q, ", ")
}

// loadRows reads the server's state of the rows pks of t, in three queries
// (a round trip each on D1), the keys passed as one JSON array: the sync
// metadata with the column clocks, the table's rows, and any extra
// columns.
func loadRows(ctx context.Context, db Store, t *Table, pks []string) (map[string]*rowState, error) {
	out := make(map[string]*rowState, len(pks))
	for _, pk := range pks {
		out[pk] = &rowState{t: t, values: map[string]any{}, extras: map[string]any{}, clocks: map[string]string{}, dirty: map[string]bool{}}
	}
	names, cols := columnList(t, "")
	for i := 0; i < len(pks); i += maxKeys {
		chunk := pks[i:min(i+maxKeys, len(pks))]
		keys, err := json.Marshal(chunk)
		if err != nil {
			return nil, err
		}
		meta, err := db.Query(ctx, `SELECT pk, deleted, image, owner,
			(SELECT json_group_object(c.col, c.hlc) FROM _sync_clock c WHERE c.tbl = r.tbl AND c.pk = r.pk)
			FROM _sync_rows r WHERE tbl = ? AND pk IN (SELECT value FROM json_each(?))`, t.Name, string(keys))
		if err != nil {
			return nil, err
		}
		for _, r := range meta {
			st := out[r[0].(string)]
			if err := st.readMeta(r[1:]); err != nil {
				return nil, fmt.Errorf("%s %s: %w", t.Name, r[0], err)
			}
		}
		rows, err := db.Query(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE %s IN (SELECT value FROM json_each(?))", cols, quote(t.Name), quote(t.PK)), string(keys))
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			st := out[r[0].(string)]
			if st == nil {
				continue // a key that matched by type affinity, not as this text
			}
			st.inTable, st.live = true, !st.wasTomb
			st.values[names[0]] = r[0]
			for j, c := range names[1:] {
				if st.values[c], err = untyped(r[j+1]); err != nil {
					return nil, fmt.Errorf("%s %s column %s: %w", t.Name, r[0], c, err)
				}
			}
		}
		extras, err := db.Query(ctx, "SELECT pk, col, "+typed("val")+" FROM _sync_extra WHERE tbl = ? AND pk IN (SELECT value FROM json_each(?))", t.Name, string(keys))
		if err != nil {
			return nil, err
		}
		for _, e := range extras {
			if out[e[0].(string)].extras[e[1].(string)], err = untyped(e[2]); err != nil {
				return nil, fmt.Errorf("%s %s extra column %s: %w", t.Name, e[0], e[1], err)
			}
		}
	}
	return out, nil
}

// readMeta reads deleted, image, owner and the clocks (JSON) of a
// _sync_rows line.
func (st *rowState) readMeta(r []any) error {
	if s, ok := r[3].(string); ok {
		if err := json.Unmarshal([]byte(s), &st.clocks); err != nil {
			return fmt.Errorf("clocks: %w", err)
		}
	}
	if r[0] == nil {
		return nil
	}
	st.tomb, st.wasTomb = r[0].(string), true
	st.image = map[string]any{}
	if img, ok := r[1].(string); ok {
		var err error
		if st.image, err = decodeImage(img); err != nil {
			return fmt.Errorf("tombstone: %w", err)
		}
	}
	if owner := st.t.Rule.Owner; owner != "" {
		st.image[owner] = r[2]
	}
	return nil
}

// preload reads, in batches, the rows the changes of owner-rule tables
// touch. Where-rule tables are read change by change, after the batch so
// far is written (their rule may read other tables).
func (m *merge) preload(ctx context.Context, changes []Change) error {
	byTable := map[string][]string{}
	seen := map[rowKey]bool{}
	for _, ch := range changes {
		t := m.s.schema.Tables[ch.Table]
		key := rowKey{ch.Table, ch.PK}
		if t == nil || t.Rule.Owner == "" || seen[key] || m.rows[key] != nil {
			continue
		}
		seen[key] = true
		byTable[ch.Table] = append(byTable[ch.Table], ch.PK)
	}
	for _, name := range m.s.schema.Config.TableNames() {
		if len(byTable[name]) == 0 {
			continue
		}
		states, err := loadRows(ctx, m.s.db, m.s.schema.Tables[name], byTable[name])
		if err != nil {
			return fmt.Errorf("sync: push: read %s: %w", name, err)
		}
		for _, pk := range byTable[name] {
			key := rowKey{name, pk}
			m.rows[key] = states[pk]
			m.order = append(m.order, key)
		}
	}
	return nil
}
