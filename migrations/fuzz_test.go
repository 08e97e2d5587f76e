package migrations

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// The fuzz targets below run for a few seconds each in `make fuzz-short`
// (part of `make test`); run one longer by hand with
//
//	go test ./migrations -run '^$' -fuzz '^FuzzParse$' -fuzztime 2m

var fuzzFiles = []string{
	"CREATE TABLE a (x);\n",
	"-- migrate:up\nCREATE TABLE a (x);\n-- migrate:breaking\n-- migrate:down\nDROP TABLE a;\n",
	"-- migrate:up transaction:false\nVACUUM;\n-- migrate:down transaction:false\nVACUUM;\n",
	"-- +goose Up\nCREATE TABLE a (x);\n-- +goose StatementBegin\nCREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;\n-- +goose StatementEnd\n-- +goose Down\nDROP TABLE a;\n",
	"-- +goose NO TRANSACTION\n-- +goose Up\nVACUUM;\n",
	"-- +goose Up\n-- +goose ENVSUB ON\nSELECT '${X}';\n",
	"-- migrate:up\n-- migrate:rebuild t\n-- migrate:map b = a -- old name\nCREATE TABLE t (b);\n",
	"\uFEFF-- only a comment\r\n",
	"SELECT 'a\x00b';",
	"SELECT '\xff';",
	"-- +goose Up\nSELECT 1;\n-- migrate:down\n",
}

// FuzzParse checks that Parse never panics and that what it accepts is
// consistent: text without NUL or invalid UTF-8, no part that holds
// another part's boundary marker (a down part never runs as up), a
// checksum of the up part, and a bundle round trip that keeps everything.
func FuzzParse(f *testing.F) {
	names := []string{"0001_a.sql", "20230101120000_add-users.sql", "V2__b.sql", "3_c.up.sql", "4_d.down.sql", "x.sql"}
	for i, body := range fuzzFiles {
		f.Add(names[i%len(names)], []byte(body))
	}
	f.Fuzz(func(t *testing.T, name string, body []byte) {
		m, err := Parse(name, body)
		if err != nil {
			if _, ok := err.(*FileError); !ok {
				t.Fatalf("error %T is not a *FileError: %v", err, err)
			}
			return
		}
		for _, part := range []string{m.Up, m.Down} {
			if !utf8.ValidString(part) || strings.ContainsRune(part, 0) {
				t.Fatalf("accepted binary text %q", part)
			}
			for _, l := range strings.Split(part, "\n") {
				ann, _ := gooseAnnotation(l)
				if k := marker(l); k == "up" || k == "down" || ann == "up" || ann == "down" {
					t.Fatalf("a boundary marker stayed in a part: %q", l)
				}
			}
		}
		if m.Checksum != Checksum(m.Up) || m.Version <= 0 || m.Name == "" || m.Source != name {
			t.Fatalf("inconsistent migration %+v", m)
		}
		data, err := Bundle([]*Migration{m})
		if err != nil {
			t.Fatalf("bundle: %v", err)
		}
		back, err := ParseBundle(data)
		if err != nil {
			t.Fatalf("bundle of an accepted file refused: %v\n%s", err, data)
		}
		b := back[0]
		if b.Up != m.Up || b.Down != m.Down || b.HasDown != m.HasDown || b.Checksum != m.Checksum ||
			b.Breaking != m.Breaking || b.NoTransaction != m.NoTransaction || b.NoForeignKeys != m.NoForeignKeys {
			t.Fatalf("bundle round trip changed %+v into %+v", m, b)
		}
	})
}

// FuzzParseBundle checks that ParseBundle never panics, that what it
// accepts has checksums of its up parts and no binary text, and that
// bundling it again gives the same migrations.
func FuzzParseBundle(f *testing.F) {
	f.Add([]byte(`[{"version":1,"name":"a","up":"CREATE TABLE a(x);","down":null,"checksum":""}]`))
	f.Add([]byte(`[{"version":2,"name":"b","up":"-- migrate:breaking\nDROP TABLE a;","down":"","breaking":true,"up_line":3,"no_transaction":true}]`))
	f.Add([]byte(`[{"version":1,"name":"a","up":"SELECT '\u0000';"}]`))
	f.Add([]byte("[{\"version\":1,\"name\":\"a\",\"up\":\"SELECT '\xff';\"}]"))
	f.Add([]byte(`[{"version":1,"name":"a","up":"x","up_statements":[{"sql":"x","line":1}]},{"version":1,"name":"b","up":"y"}]`))
	f.Add([]byte(`{"not":"an array"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		migs, err := ParseBundle(data)
		if err != nil {
			return
		}
		for _, m := range migs {
			if m.Checksum != Checksum(m.Up) || !utf8.ValidString(m.Up+m.Down) || strings.ContainsRune(m.Up+m.Down, 0) {
				t.Fatalf("inconsistent migration %+v", m)
			}
		}
		again, err := Bundle(migs)
		if err != nil {
			t.Fatalf("re-bundle: %v", err)
		}
		back, err := ParseBundle(again)
		if err != nil || len(back) != len(migs) {
			t.Fatalf("re-bundled bundle refused: %v", err)
		}
		for i := range back {
			if back[i].Checksum != migs[i].Checksum || back[i].Down != migs[i].Down || back[i].HasDown != migs[i].HasDown {
				t.Fatalf("round trip changed entry %d", i)
			}
		}
	})
}

// FuzzParseRebuildDirective checks that the directive parser never panics
// and that a directive it returns is complete.
func FuzzParseRebuildDirective(f *testing.F) {
	for _, s := range []string{
		"-- migrate:rebuild topics\n-- migrate:map author_name = author\n-- migrate:map score = coalesce(votes, 0) -- note",
		`-- migrate:rebuild "odd ""name"""` + "\n-- migrate:map \"x y\" = 'a -- b'",
		"-- migrate:map a = 1",
		"-- migrate:rebuild t\n-- migrate:map A = 1\n-- migrate:map a = 2",
		"-- migrate:rebuild\n",
		"-- migrate:rebuild t extra",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		d, err := ParseRebuildDirective(text)
		if err != nil || d == nil {
			return
		}
		if d.Table == "" || d.Line < 1 {
			t.Fatalf("incomplete directive %+v", d)
		}
		for col, expr := range d.Columns {
			if col == "" || strings.TrimSpace(expr) != expr {
				t.Fatalf("bad mapping %q = %q", col, expr)
			}
		}
	})
}
