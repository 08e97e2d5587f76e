package plan_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/internal/testkind"
	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/lint"
	"github.com/larderdb/larder/migrations/plan"
	"github.com/larderdb/larder/migrations/schema"
	"github.com/larderdb/larder/migrations/sqlite"
)

var (
	seed  = flag.Uint64("seed", 20261205, "seed of TestProperty's generator")
	pairs = flag.Int("pairs", testkind.Size(500), "schema pairs TestProperty generates (default: 500 with -tags full, a tenth without)")
)

// TestProperty generates pairs of schemas, fills the old one with rows,
// plans and renders the migration between them, and applies it with the
// real engine (migrations/sqlite): the result must equal the new schema
// (Compare and schema.Diff clean), every row of every surviving table must
// still be there with its surviving columns, and the breaking marker must
// be what lint says of the file. Reproduce a failure with -seed and the
// pair number it names.
func TestProperty(t *testing.T) {
	ctx := context.Background()
	// Pairs are independent: check them on every core, report the first
	// failing one (the lowest number, whatever the scheduling).
	fails := make([]string, *pairs)
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				g := &gen{r: rand.New(rand.NewPCG(*seed, uint64(i)))}
				old := g.schema()
				neu, renames := g.mutate(old)
				if err := checkPair(ctx, g, old, neu, renames); err != nil {
					fails[i] = fmt.Sprintf("seed %d pair %d: %v\nold:\n%s\nnew:\n%s\nrenames: %v", *seed, i, err, old.SQL(), neu.SQL(), renames)
				}
			}
		}()
	}
	for i := range *pairs {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, f := range fails {
		if f != "" {
			t.Fatal(f)
		}
	}
}

func checkPair(ctx context.Context, g *gen, old, neu *gSchema, renames []plan.Rename) error {
	from, err := plan.FromSQL(ctx, "old.sql", old.SQL())
	if err != nil {
		return fmt.Errorf("old schema: %w", err)
	}
	to, err := plan.FromSQL(ctx, "new.sql", neu.SQL())
	if err != nil {
		return fmt.Errorf("new schema: %w", err)
	}
	p, err := plan.Diff(ctx, from, to, plan.Options{Renames: renames, AllowDestructive: true})
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	text := p.Render()
	if p.Empty() {
		if d := plan.Compare(from, to); len(d) > 0 {
			return fmt.Errorf("empty plan for differing schemas: %v", d)
		}
		return nil
	}

	m1, err := migrations.Parse("0001_old.sql", []byte(old.SQL()))
	if err != nil {
		return err
	}
	m2, err := migrations.Parse("0002_new.sql", []byte(text))
	if err != nil {
		return fmt.Errorf("parse the migration: %w\n%s", err, text)
	}
	conn, err := sqlite.Open(":memory:")
	if err != nil {
		return err
	}
	defer conn.Close()
	prov, err := migrations.NewProvider(sqlite.NewStore(conn), []*migrations.Migration{m1, m2}, migrations.Options{})
	if err != nil {
		return err
	}
	if _, err := prov.Up(ctx, 1); err != nil {
		return fmt.Errorf("old migration: %w", err)
	}
	inserts := old.rows(g, 5)
	if err := sqlite.Exec(ctx, conn, strings.Join(inserts, "\n"), 1); err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	before := map[string][]map[string]any{}
	for _, t := range old.tables {
		if before[t.name], err = readRows(conn, t.name); err != nil {
			return err
		}
	}
	if _, err := prov.Up(ctx, 0); err != nil {
		return fmt.Errorf("apply:\n%s\n%w", text, err)
	}
	got, err := schema.Read(ctx, conn)
	if err != nil {
		return err
	}
	if d := plan.Compare(got, to); len(d) > 0 {
		return fmt.Errorf("result differs from the new schema: %v\n%s", d, text)
	}
	for _, d := range schema.Diff(to, got) {
		if !strings.Contains(d.Name, "_migrations") {
			return fmt.Errorf("schema diff after apply: %v\n%s", d, text)
		}
	}
	// Every row of every surviving table, with its surviving columns.
	for _, ot := range old.tables {
		nt := neu.tableFrom(ot.name)
		if nt == nil {
			continue
		}
		after, err := readRows(conn, nt.name)
		if err != nil {
			return err
		}
		if len(after) != len(before[ot.name]) {
			return fmt.Errorf("table %s: %d rows before, %d after\n%s", nt.name, len(before[ot.name]), len(after), text)
		}
		names := map[string]string{"rowid": "rowid", "id": "id", "k1": "k1", "k2": "k2"}
		for _, c := range ot.cols {
			if nc := nt.colFrom(c.name); nc != nil {
				names[c.name] = nc.name
			}
		}
		for i, row := range before[ot.name] {
			for oc, nc := range names {
				v, ok := row[oc]
				if !ok {
					continue
				}
				w := after[i][nc]
				if v == nil && w != nil && nt.colFrom(oc) != nil && nt.colFrom(oc).notNull {
					continue // made NOT NULL: backfilled with the default
				}
				if !sameValue(v, w) {
					return fmt.Errorf("table %s row %d column %s: %v before, %v after\n%s", nt.name, i, nc, v, w, text)
				}
			}
		}
	}
	// Lint's verdict on the file as written matches its marker.
	findings, err := lint.Lint(ctx, []*migrations.Migration{m1, m2})
	if err != nil {
		return err
	}
	incompatible := false
	for _, f := range findings {
		if f.Version != 2 {
			continue
		}
		if f.Code == "L010" {
			return fmt.Errorf("lint: %v\n%s", f, text)
		}
		incompatible = incompatible || slices.ContainsFunc(lint.Rules(), func(r lint.Rule) bool { return r.Code == f.Code && r.Incompatible })
	}
	if incompatible != m2.Breaking {
		return fmt.Errorf("lint finds incompatible changes: %v, marked breaking: %v\n%s", incompatible, m2.Breaking, text)
	}
	return nil
}

// readRows reads every row of table by rowid, each column's value.
func readRows(conn *sqlite3.Conn, table string) ([]map[string]any, error) {
	stmt, _, err := conn.Prepare(fmt.Sprintf(`SELECT rowid AS "rowid", * FROM "%s" ORDER BY rowid`, table))
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	var out []map[string]any
	for stmt.Step() {
		row := map[string]any{}
		for i := range stmt.ColumnCount() {
			var v any
			switch stmt.ColumnType(i) {
			case sqlite3.INTEGER, sqlite3.FLOAT:
				v = stmt.ColumnFloat(i)
			case sqlite3.NULL:
				v = nil
			default:
				v = stmt.ColumnText(i)
			}
			row[stmt.ColumnName(i)] = v
		}
		out = append(out, row)
	}
	return out, stmt.Err()
}

// sameValue compares numbers as numbers and text as text, so that a
// column whose type changed (INTEGER to TEXT, to REAL) keeps its value.
func sameValue(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	af, aNum := a.(float64)
	bf, bNum := b.(float64)
	switch {
	case aNum && bNum:
		return af == bf
	case aNum:
		return strconv.FormatFloat(af, 'f', -1, 64) == b.(string)
	case bNum:
		return strconv.FormatFloat(bf, 'f', -1, 64) == a.(string)
	}
	return a == b
}
