package web

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/ext/fts5"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
	"github.com/larderdb/larder/syncer"
)

// openDemoDB opens a file database with FTS5, as larder-fts5.wasm has it.
func openDemoDB(t *testing.T) (*sqlite3.Conn, *migrations.Provider) {
	t.Helper()
	conn, err := sqlite.Open(filepath.Join(t.TempDir(), "notes.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := fts5.Register(conn); err != nil {
		t.Fatal(err)
	}
	migs, err := migrations.Load(Migrations(), ".")
	if err != nil {
		t.Fatal(err)
	}
	p, err := migrations.NewProvider(sqlite.NewStore(conn), migs, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return conn, p
}

func exec(t *testing.T, conn *sqlite3.Conn, sql string, args ...any) {
	t.Helper()
	if err := sqlite.Exec(context.Background(), conn, sql, 1, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// column returns the first column of every row of a query, as text.
func column(t *testing.T, conn *sqlite3.Conn, sql string, args ...any) []string {
	t.Helper()
	stmt, _, err := conn.Prepare(sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer stmt.Close()
	if err := sqlite.Bind(stmt, args...); err != nil {
		t.Fatal(err)
	}
	var out []string
	for stmt.Step() {
		out = append(out, stmt.ColumnText(0))
	}
	if err := stmt.Err(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// TestMigrationsCarryDataForward writes notes in the first schema, the way
// a first release of the app did, and migrates them to the newest: the
// rebuild converts the times, the data migration splits the tags, and the
// FTS5 index finds the old notes and follows new writes.
func TestMigrationsCarryDataForward(t *testing.T) {
	ctx := context.Background()
	conn, p := openDemoDB(t)
	if _, err := p.Up(ctx, 1); err != nil {
		t.Fatal(err)
	}
	exec(t, conn, `INSERT INTO notes (id, title, body, tags, created, updated) VALUES
		(1, 'Groceries', 'milk, eggs and café au lait', 'home, Errands', '2026-01-02T03:04:05.678Z', '2026-01-03T00:00:00.000Z'),
		(2, 'Work plan', 'ship the migration engine', 'work,errands,  ,Work', '2026-02-01T10:00:00.000Z', '2026-02-01T10:00:00.000Z'),
		(3, 'Untagged', 'nothing to see', '', '2026-03-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z')`)

	// Up to 0005, the schema these checks describe; 0006 (text ids) is
	// TestMigrationsTextIDs.
	res, err := p.Up(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 {
		t.Fatalf("applied %d migrations after 0001, want 4", len(res))
	}

	// 0002: integer milliseconds, renamed columns.
	if got := column(t, conn, "SELECT created_at FROM notes WHERE id = 1"); !slices.Equal(got, []string{"1767323045678"}) {
		t.Errorf("created_at of note 1 = %v, want 1767323045678", got)
	}
	if got := column(t, conn, "SELECT type FROM pragma_table_info('notes') WHERE name = 'updated_at'"); !slices.Equal(got, []string{"INTEGER"}) {
		t.Errorf("updated_at type %v", got)
	}
	// STRICT: text in an INTEGER column is refused.
	if err := conn.Exec("INSERT INTO notes (title, created_at, updated_at) VALUES ('x', 'soon', 0)"); err == nil {
		t.Error("STRICT notes accepted text in created_at")
	}

	// 0003: tags deduplicated case-insensitively, first spelling kept, empty
	// ones dropped; every note keeps its tags; notes.tags is gone.
	if got := column(t, conn, "SELECT name FROM tags ORDER BY name COLLATE NOCASE"); !slices.Equal(got, []string{"Errands", "home", "work"}) {
		t.Errorf("tags = %v, want [Errands home work]", got)
	}
	tagsOf := func(id int) []string {
		return column(t, conn, `SELECT tags.name FROM note_tags JOIN tags ON tags.id = note_tags.tag_id
			WHERE note_id = ? ORDER BY tags.name COLLATE NOCASE`, id)
	}
	if got := tagsOf(1); !slices.Equal(got, []string{"Errands", "home"}) {
		t.Errorf("note 1 tags %v", got)
	}
	if got := tagsOf(2); !slices.Equal(got, []string{"Errands", "work"}) {
		t.Errorf("note 2 tags %v", got)
	}
	if got := column(t, conn, "SELECT count(*) FROM pragma_table_info('notes') WHERE name = 'tags'"); got[0] != "0" {
		t.Error("notes.tags still exists")
	}

	// 0004: the old notes are indexed, tags included, accents folded.
	search := func(q string) []string {
		return column(t, conn, "SELECT rowid FROM notes_fts WHERE notes_fts MATCH ? ORDER BY rowid", q)
	}
	for q, want := range map[string][]string{
		"errands":   {"1", "2"},
		"cafe":      {"1"},
		"migrat*":   {"2"},
		"tags:work": {"2"},
		"nothing":   {"3"},
	} {
		if got := search(q); !slices.Equal(got, want) {
			t.Errorf("MATCH %q = %v, want %v", q, got, want)
		}
	}

	// The triggers follow the app's writes (web/notes.js does these).
	exec(t, conn, "INSERT INTO notes (id, title, body, created_at, updated_at) VALUES (4, 'Larder', 'offline first', 0, 0)")
	exec(t, conn, "INSERT INTO tags (name) VALUES ('ideas')")
	exec(t, conn, "INSERT INTO note_tags (note_id, tag_id) SELECT 4, id FROM tags WHERE name = 'ideas'")
	if got := search("ideas"); !slices.Equal(got, []string{"4"}) {
		t.Errorf("after tagging: MATCH ideas = %v", got)
	}
	exec(t, conn, "UPDATE notes SET body = 'local first' WHERE id = 4")
	if got := search("offline"); len(got) != 0 {
		t.Errorf("after edit: MATCH offline = %v, want none", got)
	}
	exec(t, conn, "DELETE FROM notes WHERE id = 2")
	if got := search("errands"); !slices.Equal(got, []string{"1"}) {
		t.Errorf("after delete: MATCH errands = %v", got)
	}
	if got := tagsOf(2); len(got) != 0 {
		t.Errorf("deleted note kept tags %v (no cascade)", got)
	}

	// 0005: pinned defaults to 0 and takes only 0 or 1.
	if got := column(t, conn, "SELECT DISTINCT pinned FROM notes"); !slices.Equal(got, []string{"0"}) {
		t.Errorf("pinned = %v", got)
	}
	if err := conn.Exec("UPDATE notes SET pinned = 2 WHERE id = 1"); err == nil {
		t.Error("pinned = 2 accepted")
	}

	for _, pragma := range []string{"PRAGMA integrity_check", "INSERT INTO notes_fts (notes_fts) VALUES ('integrity-check'); SELECT 'ok'"} {
		if err := conn.Exec(pragma); err != nil {
			t.Errorf("%s: %v", pragma, err)
		}
	}
	if got := column(t, conn, "PRAGMA foreign_key_check"); len(got) != 0 {
		t.Errorf("foreign_key_check: %v", got)
	}
}

// TestMigrationsRoundTrip reverts every migration down to the first and
// applies them again, keeping the notes and their tags.
func TestMigrationsRoundTrip(t *testing.T) {
	ctx := context.Background()
	conn, p := openDemoDB(t)
	if _, err := p.Up(ctx, 1); err != nil {
		t.Fatal(err)
	}
	exec(t, conn, `INSERT INTO notes (id, title, body, tags) VALUES (1, 'a', 'alpha', 'x, y'), (2, 'b', 'beta', '')`)
	if _, err := p.Up(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Down(ctx, migrations.DownTarget{To: 1}); err != nil {
		t.Fatal(err)
	}
	got := column(t, conn, "SELECT tags FROM notes ORDER BY id")
	if len(got) != 2 || !(got[0] == "x, y" || got[0] == "y, x") || got[1] != "" {
		t.Errorf("after down to 1: tags %q, want [\"x, y\" \"\"]", got)
	}
	if got := column(t, conn, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"); !slices.Equal(got, []string{"_migrations", "notes"}) {
		t.Errorf("tables after down to 1: %v", got)
	}
	if _, err := p.Up(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if got := column(t, conn, "SELECT id FROM notes_fts WHERE notes_fts MATCH 'x'"); !slices.Equal(got, []string{"1"}) {
		t.Errorf("after up again: MATCH x = %v", got)
	}
	if got := column(t, conn, "SELECT sql FROM sqlite_schema WHERE name = 'notes'"); !strings.Contains(got[0], "STRICT") {
		t.Errorf("notes after up again: %s", got[0])
	}
}

// TestMigrationsTextIDs upgrades a database of the integer-id schema
// (0005) with notes, tags, pins and a search index to text ids (0006):
// nothing is lost, the ids are kept as text, the tags and the full-text
// index are rebuilt and follow new writes, and sync.toml fits the schema.
func TestMigrationsTextIDs(t *testing.T) {
	ctx := context.Background()
	conn, p := openDemoDB(t)
	if _, err := p.Up(ctx, 5); err != nil {
		t.Fatal(err)
	}
	exec(t, conn, `INSERT INTO notes (id, title, body, created_at, updated_at, pinned) VALUES
		(1, 'Groceries', 'milk, eggs and café au lait', 1767323045678, 1767398400000, 1),
		(2, 'Work plan', 'ship the migration engine', 1769940000000, 1769940000001, 0),
		(7, 'Untagged', 'nothing to see', 1772323200000, 1772323200000, 0)`)
	exec(t, conn, `INSERT INTO tags (name) VALUES ('home'), ('Errands'), ('work')`)
	exec(t, conn, `INSERT INTO note_tags (note_id, tag_id) SELECT n, tags.id FROM (SELECT 1 AS n, 'home' AS t UNION ALL
		SELECT 1, 'Errands' UNION ALL SELECT 2, 'work' UNION ALL SELECT 2, 'errands') JOIN tags ON tags.name = t`)
	before := column(t, conn, `SELECT id || '|' || title || '|' || body || '|' || created_at || '|' || updated_at || '|' || pinned FROM notes ORDER BY id`)

	if _, err := p.Up(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if got := column(t, conn, `SELECT id || '|' || title || '|' || body || '|' || created_at || '|' || updated_at || '|' || pinned FROM notes ORDER BY CAST(id AS INTEGER)`); !slices.Equal(got, before) {
		t.Errorf("notes after 0006:\n%q\nwant\n%q", got, before)
	}
	if got := column(t, conn, "SELECT DISTINCT typeof(id) || ' ' || quote(owner_id) FROM notes"); !slices.Equal(got, []string{"text ''"}) {
		t.Errorf("ids and owners after 0006: %v, want text ids, owner ''", got)
	}
	if got := column(t, conn, "SELECT id || ' ' || tags FROM notes ORDER BY id"); !slices.Equal(got, []string{`1 ["Errands","home"]`, `2 ["Errands","work"]`, `7 []`}) {
		t.Errorf("notes.tags after 0006: %v", got)
	}
	tagsOf := func(id string) []string {
		return column(t, conn, `SELECT tags.name FROM note_tags JOIN tags ON tags.id = note_tags.tag_id
			WHERE note_id = ? ORDER BY tags.name COLLATE NOCASE`, id)
	}
	if got := tagsOf("1"); !slices.Equal(got, []string{"Errands", "home"}) {
		t.Errorf("note 1 tags %v", got)
	}
	search := func(q string) []string {
		return column(t, conn, "SELECT id FROM notes_fts WHERE notes_fts MATCH ? ORDER BY id", q)
	}
	for q, want := range map[string][]string{"errands": {"1", "2"}, "cafe": {"1"}, "tags:work": {"2"}, "nothing": {"7"}} {
		if got := search(q); !slices.Equal(got, want) {
			t.Errorf("MATCH %q = %v, want %v", q, got, want)
		}
	}

	// The app's writes (web/notes.js): a note with a device-made id and
	// its tags as JSON; the triggers keep tags, note_tags and the index.
	id := "01936b2e-1c4a-7000-8000-0123456789ab"
	exec(t, conn, `INSERT INTO notes (id, owner_id, title, body, tags, created_at, updated_at) VALUES (?, 'alice', 'Larder', 'offline first', '["ideas","Home"]', 0, 0)`, id)
	if got := tagsOf(id); !slices.Equal(got, []string{"home", "ideas"}) {
		t.Errorf("new note's tags %v, want [home ideas] (first spelling of home kept)", got)
	}
	if got := search("ideas"); !slices.Equal(got, []string{id}) {
		t.Errorf("MATCH ideas = %v", got)
	}
	exec(t, conn, `UPDATE notes SET body = 'local first', tags = '["later"]' WHERE id = ?`, id)
	if got := search("offline OR ideas"); len(got) != 0 {
		t.Errorf("after edit: MATCH offline OR ideas = %v, want none", got)
	}
	if got := search("later"); !slices.Equal(got, []string{id}) {
		t.Errorf("after edit: MATCH later = %v", got)
	}
	if got := column(t, conn, "SELECT name FROM tags ORDER BY name COLLATE NOCASE"); !slices.Equal(got, []string{"Errands", "home", "later", "work"}) {
		t.Errorf("tags after edit: %v (ideas should be gone)", got)
	}
	exec(t, conn, "DELETE FROM notes WHERE id = '2'")
	if got := column(t, conn, "SELECT name FROM tags ORDER BY name COLLATE NOCASE"); !slices.Equal(got, []string{"Errands", "home", "later"}) {
		t.Errorf("tags after delete: %v", got)
	}
	if got := search("errands"); !slices.Equal(got, []string{"1"}) {
		t.Errorf("after delete: MATCH errands = %v", got)
	}
	for _, bad := range []string{
		"INSERT INTO notes (id, title) VALUES (NULL, 'no id')",
		"INSERT INTO notes (id, title) VALUES ('', 'empty id')",
		"INSERT INTO notes (id, title, tags) VALUES ('x', 'bad tags', 'home, work')",
	} {
		if err := conn.Exec(bad); err == nil {
			t.Errorf("accepted: %s", bad)
		}
	}
	for _, check := range []string{"PRAGMA integrity_check", "INSERT INTO notes_fts (notes_fts) VALUES ('integrity-check')"} {
		if err := conn.Exec(check); err != nil {
			t.Errorf("%s: %v", check, err)
		}
	}
	if got := column(t, conn, "PRAGMA foreign_key_check"); len(got) != 0 {
		t.Errorf("foreign_key_check: %v", got)
	}

	// Down to 0005: integer ids come back, the device-made one gets the
	// next free integer, tags are kept.
	if _, err := p.Down(ctx, migrations.DownTarget{To: 5}); err != nil {
		t.Fatal(err)
	}
	if got := column(t, conn, "SELECT id || ' ' || title FROM notes ORDER BY id"); !slices.Equal(got, []string{"1 Groceries", "7 Untagged", "8 Larder"}) {
		t.Errorf("after down to 5: %v", got)
	}
	if got := column(t, conn, "SELECT rowid FROM notes_fts WHERE notes_fts MATCH 'later OR errands' ORDER BY rowid"); !slices.Equal(got, []string{"1", "8"}) {
		t.Errorf("after down to 5: MATCH = %v", got)
	}
}

// TestSyncNotes syncs the demo's schema natively (syncer.Local, the same
// merge the edge runs) between two devices of one user and a server, all
// migrated by web/migrations with sync.toml: a note and its tags reach the
// other device, where the triggers rebuild the tag list and the full-text
// index; offline edits of different columns both survive; a delete
// leaves nothing behind.
func TestSyncNotes(t *testing.T) {
	ctx := context.Background()
	cfg, err := syncer.Load(Migrations(), ".")
	if err != nil {
		t.Fatal(err)
	}
	migrated := func() *sqlite3.Conn {
		conn, p := openDemoDB(t)
		if _, err := p.Up(ctx, 0); err != nil {
			t.Fatal(err)
		}
		return conn
	}
	serverDB := migrated()
	store := syncer.NewConnStore(serverDB)
	defer store.Close()
	server, err := syncer.NewServer(ctx, store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	alice := syncer.Local{Server: server, Sub: "alice"}
	laptopDB, phoneDB := migrated(), migrated()
	device := func(conn *sqlite3.Conn) *syncer.Client {
		c, err := syncer.Install(ctx, conn, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	laptop, phone := device(laptopDB), device(phoneDB)
	sync := func(c *syncer.Client) {
		t.Helper()
		hello, err := c.Hello()
		if err != nil {
			t.Fatal(err)
		}
		counts, err := c.Sync(ctx, alice, hello)
		if err != nil {
			t.Fatal(err)
		}
		if len(counts.Rejected) != 0 {
			t.Fatalf("rejected: %+v", counts.Rejected)
		}
	}
	id := "01936b2e-1c4a-7000-8000-0123456789ab"
	exec(t, laptopDB, `INSERT INTO notes (id, owner_id, title, body, tags, created_at, updated_at)
		VALUES (?, 'alice', 'Groceries', 'milk and café', '["home","Errands"]', 1, 1)`, id)
	sync(laptop)
	sync(phone)
	note := func(conn *sqlite3.Conn) []string {
		return column(t, conn, `SELECT title || '|' || body || '|' || tags || '|' || (
			SELECT group_concat(name, ',') FROM (SELECT tags.name FROM note_tags JOIN tags ON tags.id = tag_id
			WHERE note_id = notes.id ORDER BY name COLLATE NOCASE)) FROM notes`)
	}
	if got, want := note(phoneDB), []string{`Groceries|milk and café|["home","Errands"]|Errands,home`}; !slices.Equal(got, want) {
		t.Fatalf("phone after sync: %q, want %q", got, want)
	}
	if got := column(t, phoneDB, "SELECT id FROM notes_fts WHERE notes_fts MATCH 'cafe errands'"); !slices.Equal(got, []string{id}) {
		t.Errorf("phone's search: %v", got)
	}

	exec(t, laptopDB, "UPDATE notes SET body = 'milk, bread' WHERE id = ?", id) // offline
	exec(t, phoneDB, `UPDATE notes SET tags = '["home"]' WHERE id = ?`, id)     // offline, same note
	sync(laptop)
	sync(phone)
	sync(laptop)
	want := []string{`Groceries|milk, bread|["home"]|home`}
	for name, conn := range map[string]*sqlite3.Conn{"laptop": laptopDB, "phone": phoneDB} {
		if got := note(conn); !slices.Equal(got, want) {
			t.Errorf("%s after concurrent edits: %q, want %q", name, got, want)
		}
		if got := column(t, conn, "SELECT name FROM tags"); !slices.Equal(got, []string{"home"}) {
			t.Errorf("%s's tags: %v", name, got)
		}
		if got := column(t, conn, "SELECT id FROM notes_fts WHERE notes_fts MATCH 'bread'"); !slices.Equal(got, []string{id}) {
			t.Errorf("%s's search: %v", name, got)
		}
	}

	exec(t, phoneDB, "DELETE FROM notes WHERE id = ?", id)
	sync(phone)
	sync(laptop)
	for _, q := range []string{"SELECT count(*) FROM notes", "SELECT count(*) FROM note_tags", "SELECT count(*) FROM tags", "SELECT count(*) FROM notes_fts"} {
		if got := column(t, laptopDB, q); !slices.Equal(got, []string{"0"}) {
			t.Errorf("laptop after the delete: %s = %v", q, got)
		}
	}
}
