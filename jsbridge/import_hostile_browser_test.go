//go:build !js && browser

package jsbridge_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/larderdb/larder/internal/hostile"
)

// hostileRun is one import of a corpus file, as the page saw it.
type hostileRun struct {
	Code, Message string
	Ms            float64
	Kept          float64 // rows 'kept' after the import: 1 when refused, 0 when imported
	Version       float64
	Reopen        *jsError // the next open, null when it worked
	ReopenVersion float64
	AfterReset    float64 // notes after reset() and a new open
}

// Every file of testdata/hostile goes through db.import() on memory, OPFS
// and IndexedDB, with the default options and with allowExtraSchema: each
// is refused with LARDER_INVALID_DATABASE and its reason, or imported
// (the time each took is logged: grep REPORT); a refusal leaves the
// previous database intact, and the next open and reset() work.
func TestBrowserImportHostileCorpus(t *testing.T) {
	cases, err := hostile.Cases(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	migs, err := hostile.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var entries []map[string]any
	for _, m := range migs {
		entries = append(entries, map[string]any{"version": m.Version, "name": m.Name, "up": m.Up, "checksum": m.Checksum})
	}
	migJSON, _ := json.Marshal(entries)
	e := newEnv(t)
	hung := "" // the case whose page stopped answering: later cases share the page
	for _, st := range allStorages {
		for _, c := range cases {
			for _, extra := range []bool{false, true} {
				want, name := c.Expect, c.Name
				if extra {
					want, name = c.ExpectExtra, c.Name+"/allow-extra-schema"
				}
				t.Run(st+"/"+name, func(t *testing.T) {
					e.t = t
					if hung != "" {
						t.Fatalf("not run: the page stopped answering in %s", hung)
					}
					dbName := strings.NewReplacer("/", "-", "_", "-").Replace("hostile-" + st + "-" + name)
					script := fmt.Sprintf(`
const migrations = %s, name = %q, storage = %q;
const bytes = Uint8Array.from(atob(%q), ch => ch.charCodeAt(0));
let db = await L.open({ name, storage, migrations });
await db.exec("INSERT INTO note (body) VALUES ('kept')");
const t0 = performance.now();
const err = await T.err(db.import(bytes, %s));
const ms = performance.now() - t0;
const kept = (await db.query("SELECT count(*) AS n FROM note WHERE body = 'kept'"))[0].n;
const version = db.version;
await db.close();
let reopenVersion = -1;
const reopen = await T.err((async () => { const d = await L.open({ name, storage, migrations }); reopenVersion = d.version; await d.close(); })());
db = await L.open({ name, storage, migrations }).catch(() => null);
if (db) await db.reset(); else await L.reset(name, { storage });
db = await L.open({ name, storage, migrations });
const afterReset = (await db.query("SELECT count(*) AS n FROM note"))[0].n;
await db.reset();
return { Code: err && err.code, Message: err && err.message, Ms: ms, Kept: kept, Version: version,
  Reopen: reopen, ReopenVersion: reopenVersion, AfterReset: afterReset };
`, migJSON, dbName, st, base64.StdEncoding.EncodeToString(c.Image), map[bool]string{false: "{}", true: "{ allowExtraSchema: true }"}[extra])
					var r result
					if err := e.tab.EvalTimeout(2*time.Minute, fmt.Sprintf("T.run(async () => { %s })", script), &r); err != nil {
						hung = st + "/" + name
						t.Fatalf("eval (a hang is a failure): %v\nconsole:\n%s", err, strings.Join(e.tab.Logs(), "\n"))
					}
					if r.Error != nil {
						t.Fatalf("JS rejected: %s: %s", r.Error.Code, r.Error.Message)
					}
					var got hostileRun
					if err := json.Unmarshal(r.Value, &got); err != nil {
						t.Fatal(err)
					}
					verdict := "imported"
					if got.Code != "" {
						verdict = "refused"
					}
					t.Logf("REPORT browser %-6s %-40s %-9s %6.0f ms  %s", st, name, verdict, got.Ms, got.Message)
					if want.Refused {
						if got.Code != "LARDER_INVALID_DATABASE" || !strings.Contains(got.Message, want.Reason) {
							t.Errorf("import: %s %q, want LARDER_INVALID_DATABASE naming %q", got.Code, got.Message, want.Reason)
						}
						if got.Kept != 1 || got.Version != 2 {
							t.Errorf("after a refused import: kept row %v, version %v: the database changed", got.Kept, got.Version)
						}
					} else {
						if got.Code != "" {
							t.Errorf("refused: %s %s", got.Code, got.Message)
						}
						if got.Kept != 0 {
							t.Errorf("after the import the previous row is still there: not replaced")
						}
					}
					if got.Reopen != nil {
						t.Errorf("next open: %s %s", got.Reopen.Code, got.Reopen.Message)
					}
					if got.AfterReset != 0 {
						t.Errorf("after reset and open: %v notes", got.AfterReset)
					}
				})
			}
		}
	}
}
