package syncer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ncruces/go-sqlite3"
)

// stallHook is nil except in test-hooks builds (testhooks.go), where the
// browser kill tests stall a round at a crash point and kill the worker.
var stallHook func(point string)

func stallAt(point string) {
	if stallHook != nil {
		stallHook(point)
	}
}

// Client is the device side of sync over one connection: it reads the
// outbox for a push, acknowledges what the server answered, and applies
// pulled pages. It does no networking; the caller moves the requests. Like
// the connection, it is not safe for concurrent use: the owner tab's
// worker drives it.
type Client struct {
	conn   *sqlite3.Conn
	db     *cache
	schema *Schema
	// fault, when set (tests), is called before each row Apply writes; an
	// error aborts the page as a crash would.
	fault func() error
}

// Close finalizes the client's prepared statements (not the connection).
func (c *Client) Close() error { return c.db.close() }

// Node is this device's node id, the last part of its HLCs.
func (c *Client) Node() (string, error) {
	rows, err := c.db.query("SELECT node FROM _sync_state WHERE id = 1")
	if err != nil || len(rows) == 0 {
		return "", fmt.Errorf("sync: node id: %v", err)
	}
	return rows[0][0].(string), nil
}

// Hello reads what the device says about its schema from _migrations:
// the newest applied version and the newest breaking one.
func (c *Client) Hello() (Hello, error) {
	rows, err := c.db.query("SELECT coalesce(max(version), 0), coalesce(max(CASE WHEN breaking THEN version END), 0) FROM _migrations")
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return Hello{}, nil
		}
		return Hello{}, fmt.Errorf("sync: read _migrations: %w", err)
	}
	return Hello{Version: asInt(rows[0][0]), Breaking: asInt(rows[0][1])}, nil
}

// Cursor is the server sequence this device has pulled up to.
func (c *Client) Cursor() (int64, error) {
	rows, err := c.db.query("SELECT cursor FROM _sync_state WHERE id = 1")
	if err != nil || len(rows) == 0 {
		return 0, fmt.Errorf("sync: cursor: %v", err)
	}
	return rows[0][0].(int64), nil
}

// Pending returns up to limit changes from the outbox, oldest first.
func (c *Client) Pending(limit int) ([]Change, error) {
	rows, err := c.db.query(`SELECT hlc, tbl, pk, op, col, val FROM _sync_outbox
		WHERE hlc IN (SELECT hlc FROM _sync_outbox GROUP BY hlc ORDER BY min(id) LIMIT ?) ORDER BY id`, int64(limit))
	if err != nil {
		return nil, fmt.Errorf("sync: read outbox: %w", err)
	}
	var out []Change
	index := map[string]int{}
	for _, r := range rows {
		id := r[0].(string)
		i, ok := index[id]
		if !ok {
			i = len(out)
			index[id] = i
			out = append(out, Change{ID: id, Table: r[1].(string), PK: r[2].(string), Op: r[3].(string)})
		}
		if col, ok := r[4].(string); ok {
			if out[i].Cols == nil {
				out[i].Cols = map[string]Value{}
			}
			out[i].Cols[col] = Value{r[5]}
		}
	}
	return out, nil
}

// Ack removes from the outbox every change the response lists: accepted
// and duplicate ones are on the server, rejected ones never will be. A
// rejected change whose row the server says is gone for this user (a new
// row given to someone else, another user's row) drops the device's copy
// of the row, with capture off, unless later changes of the row are still
// in the outbox (their own answers decide). Any other rejected row is
// served again by the server: the next pull brings its version back.
func (c *Client) Ack(resp PushResponse) (err error) {
	ids := append(append([]string{}, resp.Accepted...), resp.Duplicate...)
	for _, r := range resp.Rejected {
		ids = append(ids, r.ID)
	}
	tx := c.conn.Begin()
	defer tx.End(&err)
	for _, id := range ids {
		if err := c.db.exec("DELETE FROM _sync_outbox WHERE hlc = ?", id); err != nil {
			return fmt.Errorf("sync: ack %s: %w", id, err)
		}
	}
	for _, r := range resp.Rejected {
		t := c.schema.Tables[r.Table]
		if !r.Gone || t == nil {
			continue
		}
		left, err := c.db.query("SELECT count(*) FROM _sync_outbox WHERE tbl = ? AND pk = ?", t.Name, r.PK)
		if err != nil {
			return fmt.Errorf("sync: ack: %w", err)
		}
		if left[0][0].(int64) > 0 {
			continue
		}
		if err := c.conn.Exec("UPDATE _sync_state SET applying = 1 WHERE id = 1"); err != nil {
			return fmt.Errorf("sync: ack: %w", err)
		}
		if err := c.db.exec(fmt.Sprintf("DELETE FROM %s WHERE %s = ?", quote(t.Name), quote(t.PK)), r.PK); err != nil {
			return fmt.Errorf("sync: ack: drop %s %s: %w", t.Name, r.PK, err)
		}
		if err := c.conn.Exec("UPDATE _sync_state SET applying = 0 WHERE id = 1"); err != nil {
			return fmt.Errorf("sync: ack: %w", err)
		}
	}
	stallAt("ack")
	return nil
}

