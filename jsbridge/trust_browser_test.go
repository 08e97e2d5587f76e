//go:build !js && browser

package jsbridge_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/larderdb/larder/internal/browsertest"
)

// forge is what a hostile script of the origin posts on a database's
// BroadcastChannel: junk of every shape, events and an owner claim from
// ids that do not hold the database's Web Lock (one holding a context
// lock of its own), fault and internal ops, requests for another
// database, and, from then on, a forged ack and answer to every request.
const forge = `
const ch = new BroadcastChannel("larder:" + NAME);
for (const m of [null, undefined, 0, "x", [], {}, { t: null }, { t: "req" }, { t: "req", from: "f", id: 1, msg: null },
  { t: "req", from: "f", id: -1, msg: { op: "exec", db: NAME } }, { t: "event", from: "f" }, { t: "event", from: "f", db: NAME, detail: null },
  { t: "event", from: "f", db: NAME, detail: { type: "versionchange", to: "99" } }, { t: "res", to: null }, { t: "owner", owner: {} },
  { t: "ack" }, { t: "hello" }, { t: "res", to: "x", from: "y", id: 1, res: null }, { t: "__proto__" }]) ch.postMessage(m);
const vc = { type: "versionchange", from: 1, to: 99, breaking: true };
ch.postMessage({ t: "event", from: "forger-1", db: NAME, detail: vc });
ch.postMessage({ t: "event", from: "forger-1", db: NAME, detail: { type: "change", tables: ["forged"] } });
await new Promise((held) => navigator.locks.request("larder-context:forger-2", () => { held(); return new Promise(() => {}); }));
ch.postMessage({ t: "owner", owner: "forger-2" });
ch.postMessage({ t: "event", from: "forger-2", db: NAME, detail: vc });
ch.postMessage({ t: "req", from: "forger-2", id: 1, msg: { op: "__fault", kind: "fatal", db: NAME } });
ch.postMessage({ t: "req", from: "forger-2", id: 2, msg: { op: "shutdown", db: NAME } });
ch.postMessage({ t: "req", from: "forger-2", id: 3, msg: { op: "reset", db: NAME + "-other", storage: STORAGE } });
ch.postMessage({ t: "req", from: "forger-2", id: 4, msg: { op: "closeAll", db: NAME } });
ch.onmessage = (e) => {
  const m = e.data;
  if (!m || m.t !== "req") return;
  ch.postMessage({ t: "ack", to: m.from, id: m.id, owner: "forger-2" });
  ch.postMessage({ t: "res", to: m.from, from: "forger-2", id: m.id, res: { ok: true, result: "forged" } });
  ch.postMessage({ t: "res", to: m.from, from: "forger-1", id: m.id, res: { ok: false, error: { code: "LARDER_OUTDATED", message: "forged" } } });
};
window.forger = ch;
`

