//go:build !js && browser

package jsbridge_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larderdb/larder/internal/browsertest"
	"github.com/larderdb/larder/migrations"
)

// The foreign key cases of the corpus (testdata/corpus, run natively by
// migrations/sqlite's TestCorpus) through the browser runner: the same
// files, the same rows, the same outcome, on every storage.
var fkCorpusCases = []string{
	"rebuild_with_pragma_off",
	"rebuild_without_pragma",
	"rename_aside_legacy_alter_table",
	"rename_aside_refused",
	"drop_parent_refused",
	"fk_violation_refused",
	"tx_wrapper_golang_migrate",
	"tx_wrapper_refused",
}

// fkCase is the part of a corpus case.json this test reads: two steps, the
// first inserting rows after its version, the second applying the rest.
type fkCase struct {
	Steps []struct {
		Up    int64 `json:"up"`
		Error *struct {
			Version  int64    `json:"version"`
			Contains []string `json:"contains"`
		} `json:"error"`
		Expect map[string]string `json:"expect"`
		Exec   []string          `json:"exec"`
	} `json:"steps"`
}

// fkBundle loads a corpus case and returns it as a bundle in which the
// first step's rows are inserted by the end of the first step's migration,
// so that even the memory storage has rows when the rest runs, and the
// bundle of that prefix alone.
func fkBundle(t *testing.T, name string) (c fkCase, full, prefix []byte) {
	t.Helper()
	dir := filepath.Join(browsertest.RepoRoot(t), "testdata", "corpus", name)
	raw, err := os.ReadFile(filepath.Join(dir, "case.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Steps) != 2 {
		t.Fatalf("%s: want 2 steps, got %d", name, len(c.Steps))
	}
	migs, err := migrations.LoadDir(filepath.Join(dir, "migrations"))
	if err != nil {
		t.Fatal(err)
	}
	var all, first []migrations.BundleEntry
	for _, m := range migs {
		e := migrations.BundleEntry{Version: m.Version, Name: m.Name, Up: m.Up, UpLine: m.UpLine}
		if m.Version == c.Steps[0].Up {
			e.Up += "\n" + strings.Join(c.Steps[0].Exec, ";\n") + ";\n"
		}
		all = append(all, e)
		if m.Version <= c.Steps[0].Up {
			first = append(first, e)
		}
	}
	return c, bundle(t, all...), bundle(t, first...)
}

// fkCheck opens NAME from URL, runs the expectations (query -> rows as
// corpus_test renders them) and returns the rendered rows.
const fkCheck = `
const db = await L.open({ name: NAME, storage: STORAGE, migrations: URL });
const out = {};
try {
  for (const q of QUERIES) {
    const rows = await db.query(q);
    out[q] = rows.map(r => Object.values(r).map(v => v === null ? "" : String(v)).join("|")).join(",");
  }
} finally { if (CLOSE) await db.close(); }
return out;
`

func fkScript(name, storage, url string, queries []string, close bool) string {
	q, _ := json.Marshal(queries)
	cl := "false"
	if close {
		cl = "true"
	}
	return "const URL = " + quote(url) + ", QUERIES = " + string(q) + ", CLOSE = " + cl + ";\n" + withNames(fkCheck, name, storage)
}

func TestBrowserForeignKeyCorpus(t *testing.T) {
	e := newEnv(t)
	for _, st := range allStorages {
		tab := e.page() // one tab (one worker) per storage
		for _, name := range fkCorpusCases {
			t.Run(st+"/"+name, func(t *testing.T) {
				e.t = t
				c, full, prefix := fkBundle(t, name)
				step := c.Steps[1]
				var queries []string
				for q := range step.Expect {
					queries = append(queries, q)
				}
				dbName := "fk-" + st + "-" + name
				e.srv.SetFile("/"+dbName+".json", full)
				e.srv.SetFile("/"+dbName+"-prefix.json", prefix)
				if step.Error == nil {
					var got map[string]string
					e.run(tab, fkScript(dbName, st, "/"+dbName+".json", queries, true), &got)
					for q, want := range step.Expect {
						if got[q] != want {
							t.Errorf("%s = %q, want %q", q, got[q], want)
						}
					}
					e.noErrors(tab)
					return
				}
				je := e.mustFail(tab, fkScript(dbName, st, "/"+dbName+".json", nil, true), "LARDER_MIGRATION_FAILED")
				if je.Migration == nil || je.Migration.Version != step.Error.Version {
					t.Errorf("failed migration %+v, want version %d", je.Migration, step.Error.Version)
				}
				for _, sub := range step.Error.Contains {
					if !strings.Contains(je.Message, sub) {
						t.Errorf("message does not contain %q:\n%s", sub, je.Message)
					}
				}
				if st == "memory" {
					return // nothing outlives the failed open
				}
				// Nothing was lost: the database is at the first step with its rows.
				var got map[string]string
				e.run(tab, fkScript(dbName, st, "/"+dbName+"-prefix.json", queries, true), &got)
				for q, want := range step.Expect {
					if got[q] != want {
						t.Errorf("after the refusal: %s = %q, want %q", q, got[q], want)
					}
				}
			})
		}
		tab.Close()
	}
}
