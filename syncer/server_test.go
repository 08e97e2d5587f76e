package syncer

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	sqlitemig "github.com/larderdb/larder/migrations/sqlite"
)

func push(t *testing.T, s *Server, sub string, h Hello, changes ...Change) PushResponse {
	t.Helper()
	resp, err := s.Push(context.Background(), sub, PushRequest{Hello: h, Changes: changes})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func hlc(ms, ctr int64, node string) string { return HLC{ms, ctr, node}.String() }

func cols(kv ...any) map[string]Value {
	m := map[string]Value{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = Value{kv[i+1]}
	}
	return m
}

func TestPushLastWriterWinsPerColumn(t *testing.T) {
	s, conn := newServer(t, 0)
	h := versionOf(t, conn)
	push(t, s, "u1", h, Change{ID: hlc(10, 0, "aa"), Table: "items", PK: "x", Op: OpInsert, Cols: cols("owner", "u1", "title", "t0", "n", int64(0))})
	// b's later title and a's later n both win; a's older title loses.
	push(t, s, "u1", h, Change{ID: hlc(30, 0, "bb"), Table: "items", PK: "x", Op: OpUpdate, Cols: cols("title", "from b")})
	resp := push(t, s, "u1", h, Change{ID: hlc(20, 0, "aa"), Table: "items", PK: "x", Op: OpUpdate, Cols: cols("title", "from a", "n", int64(7))})
	if len(resp.Accepted) != 1 {
		t.Fatalf("resp %+v", resp)
	}
	// Same ms and counter: the greater node id wins, on every server alike.
	push(t, s, "u1", h, Change{ID: hlc(40, 0, "cc"), Table: "items", PK: "x", Op: OpUpdate, Cols: cols("r", 1.5)})
	push(t, s, "u1", h, Change{ID: hlc(40, 0, "bb"), Table: "items", PK: "x", Op: OpUpdate, Cols: cols("r", 2.5)})
	if got := dump(t, conn, "SELECT title, n, r FROM items"); got != "string:from b|int64:7|float64:1.5\n" {
		t.Fatalf("row %q", got)
	}
}

func TestPushIsIdempotent(t *testing.T) {
	s, conn := newServer(t, 0)
	h := versionOf(t, conn)
	ch := Change{ID: hlc(10, 0, "aa"), Table: "items", PK: "x", Op: OpInsert, Cols: cols("owner", "u1", "n", int64(1))}
	first := push(t, s, "u1", h, ch)
	again := push(t, s, "u1", h, ch, ch)
	if len(first.Accepted) != 1 || len(again.Accepted) != 0 || len(again.Duplicate) != 2 || again.Seq != first.Seq {
		t.Fatalf("first %+v, again %+v", first, again)
	}
	if got := dump(t, conn, "SELECT count(*) FROM _sync_seen"); got != "int64:1\n" {
		t.Fatalf("seen %q", got)
	}
}

func TestDeleteWinsAndNothingResurrects(t *testing.T) {
	s, conn := newServer(t, 0)
	h := versionOf(t, conn)
	push(t, s, "u1", h, Change{ID: hlc(10, 0, "aa"), Table: "items", PK: "x", Op: OpInsert, Cols: cols("owner", "u1", "title", "t")})
	push(t, s, "u1", h, Change{ID: hlc(20, 0, "aa"), Table: "items", PK: "x", Op: OpDelete})
	// An older update and a newer one from another device, and a re-insert: all lose.
	resp := push(t, s, "u1", h,
		Change{ID: hlc(15, 0, "bb"), Table: "items", PK: "x", Op: OpUpdate, Cols: cols("title", "old")},
		Change{ID: hlc(99, 0, "bb"), Table: "items", PK: "x", Op: OpUpdate, Cols: cols("title", "new")},
		Change{ID: hlc(99, 1, "bb"), Table: "items", PK: "x", Op: OpInsert, Cols: cols("owner", "u1", "title", "again")})
	if len(resp.Accepted) != 3 {
		t.Fatalf("resp %+v", resp)
	}
	if got := dump(t, conn, "SELECT count(*) FROM items"); got != "int64:0\n" {
		t.Fatalf("deleted row came back: %q", got)
	}
	page, err := s.Pull(context.Background(), "u1", PullRequest{Hello: h})
	if err != nil || len(page.Rows) != 1 || !page.Rows[0].Deleted {
		t.Fatalf("pull %+v %v", page, err)
	}
}

func TestOwnershipRefusesOtherUsersRows(t *testing.T) {
	s, conn := newServer(t, 0)
	h := versionOf(t, conn)
	ctx := context.Background()
	push(t, s, "alice", h, Change{ID: hlc(10, 0, "aa"), Table: "items", PK: "a1", Op: OpInsert, Cols: cols("owner", "alice", "title", "secret")})
	push(t, s, "alice", h, Change{ID: hlc(11, 0, "aa"), Table: "items", PK: "a2", Op: OpInsert, Cols: cols("owner", "alice")})
	push(t, s, "alice", h, Change{ID: hlc(12, 0, "aa"), Table: "items", PK: "a2", Op: OpDelete})
	before := dump(t, conn, "SELECT * FROM items")

	resp := push(t, s, "bob", h,
		Change{ID: hlc(50, 0, "bb"), Table: "items", PK: "a1", Op: OpUpdate, Cols: cols("title", "pwned")},
		Change{ID: hlc(50, 1, "bb"), Table: "items", PK: "a1", Op: OpUpdate, Cols: cols("owner", "bob")},
		Change{ID: hlc(50, 2, "bb"), Table: "items", PK: "a1", Op: OpInsert, Cols: cols("owner", "bob", "title", "mine")},
		Change{ID: hlc(50, 3, "bb"), Table: "items", PK: "a1", Op: OpDelete},
		Change{ID: hlc(50, 4, "bb"), Table: "items", PK: "a2", Op: OpUpdate, Cols: cols("title", "x")},
		Change{ID: hlc(50, 5, "bb"), Table: "items", PK: "b1", Op: OpInsert, Cols: cols("owner", "alice", "title", "planted")},
	)
	if len(resp.Accepted) != 0 || len(resp.Rejected) != 6 {
		t.Fatalf("bob's forged changes: %+v", resp)
	}
	for _, r := range resp.Rejected {
		if r.Code != CodeForbidden {
			t.Fatalf("rejection %+v", r)
		}
	}
	// Alice cannot give her row away either.
	resp = push(t, s, "alice", h, Change{ID: hlc(60, 0, "aa"), Table: "items", PK: "a1", Op: OpUpdate, Cols: cols("owner", "bob")})
	if len(resp.Rejected) != 1 || resp.Rejected[0].Code != CodeForbidden {
		t.Fatalf("give-away: %+v", resp)
	}
	if after := dump(t, conn, "SELECT * FROM items"); after != before {
		t.Fatalf("rows changed:\n%s\nwas:\n%s", after, before)
	}
	page, err := s.Pull(ctx, "bob", PullRequest{Hello: h})
	if err != nil || len(page.Rows) != 0 {
		t.Fatalf("bob pulled %+v %v", page.Rows, err)
	}
	page, err = s.Pull(ctx, "alice", PullRequest{Hello: h})
	if err != nil || len(page.Rows) != 2 {
		t.Fatalf("alice pulled %+v %v", page.Rows, err)
	}
}

func TestPushRefusesMalformedChanges(t *testing.T) {
	s, conn := newServer(t, 0)
	h := versionOf(t, conn)
	resp := push(t, s, "u1", h,
		Change{ID: "not-an-hlc", Table: "items", PK: "x", Op: OpInsert},
		Change{ID: hlc(1, 0, "aa"), Table: "drafts", PK: "x", Op: OpInsert},
		Change{ID: hlc(1, 1, "aa"), Table: "items", PK: "x", Op: "upsert"},
		Change{ID: hlc(1, 2, "aa"), Table: "items", PK: "x", Op: OpInsert, Cols: cols("owner", "u1", "nope", int64(1))},
		Change{ID: hlc(1, 3, "aa"), Table: "items", PK: "zz", Op: OpUpdate, Cols: cols("title", "t")},
	)
	want := []string{"change id", `table "drafts" does not sync`, `op "upsert"`, "has no column nope", "does not have"}
	if len(resp.Rejected) != len(want) {
		t.Fatalf("%+v", resp)
	}
	for i, r := range resp.Rejected {
		if r.Code != CodeInvalid || !strings.Contains(r.Message, want[i]) {
			t.Errorf("rejection %d: %+v, want %q", i, r, want[i])
		}
	}
}

func TestVersionsAreChecked(t *testing.T) {
	cases := []struct {
		device, server Hello
		code           string
	}{
		{Hello{3, 3}, Hello{3, 3}, ""},
		{Hello{2, 0}, Hello{3, 3}, CodeOutdated},
		{Hello{3, 1}, Hello{2, 1}, ""}, // device ahead by a non-breaking migration
		{Hello{3, 3}, Hello{2, 0}, CodeServerBehind},
		{Hello{2, 0}, Hello{3, 0}, ""}, // device behind, nothing breaking
		{Hello{1, 2}, Hello{3, 0}, CodeInvalid},
	}
	for _, c := range cases {
		err := CheckVersions(c.device, c.server)
		var e *Error
		switch {
		case c.code == "" && err != nil:
			t.Errorf("%+v vs %+v: %v", c.device, c.server, err)
		case c.code != "" && (!errors.As(err, &e) || e.Code != c.code):
			t.Errorf("%+v vs %+v: %v, want %s", c.device, c.server, err, c.code)
		}
	}
	// Through Push and Pull: the server at 3 (breaking) refuses a device at 2.
	s, _ := newServer(t, 0)
	old := newDevice(t, 2)
	old.exec("INSERT INTO items (id, owner) VALUES ('x', 'u1')")
	changes, _ := old.c.Pending(10)
	_, err := s.Push(context.Background(), "u1", PushRequest{Hello: old.hello, Changes: changes})
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeOutdated {
		t.Fatalf("push from outdated device: %v", err)
	}
	if _, err := s.Pull(context.Background(), "u1", PullRequest{Hello: old.hello}); !errors.As(err, &e) || e.Code != CodeOutdated {
		t.Fatalf("pull from outdated device: %v", err)
	}
}

func TestColumnsUnknownToOneSideAreKept(t *testing.T) {
	s, sconn := newServer(t, 1) // the server lacks 0002 (items.done)
	ahead, behind := newDevice(t, 2), newDevice(t, 1)
	ahead.exec("INSERT INTO items (id, owner, title, done) VALUES ('x', 'u1', 't', 1)")
	if r := ahead.sync(s, "u1"); r.Pushed != 1 {
		t.Fatalf("push %+v", r)
	}
	if got := dump(t, sconn, "SELECT col, val FROM _sync_extra"); got != "string:done|int64:1\n" {
		t.Fatalf("extra %q", got)
	}
	behind.sync(s, "u1")
	behind.exec("UPDATE items SET title = 'edited'") // knows nothing of done
	behind.sync(s, "u1")
	ahead.sync(s, "u1")
	if got := dump(t, ahead.conn, "SELECT title, done FROM items"); got != "string:edited|int64:1\n" {
		t.Fatalf("ahead device has %q", got)
	}

	// The server catches up (0002 adds items.done): the kept value moves
	// into the column, and later writes go there.
	migs, _ := migrations.LoadDir(appDir)
	p, _ := migrations.NewProvider(sqlitemig.NewStore(sconn), migs, migrations.Options{})
	if _, err := p.Up(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	store2 := NewConnStore(sconn)
	t.Cleanup(func() { store2.Close() })
	s2, err := NewServer(context.Background(), store2, appConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := dump(t, sconn, "SELECT done, (SELECT count(*) FROM _sync_extra) FROM items"); got != "int64:1|int64:0\n" {
		t.Fatalf("after the server migrated: %q", got)
	}
	ahead.exec("UPDATE items SET done = 0")
	ahead.sync(s2, "u1")
	fresh := newDevice(t, 2)
	fresh.sync(s2, "u1")
	if got := dump(t, fresh.conn, "SELECT title, done FROM items"); got != "string:edited|int64:0\n" {
		t.Fatalf("fresh device has %q", got)
	}
}

func TestWhereRuleSharesRows(t *testing.T) {
	s, sconn := newServer(t, 0)
	h := versionOf(t, sconn)
	alice, bob, eve := newDevice(t, 0), newDevice(t, 0), newDevice(t, 0)
	alice.exec("INSERT INTO lists (id, owner, name) VALUES ('L', 'alice', 'groceries')")
	alice.exec("INSERT INTO list_items (id, list_id, body) VALUES ('i1', 'L', 'milk')")
	if r := alice.sync(s, "alice"); r.Pushed != 2 {
		t.Fatalf("alice push %+v", r)
	}
	if err := execConn(sconn, "INSERT INTO list_members VALUES ('L', 'bob')"); err != nil {
		t.Fatal(err)
	}
	bob.sync(s, "bob")
	if got := dump(t, bob.conn, "SELECT id, body FROM list_items"); got != "string:i1|string:milk\n" {
		t.Fatalf("bob sees %q", got)
	}
	bob.exec("UPDATE list_items SET body = 'oat milk'")
	bob.exec("DELETE FROM list_items")
	if r := bob.sync(s, "bob"); r.Pushed != 2 {
		t.Fatalf("bob push %+v", r)
	}
	eve.sync(s, "eve")
	if got := dump(t, eve.conn, "SELECT count(*) FROM list_items"); got != "int64:0\n" {
		t.Fatalf("eve sees %q", got)
	}
	resp := push(t, s, "eve", h, Change{ID: hlc(1e12, 0, "ee"), Table: "list_items", PK: "i2", Op: OpInsert, Cols: cols("list_id", "L", "body", "spam")})
	if len(resp.Rejected) != 1 || resp.Rejected[0].Code != CodeForbidden {
		t.Fatalf("eve insert %+v", resp)
	}
	alice.sync(s, "alice")
	if got := dump(t, alice.conn, "SELECT count(*) FROM list_items"); got != "int64:0\n" {
		t.Fatalf("alice still has %q", got)
	}
}

func TestConstraintFailureRejectsOnlyThatChange(t *testing.T) {
	s, conn := newServer(t, 0)
	h := versionOf(t, conn)
	resp := push(t, s, "u1", h,
		Change{ID: hlc(1, 0, "aa"), Table: "items", PK: "ok1", Op: OpInsert, Cols: cols("owner", "u1")},
		Change{ID: hlc(1, 1, "aa"), Table: "items", PK: "bad", Op: OpInsert, Cols: cols("owner", "u1", "title", nil)},
		Change{ID: hlc(1, 2, "aa"), Table: "items", PK: "ok2", Op: OpInsert, Cols: cols("owner", "u1")},
	)
	if len(resp.Accepted) != 2 || len(resp.Rejected) != 1 || !strings.Contains(resp.Rejected[0].Message, "NOT NULL constraint failed: items.title") {
		t.Fatalf("%+v", resp)
	}
	if got := dump(t, conn, "SELECT id FROM items ORDER BY id"); got != "string:ok1\nstring:ok2\n" {
		t.Fatalf("rows %q", got)
	}
}

// TestConcurrentPushesDoNotInterleave: two servers (two connections, as two
// Worker instances on one D1) merge pushes for the same row at once. The
// one that read the rows before the other committed fails whole, and its
// retry merges on top.
func TestConcurrentPushesDoNotInterleave(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "server.db")
	var servers [2]*Server
	var conns [2]*sqlite3.Conn
	for i := range servers {
		conn, err := sqlitemig.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		if i == 0 {
			migs, _ := migrations.LoadDir(appDir)
			if _, err := sqlitemig.Migrate(ctx, conn, migs, migrations.Options{}); err != nil {
				t.Fatal(err)
			}
		}
		store := NewConnStore(conn)
		t.Cleanup(func() { store.Close() })
		if servers[i], err = NewServer(ctx, store, appConfig(t)); err != nil {
			t.Fatal(err)
		}
		conns[i] = conn
	}
	h := versionOf(t, conns[0])
	push(t, servers[0], "u1", h, Change{ID: hlc(10, 0, "aa"), Table: "items", PK: "x", Op: OpInsert, Cols: cols("owner", "u1", "n", int64(0))})

	slow := Change{ID: hlc(30, 0, "aa"), Table: "items", PK: "x", Op: OpUpdate, Cols: cols("n", int64(1))}
	m, err := servers[0].newMerge(ctx, "u1", false, []Change{slow})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.apply(ctx, slow); err != nil {
		t.Fatal(err)
	}
	// Meanwhile the other instance commits a delete of the row.
	push(t, servers[1], "u1", h, Change{ID: hlc(20, 0, "bb"), Table: "items", PK: "x", Op: OpDelete})

	var conflict *conflictError
	if err := m.flush(ctx); !errors.As(err, &conflict) {
		t.Fatalf("stale merge flushed: %v", err)
	}
	resp := push(t, servers[0], "u1", h, slow) // the device's retry
	if len(resp.Accepted) != 1 {
		t.Fatalf("retry %+v", resp)
	}
	if got := dump(t, conns[0], "SELECT count(*) FROM items"); got != "int64:0\n" {
		t.Fatalf("the stale update resurrected the row: %s", got)
	}
}

// TestChangeIDsArePerUser: a user who learns another user's node id (from
// the clocks of a shared row) cannot claim the ids of that user's future
// changes.
func TestChangeIDsArePerUser(t *testing.T) {
	s, conn := newServer(t, 0)
	h := versionOf(t, conn)
	id := hlc(50, 0, "aa")
	push(t, s, "mallory", h, Change{ID: id, Table: "items", PK: "m1", Op: OpInsert, Cols: cols("owner", "mallory")})
	resp := push(t, s, "alice", h, Change{ID: id, Table: "items", PK: "a1", Op: OpInsert, Cols: cols("owner", "alice")})
	if len(resp.Accepted) != 1 {
		t.Fatalf("alice's change was taken for a duplicate: %+v", resp)
	}
}

// TestPullPagesAcrossTables: rows of several tables, some invisible, come
// in sequence order, each once, whatever the page size.
func TestPullPagesAcrossTables(t *testing.T) {
	s, conn := newServer(t, 0)
	h := versionOf(t, conn)
	var want []string
	for i := range 12 {
		id := hlc(int64(100+i), 0, "aa")
		var ch Change
		switch i % 4 {
		case 0:
			ch = Change{ID: id, Table: "lists", PK: fmt.Sprintf("L%d", i), Op: OpInsert, Cols: cols("owner", "u1")}
		case 1:
			ch = Change{ID: id, Table: "list_items", PK: fmt.Sprintf("I%d", i), Op: OpInsert, Cols: cols("list_id", fmt.Sprintf("L%d", i-1))}
		case 2:
			ch = Change{ID: id, Table: "items", PK: fmt.Sprintf("X%d", i), Op: OpInsert, Cols: cols("owner", "u1")}
		case 3:
			push(t, s, "u2", h, Change{ID: hlc(int64(100+i), 1, "bb"), Table: "items", PK: fmt.Sprintf("Y%d", i), Op: OpInsert, Cols: cols("owner", "u2")})
			continue
		}
		if r := push(t, s, "u1", h, ch); len(r.Accepted) != 1 {
			t.Fatalf("%+v", r)
		}
		want = append(want, ch.PK)
	}
	push(t, s, "u1", h, Change{ID: hlc(200, 0, "aa"), Table: "list_items", PK: "I1", Op: OpDelete})
	want = append(want[:1], want[2:]...)
	want = append(want, "I1")
	for limit := 1; limit <= 10; limit++ {
		var got []string
		var cursor, last int64
		for more, pages := true, 0; more; pages++ {
			page, err := s.Pull(context.Background(), "u1", PullRequest{Hello: h, Cursor: cursor, Limit: limit})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Rows) > limit || pages > 20 {
				t.Fatalf("limit %d: page of %d rows, page %d", limit, len(page.Rows), pages)
			}
			for _, r := range page.Rows {
				if r.Seq <= last {
					t.Fatalf("limit %d: seq %d after %d", limit, r.Seq, last)
				}
				last = r.Seq
				got = append(got, r.PK)
			}
			cursor, more = page.Cursor, page.More
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("limit %d: got %v, want %v", limit, got, want)
		}
	}
}

// TestRejectedChangeIsUndoneOnTheDevice: a device whose change is refused
// gets the server's version of the row back on its next pull.
func TestRejectedChangeIsUndoneOnTheDevice(t *testing.T) {
	s, _ := newServer(t, 0)
	d := newDevice(t, 0)
	d.exec("INSERT INTO items (id, owner, title) VALUES ('x', 'alice', 'mine')")
	d.sync(s, "alice")
	d.exec("UPDATE items SET owner = 'bob'") // giving the row away: forbidden
	r := d.sync(s, "alice")
	if len(r.Rejected) != 1 || r.Rejected[0].Code != CodeForbidden || r.Pushed != 0 {
		t.Fatalf("%+v", r)
	}
	if got := dump(t, d.conn, "SELECT owner, title FROM items"); got != "string:alice|string:mine\n" {
		t.Fatalf("device has %q", got)
	}
	if r := r.Rejected[0]; r.Table != "items" || r.PK != "x" || r.Gone {
		t.Fatalf("the rejection names %+v", r)
	}

	// A new row given to someone else: the server keeps none of it, so the
	// device drops its copy (and says so: its table changed); a later
	// change of such a row in the outbox holds the drop off until its own
	// answer.
	d.exec("INSERT INTO items (id, owner, title) VALUES ('g', 'bob', 'given away')")
	r = d.sync(s, "alice")
	if len(r.Rejected) != 1 || !r.Rejected[0].Gone || r.Rejected[0].PK != "g" || !slices.Contains(r.Tables, "items") {
		t.Fatalf("%+v", r)
	}
	if got := dump(t, d.conn, "SELECT id FROM items ORDER BY id"); got != "string:x\n" {
		t.Fatalf("device has %q", got)
	}
	d.exec("INSERT INTO items (id, owner, title) VALUES ('h', 'bob', 'given away')")
	d.exec("UPDATE items SET title = 'still given away' WHERE id = 'h'")
	changes, err := d.c.Pending(1)
	if err != nil || len(changes) != 1 {
		t.Fatal(changes, err)
	}
	resp := push(t, s, "alice", d.hello, changes...)
	if len(resp.Rejected) != 1 || !resp.Rejected[0].Gone {
		t.Fatalf("%+v", resp)
	}
	if err := d.c.Ack(resp); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, d.conn, "SELECT count(*) FROM items WHERE id = 'h'"); got != "int64:1\n" {
		t.Fatalf("dropped with a change of it still in the outbox: %q", got)
	}
	if r := d.sync(s, "alice"); len(r.Rejected) != 1 || !r.Rejected[0].Gone {
		t.Fatalf("%+v", r)
	}
	if got := dump(t, d.conn, "SELECT id FROM items ORDER BY id"); got != "string:x\n" {
		t.Fatalf("device has %q", got)
	}
	if got := dump(t, d.conn, "SELECT count(*) FROM _sync_outbox"); got != "int64:0\n" {
		t.Fatalf("the drop was captured: outbox %q", got)
	}

	// A change the server's schema refuses: the row is served again too.
	cur, _ := d.c.Cursor()
	resp = push(t, s, "alice", d.hello, Change{ID: hlc(2e13, 0, "aa"), Table: "items", PK: "x", Op: OpUpdate, Cols: cols("title", nil)})
	if len(resp.Rejected) != 1 || !strings.Contains(resp.Rejected[0].Message, "NOT NULL") {
		t.Fatalf("%+v", resp)
	}
	page, err := s.Pull(context.Background(), "alice", PullRequest{Hello: d.hello, Cursor: cur})
	if err != nil || len(page.Rows) != 1 || page.Rows[0].Cols["title"].V != "mine" {
		t.Fatalf("pull after the rejection: %+v %v", page, err)
	}
}