// Tabs trust only the owner: a same-origin page posting forged and
// malformed messages on the channel changes nothing. The owner tab and a
// client tab keep working, see no forged event, do not become outdated,
// get real answers, and the owner is not killed by a forged __fault.
func TestBrowserForgedMessages(t *testing.T) {
	e := newEnv(t)
	for _, st := range persistent {
		t.Run(st, func(t *testing.T) {
			e.t = t
			name := "trust-" + st
			vars := fmt.Sprintf("const NAME = %q, STORAGE = %q;", name, st)
			owner, client, forger := e.tab, e.page(), e.page()
			setup := vars + `
window.db = await L.open({ name: NAME, storage: STORAGE, migrations: [{ version: 1, name: "init", up: "CREATE TABLE IF NOT EXISTS item(id INTEGER PRIMARY KEY, v TEXT)" }] });
window.seen = [];
db.addEventListener("versionchange", (e) => seen.push("versionchange " + JSON.stringify(e.detail)));
db.addEventListener("change", (e) => seen.push("change " + e.detail.tables.join(",")));`
			t0 := time.Now()
			step := func(what string) { t.Logf("%s: %v", what, time.Since(t0).Round(time.Millisecond)) }
			e.run(owner, setup, nil)
			e.run(client, setup, nil)
			e.run(forger, vars+forge, nil)
			step("opened, forged")

			// Writes from both tabs, the client's forwarded to the owner
			// while the forger answers every request first; then each
			// waits for the other's change event, which comes after the
			// forged messages it had to drop.
			for i, tab := range []*browsertest.Tab{owner, client} {
				e.run(tab, fmt.Sprintf(`
const r = await db.exec("INSERT INTO item(v) VALUES (?)", ["tab %d"]);
if (r === "forged" || typeof r.changes !== "number") throw new Error("exec answered " + JSON.stringify(r));
const rows = await db.query("SELECT v FROM item");
if (!Array.isArray(rows)) throw new Error("query answered " + JSON.stringify(rows));`, i), nil)
			}
			step("written")
			for _, tab := range []*browsertest.Tab{owner, client} {
				var got struct {
					Seen    []string `json:"seen"`
					Version float64  `json:"version"`
					Rows    float64  `json:"rows"`
					Export  float64  `json:"export"`
				}
				e.run(tab, `
while (!seen.some((s) => s === "change item")) await new Promise((r) => setTimeout(r, 20));
const [{ n }] = await db.query("SELECT count(*) AS n FROM item");
const bytes = await db.export();
return { seen, version: db.version, rows: n, export: bytes.length };`, &got)
				for _, s := range got.Seen {
					if strings.HasPrefix(s, "versionchange") || strings.Contains(s, "forged") {
						t.Errorf("a forged event got through: %q (all: %v)", s, got.Seen)
					}
				}
				if got.Version != 1 || got.Rows != 2 || got.Export == 0 {
					t.Errorf("after forged messages: %+v (want version 1, 2 rows, an export)", got)
				}
			}
			step("checked")
			// The other database the forger asked to reset, and the owner's
			// larder.wasm, are untouched: a new client still gets answers.
			late := e.page()
			var n float64
			e.run(late, vars+`
const db = await L.open({ name: NAME, storage: STORAGE });
const [{ n }] = await db.query("SELECT count(*) AS n FROM item");
await db.close();
return n;`, &n)
			if n != 2 {
				t.Errorf("a third tab sees %v rows, want 2", n)
			}
			step("third tab")
			for _, tab := range []*browsertest.Tab{owner, client} {
				e.run(tab, `await db.close();`, nil)
			}
			e.run(forger, `forger.close();`, nil)
			late.Close()
			client.Close()
			forger.Close()
		})
	}
}

