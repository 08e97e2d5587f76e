package engine_test

import (
	"context"
	"fmt"

	"github.com/larderdb/larder/engine"
	"github.com/larderdb/larder/migrations"
)

// A Host is what larder.wasm serves the JS API with; natively it runs on
// the memory storage. Open applies the migrations; queries answer in the
// flat row encoding that larder.js decodes.
func ExampleHost() {
	ctx := context.Background()
	h, _ := engine.NewHost(map[string]engine.Storage{"memory": engine.NewMemory()}, []string{"memory"})
	h.OnEvent = func(db string, ev engine.Event) { fmt.Println("event:", db, ev.Type, ev.Tables, ev.From, ev.To) }

	up := "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT)"
	db, res, err := h.Open(ctx, engine.OpenOptions{Name: "app", Storage: "auto", Migrations: []*migrations.Migration{
		{Version: 1, Name: "init", Up: up, Checksum: migrations.Checksum(up)},
	}})
	if err != nil {
		fmt.Println(engine.Classify(err).Code, err)
		return
	}
	fmt.Println("storage:", res.Storage, "version:", res.Version)

	db.Exec(ctx, 0, "INSERT INTO note(body) VALUES (?)", engine.Params{Positional: []any{"hello"}})
	rows, _ := db.Query(ctx, 0, "SELECT id, body FROM note WHERE body = :b", engine.Params{Named: map[string]any{"b": "hello"}})
	cols, vals, _ := engine.DecodeRows(rows)
	fmt.Println(cols, vals)

	_, err = db.Exec(ctx, 0, "INSERT INTO nope VALUES (1)", engine.Params{})
	fmt.Println(engine.Classify(err).Code)
	// Output:
	// event: app versionchange [] 0 1
	// storage: memory version: 1
	// event: app change [note] 0 0
	// [id body] [[1 hello]]
	// SQLITE_ERROR
}

// Run answers what exec and query answer in one call: INSERT … RETURNING.
// ReadSet answers the tables a statement reads, without running it.
func ExampleDatabase_Run() {
	ctx := context.Background()
	h, _ := engine.NewHost(map[string]engine.Storage{"memory": engine.NewMemory()}, []string{"memory"})
	up := "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT); CREATE TABLE tag(note_id INTEGER, tag TEXT)"
	db, _, _ := h.Open(ctx, engine.OpenOptions{Name: "app", Migrations: []*migrations.Migration{
		{Version: 1, Name: "init", Up: up, Checksum: migrations.Checksum(up)},
	}})

	out, _ := db.Run(ctx, 0, "INSERT INTO note(body) VALUES ('a'), ('b') RETURNING id, body", engine.Params{})
	x, cols, rows, _ := engine.DecodeRun(out)
	fmt.Println(x.Changes, x.LastInsertRowID, cols, rows)

	tables, _ := db.ReadSet(ctx, 0, "SELECT body FROM note WHERE id IN (SELECT note_id FROM tag)")
	fmt.Println(tables)

	_, err := db.Exec(ctx, 0, "BEGIN", engine.Params{})
	fmt.Println(engine.Classify(err).Code)
	// Output:
	// 2 2 [id body] [[1 a] [2 b]]
	// [note tag]
	// LARDER_INVALID_ARGUMENT
}
