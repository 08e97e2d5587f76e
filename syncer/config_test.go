package syncer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"
)

func TestParseRefusesBadDeclarations(t *testing.T) {
	cases := map[string]string{
		"":             "names no table",
		"[tables.a]\n": "give owner",
		"[tables.a]\nowner = \"o\"\nwhere = \"x\"\n":  "not both",
		"[tables.a]\nowner = \"o\"\nowners = \"x\"\n": "unknown keys tables.a.owners",
		"[tables._sync_outbox]\nowner = \"o\"\n":      "Larder's own tables",
		"[tables.a\n":                                 "sync.toml",
	}
	for text, want := range cases {
		_, err := Parse([]byte(text))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", text, err, want)
		}
	}
}

func TestLoadDirWithoutDeclaration(t *testing.T) {
	if _, err := LoadDir(t.TempDir()); !errors.Is(err, ErrNoConfig) {
		t.Fatalf("got %v", err)
	}
}

func TestCheckDirAcceptsTheTestApp(t *testing.T) {
	s, err := CheckDir(context.Background(), appDir)
	if err != nil {
		t.Fatal(err)
	}
	items := s.Tables["items"]
	if items.PK != "id" || strings.Join(items.Columns, ",") != "owner,title,n,r,data,done" {
		t.Fatalf("items: %+v", items)
	}
}

// TestCheckNamesWhatCannotSync checks each refusal against a schema built
// by real migrations, and that the message says why and what to use.
func TestCheckNamesWhatCannotSync(t *testing.T) {
	schema := `
CREATE TABLE notes (id INTEGER PRIMARY KEY, owner TEXT);
CREATE TABLE logs (id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT);
CREATE TABLE tags (note_id TEXT, tag TEXT, owner TEXT, PRIMARY KEY (note_id, tag));
CREATE TABLE plain (owner TEXT, body TEXT);
CREATE TABLE blobs (id BLOB PRIMARY KEY, owner TEXT);
CREATE TABLE good (id TEXT PRIMARY KEY NOT NULL, owner TEXT, total INTEGER GENERATED ALWAYS AS (1) VIRTUAL);`
	decl := `
[tables.notes]
owner = "owner"
[tables.logs]
owner = "owner"
[tables.tags]
owner = "owner"
[tables.plain]
owner = "owner"
[tables.blobs]
owner = "owner"
[tables.missing]
owner = "owner"
[tables.good]
owner = "user_id"
[tables.good2]
where = "owner = 'x'"
`
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "0001_init.sql"), []byte(schema), 0o644)
	os.WriteFile(filepath.Join(dir, FileName), []byte(decl), 0o644)
	_, err := CheckDir(context.Background(), dir)
	if !errors.Is(err, ErrSchema) {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{
		"table notes: primary key id is INTEGER PRIMARY KEY: two devices offline would both create row 1",
		"use id TEXT PRIMARY KEY NOT NULL with ids made on the device (UUIDv7 or ULID)",
		"table logs: primary key id is INTEGER PRIMARY KEY AUTOINCREMENT",
		"table tags: primary key (note_id, tag) has 2 columns",
		"table plain: no primary key",
		`table blobs: primary key id has type "BLOB"`,
		"table missing: no such table",
		"table good: owner column user_id: no such column (columns: owner)",
		"table good2: no such table",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestCheckWhereRule(t *testing.T) {
	conn, err := sqlite3.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec("CREATE TABLE t (id TEXT PRIMARY KEY, owner TEXT)"); err != nil {
		t.Fatal(err)
	}
	store := NewConnStore(conn)
	defer store.Close()
	for where, want := range map[string]string{
		"owner = 'x'":                     "does not use :sub",
		"nope = :sub":                     "no such column: nope",
		"owner = :sub OR ?":               "arguments",
		"owner = :sub); DROP TABLE t; --": "",
	} {
		_, err := Check(context.Background(), store, &Config{Tables: map[string]*TableRule{"t": {Where: where}}})
		if err == nil || want != "" && !strings.Contains(err.Error(), want) {
			t.Errorf("where %q: %v, want %q", where, err, want)
		}
	}
	if _, err := Check(context.Background(), store, &Config{Tables: map[string]*TableRule{"t": {Where: "owner = :sub"}}}); err != nil {
		t.Fatal(err)
	}
}
