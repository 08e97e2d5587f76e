package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

var errInjected = errors.New("injected failure")

// flakyStore fails one Exec in twenty after running part of it, inside a
// transaction that is then rolled back: a server dying mid-batch.
type flakyStore struct {
	*ConnStore
	rng *rand.Rand
	off bool
}

func (s *flakyStore) Exec(ctx context.Context, stmts []Stmt) (err error) {
	if s.off || s.rng.IntN(20) != 0 {
		return s.ConnStore.Exec(ctx, stmts)
	}
	tx, err := s.db.conn.BeginImmediate()
	if err != nil {
		return err
	}
	for _, st := range stmts[:s.rng.IntN(len(stmts))] {
		if err := s.db.exec(st.SQL, st.Args...); err != nil {
			break
		}
	}
	if err := tx.Rollback(); err != nil {
		return err
	}
	return errInjected
}

func (w *world) send(i int, kind string, body any, from int64) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	w.net = append(w.net, message{device: i, kind: kind, body: b, from: from})
	return nil
}

func (w *world) sendPush(i int) error {
	changes, err := w.devices[i].c.Pending(1 + w.rng.IntN(10))
	if err != nil || len(changes) == 0 {
		return err
	}
	return w.send(i, "push", PushRequest{Hello: w.devices[i].hello, Changes: changes}, 0)
}

func (w *world) sendPull(i int) {
	cur, err := w.devices[i].c.Cursor()
	if err != nil {
		w.t.Fatal(err)
	}
	w.send(i, "pull", PullRequest{Hello: w.devices[i].hello, Cursor: cur, Limit: 1 + w.rng.IntN(6)}, cur)
}

// forge sends, from device i, a change to a row of the other user (or a
// new row given to them), with an HLC newer than anything honest.
func (w *world) forge(i int) error {
	me := user(i)
	var victims []string
	for pk, u := range w.owner {
		if u != me && u != shared {
			victims = append(victims, pk)
		}
	}
	if len(victims) == 0 {
		return nil
	}
	slices.Sort(victims)
	pk := victims[w.rng.IntN(len(victims))]
	id := HLC{Millis: 2e13, Counter: int64(len(w.forged)), Node: "f0f0f0f0f0f0f0f0"}.String()
	ch := Change{ID: id, Table: "items", PK: pk}
	switch w.rng.IntN(5) {
	case 4:
		ch = Change{ID: id, Table: "list_items", PK: fmt.Sprintf("planted%d", len(w.forged)), Op: OpInsert, Cols: cols("list_id", "LX", "body", "planted")}
	case 0:
		ch.Op, ch.Cols = OpUpdate, cols("title", "forged")
	case 1:
		ch.Op, ch.Cols = OpUpdate, cols("owner", me)
	case 2:
		ch.Op = OpDelete
	default:
		ch.Op, ch.PK, ch.Cols = OpInsert, fmt.Sprintf("planted%d", len(w.forged)), cols("owner", user(i+1), "title", "planted")
	}
	w.forged[id] = true
	return w.send(i, "push", PushRequest{Hello: w.devices[i].hello, Changes: []Change{ch}}, 0)
}

// deliver hands one in-flight message, picked at random, to its receiver.
// With chaos a message may be lost or delivered and kept for a second time.
func (w *world) deliver(chaos bool) error {
	if len(w.net) == 0 {
		return nil
	}
	k := w.rng.IntN(len(w.net))
	m := w.net[k]
	if !chaos || w.rng.IntN(10) != 0 { // one in ten stays in flight: duplicated
		w.net = append(w.net[:k], w.net[k+1:]...)
	}
	if chaos && w.rng.IntN(10) == 0 {
		return nil // lost
	}
	return w.receive(m)
}

func (w *world) receive(m message) error {
	ctx := context.Background()
	d, sub := w.devices[m.device], user(m.device)
	switch m.kind {
	case "push":
		var req PushRequest
		if err := json.Unmarshal(m.body, &req); err != nil {
			return err
		}
		resp, err := w.server.Push(ctx, sub, req)
		if errors.Is(err, errInjected) {
			return nil // the device sees a failed request and keeps its outbox
		}
		if err != nil {
			return err
		}
		w.stats.pushes++
		for _, id := range resp.Accepted {
			if w.forged[id] {
				return fmt.Errorf("forged change %s accepted", id)
			}
		}
		for _, r := range resp.Rejected {
			if !w.forged[r.ID] || r.Code != CodeForbidden && r.Code != CodeInvalid {
				return fmt.Errorf("change rejected: %+v", r)
			}
			w.stats.forged++
		}
		return w.send(m.device, "pushed", resp, 0)
	case "pushed":
		var resp PushResponse
		if err := json.Unmarshal(m.body, &resp); err != nil {
			return err
		}
		return d.c.Ack(resp)
	case "pull":
		var req PullRequest
		if err := json.Unmarshal(m.body, &req); err != nil {
			return err
		}
		page, err := w.server.Pull(ctx, sub, req)
		if err != nil {
			return err
		}
		w.stats.pulls++
		for _, r := range page.Rows {
			want, got := sub, w.owner[r.PK]
			if r.Table == "list_items" {
				want = shared
				if !r.Deleted && r.Cols["list_id"].V != "LS" {
					got = "list " + fmt.Sprint(r.Cols["list_id"].V)
				}
			} else if owner, _ := r.Cols["owner"].V.(string); !r.Deleted {
				got = owner
			}
			if got != want {
				return fmt.Errorf("%s was served %s %s of %s", sub, r.Table, r.PK, got)
			}
		}
		return w.send(m.device, "page", page, m.from)
	case "page":
		var page PullResponse
		if err := json.Unmarshal(m.body, &page); err != nil {
			return err
		}
		if w.rng.IntN(10) == 0 && len(page.Rows) > 0 {
			left := w.rng.IntN(len(page.Rows))
			d.c.fault = func() error {
				if left == 0 {
					return errInjected
				}
				left--
				return nil
			}
		}
		err := d.c.Apply(ctx, m.from, page)
		d.c.fault = nil
		if errors.Is(err, ErrStaleCursor) || errors.Is(err, errInjected) {
			return nil
		}
		if err != nil {
			return err
		}
		return w.checkPendingKept(m.device)
	}
	return fmt.Errorf("message kind %q", m.kind)
}

