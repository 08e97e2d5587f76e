package migrations_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/larderdb/larder/migrations"
)

func TestParseMarkers(t *testing.T) {
	src := "-- header comment\n\n-- migrate:up\nCREATE TABLE a (x);\n-- migrate:breaking\nDROP TABLE b;\n-- migrate:down\nDROP TABLE a;\n"
	m, err := migrations.Parse("0042_drop_b.sql", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 42 || m.Name != "drop_b" || !m.Breaking || !m.HasDown || m.UpLine != 4 || m.DownLine != 8 {
		t.Fatalf("parsed %+v", m)
	}
	if strings.Contains(m.Up, "DROP TABLE a") || !strings.Contains(m.Down, "DROP TABLE a") || strings.Contains(m.Up, "header") {
		t.Fatalf("parts split wrongly: up=%q down=%q", m.Up, m.Down)
	}
}

func TestParseNoMarkerIsAllUp(t *testing.T) {
	m, err := migrations.Parse("20261121093000_init.sql", []byte("CREATE TABLE a (x);\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 20261121093000 || m.HasDown || m.UpLine != 1 || m.CanDown() {
		t.Fatalf("parsed %+v", m)
	}
}

func TestParseRejects(t *testing.T) {
	for name, c := range map[string]struct {
		file, body string
		want       error
	}{
		"no number":        {"init.sql", "CREATE TABLE a(x);", migrations.ErrBadFileName},
		"zero":             {"0000_init.sql", "CREATE TABLE a(x);", migrations.ErrBadFileName},
		"dash":             {"0001-init.sql", "CREATE TABLE a(x);", migrations.ErrBadFileName},
		"blank file":       {"0001_x.sql", " \n\t\n", migrations.ErrBadFile},
		"dotted flyway":    {"V1.1__x.sql", "SELECT 1;", migrations.ErrBadFileName},
		"undo":             {"U1__x.sql", "SELECT 1;", migrations.ErrBadFileName},
		"lone down file":   {"1_x.down.sql", "SELECT 1;", migrations.ErrBadFile},
		"overflow":         {"99999999999999999999_x.sql", "CREATE TABLE a(x);", migrations.ErrBadFileName},
		"empty file":       {"0001_x.sql", "", migrations.ErrBadFile},
		"unknown marker":   {"0001_x.sql", "-- migrate:sideways\nCREATE TABLE a(x);", migrations.ErrBadFile},
		"two ups":          {"0001_x.sql", "-- migrate:up\nSELECT 1;\n-- migrate:up\nSELECT 2;", migrations.ErrBadFile},
		"down before up":   {"0001_x.sql", "-- migrate:down\nSELECT 1;\n-- migrate:up\nSELECT 2;", migrations.ErrBadFile},
		"statement before": {"0001_x.sql", "SELECT 0;\n-- migrate:up\nSELECT 1;", migrations.ErrBadFile},
		"breaking in down": {"0001_x.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\n-- migrate:breaking\n", migrations.ErrBadFile},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := migrations.Parse(c.file, []byte(c.body))
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.file) {
				t.Fatalf("error %q does not name the file", err)
			}
		})
	}
}

func TestChecksumNormalisation(t *testing.T) {
	base := migrations.Checksum("CREATE TABLE a (x);\nINSERT INTO a VALUES (1);")
	same := []string{
		"CREATE TABLE a (x);   \r\nINSERT INTO a VALUES (1);\t\r\n",
		"\n\nCREATE TABLE a (x);\nINSERT INTO a VALUES (1);\n\n\n",
		"CREATE TABLE a (x);\rINSERT INTO a VALUES (1);",
	}
	for _, s := range same {
		if migrations.Checksum(s) != base {
			t.Errorf("whitespace-only change altered the checksum: %q", s)
		}
	}
	different := []string{
		"CREATE TABLE a (x);\nINSERT INTO a VALUES (2);",
		"CREATE TABLE a (x);\n  INSERT INTO a VALUES (1);", // leading indentation is kept
		"CREATE TABLE a (x);\n\nINSERT INTO a VALUES (1);",
	}
	for _, s := range different {
		if migrations.Checksum(s) == base {
			t.Errorf("statement change kept the checksum: %q", s)
		}
	}
	if len(base) != 64 {
		t.Fatalf("checksum %q is not hex SHA-256", base)
	}
}

