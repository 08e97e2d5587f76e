package backup_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/larderdb/larder/backup"
	"github.com/larderdb/larder/internal/hostile"
	"github.com/larderdb/larder/internal/imagecheck"
	"github.com/larderdb/larder/internal/testdb"
	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
)

// Every file of the hostile corpus is refused with its reason or restored
// (the time each took is logged: grep REPORT); a refusal leaves the database byte for byte as
// it was, and afterwards the database migrates and resets.
func TestRestoreHostileCorpus(t *testing.T) {
	ctx := context.Background()
	cases, err := hostile.Cases(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	migs, err := hostile.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if cases[0].Image[18] == 0 {
		t.Fatal("corpus not built")
	}
	for _, c := range cases {
		if c.Name == "wal_header" && (c.Image[18] != 2 || c.Image[19] != 2) {
			t.Fatalf("wal_header has header bytes 18/19 = %d/%d, want 2/2", c.Image[18], c.Image[19])
		}
		for _, extra := range []bool{false, true} {
			want := c.Expect
			name := c.Name
			if extra {
				want, name = c.ExpectExtra, c.Name+"/allow-extra-schema"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				db := filepath.Join(dir, "app.db")
				conn := testdb.Open(t, db)
				if _, err := sqlite.Migrate(ctx, conn, migs, migrations.Options{}); err != nil {
					t.Fatal(err)
				}
				if err := conn.Exec("INSERT INTO note (body) VALUES ('kept')"); err != nil {
					t.Fatal(err)
				}
				conn.Close()
				before := testdb.ReadFile(t, db)
				from := filepath.Join(t.TempDir(), c.Name+".bak")
				if err := os.WriteFile(from, c.Image, 0o644); err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				_, err := backup.Restore(ctx, db, from, backup.RestoreOptions{Migrations: migs, AllowExtraSchema: extra})
				took := time.Since(start)
				if want.Refused {
					if !errors.Is(err, backup.ErrInvalid) || !strings.Contains(err.Error(), want.Reason) {
						t.Fatalf("err = %v, want a refusal naming %q", err, want.Reason)
					}
					if !bytes.Equal(testdb.ReadFile(t, db), before) {
						t.Fatal("a refused restore changed the database")
					}
				} else if err != nil {
					t.Fatalf("refused: %v", err)
				}
				var ie *imagecheck.Error
				if errors.As(err, &ie) && ie.Timeout != strings.Contains(want.Reason, "time budget") {
					t.Errorf("timeout %v for a refusal naming %q", ie.Timeout, want.Reason)
				}
				t.Logf("REPORT native %-40s %-9s %6.0f ms  %v", name, verdict(err), float64(took.Microseconds())/1000, err)
				// The next open migrates; a reset works.
				conn = testdb.Open(t, db)
				_, err = sqlite.Migrate(ctx, conn, migs, migrations.Options{})
				if c.Name == "future_nonbreaking" && extra {
					// Natively a database newer than the code is refused
					// by name (the browser opens it: the newer migration is
					// not breaking).
					if !errors.Is(err, migrations.ErrDatabaseNewer) {
						t.Fatalf("migrate after restoring a newer database: %v", err)
					}
				} else if err != nil {
					t.Fatalf("migrate after the restore: %v", err)
				}
				conn.Close()
				if _, err := backup.Reset(ctx, db, backup.ResetOptions{Migrations: migs}); err != nil {
					t.Fatalf("reset after the restore: %v", err)
				}
			})
		}
	}
}

func verdict(err error) string {
	if err != nil {
		return "refused"
	}
	return "imported"
}
