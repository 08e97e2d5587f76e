//go:build !js && workerd && browser

package main

// Sync end to end: the Worker in workerd with local D1, two Chromium
// browsers with separate profiles running the pages of dist/ (make build),
// open({sync}) in each. The Worker is reached through a proxy the test can
// cut (offline) or hold (a push in flight while the page kills its worker).

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/larderdb/larder/internal/browsertest"
	"github.com/larderdb/larder/migrations"
)

const syncPage = `<!doctype html><meta charset="utf-8"><title>larder sync test</title>
<script type="module">
import * as L from "/dist/larder.js";
window.dbs = {};
// openSync opens name with sync through the proxy as the holder of token,
// recording its syncstatus and change events.
window.openSync = async (name, url, token, migrations = "/migrations.json") => {
  const db = await L.open({ name, migrations, sync: { url, token: () => token } });
  db.statuses = [];
  db.changes = [];
  db.addEventListener("syncstatus", (e) => db.statuses.push(e.detail));
  db.addEventListener("change", (e) => db.changes.push(e.detail.tables));
  window.dbs[name] = db;
  return db.version;
};
window.until = async (cond, what, ms = 20000) => {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 20));
  }
};
window.items = async (name) => (await window.dbs[name].query("SELECT id, owner, title FROM items ORDER BY id")).map((r) => r.id + "|" + r.owner + "|" + r.title).join(",");
window.larderReady = true;
</script>`

// cutProxy forwards to the Worker; down makes every request fail as a
// network error (the connection is closed unanswered); hold parks the next
// push until release is closed, telling arrived first.
type cutProxy struct {
	rp      *httputil.ReverseProxy
	down    atomic.Bool
	hold    atomic.Bool
	arrived chan struct{}
	release chan struct{}
}

func newCutProxy(t *testing.T, target string) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{rp: httputil.NewSingleHostReverseProxy(u), arrived: make(chan struct{}, 1), release: make(chan struct{})}
	// A fresh connection to dev.mjs per request: a kept-alive one it has
	// closed would fail a POST, which Go's transport does not resend.
	p.rp.Transport = &http.Transport{DisableKeepAlives: true}
	t.Cleanup(func() { p.hold.Store(false) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: p}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	proxies[ln.Addr().String()] = p
	return "http://" + ln.Addr().String()
}

var proxies = map[string]*cutProxy{}

func (p *cutProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.down.Load() {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		http.Error(w, "down", http.StatusBadGateway)
		return
	}
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/sync/push") && p.hold.CompareAndSwap(true, false) {
		p.arrived <- struct{}{}
		<-p.release
	}
	p.rp.ServeHTTP(w, r)
}

// syncCounts is what db.sync() resolves with.
type syncCounts struct {
	Pushed, Pulled, Rejected int
	Rejections               []map[string]any
}

type syncTab struct {
	t   *testing.T
	tab *browsertest.Tab
	w   *worker
	// bound is how long eval waits (0: 90 s): a bound on waiting, not an
	// expectation of speed.
	bound time.Duration
}

// eval runs an async body in the page (await allowed) and decodes its
// return value into out.
func (s syncTab) eval(body string, out any) {
	s.t.Helper()
	bound := s.bound
	if bound == 0 {
		bound = 90 * time.Second
	}
	if err := s.tab.EvalTimeout(bound, "(async () => {"+body+"})()", out); err != nil {
		s.t.Fatalf("browser: %v\nconsole:\n%s\nworker:\n%s", err, strings.Join(s.tab.Logs(), "\n"), s.w.logs)
	}
}

func (s syncTab) str(body string) string {
	s.t.Helper()
	var out string
	s.eval(body, &out)
	return out
}

