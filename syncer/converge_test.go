package syncer

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ncruces/go-sqlite3"
)

var (
	flagSeed      = flag.Uint64("sync.seed", 1, "first seed of TestConvergence's schedules")
	flagSchedules = flag.Int("sync.schedules", 300, "number of random schedules TestConvergence runs")
	flagSteps     = flag.Int("sync.steps", 60, "steps per schedule")
)

// TestConvergence runs random schedules of 2-4 devices of 2 users writing
// the same rows offline, their own (items, an owner-rule table) and rows of
// a list they share (list_items, a where-rule table) (inserts, updates,
// deletes, rolled-back
// transactions, clock skew), with pushes and pulls delayed, duplicated,
// reordered and lost (a lost push answer is an ack lost after the server
// committed), server writes failing half way (rolled back), page applies
// crashing half way, and forged pushes for the other user's rows. After a
// final round every device's items are byte-equal to the server's rows of
// its user, every column holds the value of its newest committed write, no
// deleted row is anywhere, and no device ever received another user's row.
// (The item counts are per schedule and kept small so writes collide.)
// Each schedule's HLCs are deterministic: devices start with a clock ahead
// of the wall clock, so a seed replays exactly (-sync.seed N
// -sync.schedules 1).
func TestConvergence(t *testing.T) {
	w := newWorld(t)
	for i := range *flagSchedules {
		seed := *flagSeed + uint64(i)
		if err := w.run(seed, *flagSteps); err != nil {
			t.Fatalf("seed %d (replay: go test ./syncer -run TestConvergence -sync.seed %d -sync.schedules 1): %v", seed, seed, err)
		}
	}
	t.Logf("%d schedules from seed %d: %d local writes, %d pushes, %d pulls delivered, %d forged changes refused",
		*flagSchedules, *flagSeed, w.stats.writes, w.stats.pushes, w.stats.pulls, w.stats.forged)
}

// world holds the databases, reused across schedules (reset in between).
type world struct {
	t       *testing.T
	server  *Server
	sconn   *sqlite3.Conn
	store   *flakyStore
	devices []*device
	stats   struct{ writes, pushes, pulls, forged int }

	// one schedule
	rng     *rand.Rand
	n       int
	net     []message
	writes  map[[2]string]write // (pk, col) -> newest committed write
	owner   map[string]string   // pk -> user
	deleted map[string]bool
	seenOut []int64 // per device: last outbox id read into the model
	forged  map[string]bool
	rowSeq  int
}

type write struct {
	hlc string
	val any
}

type message struct {
	device int
	kind   string // "push", "pushed", "pull", "page"
	body   []byte // JSON, as on the wire
	from   int64  // a pull's cursor
}

func user(device int) string { return fmt.Sprintf("user%d", device%2) }

// shared marks, in world.owner, a row of the list both users share.
const shared = "shared"

func newWorld(t *testing.T) *world {
	sconn := openApp(t, 0)
	store := &flakyStore{ConnStore: NewConnStore(sconn), off: true}
	t.Cleanup(func() { store.Close() })
	server, err := NewServer(context.Background(), store, appConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, server: server, sconn: sconn, store: store}
	for range 4 {
		w.devices = append(w.devices, newDevice(t, 0))
	}
	return w
}

func (w *world) reset(seed uint64) error {
	w.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	w.store.rng, w.store.off = w.rng, false
	w.n = 2 + w.rng.IntN(3)
	w.net, w.seenOut = nil, make([]int64, len(w.devices))
	w.writes, w.owner, w.deleted, w.forged = map[[2]string]write{}, map[string]string{}, map[string]bool{}, map[string]bool{}
	// List LS is shared by both users (its list_items sync to everyone); no
	// one may write into list LX.
	if err := w.sconn.Exec(`DELETE FROM items; DELETE FROM list_items; DELETE FROM list_members;
		INSERT INTO list_members VALUES ('LS', 'user0'), ('LS', 'user1');
		DELETE FROM _sync_seen; DELETE FROM _sync_rows;
		DELETE FROM _sync_clock; DELETE FROM _sync_extra; UPDATE _sync_meta SET v = 0`); err != nil {
		return err
	}
	for i, d := range w.devices {
		node := fmt.Sprintf("%016x", w.rng.Uint64())
		// A clock ahead of the wall clock: HLCs then depend on the schedule only.
		if err := d.conn.Exec("DELETE FROM items; DELETE FROM list_items; DELETE FROM _sync_outbox"); err != nil {
			return err
		}
		err := d.c.db.exec("UPDATE _sync_state SET node = ?, ms = ?, ctr = 0, cursor = 0", node, int64(1e13)+w.rng.Int64N(50))
		if err != nil {
			return err
		}
		rows, _ := d.c.db.query("SELECT coalesce(max(id), 0) FROM _sync_outbox")
		w.seenOut[i] = rows[0][0].(int64)
		d.c.fault = nil
	}
	return nil
}

