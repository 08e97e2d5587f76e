package migrations_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/larderdb/larder/internal/testdb"
	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
)

// The format corpus under testdata/formats/<tool> is loaded and applied to
// real SQLite: every file applies once, the down sections do not run on
// the way up, the rows each set writes are there, and the whole set
// reverts where its tool could revert it.
func TestFormatCorpusApplies(t *testing.T) {
	for _, c := range []struct {
		tool     string
		versions int
		queries  map[string]string // query -> rows, joined by commas
		canDown  bool
	}{
		{"goose", 6, map[string]string{
			"SELECT handle FROM authors ORDER BY id":                                    "ada,grace; hopper",
			"SELECT title || ':' || body || ':' || revisions FROM articles ORDER BY id": "Notes:second draft:1,Compilers:-- not a comment:0",
			"SELECT count(*) FROM tags WHERE tag = 'imported'":                          "2",
			"SELECT handle || '=' || articles FROM article_summary ORDER BY handle":     "ada=1,grace; hopper=1",
		}, true},
		{"golang-migrate", 5, map[string]string{
			"SELECT name FROM customers ORDER BY id":                        "Ann,Bo",
			"SELECT status FROM orders ORDER BY id":                         "shipped,placed,placed",
			"SELECT customer_id || '=' || total_cents FROM customer_totals": "1=2240,2=4000",
		}, true},
		{"dbmate", 4, map[string]string{
			"SELECT slug || ':' || archived FROM projects ORDER BY id": "larder:0,pantry:1",
			"SELECT count(*) FROM tasks":                               "3",
		}, true},
		{"sqlx", 3, map[string]string{
			"SELECT username FROM users ORDER BY id":            "kim,lee",
			"SELECT body || ' ' || tags FROM notes ORDER BY id": `hello ["greeting"],semi;colon [],bye ["greeting"]`,
		}, false},
		{"refinery", 3, map[string]string{
			"SELECT p.name || ' ' || c.brand FROM cars c JOIN persons p ON p.id = c.owner_id ORDER BY c.id": "Noor Fiat,Noor Lada",
		}, false},
	} {
		t.Run(c.tool, func(t *testing.T) {
			ctx := context.Background()
			migs, err := migrations.LoadDir(filepath.Join("..", "testdata", "formats", c.tool))
			if err != nil {
				t.Fatal(err)
			}
			if len(migs) != c.versions {
				t.Fatalf("%d migrations, want %d", len(migs), c.versions)
			}
			conn := testdb.Open(t, filepath.Join(t.TempDir(), "db.sqlite"))
			p, err := migrations.NewProvider(sqlite.NewStore(conn), migs, migrations.Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.Up(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != c.versions {
				t.Fatalf("applied %d, want %d", len(res), c.versions)
			}
			for q, want := range c.queries {
				if got := testdb.Text(t, conn, q); got != want {
					t.Errorf("%s = %q, want %q", q, got, want)
				}
			}
			// Recorded with the checksums of the up parts.
			for _, m := range migs {
				got := testdb.Text(t, conn, "SELECT checksum FROM _migrations WHERE version = "+itoa(m.Version))
				if got != m.Checksum {
					t.Errorf("%s recorded checksum %q, want %q", m.Label(), got, m.Checksum)
				}
			}
			// A second run applies nothing.
			if again, err := p.Up(ctx, 0); err != nil || len(again) != 0 {
				t.Fatalf("second up: %d applied, %v", len(again), err)
			}
			if !c.canDown {
				return
			}
			if _, err := p.Down(ctx, migrations.DownTarget{To: 0}); err != nil {
				t.Fatal(err)
			}
			left := testdb.Text(t, conn, "SELECT name FROM sqlite_schema WHERE name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite_%' ORDER BY name")
			if left != "" {
				t.Fatalf("after down to 0, left: %s", left)
			}
		})
	}
}

// The no-transaction corpus parses with its requests: dbmate's
// transaction:false for one part, goose's NO TRANSACTION for both. (Running
// such a part outside a transaction is the store's job.)
func TestFormatCorpusNoTransaction(t *testing.T) {
	migs, err := migrations.LoadDir(filepath.Join("..", "testdata", "formats", "no-transaction"))
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]bool{{false, false}, {true, false}, {true, true}}
	for i, m := range migs {
		if got := [2]bool{m.NoTransaction, m.DownNoTransaction}; got != want[i] {
			t.Errorf("%s: NoTransaction, DownNoTransaction = %v, want %v", m.Label(), got, want[i])
		}
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
