package migrations_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/larderdb/larder/migrations"
)

const gooseFile = `-- A goose migration, as goose create writes them.
-- +goose Up
CREATE TABLE post (id INTEGER PRIMARY KEY, title TEXT NOT NULL, updated_at TEXT);
-- +goose StatementBegin
CREATE TRIGGER post_touch AFTER UPDATE ON post BEGIN
  UPDATE post SET updated_at = 'now' WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TRIGGER post_touch;
-- +goose StatementEnd
DROP TABLE post;
`

func TestParseGoose(t *testing.T) {
	m, err := migrations.Parse("00001_create_post.sql", []byte(gooseFile))
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 1 || m.Name != "create_post" || !m.HasDown || m.UpLine != 3 || m.DownLine != 11 || m.NoTransaction {
		t.Fatalf("parsed %+v", m)
	}
	if strings.Contains(m.Up, "DROP") || strings.Contains(m.Up, "A goose migration") {
		t.Fatalf("up part holds more than the up section: %q", m.Up)
	}
	if !strings.Contains(m.Up, "UPDATE post SET updated_at = 'now' WHERE id = NEW.id;\nEND;") {
		t.Fatalf("statement block lost text: %q", m.Up)
	}
	if !strings.Contains(m.Down, "DROP TRIGGER post_touch;") || !strings.Contains(m.Down, "DROP TABLE post;") {
		t.Fatalf("down part: %q", m.Down)
	}
	// Annotations are case-insensitive, as in goose.
	m2, err := migrations.Parse("20230101120000_x.sql", []byte("-- +goose NO TRANSACTION\n-- +GOOSE up\nVACUUM;\n-- +goose down\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m2.Version != 20230101120000 || !m2.NoTransaction || !m2.DownNoTransaction || !m2.HasDown || strings.TrimSpace(m2.Up) != "VACUUM;" {
		t.Fatalf("parsed %+v", m2)
	}
}

func TestParseGooseRejects(t *testing.T) {
	for name, c := range map[string]struct {
		body string
		line int
		want string
	}{
		"no up":             {"-- +goose Down\nDROP TABLE a;\n", 0, "no -- +goose Up"},
		"only annotation":   {"-- +goose StatementBegin\nCREATE TABLE a(x);\n-- +goose StatementEnd\n", 0, "no -- +goose Up"},
		"down first":        {"-- +goose Down\nDROP TABLE a;\n-- +goose Up\nSELECT 1;\n", 1, "Down before"},
		"begin first":       {"-- +goose StatementBegin\nSELECT 1;\n-- +goose StatementEnd\n-- +goose Up\n", 1, "before -- +goose Up"},
		"no up at all":      {"CREATE TABLE a(x);\n-- +goose NO TRANSACTION\n", 0, "no -- +goose Up"},
		"unknown":           {"-- +goose Up\nSELECT 1;\n-- +goose Sideways\n", 3, `"-- +goose Sideways"`},
		"envsub":            {"-- +goose ENVSUB ON\n-- +goose Up\nSELECT '${X}';\n", 1, "ENVSUB ON is not supported"},
		"mixed":             {"-- +goose Up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n", 3, "mixes dbmate markers"},
		"unclosed block":    {"-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n", 2, "no StatementEnd"},
		"block across down": {"-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n-- +goose Down\n", 4, "StatementEnd missing"},
		"end without begin": {"-- +goose Up\nSELECT 1;\n-- +goose StatementEnd\n", 3, "without StatementBegin"},
		"nested block":      {"-- +goose Up\n-- +goose StatementBegin\n-- +goose StatementBegin\n", 3, "inside the block opened at line 2"},
		"statement first":   {"SELECT 0;\n-- +goose Up\nSELECT 1;\n", 1, "statement before -- +goose Up"},
		"two ups":           {"-- +goose Up\nSELECT 1;\n-- +goose Up\n", 3, "second"},
		"up after down":     {"-- +goose Up\nSELECT 1;\n-- +goose Down\n-- +goose Up\n", 4, "after"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := migrations.Parse("005_x.sql", []byte(c.body))
			var fe *migrations.FileError
			if !errors.As(err, &fe) || !errors.Is(err, migrations.ErrBadFile) {
				t.Fatalf("err = %v, want a FileError", err)
			}
			if fe.File != "005_x.sql" || fe.Line != c.line || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v (line %d), want line %d and %q", err, fe.Line, c.line, c.want)
			}
		})
	}
}

