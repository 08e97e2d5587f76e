//go:build !js && workerd

package main

// Sync through the real Worker: native syncer.Clients on SQLite files as
// devices, the Worker in workerd with local D1, HTTP between them. One
// Worker serves every subtest (each uses its own users); at the end it is
// stopped and D1's file is compared with every device.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
	"github.com/larderdb/larder/syncer"
	"github.com/larderdb/larder/syncer/synchttp"
)

// syncApp is the test app of package syncer: items and lists with an owner
// column, list_items with a where rule; migration 3 is breaking.
const syncApp = "../syncer/testdata/app"

func syncFiles(t testing.TB, dir string) (files map[string]string, syncTOML []byte) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files = map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == syncer.FileName {
			syncTOML = b
		} else if strings.HasSuffix(e.Name(), ".sql") {
			files[e.Name()] = string(b)
		}
	}
	return files, syncTOML
}

// startSyncWorker builds and runs the Worker with the test app's
// migrations and sync.toml, HS256 auth as in the auth tests, in two
// isolates on one D1 (requests with Host w1.larder.test go to the second).
func startSyncWorker(t testing.TB, state string) *worker {
	t.Helper()
	files, syncTOML := syncFiles(t, syncApp)
	build := buildSyncWorker(t, bundleOf(t, files, ""), syncTOML)
	return startWorker(t, build, state, 2, authVars...)
}

// hostTransport sends every request to one isolate of dev.mjs (by Host).
type hostTransport struct{ host string }

func (h hostTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Host = h.host
	return http.DefaultTransport.RoundTrip(req)
}

// syncDevice is one device: a SQLite file migrated by the native runner,
// with sync installed, talking to the Worker as user sub.
type syncDevice struct {
	t     testing.TB
	sub   string
	conn  *sqlite3.Conn
	c     *syncer.Client
	hello syncer.Hello
	tr    *synchttp.HTTP
}

// newSyncDevice opens a fresh device of sub with the migrations of dir up
// to version to (0: all).
func newSyncDevice(t testing.TB, url, sub, dir string, to int64) *syncDevice {
	t.Helper()
	return openSyncDevice(t, url, sub, dir, to, nil)
}

