package main_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/larderdb/larder/internal/hostile"
	"github.com/larderdb/larder/internal/testdb"
)

// `larder db restore` refuses every hostile file of testdata/hostile that
// the corpus marks refused (exit 1, the reason on stderr) and restores the
// others; a refusal leaves the database byte for byte as it was, and
// afterwards `migrate up` and `db reset` work.
func TestDBRestoreHostileCorpus(t *testing.T) {
	cases, err := hostile.Cases(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	migDir := filepath.Join(hostile.Dir(), "migrations")
	for _, c := range cases {
		for _, extra := range []bool{false, true} {
			want, name := c.Expect, c.Name
			if extra {
				want, name = c.ExpectExtra, c.Name+"/allow-extra-schema"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				db := filepath.Join(dir, "app.db")
				larder(t, "migrate", "up", "--db", db, "--dir", migDir).want(t, 0)
				before := testdb.ReadFile(t, db)
				from := filepath.Join(t.TempDir(), c.Name+".bak")
				if err := os.WriteFile(from, c.Image, 0o644); err != nil {
					t.Fatal(err)
				}
				args := []string{"db", "restore", "--db", db, "--dir", migDir, "--from", from}
				if extra {
					args = append(args, "--allow-extra-schema")
				}
				start := time.Now()
				r := larder(t, args...)
				took := time.Since(start)
				if want.Refused {
					r.want(t, 1, "not a valid Larder database", want.Reason)
					if !bytes.Equal(testdb.ReadFile(t, db), before) {
						t.Fatal("a refused restore changed the database")
					}
				} else {
					r.want(t, 0, "restored "+db)
				}
				t.Logf("REPORT cli %-40s exit %d %6.0f ms  %s", name, r.code, float64(took.Microseconds())/1000, firstLine(r.stderr))
				if c.Name == "future_nonbreaking" && extra {
					larder(t, "migrate", "up", "--db", db, "--dir", migDir).want(t, 1, "newer than the code")
				} else {
					larder(t, "migrate", "up", "--db", db, "--dir", migDir).want(t, 0)
				}
				larder(t, "db", "reset", "--db", db, "--dir", migDir, "--yes").want(t, 0)
				larder(t, "migrate", "status", "--db", db, "--dir", migDir).want(t, 0, "database version: 2")
			})
		}
	}
}

func firstLine(s string) string {
	if i := bytes.IndexByte([]byte(s), '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