func TestSyncBetweenBrowsers(t *testing.T) {
	dist := browsertest.Dist(t)
	srv := browsertest.Serve(t)
	files, syncTOML := syncFiles(t, syncApp)
	w := startWorker(t, buildSyncWorker(t, bundleOf(t, files, ""), syncTOML), t.TempDir(), 1, append(append([]string{}, authVars...), "CORS_ORIGINS="+srv.URL)...)
	edgeURL := newCutProxy(t, w.URL)
	proxy := proxies[strings.TrimPrefix(edgeURL, "http://")]

	migs, err := migrations.LoadDir(syncApp)
	if err != nil {
		t.Fatal(err)
	}
	full, err := migrations.BundleWithSync(migs, string(syncTOML))
	if err != nil {
		t.Fatal(err)
	}
	old, err := migrations.BundleWithSync(migs[:2], string(syncTOML)) // code from before the breaking 0003
	if err != nil {
		t.Fatal(err)
	}
	srv.Mount("/dist/", dist)
	srv.SetFile("/index.html", []byte(syncPage))
	srv.SetFile("/migrations.json", full)
	srv.SetFile("/migrations-old.json", old)

	alice, bob := tokenFor(t, "alice", nil), tokenFor(t, "bob", nil)
	open := func() syncTab {
		tab := browsertest.NewBrowser(t).NewTab() // a browser each: separate profiles
		if err := tab.Navigate(srv.URL + "/index.html"); err != nil {
			t.Fatal(err)
		}
		s := syncTab{t: t, tab: tab, w: w}
		s.eval(`await until(() => window.larderReady, "the page"); return true`, nil)
		return s
	}
	a, b := open(), open()
	for _, s := range []syncTab{a, b} {
		var v int
		s.eval(fmt.Sprintf(`return await openSync("app", %q, %q)`, edgeURL, alice), &v)
		if v != 3 {
			t.Fatalf("opened at version %d", v)
		}
	}
	// The scheduling tab's first round, by itself.
	for _, s := range []syncTab{a, b} {
		s.eval(`await until(() => dbs.app.syncStatus.lastSyncedAt !== null, "the first round"); return true`, nil)
	}

	// Offline edits on both, then reconnect: both converge.
	proxy.down.Store(true)
	a.eval(`await dbs.app.exec("INSERT INTO items (id, owner, title) VALUES ('a1', 'alice', 'from a'), ('x', 'alice', 'shared')"); return true`, nil)
	b.eval(`await dbs.app.exec("INSERT INTO items (id, owner, title) VALUES ('b1', 'alice', 'from b')"); return true`, nil)
	code := a.str(`try { await dbs.app.sync(); return "synced"; } catch (e) { return e.code; }`)
	if code != "LARDER_HTTP_ERROR" {
		t.Fatalf("a sync while the Worker is unreachable: %s", code)
	}
	a.eval(`await until(() => dbs.app.syncStatus.pending === 2 && dbs.app.syncStatus.lastError?.code === "LARDER_HTTP_ERROR" && !dbs.app.syncStatus.connected, "a offline status"); return true`, nil)
	proxy.down.Store(false)
	a.eval(`return await dbs.app.sync()`, nil)
	b.eval(`return await dbs.app.sync()`, nil)
	a.eval(`return await dbs.app.sync()`, nil)
	ia, ib := a.str(`return items("app")`), b.str(`return items("app")`)
	if ia != ib || ia != "a1|alice|from a,b1|alice|from b,x|alice|shared" {
		t.Fatalf("after reconnecting: a %q, b %q", ia, ib)
	}
	a.eval(`await until(() => dbs.app.syncStatus.pending === 0 && dbs.app.syncStatus.connected && dbs.app.syncStatus.lastError === null, "a online status"); return true`, nil)

	// Concurrent edits of one row, offline: the later write wins on both.
	proxy.down.Store(true)
	a.eval(`await dbs.app.exec("UPDATE items SET title = 'a edit' WHERE id = 'x'"); return true`, nil)
	time.Sleep(5 * time.Millisecond) // a later millisecond for b's clock
	b.eval(`await dbs.app.exec("UPDATE items SET title = 'b edit' WHERE id = 'x'"); return true`, nil)
	proxy.down.Store(false)
	a.eval(`return await dbs.app.sync()`, nil)
	b.eval(`return await dbs.app.sync()`, nil)
	a.eval(`return await dbs.app.sync()`, nil)
	ia, ib = a.str(`return items("app")`), b.str(`return items("app")`)
	if ia != ib || !strings.Contains(ia, "x|alice|b edit") {
		t.Fatalf("concurrent edits: a %q, b %q", ia, ib)
	}

	// A commit in a is pushed by a's scheduler by itself; b's pull fires a
	// change event naming the table, so live queries update.
	a.eval(`await dbs.app.exec("INSERT INTO items (id, owner, title) VALUES ('c1', 'alice', 'live')"); return true`, nil)
	a.eval(`await until(() => dbs.app.syncStatus.pending === 0, "a's scheduled push"); return true`, nil)
	var seen []string
	b.eval(`const got = new Promise((r) => dbs.app.addEventListener("change", (e) => e.detail.tables.includes("items") && r(e.detail.tables)));
	  await dbs.app.sync();
	  return await got`, &seen)
	if fmt.Sprint(seen) != "[items]" || !strings.Contains(b.str(`return items("app")`), "c1|alice|live") {
		t.Fatalf("b's change event %v, items %s", seen, b.str(`return items("app")`))
	}

	// Another user sees none of alice's rows and cannot write them (the
	// scheduler may push bob's writes before the explicit round: the
	// outcome is checked, not one round's counts).
	var bobOut struct {
		Items   string `json:"items"`
		After   string `json:"after"`
		Pending int    `json:"pending"`
	}
	b.eval(fmt.Sprintf(`await openSync("bob", %q, %q);
	  await dbs.bob.sync();
	  const before = await items("bob");
	  await dbs.bob.exec("INSERT INTO items (id, owner, title) VALUES ('c1', 'bob', 'steal'), ('bob1', 'bob', 'mine')");
	  await dbs.bob.sync();
	  await until(() => dbs.bob.syncStatus.pending === 0, "bob's outbox drained");
	  return { items: before, after: await items("bob"), pending: dbs.bob.syncStatus.pending }`, edgeURL, bob), &bobOut)
	// bob's forged c1 was refused and, the server keeping no row of bob's
	// under that id, dropped from bob's device.
	if bobOut.Items != "" || bobOut.After != "bob1|bob|mine" || bobOut.Pending != 0 {
		t.Fatalf("bob: %+v", bobOut)
	}
	a.eval(`return await dbs.app.sync()`, nil)
	if ia := a.str(`return items("app")`); strings.Contains(ia, "bob") || strings.Contains(ia, "steal") || !strings.Contains(ia, "c1|alice|live") {
		t.Fatalf("alice after bob's writes: %s", ia)
	}
	// A second device of bob gets bob's row only: the forged write of
	// alice's c1 was rejected.
	if got := b.str(fmt.Sprintf(`await openSync("bob2", %q, %q); await dbs.bob2.sync(); return items("bob2")`, edgeURL, bob)); got != "bob1|bob|mine" {
		t.Fatalf("bob's second device: %q", got)
	}

	// A tab of old code (before the breaking migration 0003) gets
	// LARDER_OUTDATED, stops, and uploads nothing; its local writes go on.
	var oldOut struct {
		Code     string `json:"code"`
		Outdated bool   `json:"outdated"`
		Again    string `json:"again"`
		Pending  int    `json:"pending"`
	}
	a.eval(fmt.Sprintf(`await openSync("old", %q, %q, "/migrations-old.json");
	  await dbs.old.exec("INSERT INTO items (id, owner, title) VALUES ('o1', 'alice', 'old code')");
	  let code = null, again = null;
	  try { await dbs.old.sync(); } catch (e) { code = e.code; }
	  try { await dbs.old.sync(); } catch (e) { again = e.code; }
	  await dbs.old.exec("INSERT INTO items (id, owner, title) VALUES ('o2', 'alice', 'still local')");
	  await until(() => dbs.old.syncStatus.pending === 2, "old pending");
	  return { code, again, outdated: dbs.old.syncStatus.outdated, pending: dbs.old.syncStatus.pending }`, edgeURL, alice), &oldOut)
	if oldOut.Code != "LARDER_OUTDATED" || oldOut.Again != "LARDER_OUTDATED" || !oldOut.Outdated || oldOut.Pending != 2 {
		t.Fatalf("old code: %+v", oldOut)
	}
	b.eval(`return await dbs.app.sync()`, nil)
	if ib := b.str(`return items("app")`); strings.Contains(ib, "o1") {
		t.Fatalf("the outdated tab's row reached b: %s", ib)
	}

	// The worker killed with a push in flight: the server applies it, the
	// page never hears; after the next round the change is there once.
	a.eval(`await dbs.app.exec("INSERT INTO items (id, owner, title) VALUES ('k1', 'alice', 'killed mid-push')"); return true`, nil)
	proxy.hold.Store(true)
	a.eval(`window.killed = dbs.app.sync().then(() => "synced", (e) => e.code); return true`, nil)
	select {
	case <-proxy.arrived:
	case <-time.After(60 * time.Second):
		t.Fatal("the push never reached the proxy")
	}
	killedCode := a.str(`dbs.app._rt.kill("test: worker killed mid-push"); return await window.killed`)
	close(proxy.release)
	b.eval(`await until(async () => (await dbs.app.sync()) && (await items("app")).includes("k1|"), "the killed push on the server"); return true`, nil)
	var after struct {
		Pending int        `json:"pending"`
		Round   syncCounts `json:"round"`
	}
	a.eval(fmt.Sprintf(`await openSync("app", %q, %q);
	  const round = await dbs.app.sync();
	  await until(() => dbs.app.syncStatus.pending === 0, "a's outbox empty");
	  return { pending: dbs.app.syncStatus.pending, round }`, edgeURL, alice), &after)
	var again syncCounts
	b.eval(`return await dbs.app.sync()`, &again)
	if after.Pending != 0 || again.Pulled != 0 {
		t.Fatalf("after the kill (%s): a %+v, b's next round %+v (a change applied twice would pull again)", killedCode, after, again)
	}
	if got := b.str(`return items("app")`); strings.Count(got, "k1|") != 1 {
		t.Fatalf("b: %s", got)
	}
	t.Logf("kill mid-push: the page's round ended %s; next round %+v", killedCode, after.Round)
}
