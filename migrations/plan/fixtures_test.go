package plan_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larderdb/larder/migrations/plan"
)

var update = flag.Bool("update", false, "rewrite the expected.sql files of testdata/declarative")

// fixtureOptions reads a case's args file: one flag a line, as given to
// `larder migrate diff` (--rename T.OLD=NEW, --allow-destructive).
func fixtureOptions(t *testing.T, dir string) plan.Options {
	t.Helper()
	var opts plan.Options
	b, err := os.ReadFile(filepath.Join(dir, "args"))
	if errors.Is(err, os.ErrNotExist) {
		return opts
	} else if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		switch f := strings.Fields(l); f[0] {
		case "--allow-destructive":
			opts.AllowDestructive = true
		case "--rename":
			r, err := plan.ParseRename(f[1])
			if err != nil {
				t.Fatal(err)
			}
			opts.Renames = append(opts.Renames, r)
		default:
			t.Fatalf("args: unknown flag %s", f[0])
		}
	}
	return opts
}

// TestFixtures plans each case of testdata/declarative (old migrations +
// schema.sql + args) and compares the migration with expected.sql. Run
// with -update to rewrite them after a deliberate change, and review the
// diff.
func TestFixtures(t *testing.T) {
	dirs, err := filepath.Glob("testdata/declarative/*")
	if err != nil || len(dirs) < 7 {
		t.Fatalf("fixtures: %v %d", err, len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			ctx := context.Background()
			from, _, err := plan.FromDir(ctx, filepath.Join(dir, "migrations"))
			if err != nil {
				t.Fatal(err)
			}
			to, err := plan.FromFile(ctx, filepath.Join(dir, "schema.sql"))
			if err != nil {
				t.Fatal(err)
			}
			p, err := plan.Diff(ctx, from, to, fixtureOptions(t, dir))
			if err != nil {
				t.Fatal(err)
			}
			got := p.Render()
			path := filepath.Join(dir, "expected.sql")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("migration differs from %s:\n%s", path, got)
			}
		})
	}
}
