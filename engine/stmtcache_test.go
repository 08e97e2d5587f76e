package engine

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/larderdb/larder/migrations"
)

// A statement served from the cache still reports the tables it writes,
// follows schema changes, survives eviction, and does not keep the
// connection from closing.
func TestStatementCache(t *testing.T) {
	ctx := context.Background()
	h, evs := newHost(t)
	m1 := mig(1, "init", "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT); CREATE TABLE audit(n INTEGER);"+
		"CREATE TRIGGER note_audit AFTER INSERT ON note BEGIN INSERT INTO audit VALUES (new.id); END;")
	d, _, err := h.Open(ctx, OpenOptions{Name: "app", Storage: "memory", Migrations: []*migrations.Migration{m1}})
	if err != nil {
		t.Fatal(err)
	}
	const insert = "INSERT INTO note(body) VALUES (?)"
	for i := range 3 {
		*evs = nil
		if _, err := d.Exec(ctx, 0, insert, Params{Positional: []any{fmt.Sprint(i)}}); err != nil {
			t.Fatal(err)
		}
		if len(*evs) != 1 || !slices.Equal((*evs)[0].Tables, []string{"audit", "note"}) {
			t.Fatalf("insert %d (cached: %v): change events %+v", i, i > 0, *evs)
		}
	}
	if d.stmts.entries[insert] == nil {
		t.Fatal("a repeated single statement was not cached")
	}
	_, rows := query(t, d, 0, "SELECT count(*) FROM audit", Params{})
	if fmt.Sprint(rows[0][0]) != "3" {
		t.Fatalf("trigger ran %v times, want 3", rows[0][0])
	}

	// Schema change under a cached statement: SQLite re-prepares it.
	const sel = "SELECT * FROM note ORDER BY id LIMIT 1"
	query(t, d, 0, sel, Params{})
	if _, err := d.Exec(ctx, 0, "ALTER TABLE note ADD COLUMN extra TEXT DEFAULT 'x'", Params{}); err != nil {
		t.Fatal(err)
	}
	cols, _ := query(t, d, 0, sel, Params{})
	if !slices.Equal(cols, []string{"id", "body", "extra"}) {
		t.Fatalf("cached SELECT * after ALTER TABLE: columns %v", cols)
	}

	// A failing cached statement reports its error and stays usable.
	const unique = "INSERT INTO note(id, body) VALUES (?, 'dup')"
	if _, err := d.Exec(ctx, 0, unique, Params{Positional: []any{int64(100)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(ctx, 0, unique, Params{Positional: []any{int64(100)}}); Classify(err).Code != "SQLITE_CONSTRAINT_PRIMARYKEY" {
		t.Fatalf("duplicate key through the cache: %v", err)
	}
	if _, err := d.Exec(ctx, 0, unique, Params{Positional: []any{int64(101)}}); err != nil {
		t.Fatalf("after a failure: %v", err)
	}

	// More distinct statements than the cache holds: the oldest are evicted.
	for i := range stmtCacheSize + 10 {
		query(t, d, 0, fmt.Sprintf("SELECT %d", i), Params{})
	}
	if len(d.stmts.entries) != stmtCacheSize || len(d.stmts.order) != stmtCacheSize {
		t.Fatalf("cache holds %d entries (%d in order), want %d", len(d.stmts.entries), len(d.stmts.order), stmtCacheSize)
	}
	if err := h.Close("app"); err != nil {
		t.Fatalf("close with cached statements: %v", err)
	}
}
