package syncer

import (
	"context"
	"fmt"
	"strings"

	"github.com/ncruces/go-sqlite3"
)

// The device's own tables. _sync_state holds one row: the node id, the
// HLC (ms, ctr), the applying flag that the capture triggers check (1 only
// inside Apply's transaction, so it is never committed as 1) and the pull
// cursor. _sync_outbox holds captured changes until the server has them:
// one row per changed column (col NULL marks an insert or a delete), all
// rows of one change sharing its HLC. _sync_tables lists the tables whose
// rows from before sync have been queued (see backfill).
const deviceTables = `
CREATE TABLE IF NOT EXISTS _sync_state (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  node     TEXT    NOT NULL,
  ms       INTEGER NOT NULL DEFAULT 0,
  ctr      INTEGER NOT NULL DEFAULT 0,
  applying INTEGER NOT NULL DEFAULT 0,
  cursor   INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO _sync_state (id, node) VALUES (1, lower(hex(randomblob(8))));
CREATE TABLE IF NOT EXISTS _sync_outbox (
  id  INTEGER PRIMARY KEY AUTOINCREMENT,
  tbl TEXT NOT NULL,
  pk  TEXT NOT NULL,
  op  TEXT NOT NULL,
  col TEXT,
  val,
  hlc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS _sync_outbox_row ON _sync_outbox (tbl, pk);
CREATE INDEX IF NOT EXISTS _sync_outbox_hlc ON _sync_outbox (hlc);
CREATE TABLE IF NOT EXISTS _sync_tables (name TEXT PRIMARY KEY);
`

// SQL pieces of the triggers. now is the physical clock in ms; tick
// advances the HLC (a new millisecond resets the counter, otherwise it
// counts up, so readings only grow even if the wall clock steps back);
// hlc reads it in the text form of HLC.String.
const (
	sqlNow     = `CAST(unixepoch('subsec') * 1000 AS INTEGER)`
	sqlTick    = `UPDATE _sync_state SET ctr = CASE WHEN ` + sqlNow + ` > ms THEN 0 ELSE ctr + 1 END, ms = max(ms, ` + sqlNow + `) WHERE id = 1;`
	sqlHLC     = `(SELECT printf('` + hlcSQLFormat + `', ms, ctr, node) FROM _sync_state WHERE id = 1)`
	sqlCapture = `(SELECT applying FROM _sync_state WHERE id = 1) = 0`
)

// Install prepares a device database for sync: it checks the declaration
// against the schema (see Check), creates _sync_state and _sync_outbox,
// and (re)creates the capture triggers of every synced table, all in one
// transaction. The rows a table holds when it first syncs are queued as
// inserts. Run it after the migrations on every open: a migration that
// rebuilds a table drops its triggers, and one that adds a column needs
// them regenerated.
func Install(ctx context.Context, conn *sqlite3.Conn, cfg *Config) (c *Client, err error) {
	tx, err := conn.BeginImmediate()
	if err != nil {
		return nil, fmt.Errorf("sync: install: %w", err)
	}
	defer tx.End(&err)
	store := NewConnStore(conn)
	schema, err := Check(ctx, store, cfg)
	if err != nil {
		store.Close()
		return nil, err
	}
	defer func() {
		if err != nil {
			store.Close()
		}
	}()
	if err := conn.Exec(deviceTables); err != nil {
		return nil, fmt.Errorf("sync: install: %w", err)
	}
	old, err := queryConn(conn, `SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name LIKE '\_sync\_%' ESCAPE '\'`)
	if err != nil {
		return nil, fmt.Errorf("sync: install: %w", err)
	}
	for _, r := range old {
		if err := conn.Exec("DROP TRIGGER " + quote(r[0].(string))); err != nil {
			return nil, fmt.Errorf("sync: install: %w", err)
		}
	}
	for _, name := range cfg.TableNames() {
		for _, sql := range triggers(schema.Tables[name]) {
			if err := conn.Exec(sql); err != nil {
				return nil, fmt.Errorf("sync: install: table %s: %w", name, err)
			}
		}
	}
	c = &Client{conn: conn, db: store.db, schema: schema}
	for _, name := range cfg.TableNames() {
		if err := c.backfill(schema.Tables[name]); err != nil {
			return nil, fmt.Errorf("sync: install: table %s: %w", name, err)
		}
	}
	return c, nil
}

// triggers generates the capture triggers of one table: AFTER INSERT,
// AFTER UPDATE (changed columns only; a change of primary key is a delete
// of the old key and an insert of the new one) and AFTER DELETE. Each
// writes its outbox rows in the statement's own transaction.
func triggers(t *Table) []string {
	tq, tl, pk := quote(t.Name), literal(t.Name), quote(t.PK)
	name := func(kind string) string { return quote("_sync_" + t.Name + "_" + kind) }
	outbox := func(rowPK, op, cols string) string {
		return fmt.Sprintf("INSERT INTO _sync_outbox (tbl, pk, op, col, val, hlc) SELECT %s, %s, '%s', c.col, c.val, %s FROM (%s) AS c;",
			tl, rowPK, op, sqlHLC, cols)
	}
	allCols := func(row string) string {
		parts := []string{"SELECT NULL AS col, NULL AS val"}
		for _, c := range t.Columns {
			parts = append(parts, fmt.Sprintf("SELECT %s, %s.%s", literal(c), row, quote(c)))
		}
		return strings.Join(parts, " UNION ALL ")
	}
	marker := "SELECT NULL AS col, NULL AS val"
	var out []string
	out = append(out, fmt.Sprintf("CREATE TRIGGER %s AFTER INSERT ON %s WHEN %s BEGIN %s %s END",
		name("ins"), tq, sqlCapture, sqlTick, outbox("NEW."+pk, OpInsert, allCols("NEW"))))
	out = append(out, fmt.Sprintf("CREATE TRIGGER %s AFTER DELETE ON %s WHEN %s BEGIN %s %s END",
		name("del"), tq, sqlCapture, sqlTick, outbox("OLD."+pk, OpDelete, marker)))
	out = append(out, fmt.Sprintf("CREATE TRIGGER %s AFTER UPDATE ON %s WHEN %s AND NEW.%s IS NOT OLD.%s BEGIN %s %s %s %s END",
		name("rekey"), tq, sqlCapture, pk, pk,
		sqlTick, outbox("OLD."+pk, OpDelete, marker), sqlTick, outbox("NEW."+pk, OpInsert, allCols("NEW"))))
	if len(t.Columns) > 0 {
		var changed, parts []string
		for _, c := range t.Columns {
			cq := quote(c)
			changed = append(changed, fmt.Sprintf("NEW.%s IS NOT OLD.%s", cq, cq))
			parts = append(parts, fmt.Sprintf("SELECT %s AS col, NEW.%s AS val WHERE NEW.%s IS NOT OLD.%s", literal(c), cq, cq, cq))
		}
		out = append(out, fmt.Sprintf("CREATE TRIGGER %s AFTER UPDATE ON %s WHEN %s AND NEW.%s IS OLD.%s AND (%s) BEGIN %s %s END",
			name("upd"), tq, sqlCapture, pk, pk, strings.Join(changed, " OR "), sqlTick,
			outbox("NEW."+pk, OpUpdate, strings.Join(parts, " UNION ALL "))))
	}
	return out
}

// literal quotes s as an SQL string literal.
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
