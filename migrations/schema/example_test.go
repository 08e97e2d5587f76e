package schema_test

import (
	"context"
	"fmt"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/schema"
)

func ExampleSchema_Dump() {
	m, _ := migrations.Parse("0001_init.sql", []byte(`
CREATE TABLE tag (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
CREATE TABLE note (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT);
CREATE INDEX note_body ON note(body);`))
	s, err := schema.Build(context.Background(), []*migrations.Migration{m}, 0)
	if err != nil {
		panic(err)
	}
	fmt.Print(s.Dump())
	// Output:
	// CREATE TABLE _migrations (
	//   version     INTEGER PRIMARY KEY,
	//   name        TEXT    NOT NULL,
	//   checksum    TEXT    NOT NULL,
	//   applied_at  TEXT    NOT NULL,
	//   duration_ms INTEGER NOT NULL,
	//   breaking    INTEGER NOT NULL DEFAULT 0
	// );
	//
	// CREATE TABLE note (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT);
	// CREATE INDEX note_body ON note(body);
	//
	// CREATE TABLE tag (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
}