// openSyncDevice is newSyncDevice with prepare (if not nil) run on the
// connection before the migrations (an extension the schema needs).
func openSyncDevice(t testing.TB, url, sub, dir string, to int64, prepare func(*sqlite3.Conn) error) *syncDevice {
	t.Helper()
	ctx := context.Background()
	conn, err := sqlite3.Open(filepath.Join(t.TempDir(), "device.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if prepare != nil {
		if err := prepare(conn); err != nil {
			t.Fatal(err)
		}
	}
	migs, err := migrations.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := migrations.NewProvider(sqlite.NewStore(conn), migs, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx, to); err != nil {
		t.Fatal(err)
	}
	cfg, err := syncer.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := syncer.Install(ctx, conn, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	d := &syncDevice{t: t, sub: sub, conn: conn, c: c}
	if d.hello, err = c.Hello(); err != nil {
		t.Fatal(err)
	}
	tok := tokenFor(t, sub, nil)
	d.tr = &synchttp.HTTP{URL: url, Token: func(context.Context) (string, error) { return tok, nil }}
	return d
}

func (d *syncDevice) exec(sql string, args ...any) {
	d.t.Helper()
	st := syncer.NewConnStore(d.conn)
	defer st.Close()
	if err := st.Exec(context.Background(), []syncer.Stmt{{SQL: sql, Args: args}}); err != nil {
		d.t.Fatalf("%s: %v", sql, err)
	}
}

// sync runs a whole round and fails the test on error.
func (d *syncDevice) sync() syncer.Counts {
	d.t.Helper()
	n, err := d.c.Sync(context.Background(), d.tr, d.hello)
	if err != nil {
		d.t.Fatalf("%s: sync: %v", d.sub, err)
	}
	return n
}

func (d *syncDevice) pending() int {
	d.t.Helper()
	p, err := d.c.Pending(syncer.MaxBatch)
	if err != nil {
		d.t.Fatal(err)
	}
	return len(p)
}

const itemsOf = "SELECT id, owner, title, n, r, data, done FROM items WHERE owner = ? ORDER BY id"

// rows renders the rows of a query, each value with its storage class.
func rows(t testing.TB, conn *sqlite3.Conn, q string, args ...string) string {
	t.Helper()
	stmt, _, err := conn.Prepare(q)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	for i, a := range args {
		stmt.BindText(i+1, a)
	}
	var b strings.Builder
	for stmt.Step() {
		for i := range stmt.ColumnCount() {
			if i > 0 {
				b.WriteString("|")
			}
			switch stmt.ColumnType(i) {
			case sqlite3.INTEGER:
				fmt.Fprintf(&b, "i:%d", stmt.ColumnInt64(i))
			case sqlite3.FLOAT:
				fmt.Fprintf(&b, "r:%v", stmt.ColumnFloat(i))
			case sqlite3.TEXT:
				fmt.Fprintf(&b, "t:%q", stmt.ColumnText(i))
			case sqlite3.BLOB:
				fmt.Fprintf(&b, "b:%x", stmt.ColumnRawBlob(i))
			default:
				b.WriteString("null")
			}
		}
		b.WriteString("\n")
	}
	if err := stmt.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func (d *syncDevice) items() string { return rows(d.t, d.conn, itemsOf, d.sub) }

// nextMilli waits until the wall clock has moved past the current
// millisecond, so that the next write's HLC is later than every write made
// so far on this machine (a condition, not a duration).
func nextMilli() {
	now := time.Now().UnixMilli()
	for time.Now().UnixMilli() <= now {
		time.Sleep(100 * time.Microsecond)
	}
}

func codeOf(err error) string {
	var e *syncer.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// cutTransport delivers requests to the Worker and then, when armed, loses
// the answer: the push is committed on the server but the device sees a
// cut connection (or, with beforeSend, the request never leaves).
type cutTransport struct {
	armed      atomic.Bool
	beforeSend bool
	cuts       atomic.Int32
}

var errCut = errors.New("connection cut (injected)")

func (c *cutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !c.armed.Load() {
		return http.DefaultTransport.RoundTrip(req)
	}
	c.armed.Store(false)
	c.cuts.Add(1)
	if c.beforeSend {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errCut
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	// The Worker answered (and committed); the answer is lost half way.
	io.CopyN(io.Discard, res.Body, 10)
	res.Body.Close()
	return nil, errCut
}

func TestSyncThroughWorker(t *testing.T) {
	state := t.TempDir()
	w := startSyncWorker(t, state)
	url := w.URL
	// The rows of each device that must equal D1's at the end.
	type snapshot struct{ sub, items string }
	var converged []snapshot
	ran := map[string]bool{} // subtests whose D1 state the end checks
	keep := func(ds ...*syncDevice) {
		for _, d := range ds {
			converged = append(converged, snapshot{d.sub, d.items()})
		}
	}

	t.Run("OfflineEditsOnBothThenSync", func(t *testing.T) {
		a1, a2 := newSyncDevice(t, url, "off-a", syncApp, 0), newSyncDevice(t, url, "off-a", syncApp, 0)
		a1.exec("INSERT INTO items (id, owner, title, n, r, data) VALUES ('o1', 'off-a', 'from a1', 1, 0.5, x'00ff10')")
		a1.exec("INSERT INTO items (id, owner, title) VALUES ('o2', 'off-a', 'second')")
		a2.exec("INSERT INTO items (id, owner, title, n) VALUES ('o3', 'off-a', 'from a2', 9007199254740993)")
		a2.exec("INSERT INTO items (id, owner, title, r) VALUES ('o4', 'off-a', 'real', 2.0)")
		if n := a1.sync(); n.Pushed != 2 || n.Pulled != 2 {
			t.Fatalf("a1 %+v", n)
		}
		if n := a2.sync(); n.Pushed != 2 || n.Pulled != 4 {
			t.Fatalf("a2 %+v", n)
		}
		a1.sync()
		if got, want := a1.items(), a2.items(); got != want || strings.Count(got, "\n") != 4 {
			t.Fatalf("a1:\n%s\na2:\n%s", got, want)
		}
		for _, s := range []string{`i:9007199254740993`, `r:2|`, `b:00ff10`} {
			if !strings.Contains(a1.items(), s) {
				t.Errorf("a1 lacks %s:\n%s", s, a1.items())
			}
		}
		keep(a1, a2)
	})

	t.Run("ConcurrentEditsOfOneRowMergePerColumn", func(t *testing.T) {
		a1, a2 := newSyncDevice(t, url, "lww-a", syncApp, 0), newSyncDevice(t, url, "lww-a", syncApp, 0)
		a1.exec("INSERT INTO items (id, owner, title, n, r) VALUES ('c1', 'lww-a', 'start', 0, 0.0)")
		a1.sync()
		a2.sync()
		// Offline on both: a1 edits title and r, then a2 (later) title and n.
		a1.exec("UPDATE items SET title = 'one', r = 1.5 WHERE id = 'c1'")
		nextMilli()
		a2.exec("UPDATE items SET title = 'two', n = 2 WHERE id = 'c1'")
		a2.sync() // the later write reaches the server first
		a1.sync()
		a2.sync()
		want := "t:\"c1\"|t:\"lww-a\"|t:\"two\"|i:2|r:1.5|null|i:0\n"
		for name, d := range map[string]*syncDevice{"a1": a1, "a2": a2} {
			if got := d.items(); got != want {
				t.Errorf("%s:\n%s\nwant\n%s", name, got, want)
			}
		}
		keep(a1, a2)
	})

	t.Run("DeleteDoesNotResurrect", func(t *testing.T) {
		a1, a2 := newSyncDevice(t, url, "del-a", syncApp, 0), newSyncDevice(t, url, "del-a", syncApp, 0)
		a1.exec("INSERT INTO items (id, owner, title) VALUES ('d1', 'del-a', 'doomed'), ('d2', 'del-a', 'kept')")
		a1.sync()
		a2.sync()
		a1.exec("DELETE FROM items WHERE id = 'd1'")
		nextMilli()
		a2.exec("UPDATE items SET title = 'edited after the delete' WHERE id = 'd1'")
		a1.sync()
		a2.sync()
		a1.sync()
		// An insert of the deleted id, later still, changes nothing either.
		a1.exec("INSERT INTO items (id, owner, title) VALUES ('d1', 'del-a', 'back?')")
		a1.sync()
		a2.sync()
		fresh := newSyncDevice(t, url, "del-a", syncApp, 0)
		fresh.sync()
		want := "t:\"d2\"|t:\"del-a\"|t:\"kept\"|null|null|null|i:0\n"
		for name, d := range map[string]*syncDevice{"a1": a1, "a2": a2, "fresh": fresh} {
			if got := d.items(); got != want {
				t.Errorf("%s:\n%s\nwant\n%s", name, got, want)
			}
		}
		keep(a1, a2, fresh)
	})

	t.Run("BatchPushedTwiceIsAppliedOnce", func(t *testing.T) {
		a := newSyncDevice(t, url, "dup-a", syncApp, 0)
		for i := range 3 {
			a.exec("INSERT INTO items (id, owner, title, n) VALUES (?, 'dup-a', 'x', ?)", fmt.Sprintf("p%d", i), int64(i))
		}
		a.exec("UPDATE items SET n = n + 10")
		changes, err := a.c.Pending(syncer.MaxBatch)
		if err != nil || len(changes) != 6 {
			t.Fatalf("pending %d %v", len(changes), err)
		}
		req := syncer.PushRequest{Hello: a.hello, Changes: changes}
		first, err := a.tr.Push(context.Background(), req)
		if err != nil || len(first.Accepted) != 6 {
			t.Fatalf("first %+v %v", first, err)
		}
		again, err := a.tr.Push(context.Background(), req)
		if err != nil || len(again.Accepted) != 0 || len(again.Duplicate) != 6 || again.Seq != first.Seq {
			t.Fatalf("again %+v %v (first %+v)", again, err, first)
		}
		if err := a.c.Ack(again); err != nil {
			t.Fatal(err)
		}
		fresh := newSyncDevice(t, url, "dup-a", syncApp, 0)
		if n := fresh.sync(); n.Pulled != 3 {
			t.Fatalf("fresh pulled %+v", n)
		}
		if got, want := fresh.items(), a.items(); got != want || !strings.Contains(got, "i:12") {
			t.Fatalf("fresh:\n%s\na:\n%s", got, want)
		}
		keep(a, fresh)
	})

	t.Run("UsersCannotReadOrWriteEachOthersRows", func(t *testing.T) {
		a, b := newSyncDevice(t, url, "own-a", syncApp, 0), newSyncDevice(t, url, "own-b", syncApp, 0)
		b.exec("INSERT INTO items (id, owner, title) VALUES ('b1', 'own-b', 'secret of b')")
		b.sync()
		a.exec("INSERT INTO items (id, owner, title) VALUES ('a1', 'own-a', 'mine')")
		a.sync()
		if got := rows(t, a.conn, "SELECT id FROM items ORDER BY id"); got != "t:\"a1\"\n" {
			t.Fatalf("a sees:\n%s", got)
		}
		ctx := context.Background()
		id := func(ms int64) string { return syncer.HLC{Millis: 2e13 + ms, Node: "f0f0f0f0f0f0f0f0"}.String() }
		forged := []syncer.Change{
			{ID: id(1), Table: "items", PK: "b1", Op: syncer.OpUpdate, Cols: map[string]syncer.Value{"title": {V: "overwritten by a"}}},
			{ID: id(2), Table: "items", PK: "b1", Op: syncer.OpDelete},
			{ID: id(3), Table: "items", PK: "b1", Op: syncer.OpUpdate, Cols: map[string]syncer.Value{"owner": {V: "own-a"}}},
			{ID: id(4), Table: "items", PK: "planted", Op: syncer.OpInsert, Cols: map[string]syncer.Value{"owner": {V: "own-b"}, "title": {V: "planted"}}},
			{ID: id(5), Table: "items", PK: "a1", Op: syncer.OpUpdate, Cols: map[string]syncer.Value{"owner": {V: "own-b"}}},
		}
		resp, err := a.tr.Push(ctx, syncer.PushRequest{Hello: a.hello, Changes: forged})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Accepted) != 0 || len(resp.Rejected) != len(forged) {
			t.Fatalf("forged push answered %+v", resp)
		}
		for _, r := range resp.Rejected {
			if r.Code != syncer.CodeForbidden || r.Message == "" {
				t.Errorf("rejection %+v", r)
			}
		}
		page, err := a.tr.Pull(ctx, syncer.PullRequest{Hello: a.hello, Limit: syncer.MaxPage})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Rows {
			if r.PK != "a1" {
				t.Errorf("a was served %+v", r)
			}
		}
		b.sync()
		if got := b.items(); got != "t:\"b1\"|t:\"own-b\"|t:\"secret of b\"|null|null|null|i:0\n" {
			t.Fatalf("b's row changed:\n%s", got)
		}
		// Without a token: 401, before anything touches D1.
		anon := &synchttp.HTTP{URL: url}
		if _, err := anon.Pull(ctx, syncer.PullRequest{Hello: a.hello}); codeOf(err) != "LARDER_UNAUTHORIZED" {
			t.Fatalf("no token: %v", err)
		}
		keep(a, b)
	})

	t.Run("WhereRuleTableOnD1", func(t *testing.T) {
		// list_items belong to whoever owns their list (a where rule that
		// reads another table); 300 of them cost more D1 calls than one
		// push may make, so the Worker answers in parts.
		a1, a2, b := newSyncDevice(t, url, "list-a", syncApp, 0), newSyncDevice(t, url, "list-a", syncApp, 0), newSyncDevice(t, url, "list-b", syncApp, 0)
		a1.exec("INSERT INTO lists (id, owner, name) VALUES ('list-a-L', 'list-a', 'groceries')")
		a1.exec(`WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s WHERE v < 300)
			INSERT INTO list_items (id, list_id, body) SELECT printf('li-%03d', v), 'list-a-L', 'item ' || v FROM s`)
		changes, err := a1.c.Pending(syncer.MaxBatch)
		if err != nil {
			t.Fatal(err)
		}
		first, err := a1.tr.Push(context.Background(), syncer.PushRequest{Hello: a1.hello, Changes: changes})
		if err != nil || len(first.Accepted) == 0 || len(first.Accepted) >= len(changes) {
			t.Fatalf("one push of %d where-rule changes answered %d: %v", len(changes), len(first.Accepted), err)
		}
		a1.c.Ack(first)
		a1.sync()
		if n := a2.sync(); n.Pulled != 301 {
			t.Fatalf("a2 pulled %+v", n)
		}
		const q = "SELECT id, list_id, body FROM list_items ORDER BY id"
		if got, want := rows(t, a2.conn, q), rows(t, a1.conn, q); got != want {
			t.Fatalf("a2 differs from a1")
		}
		// B may neither add to A's list nor see it.
		b.exec("INSERT INTO list_items (id, list_id, body) VALUES ('li-b', 'list-a-L', 'planted by b')")
		n := b.sync()
		if len(n.Rejected) != 1 || n.Rejected[0].Code != syncer.CodeForbidden || n.Pulled != 0 {
			t.Fatalf("b: %+v", n)
		}
		a2.sync()
		if got := rows(t, a2.conn, "SELECT count(*) FROM list_items WHERE id = 'li-b'"); got != "i:0\n" {
			t.Fatalf("b's item reached a: %s", got)
		}
		keep(a1, a2)
	})

	t.Run("TokenExpiringMidRoundKeepsTheOutbox", func(t *testing.T) {
		a := newSyncDevice(t, url, "exp-a", syncApp, 0)
		a.exec(`WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s WHERE v < 600)
			INSERT INTO items (id, owner, n) SELECT printf('exp-%03d', v), 'exp-a', v FROM s`)
		good, expired := tokenFor(t, "exp-a", nil), tokenFor(t, "exp-a", map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})
		calls := 0
		a.tr.Token = func(context.Context) (string, error) {
			calls++
			if calls == 1 {
				return good, nil
			}
			return expired, nil // the token expired after the first batch
		}
		_, err := a.c.Sync(context.Background(), a.tr, a.hello)
		if codeOf(err) != "LARDER_UNAUTHORIZED" || !strings.Contains(err.Error(), "HTTP 401") {
			t.Fatalf("err %v", err)
		}
		if n := a.pending(); n != 600-syncer.MaxBatch {
			t.Fatalf("outbox %d after one batch", n)
		}
		a.tr.Token = func(context.Context) (string, error) { return good, nil }
		if n := a.sync(); n.Pushed != 600-syncer.MaxBatch || n.Pulled != 600 {
			t.Fatalf("after a new token: %+v", n)
		}
		fresh := newSyncDevice(t, url, "exp-a", syncApp, 0)
		if n := fresh.sync(); n.Pulled != 600 {
			t.Fatalf("fresh pulled %+v", n)
		}
		keep(a, fresh)
	})

	t.Run("ClientBehindBreakingMigrationIsOutdated", func(t *testing.T) {
		old := newSyncDevice(t, url, "old-a", syncApp, 2) // the Worker has breaking migration 3
		old.exec("INSERT INTO items (id, owner, title) VALUES ('q1', 'old-a', 'from old code')")
		_, err := old.c.Sync(context.Background(), old.tr, old.hello)
		if codeOf(err) != syncer.CodeOutdated || !strings.Contains(err.Error(), "HTTP 409") {
			t.Fatalf("err %v", err)
		}
		if _, err := old.tr.Hello(context.Background(), old.hello); codeOf(err) != syncer.CodeOutdated {
			t.Fatalf("hello: %v", err)
		}
		if n := old.pending(); n != 1 {
			t.Fatalf("outbox %d", n)
		}
		fresh := newSyncDevice(t, url, "old-a", syncApp, 0)
		if n := fresh.sync(); n.Pulled != 0 {
			t.Fatalf("the outdated device uploaded: %+v", n)
		}
	})

	t.Run("ServerBehindKeepsTheOutbox", func(t *testing.T) {
		dir := t.TempDir()
		files, syncTOML := syncFiles(t, syncApp)
		files["0004_ahead.sql"] = "-- migrate:up\n-- migrate:breaking\nCREATE TABLE ahead (id TEXT PRIMARY KEY NOT NULL);\n"
		for name, body := range files {
			os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)
		}
		os.WriteFile(filepath.Join(dir, syncer.FileName), syncTOML, 0o644)
		ahead := newSyncDevice(t, url, "new-a", dir, 0)
		ahead.exec("INSERT INTO items (id, owner, title) VALUES ('n1', 'new-a', 'from new code')")
		_, err := ahead.c.Sync(context.Background(), ahead.tr, ahead.hello)
		if codeOf(err) != syncer.CodeServerBehind || !strings.Contains(err.Error(), "HTTP 503") {
			t.Fatalf("err %v", err)
		}
		if n := ahead.pending(); n != 1 {
			t.Fatalf("outbox %d", n)
		}
	})

	t.Run("ConcurrentPushesThroughTwoIsolates", func(t *testing.T) {
		// Four devices of one user, two on each isolate, push at once:
		// pushes that lose the race write nothing and are run again (by
		// the Worker, or by the device after LARDER_BUSY).
		var ds []*syncDevice
		for i := range 4 {
			d := newSyncDevice(t, url, "race-a", syncApp, 0)
			d.tr.Client = &http.Client{Transport: hostTransport{fmt.Sprintf("w%d.larder.test", i%2)}}
			for j := range 40 {
				d.exec("INSERT INTO items (id, owner, title, n) VALUES (?, 'race-a', 'x', ?)", fmt.Sprintf("race-%d-%d", i, j), int64(j))
			}
			ds = append(ds, d)
		}
		ds[0].exec("INSERT INTO items (id, owner, title) VALUES ('race-shared', 'race-a', 'start')")
		ds[0].sync()
		for _, d := range ds[1:] {
			d.sync()
		}
		for i, d := range ds {
			d.exec("UPDATE items SET n = ? WHERE id = 'race-shared'", int64(i))
		}
		// Each device retries as the client does: after LARDER_BUSY, and
		// after a connection the loaded workerd dropped (a round that
		// fails leaves the device consistent). A Larder code other than
		// LARDER_BUSY fails the test.
		errs := make(chan error, len(ds))
		for _, d := range ds {
			go func() {
				var err error
				for try := 0; try < 20; try++ {
					if _, err = d.c.Sync(context.Background(), d.tr, d.hello); err == nil {
						break
					}
					if code := codeOf(err); code != "" && code != syncer.CodeBusy {
						break
					}
				}
				errs <- err
			}()
		}
		for range ds {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		for _, d := range ds {
			d.sync()
		}
		want := ds[0].items()
		if n := strings.Count(want, "\n"); n != 161 {
			t.Fatalf("%d rows, want 161", n)
		}
		for i, d := range ds[1:] {
			if got := d.items(); got != want {
				t.Errorf("device %d differs:\n%s", i+1, got)
			}
		}
		keep(ds...)
	})

	for _, before := range []bool{false, true} {
		name := "CutAfterTheWorkerCommittedThenRetry"
		if before {
			name = "CutBeforeTheRequestLeftThenRetry"
		}
		t.Run(name, func(t *testing.T) {
			sub := "cut-" + fmt.Sprint(before)
			ran[sub] = true
			a := newSyncDevice(t, url, sub, syncApp, 0)
			cut := &cutTransport{beforeSend: before}
			a.tr.Client = &http.Client{Transport: cut}
			for i := range 4 {
				a.exec("INSERT INTO items (id, owner, title, n) VALUES (?, ?, 'cut', ?)", fmt.Sprintf("%s-k%d", sub, i), sub, int64(i))
			}
			a.exec("UPDATE items SET n = n * 100 WHERE id = ?", sub+"-k3")
			cut.armed.Store(true)
			if _, err := a.c.Sync(context.Background(), a.tr, a.hello); !errors.Is(err, errCut) {
				t.Fatalf("sync through the cut: %v", err)
			}
			if n := a.pending(); n != 5 || cut.cuts.Load() != 1 {
				t.Fatalf("outbox %d after %d cuts", n, cut.cuts.Load())
			}
			n := a.sync()
			if n.Pushed != 5 || a.pending() != 0 {
				t.Fatalf("retry %+v", n)
			}
			// Exactly once: a fresh device pulls each row once, in its
			// final state, and the server answers the same batch again
			// as duplicates only.
			fresh := newSyncDevice(t, url, sub, syncApp, 0)
			if n := fresh.sync(); n.Pulled != 4 {
				t.Fatalf("fresh pulled %+v", n)
			}
			if got, want := fresh.items(), a.items(); got != want || !strings.Contains(got, "i:300") {
				t.Fatalf("fresh:\n%s\na:\n%s", got, want)
			}
			keep(a, fresh)
		})
	}

	// D1 after the Worker stopped: each converged device holds exactly
	// its user's rows as D1 has them, and each accepted change id is
	// recorded once.
	w.stop(t)
	d1 := openD1(t, state)
	for _, d := range converged {
		if got, want := d.items, rows(t, d1, itemsOf, d.sub); got != want {
			t.Errorf("device of %s:\n%s\nD1:\n%s", d.sub, got, want)
		}
	}
	for _, sub := range []string{"cut-false", "cut-true"} {
		if !ran[sub] {
			continue // not run (-run picked other subtests)
		}
		if n := queryInt(t, d1, "SELECT count(*) FROM _sync_seen WHERE sub = '"+sub+"'"); n != 5 {
			t.Errorf("%s: %d change ids recorded, want 5", sub, n)
		}
	}
	if n := queryInt(t, d1, "SELECT count(*) FROM items WHERE owner IN ('old-a', 'new-a')"); n != 0 {
		t.Errorf("%d rows of refused devices reached D1", n)
	}
}

// A device ahead of the Worker by a non-breaking migration syncs; the
// column the Worker lacks is kept in D1 (_sync_extra) and served back, and
// once a new deploy brings the migration the kept value moves into the
// column (the next isolate prepares sync again for the new bundle).
func TestSyncColumnsAheadOfTheWorkerAreKept(t *testing.T) {
	state := t.TempDir()
	files, syncTOML := syncFiles(t, syncApp)
	only := func(names ...string) map[string]string {
		out := map[string]string{}
		for _, n := range names {
			out[n] = files[n]
		}
		return out
	}
	old := buildSyncWorker(t, bundleOf(t, only("0001_init.sql"), ""), syncTOML)
	w := startWorker(t, old, state, 1, authVars...)
	ahead := newSyncDevice(t, w.URL, "extra-a", syncApp, 2) // has items.done
	ahead.exec("INSERT INTO items (id, owner, title, done) VALUES ('e1', 'extra-a', 't', 1)")
	if n := ahead.sync(); n.Pushed != 1 {
		t.Fatalf("push %+v", n)
	}
	other := newSyncDevice(t, w.URL, "extra-a", syncApp, 2)
	other.sync()
	if got := other.items(); !strings.HasSuffix(got, "|i:1\n") {
		t.Fatalf("the kept column was not served back:\n%s", got)
	}
	w.stop(t)

	// The next deploy has 0002: the value moves into items.done.
	w = startWorker(t, buildSyncWorker(t, bundleOf(t, only("0001_init.sql", "0002_add_done.sql"), ""), syncTOML), state, 1, authVars...)
	ahead.tr.URL, other.tr.URL = w.URL, w.URL
	other.exec("UPDATE items SET title = 'after the deploy' WHERE id = 'e1'")
	other.sync()
	ahead.sync()
	fresh := newSyncDevice(t, w.URL, "extra-a", syncApp, 2)
	fresh.sync()
	want := "t:\"e1\"|t:\"extra-a\"|t:\"after the deploy\"|null|null|null|i:1\n"
	for name, d := range map[string]*syncDevice{"ahead": ahead, "other": other, "fresh": fresh} {
		if got := d.items(); got != want {
			t.Errorf("%s:\n%s\nwant\n%s", name, got, want)
		}
	}
	w.stop(t)
	d1 := openD1(t, state)
	if got := rows(t, d1, "SELECT id, done, (SELECT count(*) FROM _sync_extra) FROM items"); got != "t:\"e1\"|i:1|i:0\n" {
		t.Errorf("D1 after the deploy: %s", got)
	}
}
