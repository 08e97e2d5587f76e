package syncer

import (
	"fmt"
	"strings"
)

// backfill queues, once per table, the rows it held before it synced (an
// existing app adopting sync, or a table newly named in sync.toml) as
// inserts with fresh HLCs, as the insert trigger would have. Rows pulled
// later are never queued: a table is backfilled the first time Install
// sees it, before any pull.
func (c *Client) backfill(t *Table) error {
	done, err := c.db.query("SELECT 1 FROM _sync_tables WHERE name = ?", t.Name)
	if err != nil || len(done) > 0 {
		return err
	}
	names, cols := columnList(t, "")
	rows, err := c.db.query(fmt.Sprintf("SELECT %s FROM %s ORDER BY rowid", cols, quote(t.Name)))
	if err != nil && strings.Contains(err.Error(), "no such column: rowid") {
		rows, err = c.db.query(fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", cols, quote(t.Name), quote(t.PK)))
	}
	if err != nil {
		return err
	}
	const insert = "INSERT INTO _sync_outbox (tbl, pk, op, col, val, hlc) VALUES (?, ?, '" + OpInsert + "', ?, ?, " + sqlHLC + ")"
	for _, r := range rows {
		pk, ok := r[0].(string)
		if !ok {
			return fmt.Errorf("primary key %v is not TEXT: it cannot sync", r[0])
		}
		if err := c.db.exec(strings.TrimSuffix(sqlTick, ";")); err != nil {
			return err
		}
		if err := c.db.exec(insert, t.Name, pk, nil, nil); err != nil {
			return err
		}
		for i, col := range names[1:] {
			v, err := untyped(r[i+1])
			if err != nil {
				return err
			}
			if err := c.db.exec(insert, t.Name, pk, col, v); err != nil {
				return err
			}
		}
	}
	return c.db.exec("INSERT INTO _sync_tables (name) VALUES (?)", t.Name)
}