// A push of where-rule changes, which cost a few Store calls each, is
// answered in part once it has used PushBudget calls; Sync sends the rest
// in the next requests and every change lands once.
func TestPushAnswersAPrefixPastItsBudget(t *testing.T) {
	s, sconn := newServer(t, 0)
	alice, other := newDevice(t, 0), newDevice(t, 0)
	alice.exec("INSERT INTO lists (id, owner, name) VALUES ('L', 'alice', 'big')")
	alice.sync(s, "alice")
	for i := range 300 {
		alice.exec("INSERT INTO list_items (id, list_id, body) VALUES (?, 'L', 'x')", fmt.Sprintf("i%03d", i))
	}
	changes, err := alice.c.Pending(MaxBatch)
	if err != nil || len(changes) != 300 {
		t.Fatalf("pending %d %v", len(changes), err)
	}
	resp := push(t, s, "alice", alice.hello, changes...)
	if n := len(resp.Accepted); n == 0 || n >= 300 || len(resp.Rejected)+len(resp.Duplicate) != 0 {
		t.Fatalf("one push answered %d accepted, %d rejected, %d duplicate", n, len(resp.Rejected), len(resp.Duplicate))
	}
	for i, id := range resp.Accepted {
		if id != changes[i].ID {
			t.Fatalf("accepted[%d] = %s, want the prefix of the batch", i, id)
		}
	}
	if err := alice.c.Ack(resp); err != nil {
		t.Fatal(err)
	}
	if n := alice.sync(s, "alice"); n.Pushed != 300-len(resp.Accepted) {
		t.Fatalf("the rest: %+v", n)
	}
	if got := dump(t, sconn, "SELECT count(*), count(DISTINCT sub || id) FROM _sync_seen WHERE sub = 'alice'"); got != "int64:301|int64:301\n" {
		t.Fatalf("seen %q", got)
	}
	if n := other.sync(s, "alice"); n.Pulled != 301 {
		t.Fatalf("other pulled %+v", n)
	}
}