func TestLoadFS(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0002_b.sql":  {Data: []byte("CREATE TABLE b(x);")},
		"m/0010_c.sql":  {Data: []byte("CREATE TABLE c(x);")},
		"m/0001_a.sql":  {Data: []byte("CREATE TABLE a(x);")},
		"m/README.md":   {Data: []byte("not a migration")},
		"m/sub/x.sql":   {Data: []byte("ignored: in a subdirectory")},
		"dup/1_a.sql":   {Data: []byte("SELECT 1;")},
		"dup/001_b.sql": {Data: []byte("SELECT 1;")},
		"bad/01.sql":    {Data: []byte("SELECT 1;")},
		"empty/x.txt":   {Data: []byte("")},
	}
	migs, err := migrations.Load(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, m := range migs {
		got = append(got, m.Version)
	}
	if len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 10 {
		t.Fatalf("order %v, want numeric [1 2 10]", got)
	}
	if _, err := migrations.Load(fsys, "dup"); !errors.Is(err, migrations.ErrDuplicateVersion) || !strings.Contains(err.Error(), "001_b.sql") {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := migrations.Load(fsys, "bad"); !errors.Is(err, migrations.ErrBadFileName) {
		t.Fatalf("bad name: %v", err)
	}
	if _, err := migrations.Load(fsys, "empty"); !errors.Is(err, migrations.ErrNoMigrations) {
		t.Fatalf("empty: %v", err)
	}
	if _, err := migrations.Load(fsys, "nope"); err == nil {
		t.Fatal("missing dir loaded")
	}
}

func TestBundleRoundTrip(t *testing.T) {
	a, _ := migrations.Parse("0001_a.sql", []byte("-- migrate:up\nCREATE TABLE a(x);\n-- migrate:down\nDROP TABLE a;"))
	b, _ := migrations.Parse("0002_b.sql", []byte("-- migrate:up\n-- migrate:breaking\nDROP TABLE a;"))
	data, err := migrations.Bundle([]*migrations.Migration{b, a})
	if err != nil {
		t.Fatal(err)
	}
	back, err := migrations.ParseBundle(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || back[0].Checksum != a.Checksum || !back[0].HasDown || back[1].HasDown || !back[1].Breaking {
		t.Fatalf("round trip lost data: %s", data)
	}
	tampered := strings.Replace(string(data), "CREATE TABLE a(x)", "CREATE TABLE a(y)", 1)
	if _, err := migrations.ParseBundle([]byte(tampered)); !errors.Is(err, migrations.ErrBadFile) {
		t.Fatalf("tampered bundle accepted: %v", err)
	}
	if _, err := migrations.ParseBundle([]byte(`{"not": "an array"}`)); err == nil {
		t.Fatal("non-array bundle accepted")
	}
}

func TestCode(t *testing.T) {
	ve := &migrations.ValidationError{Problems: []migrations.Problem{
		{Err: migrations.ErrChecksumMismatch}, {Err: migrations.ErrDatabaseNewer}}}
	if migrations.Code(ve) != "LARDER_DATABASE_NEWER" {
		t.Fatal(migrations.Code(ve))
	}
	me := &migrations.MigrationError{Version: 1, Name: "x", Err: errors.New("boom")}
	if migrations.Code(me) != "LARDER_MIGRATION_FAILED" || !errors.Is(me, migrations.ErrMigrationFailed) {
		t.Fatal(migrations.Code(me))
	}
	if migrations.Code(errors.New("other")) != "" {
		t.Fatal("unrelated error got a code")
	}
}

// A byte order mark, as some Windows editors write, is not part of the
// file's SQL: markers are found and the checksum is the one without it.
func TestParseByteOrderMark(t *testing.T) {
	body := "-- migrate:up\r\nCREATE TABLE a (x);\r\n-- migrate:down\r\nDROP TABLE a;\r\n"
	plain, err := migrations.Parse("0001_a.sql", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"\uFEFF" + body, "\uFEFFCREATE TABLE a (x);\n"} {
		m, err := migrations.Parse("0001_a.sql", []byte(b))
		if err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		if m.Checksum != plain.Checksum || strings.Contains(m.Up, "\uFEFF") {
			t.Errorf("%q: up %q, checksum %.12s, want %.12s", b, m.Up, m.Checksum, plain.Checksum)
		}
	}
}