func (w *world) run(seed uint64, steps int) error {
	if err := w.reset(seed); err != nil {
		return err
	}
	for range steps {
		var err error
		switch p := w.rng.IntN(100); {
		case p < 35:
			err = w.localWrite(w.rng.IntN(w.n))
		case p < 50:
			err = w.sendPush(w.rng.IntN(w.n))
		case p < 63:
			w.sendPull(w.rng.IntN(w.n))
		case p < 95:
			err = w.deliver(true)
		case p < 98:
			err = w.forge(w.rng.IntN(w.n))
		default:
			d := w.devices[w.rng.IntN(w.n)]
			err = d.c.db.exec("UPDATE _sync_state SET ms = ms + ?", w.rng.Int64N(1000))
		}
		if err != nil {
			return err
		}
	}
	return w.finish()
}

var titles = []any{"", "a", "b", "milk", "ünïcode ✓", nil}

func (w *world) randomCol() (string, any) {
	switch w.rng.IntN(10) {
	case 0, 1, 2, 3:
		return "title", titles[w.rng.IntN(len(titles)-1)]
	case 4, 5, 6:
		return "n", []any{nil, int64(w.rng.IntN(10)), int64(1) << 60, -w.rng.Int64()}[w.rng.IntN(4)]
	case 7:
		return "r", []any{nil, 1.0, w.rng.Float64(), 1e300}[w.rng.IntN(4)]
	case 8:
		return "done", int64(w.rng.IntN(2))
	}
	return "data", []any{nil, []byte{}, []byte{0, 1, 2, 0xff}}[w.rng.IntN(3)]
}

// localWrite runs one transaction of 1-3 writes on a device; one in ten is
// rolled back (the tab died before COMMIT).
func (w *world) localWrite(i int) error {
	d := w.devices[i]
	if err := d.conn.Exec("BEGIN"); err != nil {
		return err
	}
	for range 1 + w.rng.IntN(3) {
		if w.rng.IntN(4) == 0 {
			if err := w.sharedWrite(i); err != nil {
				return err
			}
			continue
		}
		rows, err := d.c.db.query("SELECT id FROM items ORDER BY id")
		if err != nil {
			return err
		}
		// Few rows, many updates of few columns: concurrent writes to the
		// same column are common, so last-writer-wins is exercised.
		switch op := w.rng.IntN(10); {
		case len(rows) == 0 || op < 2 && len(rows) < 4:
			w.rowSeq++
			col, val := w.randomCol()
			err = d.c.db.exec(fmt.Sprintf("INSERT INTO items (id, owner, %s) VALUES (?, ?, ?)", quote(col)),
				fmt.Sprintf("r%d-%d", i, w.rowSeq), user(i), val)
			if col == "title" && val == nil {
				err = nil // NOT NULL: the insert fails and is skipped
			}
		case op < 9:
			col, val := w.randomCol()
			if col == "title" && val == nil {
				val = "x"
			}
			err = d.c.db.exec(fmt.Sprintf("UPDATE items SET %s = ? WHERE id = ?", quote(col)), val, rows[w.rng.IntN(len(rows))][0])
		default:
			err = d.c.db.exec("DELETE FROM items WHERE id = ?", rows[w.rng.IntN(len(rows))][0])
		}
		if err != nil {
			return err
		}
	}
	if w.rng.IntN(10) == 0 {
		return d.conn.Exec("ROLLBACK")
	}
	if err := d.conn.Exec("COMMIT"); err != nil {
		return err
	}
	w.stats.writes++
	return w.record(i)
}

// sharedWrite writes a row of the list both users share (a where-rule
// table): inserts, updates of the body, deletes.
func (w *world) sharedWrite(i int) error {
	d := w.devices[i]
	rows, err := d.c.db.query("SELECT id FROM list_items ORDER BY id")
	if err != nil {
		return err
	}
	body := []any{"", "eggs", "oat milk", nil}[w.rng.IntN(3)]
	switch op := w.rng.IntN(10); {
	case len(rows) == 0 || op < 2 && len(rows) < 3:
		w.rowSeq++
		return d.c.db.exec("INSERT INTO list_items (id, list_id, body) VALUES (?, 'LS', ?)", fmt.Sprintf("s%d-%d", i, w.rowSeq), body)
	case op < 9:
		return d.c.db.exec("UPDATE list_items SET body = ? WHERE id = ?", body, rows[w.rng.IntN(len(rows))][0])
	}
	return d.c.db.exec("DELETE FROM list_items WHERE id = ?", rows[w.rng.IntN(len(rows))][0])
}

// record reads the device's newly committed outbox rows into the model.
func (w *world) record(i int) error {
	rows, err := w.devices[i].c.db.query("SELECT id, pk, op, col, val, hlc, tbl FROM _sync_outbox WHERE id > ? ORDER BY id", w.seenOut[i])
	if err != nil {
		return err
	}
	for _, r := range rows {
		w.seenOut[i] = r[0].(int64)
		pk, op, hlc := r[1].(string), r[2].(string), r[5].(string)
		if op == OpDelete {
			w.deleted[pk] = true
			continue
		}
		if w.owner[pk] == "" {
			w.owner[pk] = user(i)
			if r[6] == "list_items" {
				w.owner[pk] = shared
			}
		}
		if col, ok := r[3].(string); ok && hlc > w.writes[[2]string{pk, col}].hlc {
			w.writes[[2]string{pk, col}] = write{hlc, r[4]}
		}
	}
	return nil
}