func TestParseDbmateTransactionFalse(t *testing.T) {
	m, err := migrations.Parse("0003_vacuum.sql", []byte("-- migrate:up transaction:false\nVACUUM;\n-- migrate:down\nSELECT 1;\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !m.NoTransaction || m.DownNoTransaction || strings.TrimSpace(m.Up) != "VACUUM;" {
		t.Fatalf("parsed %+v", m)
	}
	m, err = migrations.Parse("0003_vacuum.sql", []byte("-- migrate:up\nSELECT 1;\n-- migrate:down transaction:false\nVACUUM;\n"))
	if err != nil || m.NoTransaction || !m.DownNoTransaction {
		t.Fatalf("parsed %+v, %v", m, err)
	}
	for _, bad := range []string{"-- migrate:up transaction:no\nSELECT 1;", "-- migrate:up retries:3\nSELECT 1;"} {
		if _, err := migrations.Parse("0003_x.sql", []byte(bad)); !errors.Is(err, migrations.ErrBadFile) || !strings.Contains(err.Error(), "0003_x.sql:1") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestFileNames(t *testing.T) {
	for file, want := range map[string]struct {
		version int64
		name    string
	}{
		"20220101000000_add-users.sql": {20220101000000, "add-users"},
		"00001_init.sql":               {1, "init"},
		"V7__add_tags.sql":             {7, "add_tags"},
		"000012_Add-Index_2.sql":       {12, "Add-Index_2"},
		"3_add_tags.up.sql":            {3, "add_tags"},
	} {
		m, err := migrations.Parse(file, []byte("SELECT 1;"))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if m.Version != want.version || m.Name != want.name || m.Source != file {
			t.Errorf("%s: version %d name %q source %q", file, m.Version, m.Name, m.Source)
		}
		if m.Label() != strings.TrimSuffix(file, ".sql") {
			t.Errorf("%s: label %q", file, m.Label())
		}
	}
	// Messages name the file as it is on disk, not a re-padded version.
	_, err := migrations.Load(fstest.MapFS{"003_x.sql": {Data: []byte("-- migrate:sideways\n")}}, ".")
	if err == nil || !strings.Contains(err.Error(), "003_x.sql:1") {
		t.Fatalf("err = %v, want it to name 003_x.sql:1", err)
	}
	if l := migrations.Go(3, "x", nil, nil).Label(); l != "0003_x" {
		t.Fatalf("code migration label %q", l)
	}
}

func TestLoadPairs(t *testing.T) {
	fsys := fstest.MapFS{
		"ok/000001_users.up.sql":   {Data: []byte("CREATE TABLE users (id INTEGER PRIMARY KEY);\n")},
		"ok/000001_users.down.sql": {Data: []byte("DROP TABLE users;\n")},
		"ok/000002_notes.up.sql":   {Data: []byte("CREATE TABLE notes (id INTEGER PRIMARY KEY);\n")},
		"ok/000003_mixed.sql":      {Data: []byte("-- migrate:up\nSELECT 1;\n")},

		"lone/1_a.up.sql":   {Data: []byte("SELECT 1;")},
		"lone/2_b.down.sql": {Data: []byte("SELECT 1;")},

		"twoups/1_a.up.sql":   {Data: []byte("SELECT 1;")},
		"twoups/1_b.up.sql":   {Data: []byte("SELECT 1;")},
		"twoups/1_a.down.sql": {Data: []byte("SELECT 1;")},

		// pocket-id's file names, which golang-migrate pairs by version.
		"dotted/20240813211251_passkey_backup_flags..up.sql":  {Data: []byte("SELECT 1;")},
		"dotted/20240813211251_passkey_backup_flags.down.sql": {Data: []byte("SELECT 2;")},
		"dotted/20240817191051_rename.config.up.sql":          {Data: []byte("SELECT 3;")},

		"twodowns/1_a.up.sql":   {Data: []byte("SELECT 1;")},
		"twodowns/1_a.down.sql": {Data: []byte("SELECT 1;")},
		"twodowns/1_b.down.sql": {Data: []byte("SELECT 1;")},

		"marked/1_a.up.sql":     {Data: []byte("-- +goose Up\nSELECT 1;")},
		"markdown/1_a.up.sql":   {Data: []byte("SELECT 1;")},
		"markdown/1_a.down.sql": {Data: []byte("-- migrate:down\nSELECT 1;")},
	}
	migs, err := migrations.Load(fsys, "ok")
	if err != nil {
		t.Fatal(err)
	}
	if len(migs) != 3 {
		t.Fatalf("%d migrations, want 3", len(migs))
	}
	u := migs[0]
	if u.Version != 1 || u.Name != "users" || !u.HasDown || u.Down != "DROP TABLE users;\n" || u.DownLine != 1 ||
		u.Source != "000001_users.up.sql" || u.DownSource != "000001_users.down.sql" || strings.Contains(u.Up, "DROP") {
		t.Fatalf("pair parsed %+v", u)
	}
	if migs[1].HasDown || migs[1].Name != "notes" {
		t.Fatalf("up without down: %+v", migs[1])
	}
	if _, err := migrations.Load(fsys, "lone"); !errors.Is(err, migrations.ErrBadFile) || !strings.Contains(err.Error(), "2_b.down.sql") {
		t.Fatalf("down without up: %v", err)
	}
	_, err = migrations.Load(fsys, "twoups")
	if !errors.Is(err, migrations.ErrDuplicateVersion) || !strings.Contains(err.Error(), "1_a.up.sql") || !strings.Contains(err.Error(), "1_b.up.sql") {
		t.Fatalf("two ups: %v", err)
	}
	migs, err = migrations.Load(fsys, "dotted")
	if err != nil {
		t.Fatalf("dotted names: %v", err)
	}
	if len(migs) != 2 || migs[0].Name != "passkey_backup_flags." || migs[0].Down != "SELECT 2;" ||
		migs[0].DownSource != "20240813211251_passkey_backup_flags.down.sql" || migs[1].Name != "rename.config" {
		t.Fatalf("dotted names: %+v", migs)
	}
	if _, err := migrations.Load(fsys, "twodowns"); !errors.Is(err, migrations.ErrDuplicateVersion) || !strings.Contains(err.Error(), "1_b.down.sql") {
		t.Fatalf("two downs: %v", err)
	}
	if _, err := migrations.Load(fsys, "marked"); !errors.Is(err, migrations.ErrBadFile) || !strings.Contains(err.Error(), "goose markers") {
		t.Fatalf("marked up file: %v", err)
	}
	if _, err := migrations.Load(fsys, "markdown"); !errors.Is(err, migrations.ErrBadFile) || !strings.Contains(err.Error(), "1_a.down.sql") {
		t.Fatalf("marked down file: %v", err)
	}
}

// The checksum covers the up SQL only, so one migration written in any
// format has one checksum: switching formats is not an edit.
func TestChecksumSameAcrossFormats(t *testing.T) {
	up := "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);\nCREATE TRIGGER t_n AFTER INSERT ON t BEGIN\n  UPDATE t SET n = 1 WHERE id = NEW.id;\nEND;\n"
	files := map[string]string{
		"0001_t.sql": up,
		"0002_t.sql": "-- migrate:up\n" + up + "\n-- migrate:down\nDROP TABLE t;\n",
		"0003_t.sql": "-- migrate:up transaction:false\n" + up + "-- migrate:down\n",
		"0004_t.sql": "-- +goose Up\nCREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);\n-- +goose StatementBegin\n" +
			"CREATE TRIGGER t_n AFTER INSERT ON t BEGIN\n  UPDATE t SET n = 1 WHERE id = NEW.id;\nEND;\n-- +goose StatementEnd\n\n-- +goose Down\nDROP TABLE t;\n",
		"0005_t.up.sql": up,
		"V6__t.sql":     "\uFEFF" + strings.ReplaceAll(up, "\n", "  \r\n"),
	}
	want := migrations.Checksum(up)
	for file, body := range files {
		m, err := migrations.Parse(file, []byte(body))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if m.Checksum != want {
			t.Errorf("%s: checksum %.12s, want %.12s (up %q)", file, m.Checksum, want, m.Up)
		}
	}
}

// A migration whose up part is only comments does nothing on purpose:
// Parse, Sort and bundles accept it.
func TestCommentOnlyUpIsNoOp(t *testing.T) {
	var migs []*migrations.Migration
	for file, body := range map[string]string{
		"0001_noop.sql":   "-- nothing to do: kept for the numbering\n",
		"0002_noop.sql":   "-- migrate:up\n-- superseded\n-- migrate:down\nDROP TABLE IF EXISTS a;\n",
		"00003_noop.sql":  "-- +goose Up\n-- +goose Down\n",
		"4_noop.up.sql":   "/* nothing */\n",
		"0005_empty.sql":  "-- migrate:up\n",
		"0006_create.sql": "CREATE TABLE a (x);",
	} {
		m, err := migrations.Parse(file, []byte(body))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		migs = append(migs, m)
	}
	sorted, err := migrations.Sort(migs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := migrations.Bundle(sorted)
	if err != nil {
		t.Fatal(err)
	}
	back, err := migrations.ParseBundle(b)
	if err != nil || len(back) != 6 || back[2].Checksum != sorted[2].Checksum {
		t.Fatalf("bundle round trip: %v", err)
	}
}

func TestBundleCarriesNoTransaction(t *testing.T) {
	m, err := migrations.Parse("0001_v.sql", []byte("-- migrate:up transaction:false\nVACUUM;\n-- migrate:down transaction:false\nVACUUM;\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := migrations.Bundle([]*migrations.Migration{m})
	if err != nil {
		t.Fatal(err)
	}
	back, err := migrations.ParseBundle(b)
	if err != nil || !back[0].NoTransaction || !back[0].DownNoTransaction {
		t.Fatalf("%v: %s", err, b)
	}
}

// A goose Go migration file is listed, not ignored: it cannot run, and a Go
// migration of its version replaces it.
func TestLoadGooseGoFile(t *testing.T) {
	fsys := fstest.MapFS{
		"1_init.sql":              {Data: []byte("-- +goose Up\nCREATE TABLE a (x);\n")},
		"2_sync_children.go":      {Data: []byte("package migrations\n")},
		"2_sync_children_test.go": {Data: []byte("package migrations\n")},
		"main.go":                 {Data: []byte("package main\n")},
		"3_more.sql":              {Data: []byte("-- +goose Up\nCREATE TABLE b (x);\n")},
	}
	migs, err := migrations.Load(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(migs) != 3 || !migs[1].GoFile || migs[1].Source != "2_sync_children.go" || migs[1].Name != "sync_children" {
		t.Fatalf("loaded %+v", migs)
	}
	if err := migs[1].UpFunc(context.Background(), nil); !errors.Is(err, migrations.ErrGoMigrationFile) {
		t.Fatalf("up of the Go file: %v", err)
	}
	own := migrations.Go(2, "sync_children", func(context.Context, migrations.Tx) error { return nil }, nil)
	sorted, err := migrations.Sort(append(migs, own))
	if err != nil || len(sorted) != 3 || sorted[1] != own {
		t.Fatalf("a Go migration does not replace the file: %v %+v", err, sorted)
	}
}
