//go:build !js && browser

package jsbridge_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larderdb/larder/internal/browsertest"
)

// The worker opens an OPFS database's handles while larder.wasm compiles
// (larder-worker.js, Host.prepareFiles), once the tabs' election made it the
// owner; the OPFS VFS adopts them. Whatever becomes of them, nothing may
// change for the app: a client tab prepares nothing, handles nobody adopts
// are closed, and a preparation that fails leaves the open to the VFS.
func TestBrowserOPFSPrepared(t *testing.T) {
	e := newEnv(t)
	const open = `L.open({ name: "prep", storage: "opfs", migrations: [
  { version: 1, name: "init", up: "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT)" }] })`
	const prepared = `[...L.__runtimes()][0].prepared.prep || null`
	type state struct {
		State string
		Error string
	}

	// The owner adopts what it prepared.
	owner := e.page()
	var first struct{ Prepared *state }
	e.run(owner, `window.db = await `+open+`;
await db.exec("INSERT INTO note(body) VALUES ('one')");
return { prepared: `+prepared+` };`, &first)
	if first.Prepared == nil || first.Prepared.State != "adopted" {
		t.Fatalf("owner: prepared %+v, want adopted", first.Prepared)
	}

	// A second tab loses the election: it prepares nothing and is served
	// by the owner.
	client := e.page()
	var second struct {
		Prepared *state
		N        int
	}
	e.run(client, `const db = await `+open+`;
await db.exec("INSERT INTO note(body) VALUES ('two')");
const [{ n }] = await db.query("SELECT count(*) AS n FROM note");
await db.close();
return { prepared: `+prepared+`, n };`, &second)
	if second.Prepared != nil {
		t.Errorf("client: prepared %+v, want nothing", second.Prepared)
	}
	if second.N != 2 {
		t.Errorf("client: %d notes, want 2", second.N)
	}
	e.run(owner, `await db.close();`, nil)
	owner.Close()
	client.Close()

	// An open that fails before larder.wasm took the handles (a migration
	// function that cannot be rebuilt in the worker) closes them, and lets
	// the election go: the same page and another one open the database.
	page := e.page()
	r := e.try(page, `await L.open({ name: "prep", storage: "opfs", migrations: [{ version: 1, name: "init", up: Math.max }] });`)
	if r.Error == nil {
		t.Fatal("an open with an unrebuildable migration function succeeded")
	}
	var released struct{ Prepared *state }
	e.run(page, `return { prepared: `+prepared+` };`, &released)
	if released.Prepared == nil || released.Prepared.State != "released" {
		t.Errorf("failed open: prepared %+v, want released", released.Prepared)
	}
	other := e.page()
	var n int
	e.run(other, `const db = await `+open+`; const [{ n }] = await db.query("SELECT count(*) AS n FROM note"); await db.close(); return n;`, &n)
	if n != 2 {
		t.Errorf("after the failed open: %d notes, want 2", n)
	}
	e.run(page, `const db = await `+open+`; await db.close();`, nil)
	other.Close()
	page.Close()

	// A reset made while an open is on its way finds no prepared handles in
	// its way (they would hold the files it deletes).
	racing := e.page()
	var both []string
	e.run(racing, `const got = await Promise.allSettled([`+open+`, L.reset("prep", { storage: "opfs" })]);
return got.map((g) => g.status === "fulfilled" ? "ok" : g.reason.code + ": " + g.reason.message);`, &both)
	if len(both) != 2 || both[0] != "ok" || both[1] != "ok" {
		t.Errorf("open and reset at once: %q, want both ok", both)
	}
	e.run(racing, `const db = await `+open+`; await db.exec("INSERT INTO note(body) VALUES ('one'), ('two')"); await db.close();`, nil)
	racing.Close()

	// A preparation that fails (another worker still holds the database
	// file, as a closing previous owner would) leaves the open to the VFS,
	// which retries until the handle is free: nothing is lost.
	late := e.page()
	var third struct {
		Prepared *state
		N        int
	}
	e.run(late, `
const src = "onmessage = async () => { const d = await (await (await navigator.storage.getDirectory()).getDirectoryHandle('larder')).getDirectoryHandle('prep');" +
  " const h = await (await d.getFileHandle('db')).createSyncAccessHandle(); postMessage('held'); setTimeout(() => { h.close(); postMessage('closed'); }, 1500); };";
const holder = new Worker(URL.createObjectURL(new Blob([src], { type: "text/javascript" })));
await new Promise((resolve) => { holder.onmessage = (m) => m.data === "held" && resolve(); holder.postMessage(0); });
const db = await `+open+`;
const [{ n }] = await db.query("SELECT count(*) AS n FROM note");
await db.close();
holder.terminate();
return { prepared: `+prepared+`, n };`, &third)
	if third.Prepared == nil || third.Prepared.State != "failed" || !strings.Contains(third.Prepared.Error, "NoModificationAllowedError") {
		t.Errorf("file held elsewhere: prepared %+v, want failed with NoModificationAllowedError", third.Prepared)
	}
	if third.N != 2 {
		t.Errorf("file held elsewhere: %d notes, want 2", third.N)
	}
	e.noErrors(late)

	// A larder.wasm older than the worker script does not adopt prepared
	// handles (no larder_features bit): the script closes them before Go
	// runs, and Go opens the database itself. (Faked at the JS seam: the
	// script is told the build has no features.)
	worker, err := os.ReadFile(filepath.Join(browsertest.Dist(t), "larder-worker.js"))
	if err != nil {
		t.Fatal(err)
	}
	wasmJS, err := os.ReadFile(filepath.Join(browsertest.Dist(t), "client", "wasm.js"))
	if err != nil {
		t.Fatal(err)
	}
	const features = `this.features = typeof ex.larder_features === "function" ? ex.larder_features() : 0;`
	if !strings.Contains(string(wasmJS), features) {
		t.Fatal("client/wasm.js no longer reads larder_features as this test expects")
	}
	const start = `await host.init(msg.module || msg.wasm);`
	if !strings.Contains(string(worker), start) {
		t.Fatal("larder-worker.js no longer starts larder.wasm as this test expects")
	}
	// Start larder.wasm late enough for the election and the handles to
	// be done first, as they are when the module compiles.
	e.srv.SetFile("/dist/client/wasm.js", []byte(strings.Replace(string(wasmJS), features, "this.features = 0;", 1)))
	old := strings.Replace(string(worker), start, `await new Promise((r) => setTimeout(r, 500)).then(() => host.init(msg.module || msg.wasm));`, 1)
	e.srv.SetFile("/dist/larder-worker.js", []byte(old))
	older := e.page()
	var fourth struct {
		Prepared *state
		N        int
	}
	e.run(older, `const db = await `+open+`;
const [{ n }] = await db.query("SELECT count(*) AS n FROM note");
await db.close();
return { prepared: `+prepared+`, n };`, &fourth)
	if fourth.Prepared == nil || fourth.Prepared.State != "released" {
		t.Errorf("older larder.wasm: prepared %+v, want released", fourth.Prepared)
	}
	if fourth.N != 2 {
		t.Errorf("older larder.wasm: %d notes, want 2", fourth.N)
	}
}
