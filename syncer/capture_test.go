package syncer

import (
	"context"
	"strings"
	"testing"
)

func TestCaptureWritesOutboxPerColumn(t *testing.T) {
	d := newDevice(t, 0)
	d.exec("INSERT INTO items (id, owner, title, n) VALUES ('a', 'u1', 'one', 1)")
	d.exec("UPDATE items SET title = 'uno' WHERE id = 'a'")
	d.exec("UPDATE items SET title = 'uno' WHERE id = 'a'") // no change: nothing captured
	d.exec("UPDATE items SET id = 'b' WHERE id = 'a'")
	d.exec("DELETE FROM items WHERE id = 'b'")
	d.exec("INSERT INTO drafts (body) VALUES ('not synced')")

	got, err := d.c.Pending(100)
	if err != nil {
		t.Fatal(err)
	}
	var summary []string
	for _, ch := range got {
		cols := []string{}
		for _, c := range []string{"owner", "title", "n", "r", "data", "done"} {
			if _, ok := ch.Cols[c]; ok {
				cols = append(cols, c)
			}
		}
		summary = append(summary, ch.Op+" "+ch.PK+" "+strings.Join(cols, ","))
	}
	want := []string{
		"insert a owner,title,n,r,data,done",
		"update a title",
		"delete a ",
		"insert b owner,title,n,r,data,done",
		"delete b ",
	}
	if strings.Join(summary, "\n") != strings.Join(want, "\n") {
		t.Fatalf("outbox:\n%s\nwant:\n%s", strings.Join(summary, "\n"), strings.Join(want, "\n"))
	}
	for i := 1; i < len(got); i++ {
		a, _ := ParseHLC(got[i-1].ID)
		b, err := ParseHLC(got[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Compare(b) >= 0 || got[i-1].ID >= got[i].ID {
			t.Fatalf("HLCs not increasing: %s then %s", got[i-1].ID, got[i].ID)
		}
	}
	if v := got[1].Cols["title"].V; v != "uno" {
		t.Fatalf("update carried title %v", v)
	}
}

func TestCaptureRolledBackLeavesNothing(t *testing.T) {
	d := newDevice(t, 0)
	d.exec("BEGIN")
	d.exec("INSERT INTO items (id, owner) VALUES ('a', 'u1')")
	d.exec("ROLLBACK")
	got, err := d.c.Pending(10)
	if err != nil || len(got) != 0 {
		t.Fatalf("outbox after rollback: %v %v", got, err)
	}
}

func TestApplyIsNotCaptured(t *testing.T) {
	s, _ := newServer(t, 0)
	a, b := newDevice(t, 0), newDevice(t, 0)
	a.exec("INSERT INTO items (id, owner, title) VALUES ('x', 'u1', 'from a')")
	a.sync(s, "u1")
	b.sync(s, "u1")
	if got := dump(t, b.conn, "SELECT title FROM items"); got != "string:from a\n" {
		t.Fatalf("b has %q", got)
	}
	pending, _ := b.c.Pending(10)
	if len(pending) != 0 {
		t.Fatalf("applied rows were captured: %v", pending)
	}
	if got := dump(t, b.conn, "SELECT applying FROM _sync_state"); got != "int64:0\n" {
		t.Fatalf("applying flag left as %q", got)
	}
}

func TestInstallIsIdempotentAndFollowsNewColumns(t *testing.T) {
	d := newDevice(t, 1)
	if _, err := Install(context.Background(), d.conn, appConfig(t)); err != nil {
		t.Fatal(err)
	}
	d.exec("ALTER TABLE items ADD COLUMN extra TEXT")
	if _, err := Install(context.Background(), d.conn, appConfig(t)); err != nil {
		t.Fatal(err)
	}
	d.exec("INSERT INTO items (id, owner, extra) VALUES ('a', 'u1', 'e')")
	got, _ := d.c.Pending(10)
	if len(got) != 1 || got[0].Cols["extra"].V != "e" {
		t.Fatalf("new column not captured: %+v", got)
	}
	n := dump(t, d.conn, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'items'")
	if n != "int64:4\n" {
		t.Fatalf("items has %s triggers, want 4", n)
	}
}

// TestInstallQueuesRowsFromBeforeSync: rows written before a table synced
// are pushed once; rows pulled later are not queued again.
func TestInstallQueuesRowsFromBeforeSync(t *testing.T) {
	conn := openApp(t, 0)
	if err := conn.Exec("INSERT INTO items (id, owner, title) VALUES ('old1', 'u1', 'before'), ('old2', 'u1', 'sync')"); err != nil {
		t.Fatal(err)
	}
	c, err := Install(context.Background(), conn, appConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	d := &device{t: t, conn: conn, c: c, hello: versionOf(t, conn)}
	s, _ := newServer(t, 0)
	if r := d.sync(s, "u1"); r.Pushed != 2 {
		t.Fatalf("backfill pushed %+v", r)
	}
	other := newDevice(t, 0)
	other.sync(s, "u1")
	if got := dump(t, other.conn, "SELECT id, title FROM items ORDER BY id"); got != "string:old1|string:before\nstring:old2|string:sync\n" {
		t.Fatalf("other device has %q", got)
	}
	// Installing again (the next page load) queues nothing.
	c2, err := Install(context.Background(), other.conn, appConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c2.Close() })
	if p, _ := c2.Pending(10); len(p) != 0 {
		t.Fatalf("pulled rows queued again: %+v", p)
	}
}