// finish drains the network, runs a clean round (every device pushes all,
// then every device pulls all) and checks the outcome.
func (w *world) finish() error {
	for len(w.net) > 0 {
		if err := w.deliver(false); err != nil {
			return err
		}
	}
	w.store.off = true
	defer func() { w.store.off = false }()
	ctx := context.Background()
	for i := range w.n {
		for {
			if err := w.sendPush(i); err != nil {
				return err
			}
			if len(w.net) == 0 {
				break
			}
			for len(w.net) > 0 {
				if err := w.deliver(false); err != nil {
					return err
				}
			}
		}
	}
	for i := range w.n {
		d := w.devices[i]
		for more := true; more; {
			cur, err := d.c.Cursor()
			if err != nil {
				return err
			}
			page, err := w.server.Pull(ctx, user(i), PullRequest{Hello: d.hello, Cursor: cur, Limit: 50})
			if err != nil {
				return err
			}
			if err := d.c.Apply(ctx, cur, page); err != nil {
				return err
			}
			more = page.More
		}
	}
	return w.check()
}

const itemsQuery = "SELECT id, owner, title, n, r, data, done FROM items"

// checked are the synced tables' columns (the primary key first).
var checked = map[string][]string{
	"items":      {"id", "owner", "title", "n", "r", "data", "done"},
	"list_items": {"id", "list_id", "body"},
}

func (w *world) check() error {
	server := map[string]string{}
	for _, u := range []string{user(0), user(1)} {
		server[u] = dump(w.t, w.sconn, itemsQuery+" WHERE owner = ? ORDER BY id", u)
	}
	sharedRows := dump(w.t, w.sconn, "SELECT id, list_id, body FROM list_items ORDER BY id")
	for i := range w.n {
		d := w.devices[i]
		if got := dump(w.t, d.conn, itemsQuery+" ORDER BY id"); got != server[user(i)] {
			return fmt.Errorf("device %d (%s) differs from the server:\n%s\nserver:\n%s", i, user(i), got, server[user(i)])
		}
		if got := dump(w.t, d.conn, "SELECT id, list_id, body FROM list_items ORDER BY id"); got != sharedRows {
			return fmt.Errorf("device %d: shared list differs from the server:\n%s\nserver:\n%s", i, got, sharedRows)
		}
		if out := dump(w.t, d.conn, "SELECT count(*) FROM _sync_outbox"); out != "int64:0\n" {
			return fmt.Errorf("device %d outbox not empty: %s", i, out)
		}
	}
	live := map[string]bool{}
	for table, names := range checked {
		rows, err := queryConn(w.sconn, "SELECT "+strings.Join(names, ", ")+" FROM "+table)
		if err != nil {
			return err
		}
		for _, r := range rows {
			pk := r[0].(string)
			live[pk] = true
			if w.deleted[pk] {
				return fmt.Errorf("deleted row %s %s is on the server", table, pk)
			}
			for c := 1; c < len(names); c++ {
				want := w.writes[[2]string{pk, names[c]}]
				if !equalValues(r[c], want.val) {
					return fmt.Errorf("%s.%s = %#v, newest write %s set %#v", pk, names[c], r[c], want.hlc, want.val)
				}
			}
		}
	}
	for pk := range w.owner {
		if !w.deleted[pk] && !live[pk] {
			return fmt.Errorf("row %s, never deleted, is not on the server", pk)
		}
	}
	if all := server[user(0)] + server[user(1)] + sharedRows; strings.Contains(all, "forged") || strings.Contains(all, "planted") {
		return fmt.Errorf("a forged write reached the server")
	}
	return nil
}

// checkPendingKept checks that a pull did not undo a local write still in
// the outbox when that write is the newest of its column anywhere.
func (w *world) checkPendingKept(i int) error {
	d := w.devices[i]
	pending, err := d.c.db.query(`SELECT pk, col, max(hlc), tbl FROM _sync_outbox
		WHERE col IS NOT NULL AND pk NOT IN (SELECT pk FROM _sync_outbox WHERE op = 'delete') GROUP BY tbl, pk, col`)
	if err != nil {
		return err
	}
	for _, p := range pending {
		pk, col, hlc := p[0].(string), p[1].(string), p[2].(string)
		newest := w.writes[[2]string{pk, col}]
		if newest.hlc != hlc {
			continue
		}
		rows, err := d.c.db.query(fmt.Sprintf("SELECT %s FROM %s WHERE id = ?", quote(col), quote(p[3].(string))), pk)
		if err != nil {
			return err
		}
		if len(rows) > 0 && !equalValues(rows[0][0], newest.val) {
			return fmt.Errorf("device %d: a pull replaced its pending write %s of %s.%s (%#v) with %#v", i, hlc, pk, col, newest.val, rows[0][0])
		}
	}
	return nil
}