// ErrStaleCursor is returned by Apply for a page that does not start at the
// device's cursor (a late or repeated answer): it is dropped unapplied.
var ErrStaleCursor = errors.New("sync: page does not start at this device's cursor")

// Apply applies one pulled page, requested at cursor from, in one
// transaction with capture off: rows are upserted or deleted, a column
// whose outbox holds a newer local write keeps the local value (the push
// will carry it), a row with a local delete pending is left alone, and
// columns or tables this device does not know are skipped. The HLC moves
// past every clock seen and the cursor to page.Cursor.
func (c *Client) Apply(ctx context.Context, from int64, page PullResponse) (err error) {
	tx, err := c.conn.BeginImmediate()
	if err != nil {
		return fmt.Errorf("sync: apply: %w", err)
	}
	defer tx.End(&err)
	cur, err := c.Cursor()
	if err != nil {
		return err
	}
	if cur != from {
		return fmt.Errorf("%w (page from %d, device at %d)", ErrStaleCursor, from, cur)
	}
	if err := c.conn.Exec("UPDATE _sync_state SET applying = 1 WHERE id = 1; PRAGMA defer_foreign_keys = ON"); err != nil {
		return fmt.Errorf("sync: apply: %w", err)
	}
	var newest HLC
	for _, row := range page.Rows {
		if c.fault != nil {
			if err := c.fault(); err != nil {
				return err
			}
		}
		if err := c.applyRow(row); err != nil {
			return fmt.Errorf("sync: apply %s %s: %w", row.Table, row.PK, err)
		}
		stallAt("apply")
		for _, s := range row.Clocks {
			if h, err := ParseHLC(s); err == nil && h.Compare(newest) > 0 {
				newest = h
			}
		}
	}
	return c.db.exec(`UPDATE _sync_state SET applying = 0, cursor = ?1,
		ctr = CASE WHEN ?2 > ms THEN ?3 WHEN ?2 = ms THEN max(ctr, ?3) ELSE ctr END,
		ms = max(ms, ?2) WHERE id = 1`, page.Cursor, newest.Millis, newest.Counter)
}

func (c *Client) applyRow(row RowState) error {
	t := c.schema.Tables[row.Table]
	if t == nil {
		return nil
	}
	pending, err := c.db.query("SELECT op, col, max(hlc) FROM _sync_outbox WHERE tbl = ? AND pk = ? GROUP BY op, col", t.Name, row.PK)
	if err != nil {
		return err
	}
	newer := map[string]string{}
	for _, p := range pending {
		if p[0] == OpDelete {
			return nil // the local delete will win on the server too
		}
		if col, ok := p[1].(string); ok && p[2].(string) > newer[col] {
			newer[col] = p[2].(string)
		}
	}
	if row.Deleted {
		return c.db.exec(fmt.Sprintf("DELETE FROM %s WHERE %s = ?", quote(t.Name), quote(t.PK)), row.PK)
	}
	cols, args := []string{}, []any{row.PK}
	for _, col := range t.Columns {
		v, ok := row.Cols[col]
		if !ok || newer[col] > row.Clocks[col] {
			continue
		}
		cols = append(cols, quote(col))
		args = append(args, v.V)
	}
	if len(cols) == 0 {
		return c.db.exec(fmt.Sprintf("INSERT INTO %s (%s) VALUES (?) ON CONFLICT DO NOTHING", quote(t.Name), quote(t.PK)), row.PK)
	}
	sets := make([]string, len(cols))
	for i, q := range cols {
		sets[i] = q + " = excluded." + q
	}
	sql := fmt.Sprintf("INSERT INTO %s (%s, %s) VALUES (%s) ON CONFLICT (%s) DO UPDATE SET %s",
		quote(t.Name), quote(t.PK), strings.Join(cols, ", "), strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", "),
		quote(t.PK), strings.Join(sets, ", "))
	return c.db.exec(sql, args...)
}
