package migrations_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/seed"
)

// NUL bytes and invalid UTF-8 are refused with the same line and words by
// every parser: files (migrations and seeds), bundles and bundle entries as
// the browser and the edge Worker decode them.
func TestRefuseBinaryText(t *testing.T) {
	for name, c := range map[string]struct {
		bad    string
		detail string
	}{
		"NUL":          {"\x00", "NUL byte at column 30: not a text file"},
		"invalid UTF8": {"\xff", "invalid UTF-8 (byte 0xFF at column 30): save the file as UTF-8"},
		"surrogate":    {"\xed\xa0\x80", "invalid UTF-8 (byte 0xED at column 30): save the file as UTF-8"},
	} {
		t.Run(name, func(t *testing.T) {
			body := "-- migrate:up\nCREATE TABLE a (x TEXT);\nINSERT INTO a VALUES ('ok', '" + c.bad + "');\n-- migrate:down\nDROP TABLE a;\n"
			check := func(where string, err error, file string) {
				t.Helper()
				var fe *migrations.FileError
				if !errors.As(err, &fe) || !errors.Is(err, migrations.ErrBadFile) {
					t.Fatalf("%s: err = %v, want a FileError", where, err)
				}
				if fe.File != file || fe.Line != 3 || fe.Detail != c.detail {
					t.Fatalf("%s: err = %v, want %s:3: ...: %s", where, err, file, c.detail)
				}
			}
			_, err := migrations.Load(fstest.MapFS{"0002_x.sql": {Data: []byte(body)}}, ".")
			check("Load", err, "0002_x.sql")
			_, err = seed.Load(fstest.MapFS{"seeds/0002_x.sql": {Data: []byte(body)}}, "seeds", "")
			check("seed.Load", err, "0002_x.sql")
			_, err = migrations.ParsePair("2_x.up.sql", []byte("SELECT 1;"), "2_x.down.sql", []byte("\n\n"+strings.SplitN(body, "\n", 3)[2]))
			check("ParsePair down", err, "2_x.down.sql")

			// The same migration in a bundle entry, as the browser hands it
			// to Go (strings) and as JSON carries it with \u0000 escapes.
			up := strings.SplitN(strings.SplitN(body, "-- migrate:down", 2)[0], "\n", 2)[1]
			e := migrations.BundleEntry{Version: 2, Name: "x", Up: up, UpLine: 2}
			_, err = e.Migration()
			check("BundleEntry", err, "0002_x")
			if c.bad == "\x00" {
				data, _ := json.Marshal([]migrations.BundleEntry{e})
				_, err = migrations.ParseBundle(data)
				check("ParseBundle", err, "0002_x")
			}
		})
	}
	// Invalid UTF-8 in a bundle's bytes is refused before JSON decoding
	// could turn it into U+FFFD.
	data := []byte("[\n{\"version\": 1, \"name\": \"x\",\n \"up\": \"SELECT '\xff';\"}]")
	_, err := migrations.ParseBundle(data)
	if !errors.Is(err, migrations.ErrBadFile) || !strings.Contains(err.Error(), "bundle:3: malformed migration file: invalid UTF-8") {
		t.Fatalf("bundle with invalid UTF-8: %v", err)
	}
}

// 16,000 map lines parse (this took ~10 s when the duplicate check was
// quadratic; now it is linear, tens of milliseconds).
func TestManyMapLines(t *testing.T) {
	var b strings.Builder
	b.WriteString("-- migrate:rebuild t\n")
	for i := range 16000 {
		fmt.Fprintf(&b, "-- migrate:map c%d = x + %d\n", i, i)
	}
	b.WriteString("-- migrate:map C7 = 1\nCREATE TABLE t (id INTEGER PRIMARY KEY);\n")
	_, err := migrations.Parse("0001_x.sql", []byte(b.String()))
	if !errors.Is(err, migrations.ErrBadFile) || !strings.Contains(err.Error(), "column C7 mapped twice") {
		t.Fatalf("err = %v, want the duplicate mapping named", err)
	}
	d, err := migrations.ParseRebuildDirective(strings.Replace(b.String(), "-- migrate:map C7 = 1\n", "", 1))
	if err != nil || len(d.Columns) != 16000 {
		t.Fatalf("directive: %v", err)
	}
}

func TestHasStatements(t *testing.T) {
	for part, want := range map[string]bool{
		"":                                 false,
		"-- No-op\n":                       false,
		"-- a\n/* b\n c */ ;\n  ;":         false,
		"-- no newline at the end":         false,
		"/* never closed":                  false,
		"SELECT 1;":                        true,
		"-- x\nPRAGMA foreign_keys=ON":     true,
		"/* c */ CREATE TABLE a (x); -- y": true,
	} {
		if got := migrations.HasStatements(part); got != want {
			t.Errorf("HasStatements(%q) = %v, want %v", part, got, want)
		}
	}
}
