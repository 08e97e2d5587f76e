// Package hostile builds the hostile-import corpus of testdata/hostile:
// SQLite files that a user, or an attacker, may hand to db.import(),
// db.restore(url) or `larder db restore`. Each file is made by the tests
// from a small SQL script (no opaque binaries are stored): the script's
// header comments say how.
//
//	-- hostile: what the file is and why it is dangerous
//	-- base: empty              (default: the corpus migrations applied, with notes)
//	-- rows: N                  (notes in the base; default 20)
//	-- page_size: N             (set before anything is written)
//	-- journal: wal             (leave the file in WAL mode: header bytes 18/19 = 2)
//	-- writable_schema: on      (run the script with PRAGMA writable_schema=ON)
//	-- raw: junk N | truncate N (replace the file by N pseudo-random bytes, or cut it to N bytes)
//	-- expect: imported | refused TEXT            (default checks; TEXT is part of the reason)
//	-- expect_extra: imported | refused TEXT      (with allowExtraSchema; default: as expect)
//
// The rest of the script runs on the base database, on a connection
// without Larder's defensive settings (they would refuse the tricks).
package hostile

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	msqlite "github.com/larderdb/larder/migrations/sqlite"
)

// Outcome is what an import of a case must do.
type Outcome struct {
	Refused bool
	Reason  string // part of the refusal's message
}

func (o Outcome) String() string {
	if o.Refused {
		return "refused (" + o.Reason + ")"
	}
	return "imported"
}

// A Case is one file of the corpus.
type Case struct {
	Name        string // script name without .sql
	Description string
	Expect      Outcome // default options
	ExpectExtra Outcome // with allowExtraSchema
	Image       []byte  // the database file
}

// Dir is testdata/hostile in this repository.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "hostile")
}

// Migrations are the corpus migrations (testdata/hostile/migrations):
// the migrations the importing code knows.
func Migrations() ([]*migrations.Migration, error) {
	return migrations.LoadDir(filepath.Join(Dir(), "migrations"))
}

// Cases builds every file of the corpus in tmp and returns them by name.
func Cases(tmp string) ([]Case, error) {
	migs, err := Migrations()
	if err != nil {
		return nil, err
	}
	scripts, err := filepath.Glob(filepath.Join(Dir(), "*.sql"))
	if err != nil {
		return nil, err
	}
	slices.Sort(scripts)
	var out []Case
	for _, p := range scripts {
		c, err := build(tmp, p, migs)
		if err != nil {
			return nil, fmt.Errorf("hostile: %s: %w", filepath.Base(p), err)
		}
		out = append(out, c)
	}
	return out, nil
}

type directives map[string]string

func parse(script string) directives {
	d := directives{}
	sc := bufio.NewScanner(strings.NewReader(script))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "-- ")
		if !ok {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.Contains(k, " ") {
			d[k] = strings.TrimSpace(v)
		}
	}
	return d
}

func outcome(s string) (Outcome, error) {
	if s == "imported" {
		return Outcome{}, nil
	}
	if r, ok := strings.CutPrefix(s, "refused "); ok {
		return Outcome{Refused: true, Reason: r}, nil
	}
	return Outcome{}, fmt.Errorf("expect %q: want imported or refused TEXT", s)
}

func build(tmp, script string, migs []*migrations.Migration) (Case, error) {
	body, err := os.ReadFile(script)
	if err != nil {
		return Case{}, err
	}
	d := parse(string(body))
	c := Case{Name: strings.TrimSuffix(filepath.Base(script), ".sql"), Description: d["hostile"]}
	if c.Expect, err = outcome(d["expect"]); err != nil {
		return c, err
	}
	c.ExpectExtra = c.Expect
	if e, ok := d["expect_extra"]; ok {
		if c.ExpectExtra, err = outcome(e); err != nil {
			return c, err
		}
	}
	path := filepath.Join(tmp, c.Name+".db")
	if err := makeDB(path, string(body), d, migs); err != nil {
		return c, err
	}
	if c.Image, err = os.ReadFile(path); err != nil {
		return c, err
	}
	if raw := strings.Fields(d["raw"]); len(raw) == 2 {
		n, err := strconv.Atoi(raw[1])
		if err != nil {
			return c, fmt.Errorf("raw: %w", err)
		}
		switch raw[0] {
		case "junk":
			r := rand.New(rand.NewPCG(1, uint64(n)))
			c.Image = make([]byte, n)
			for i := range c.Image {
				c.Image[i] = byte(r.Uint32())
			}
		case "truncate":
			c.Image = c.Image[:min(n, len(c.Image))]
		default:
			return c, fmt.Errorf("raw %q: want junk or truncate", raw[0])
		}
	}
	return c, nil
}

func makeDB(path, body string, d directives, migs []*migrations.Migration) error {
	conn, err := sqlite3.Open(path)
	if err != nil {
		return err
	}
	defer conn.Close()
	if ps := d["page_size"]; ps != "" {
		if err := conn.Exec("PRAGMA page_size=" + ps); err != nil {
			return err
		}
	}
	mode := "DELETE"
	if d["journal"] == "wal" {
		mode = "WAL"
	}
	if err := conn.Exec("PRAGMA journal_mode=" + mode); err != nil {
		return err
	}
	if d["base"] != "empty" {
		if _, err := msqlite.Migrate(context.Background(), conn, migs, migrations.Options{}); err != nil {
			return err
		}
		rows := 20
		if r := d["rows"]; r != "" {
			if rows, err = strconv.Atoi(r); err != nil {
				return fmt.Errorf("rows: %w", err)
			}
		}
		if err := conn.Exec(fmt.Sprintf(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %d)
INSERT INTO note (body) SELECT 'note ' || i FROM c;
INSERT INTO tag (note_id, name) SELECT id, 'first' FROM note WHERE id <= 3;`, rows)); err != nil {
			return err
		}
	}
	if d["writable_schema"] == "on" {
		if err := conn.Exec("PRAGMA writable_schema=ON"); err != nil {
			return err
		}
	}
	if err := conn.Exec(body); err != nil {
		return fmt.Errorf("script: %w", err)
	}
	return conn.Close()
}