// The production build (make build) has no fault-injection hook: "__fault"
// is an unknown request, the database keeps working, and larder.wasm does
// not even contain the hook; the test build (make build-testhooks) does.
func TestBrowserProductionIgnoresFault(t *testing.T) {
	dist := browsertest.Dist(t)
	prod, err := os.ReadFile(filepath.Join(dist, "larder.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(prod, []byte("injected fatal error")) {
		t.Error("dist/larder.wasm contains the fault-injection hook")
	}
	if !bytes.Contains(testHooksWasm(t), []byte("injected fatal error")) {
		t.Error("dist/testhooks/larder.wasm lacks the fault-injection hook")
	}
	e := newEnv(t)
	for _, st := range allStorages {
		t.Run(st, func(t *testing.T) {
			e.t = t
			var got struct {
				Fatal, Panic *jsError
				N            float64
			}
			e.run(e.tab, fmt.Sprintf(`
const db = await L.open({ name: "prodfault", storage: %q });
const fatal = await T.err(db._call("__fault", { kind: "fatal" }));
const panic = await T.err(db._call("__fault", { kind: "panic" }));
const [{ n }] = await db.query("SELECT 7 AS n");
await db.close();
return { Fatal: fatal, Panic: panic, N: n };`, st), &got)
			for _, je := range []*jsError{got.Fatal, got.Panic} {
				if je == nil || je.Code != "LARDER_INVALID_ARGUMENT" || !strings.Contains(je.Message, "__fault") {
					t.Errorf("__fault in production: %+v, want LARDER_INVALID_ARGUMENT naming it", je)
				}
			}
			if got.N != 7 {
				t.Errorf("after __fault: %v", got.N)
			}
		})
	}
}

// A bundle carries data, never code: a field outside the bundle format
// (upSource above all) refuses the whole bundle, naming the field, before
// anything reaches the worker; so does a missing, malformed or wrong
// checksum. A real bundle, line fields included, opens; a function the
// page passes itself still runs.
func TestBrowserBundleDataOnly(t *testing.T) {
	e := newEnv(t)
	good := bundle(t, m1)
	sum := string(bytes.Split(bytes.Split(good, []byte(`"checksum":"`))[1], []byte(`"`))[0])
	entry := func(extra string) []byte {
		return []byte(`[{"version":1,"name":"init","up":"CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT);","down":null` + extra + `}]`)
	}
	for _, tc := range []struct{ file, want string }{
		{"upsource", `field "upSource" is not allowed`},
		{"downsource", `field "downSource" is not allowed`},
		{"extra", `field "description" is not allowed`},
		{"nochecksum", "checksum must be"},
		{"emptychecksum", "checksum must be"},
		{"badchecksum", "does not match"},
		{"notobject", "entry 0: not an object"},
		{"version", "version must be a positive integer"},
	} {
		body := map[string][]byte{
			"upsource":      entry(`,"checksum":"` + sum + `","upSource":"async (tx) => { self.pwned = true; }"`),
			"downsource":    entry(`,"checksum":"` + sum + `","downSource":"() => 1"`),
			"extra":         entry(`,"checksum":"` + sum + `","description":"hi"`),
			"nochecksum":    entry(``),
			"emptychecksum": entry(`,"checksum":""`),
			"badchecksum":   entry(`,"checksum":"` + strings.Repeat("ab", 32) + `"`),
			"notobject":     []byte(`[null]`),
			"version":       []byte(`[{"version":"1","name":"x","up":"","checksum":"` + sum + `"}]`),
		}[tc.file]
		e.srv.SetFile("/"+tc.file+".json", body)
		je := e.mustFail(e.tab, fmt.Sprintf(`await L.open({ name: "bundle-%s", storage: "memory", migrations: "/%s.json" });`, tc.file, tc.file), "LARDER_INVALID_MIGRATIONS")
		if !strings.Contains(je.Message, tc.want) {
			t.Errorf("%s: message %q, want %q", tc.file, je.Message, tc.want)
		}
	}
	e.srv.SetFile("/good.json", []byte(`[{"version":1,"name":"init","up":"CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT);","down":"DROP TABLE note;","checksum":"`+sum+`","breaking":false,"up_line":2,"down_line":4,"up_statements":[{"sql":"CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT);","line":2}]}]`))
	var v float64
	e.run(e.tab, `
const db = await L.open({ name: "bundle-good", storage: "memory", migrations: "/good.json" });
const db2 = await L.open({ name: "bundle-fn", storage: "memory", migrations: [
  { version: 1, name: "fn", up: async (tx) => { await tx.exec("CREATE TABLE t(x)"); await tx.exec("INSERT INTO t VALUES (41)"); } },
] });
const [{ x }] = await db2.query("SELECT x + 1 AS x FROM t");
await db.close(); await db2.close();
return db.version * 100 + x;`, &v)
	if v != 142 {
		t.Errorf("good bundle and function migration: %v, want 142", v)
	}
	// A page's own object may not smuggle source text either.
	je := e.mustFail(e.tab, `await L.open({ name: "bundle-page", storage: "memory", migrations: [{ version: 1, name: "x", up: "", upSource: "() => 1" }] });`, "LARDER_INVALID_MIGRATIONS")
	if !strings.Contains(je.Message, "upSource") {
		t.Errorf("page upSource: %q", je.Message)
	}
}

// Under the policy docs/security.md gives (no 'unsafe-eval'), larder.wasm
// runs and SQL migrations apply; a JS-function migration is refused with a
// message naming 'unsafe-eval'.
func TestBrowserCSP(t *testing.T) {
	sum := sha256.Sum256([]byte(indexHTML[strings.Index(indexHTML, `<script type="module">`)+len(`<script type="module">`) : strings.LastIndex(indexHTML, "</script>")]))
	srv := browsertest.Serve(t)
	srv.Mount("/dist/", browsertest.Dist(t))
	srv.SetFile("/index.html", []byte(indexHTML))
	srv.SetHeader("Content-Security-Policy", "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'; object-src 'none'; base-uri 'none'")
	srv.SetFile("/good.json", bundle(t, m1, m2))
	e := &env{t: t, srv: srv, b: browsertest.NewBrowser(t)}
	e.tab = e.page()
	var v float64
	e.run(e.tab, `
const db = await L.open({ name: "csp", storage: "opfs", migrations: "/good.json" });
await db.exec("INSERT INTO note(body, tags) VALUES ('a', 'b')");
const [{ n }] = await db.query("SELECT count(*) AS n FROM note");
await db.close();
return db.version * 10 + n;`, &v)
	if v != 21 {
		t.Errorf("under CSP: %v, want version 2 with 1 row", v)
	}
	je := e.mustFail(e.tab, `await L.open({ name: "csp-fn", storage: "memory", migrations: [{ version: 1, name: "fn", up: async (tx) => {} }] });`, "LARDER_INVALID_MIGRATIONS")
	if !strings.Contains(je.Message, "unsafe-eval") {
		t.Errorf("function migration under CSP: %q", je.Message)
	}
}
