//go:build !js && workerd && browser

package main

// Nothing lost, whatever happens (issue 21): the Worker in workerd with
// local D1, two Chromium browsers with separate profiles, and the owner
// worker of a profile killed at each point of a round where a crash could
// lose or double a change. The kill points are made exact by the proxy
// (it parks a request before it reaches the Worker, or parks the Worker's
// answer before it reaches the browser) and by the test-hooks build of
// larder.wasm (a round stalls inside its transaction: after a push's
// acknowledgement was written but before it committed, or after a pulled
// page's first row). After the next rounds, each profile's table is
// compared whole with D1's, and D1's record of accepted change ids with
// the number of changes the profiles committed: every committed change is
// on the server exactly once, every server change local exactly once.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/larderdb/larder/edge/auth"
	"github.com/larderdb/larder/internal/browsertest"
	"github.com/larderdb/larder/migrations"
)

const killPage = `<!doctype html><meta charset="utf-8"><title>larder sync kill test</title>
<script type="module">
import * as L from "/dist/larder.js";
import { timing } from "/dist/client/sync.js";
// quiet leaves rounds to the test: no debounced or periodic ones.
window.quiet = () => { timing.debounceMs = timing.periodMs = 3600000; };
window.dbs = {};
window.tokens = {}; // the token each database's token function returns: the test changes them
window.openSync = async (name, url, token) => {
  window.tokens[name] = token;
  const db = await L.open({ name, migrations: "/migrations.json", sync: { url, token: () => window.tokens[name] } });
  db.rejections = [];
  db.addEventListener("syncreject", (e) => db.rejections.push(...e.detail.rejections));
  db.tables = [];
  db.addEventListener("change", (e) => db.tables.push(...e.detail.tables));
  window.dbs[name] = db;
  return db.version;
};
window.until = async (cond, what, ms = 60000) => {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 20));
  }
};
window.dump = async (name, owner) => (await window.dbs[name].query(DUMP, [owner]))[0].d;
// stalled resolves when the worker's round reports that it stalled at point
// (the "syncstall" hook of the test-hooks build).
window.stalled = (point) => new Promise((r) => {
  const ch = new BroadcastChannel("larder-synctest");
  ch.onmessage = (e) => { if (e.data === point) { ch.close(); r(point); } };
});
window.stallAt = (name, point) => window.dbs[name]._call("__fault", { kind: "syncstall", point });
// round starts a round and keeps how it ended in window.ended[name].
window.ended = {};
window.round = (name) => { window.ended[name] = window.dbs[name].sync().then(() => "synced", (e) => e.code); };
window.kill = async (name) => {
  window.dbs[name]._rt.kill("test: worker killed");
  return await window.ended[name];
};
window.larderReady = true;
</script>`

// dumpSQL renders a user's items as one text, the same in the browser and
// on D1's file: every column but the blob, rows in id order.
const dumpSQL = `SELECT coalesce(group_concat(id || '|' || owner || '|' || title || '|' || coalesce(n, 'null') || '|' || done, char(10) ORDER BY id), '') AS d FROM items WHERE owner = ?`

// stop parks the next POST to route: before it reaches the Worker, or
// (after) once the Worker has answered, before the answer goes back.
// arrived is closed when it is parked; let lets it go on, or (drop)
// closes its connection unanswered.
type stop struct {
	route       string
	after, drop bool
	arrived     chan struct{}
	release     chan struct{}
	once        sync.Once
}

func (s *stop) let() { s.once.Do(func() { close(s.release) }) }

// wait waits until s has parked its request.
func (s *stop) wait(t *testing.T) {
	t.Helper()
	select {
	case <-s.arrived:
	case <-time.After(2 * time.Minute):
		t.Fatalf("no request to %s reached the proxy", s.route)
	}
}

// stopProxy forwards one profile's requests to the Worker and parks the
// one its stop names.
type stopProxy struct {
	URL     string
	forward http.Handler
	next    chan *stop // at most one; taken by the first request it names
	mu      sync.Mutex
	all     []*stop
}

func newStopProxy(t *testing.T, target string) *stopProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{DisableKeepAlives: true} // as cutProxy
	p := &stopProxy{forward: rp, next: make(chan *stop, 1)}
	srv := httptest.NewServer(p)
	t.Cleanup(func() {
		p.mu.Lock()
		for _, s := range p.all {
			s.let() // a parked request goes, so that the server can close
		}
		p.mu.Unlock()
		srv.CloseClientConnections()
		srv.Close()
	})
	p.URL = srv.URL
	return p
}

func (p *stopProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var s *stop
	select {
	case s = <-p.next:
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, s.route) {
			p.next <- s
			s = nil
		}
	default:
	}
	if s == nil {
		p.forward.ServeHTTP(w, r)
		return
	}
	// The browser may be gone by the time the request goes on: the Worker
	// still gets it whole.
	r = r.WithContext(context.WithoutCancel(r.Context()))
	hangUp := func() {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
			}
		}
	}
	if !s.after {
		close(s.arrived)
		<-s.release
		if s.drop {
			hangUp()
			return
		}
		p.forward.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	p.forward.ServeHTTP(rec, r)
	close(s.arrived)
	<-s.release
	if s.drop {
		hangUp()
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// park sets the stop of the next request to route.
func (p *stopProxy) park(t *testing.T, route string, after, drop bool) *stop {
	t.Helper()
	s := &stop{route: route, after: after, drop: drop, arrived: make(chan struct{}), release: make(chan struct{})}
	p.mu.Lock()
	p.all = append(p.all, s)
	p.mu.Unlock()
	select {
	case p.next <- s:
	default:
		t.Fatal("a stop is already set")
	}
	return s
}

// profile is one Chromium profile (a browser of its own) with its proxy.
type profile struct {
	syncTab
	proxy *stopProxy
}

type killEnv struct {
	t      *testing.T
	w      *worker
	state  string
	a, b   profile
	writes int // changes committed by the profiles (one per single-row statement)
	seq    int // rows inserted
}

func newKillEnv(t *testing.T) *killEnv {
	dist := browsertest.Dist(t)
	hooks, err := os.ReadFile(filepath.Join(dist, "testhooks", "larder.wasm"))
	if err != nil {
		t.Fatalf("%v: run `make build-testhooks` first (make test does)", err)
	}
	srv := browsertest.Serve(t)
	files, syncTOML := syncFiles(t, syncApp)
	state := t.TempDir()
	w := startWorker(t, buildSyncWorker(t, bundleOf(t, files, ""), syncTOML), state, 1, append(append([]string{}, authVars...), "CORS_ORIGINS="+srv.URL)...)
	migs, err := migrations.LoadDir(syncApp)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := migrations.BundleWithSync(migs, string(syncTOML))
	if err != nil {
		t.Fatal(err)
	}
	srv.Mount("/dist/", dist)
	srv.SetFile("/dist/larder.wasm", hooks) // the "__fault" op works: the syncstall hook
	srv.SetFile("/index.html", []byte(strings.Replace(killPage, "DUMP", "`"+dumpSQL+"`", 1)))
	srv.SetFile("/migrations.json", bundle)

	e := &killEnv{t: t, w: w, state: state}
	open := func() profile {
		tab := browsertest.NewBrowser(t).NewTab() // a browser each: separate profiles
		if err := tab.Navigate(srv.URL + "/index.html"); err != nil {
			t.Fatal(err)
		}
		// A kill makes the page start a new worker (fetch and compile
		// larder.wasm, open the database): minutes on a loaded 2-core machine.
		s := syncTab{t: t, tab: tab, w: w, bound: 5 * time.Minute}
		s.eval(`await until(() => window.larderReady, "the page"); return true`, nil)
		return profile{s, newStopProxy(t, w.URL)}
	}
	e.a, e.b = open(), open()
	return e
}

// open opens db name in p as sub.
func (e *killEnv) open(p profile, name, sub string) {
	e.t.Helper()
	e.openWith(p, name, tokenFor(e.t, sub, nil))
}

func (e *killEnv) openWith(p profile, name, token string) {
	e.t.Helper()
	var v int
	p.eval(fmt.Sprintf(`return await openSync(%q, %q, %q)`, name, p.proxy.URL, token), &v)
	if v != 3 {
		e.t.Fatalf("opened at version %d", v)
	}
}

// write commits n new rows and an update of the last of them in p (n+1
// changes), each statement awaited: committed.
func (e *killEnv) write(p profile, name, sub string, n int) {
	e.t.Helper()
	var sql []string
	for range n {
		e.seq++
		sql = append(sql, fmt.Sprintf(`await dbs[%q].exec("INSERT INTO items (id, owner, title, n) VALUES ('r%04d', '%s', 'new', %d)");`, name, e.seq, sub, e.seq))
	}
	sql = append(sql, fmt.Sprintf(`await dbs[%q].exec("UPDATE items SET title = 'edited', n = -n WHERE id = 'r%04d'");`, name, e.seq))
	p.eval(strings.Join(sql, "\n")+"return true", nil)
	e.writes += n + 1
}

// settle runs rounds in both profiles until each has an empty outbox and
// both hold the same rows, and returns them.
func (e *killEnv) settle(name, sub string) string {
	e.t.Helper()
	for i := 0; ; i++ {
		for _, p := range []profile{e.a, e.b, e.a} {
			p.eval(fmt.Sprintf(`for (let i = 0; ; i++) {
			    try { await dbs[%q].sync(); break; } catch (e) { if (i === 5) throw e; await new Promise((r) => setTimeout(r, 200)); }
			  }
			  await until(async () => (await dbs[%q].query("SELECT count(*) AS n FROM _sync_outbox"))[0].n === 0, "an empty outbox");
			  return true`, name, name), nil)
		}
		da, db := e.a.str(fmt.Sprintf(`return dump(%q, %q)`, name, sub)), e.b.str(fmt.Sprintf(`return dump(%q, %q)`, name, sub))
		if da == db {
			return da
		}
		if i == 3 {
			e.t.Fatalf("the profiles do not converge:\na:\n%s\nb:\n%s", da, db)
		}
	}
}

// verify stops the Worker and checks D1: sub's rows are exactly want (the
// profiles' table), and D1 recorded each of the profiles' committed
// changes once.
func (e *killEnv) verify(sub, want string) {
	e.t.Helper()
	e.w.stop(e.t)
	d1 := openD1(e.t, e.state)
	var got string
	stmt, _, err := d1.Prepare(dumpSQL)
	if err != nil {
		e.t.Fatal(err)
	}
	stmt.BindText(1, sub)
	if stmt.Step() {
		got = stmt.ColumnText(0)
	}
	if err := stmt.Close(); err != nil {
		e.t.Fatal(err)
	}
	if got != want {
		e.t.Errorf("D1's rows of %s:\n%s\nthe profiles':\n%s", sub, got, want)
	}
	ids := queryInt(e.t, d1, "SELECT count(*) FROM _sync_seen WHERE sub = '"+sub+"'")
	distinct := queryInt(e.t, d1, "SELECT count(DISTINCT id) FROM _sync_seen WHERE sub = '"+sub+"'")
	if ids != int64(e.writes) || distinct != ids {
		e.t.Errorf("D1 recorded %d change ids of %s (%d distinct); the profiles committed %d changes", ids, sub, distinct, e.writes)
	}
	if n := queryInt(e.t, d1, "SELECT count(*) FROM items WHERE owner = '"+sub+"'"); n != int64(e.seq) {
		e.t.Errorf("D1 has %d rows of %s; the profiles inserted %d", n, sub, e.seq)
	}
}

// killPoints are where a kill lands, each made exact: a request parked at
// the profile's proxy (route; after: once the Worker answered; drop: never
// delivered), or a round stalled by the test-hooks build at hook.
var killPoints = []struct {
	name, what  string
	route       string
	after, drop bool
	hook        string
}{
	{name: "push-never-sent", what: "the push parked before the Worker and dropped: the server never gets it", route: "/sync/push", drop: true},
	{name: "push-after-death", what: "the push reaches the Worker after the worker died: the server applies it, nobody hears", route: "/sync/push"},
	{name: "push-answer-lost", what: "the Worker applied the push; its answer is parked and dropped", route: "/sync/push", after: true, drop: true},
	{name: "ack-uncommitted", what: "the push's answer arrived; killed inside the transaction that takes the changes out of the outbox", hook: "ack"},
	{name: "pull-answer-lost", what: "the Worker served a page; its answer is parked and dropped", route: "/sync/pull", after: true, drop: true},
	{name: "apply-uncommitted", what: "a page arrived; killed inside its transaction, after its first row", hook: "apply"},
}

// killAt arms kill point k in victim (any round of the victim's hits it:
// its scheduler's or the test's), lets other write and push (a page for
// the victim to pull) and victim write, runs a round in victim, kills its
// worker at the point and opens the database again.
func (e *killEnv) killAt(k int, victim, other profile, name, sub string) {
	e.t.Helper()
	kp := killPoints[k]
	var s *stop
	if kp.hook != "" {
		victim.eval(fmt.Sprintf(`window.st = stalled(%q); await stallAt(%q, %q); return true`, kp.hook, name, kp.hook), nil)
	} else {
		s = victim.proxy.park(e.t, kp.route, kp.after, kp.drop)
	}
	e.write(other, name, sub, 2)
	other.eval(fmt.Sprintf(`await dbs[%q].sync(); return true`, name), nil)
	e.write(victim, name, sub, 3)
	victim.eval(fmt.Sprintf(`round(%q); return true`, name), nil)
	var ended string
	if s != nil {
		s.wait(e.t)
		ended = victim.str(fmt.Sprintf(`return await kill(%q)`, name))
		s.let()
	} else {
		ended = victim.str(fmt.Sprintf(`await window.st; return await kill(%q)`, name))
	}
	if ended == "synced" {
		e.t.Fatalf("%s: the round ended before the kill", kp.name)
	}
	e.open(victim, name, sub)
	// The reopened database's first round (it pushes again what the kill
	// left in the outbox) ends before the next kill point is armed, which
	// would otherwise stall it with the gate held.
	victim.eval(fmt.Sprintf(`await until(() => dbs[%q].syncStatus.lastSyncedAt !== null, "the first round after the kill", 240000); return true`, name), nil)
}

// TestSyncKillsLoseNothing kills the owner worker of a profile at each
// point of a round in turn (killPoints), then in a loop of ten at random
// points and in a random profile while both write: after the next rounds
// both profiles and D1 hold the same rows, and D1 recorded each committed
// change exactly once.
func TestSyncKillsLoseNothing(t *testing.T) {
	e := newKillEnv(t)
	const name, sub = "kills", "kim"
	for _, p := range []profile{e.a, e.b} {
		p.eval(`quiet(); return true`, nil) // the rounds are the test's (and each reopen's first)
		e.open(p, name, sub)
		p.eval(fmt.Sprintf(`await until(() => dbs[%q].syncStatus.lastSyncedAt !== null, "the first round"); return true`, name), nil)
	}
	for k, kp := range killPoints {
		e.killAt(k, e.a, e.b, name, sub)
		want := e.settle(name, sub)
		t.Logf("%s: converged at %d rows (%s)", kp.name, strings.Count(want, "\n")+1, kp.what)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 21))
	var trail []string
	for i := range 10 {
		k := rng.IntN(len(killPoints))
		t.Logf("kill loop %d: %s, after %v", i, killPoints[k].name, trail)
		if rng.IntN(2) == 0 {
			e.killAt(k, e.a, e.b, name, sub)
			trail = append(trail, "a:"+killPoints[k].name)
		} else {
			e.killAt(k, e.b, e.a, name, sub)
			trail = append(trail, "b:"+killPoints[k].name)
		}
	}
	want := e.settle(name, sub)
	t.Logf("kill loop %v: converged at %d rows, %d changes", trail, strings.Count(want, "\n")+1, e.writes)
	e.verify(sub, want)
}

// A token that expires in the middle of a round (the push went through,
// the pull is refused): LARDER_UNAUTHORIZED in syncStatus.lastError,
// nothing lost; the next round with a fresh token converges.
func TestSyncTokenExpiringMidRound(t *testing.T) {
	e := newKillEnv(t)
	const name, sub = "expiry", "tess"
	e.a.eval(`quiet(); return true`, nil) // a's rounds are the test's: the one that meets the expiry pushed first
	e.open(e.a, name, sub)
	e.open(e.b, name, sub)
	e.a.eval(fmt.Sprintf(`await until(() => dbs[%q].syncStatus.lastSyncedAt !== null, "a's first round"); return true`, name), nil)

	e.write(e.b, name, sub, 2)
	e.b.eval(fmt.Sprintf(`await dbs[%q].sync(); return true`, name), nil)
	e.write(e.a, name, sub, 2)
	// a's next round gets a token valid for a few more seconds (the Worker
	// allows auth.Skew past exp), and its pull is parked until the token
	// has expired.
	exp := time.Now().Add(-auth.Skew + 30*time.Second)
	e.a.eval(fmt.Sprintf(`tokens[%q] = %q; return true`, name, tokenFor(t, sub, map[string]any{"exp": exp.Unix()})), nil)
	s := e.a.proxy.park(t, "/sync/pull", false, false)
	e.a.eval(fmt.Sprintf(`round(%q); return true`, name), nil)
	s.wait(t)
	// The round pushed before it pulled: the outbox is empty.
	if n := e.a.str(fmt.Sprintf(`return String((await dbs[%q].query("SELECT count(DISTINCT hlc) AS n FROM _sync_outbox"))[0].n)`, name)); n != "0" {
		t.Fatalf("a's outbox holds %s changes while the pull is parked", n)
	}
	time.Sleep(time.Until(exp.Add(auth.Skew + 2*time.Second))) // past exp and the skew: the Worker refuses the pull
	s.let()
	var out struct {
		Ended string `json:"ended"`
		Code  string `json:"code"`
		Rows  string `json:"rows"`
	}
	e.a.eval(fmt.Sprintf(`const ended = await window.ended[%q];
	  const st = dbs[%q].syncStatus;
	  return { ended, code: st.lastError && st.lastError.code, rows: await dump(%q, %q) }`, name, name, name, sub), &out)
	if out.Ended != "LARDER_UNAUTHORIZED" || out.Code != "LARDER_UNAUTHORIZED" || strings.Count(out.Rows, "\n")+1 != 2 {
		t.Fatalf("the round with the expired token: %+v", out)
	}
	e.a.eval(fmt.Sprintf(`await until(() => dbs[%q].syncStatus.pending === 0, "pending 0 in the status"); tokens[%q] = %q; return true`, name, name, tokenFor(t, sub, nil)), nil)
	want := e.settle(name, sub)
	if strings.Count(want, "\n")+1 != 4 {
		t.Fatalf("after a fresh token:\n%s", want)
	}
	if code := e.a.str(fmt.Sprintf(`return JSON.stringify(dbs[%q].syncStatus.lastError)`, name)); code != "null" {
		t.Fatalf("lastError after the fresh round: %s", code)
	}
	e.verify(sub, want)
}

// A change the server refuses (rows given to another user) is reported,
// by db.sync()'s rejections and a syncreject event naming table and
// primary key, and the device comes back to the server's state: a new row
// the server keeps no version of is removed, an existing row gets the
// server's version back, in the same round; both profiles and D1 agree.
func TestSyncRejectedChangesAreReportedAndUndone(t *testing.T) {
	e := newKillEnv(t)
	const name, sub = "refused", "rita"
	e.a.eval(`quiet(); return true`, nil)
	e.open(e.a, name, sub)
	e.open(e.b, name, sub)
	e.a.eval(fmt.Sprintf(`await until(() => dbs[%q].syncStatus.lastSyncedAt !== null, "a's first round"); return true`, name), nil)
	e.write(e.a, name, sub, 2)
	before := e.settle(name, sub)

	type rejection struct {
		Table, PK, Code string
		Dropped         bool
	}
	var out struct {
		Round struct {
			Pushed, Rejected int
			Rejections       []rejection
		}
		Events []rejection
		Tables []string
		Items  string
	}
	e.a.eval(fmt.Sprintf(`const db = dbs[%q];
	  db.tables.length = 0;
	  await db.exec("INSERT INTO items (id, owner, title) VALUES ('given', 'bob', 'given away')");
	  await db.exec("UPDATE items SET owner = 'bob', title = 'taken' WHERE id = 'r0001'");
	  await db.exec("INSERT INTO items (id, owner, title) VALUES ('kept', '%s', 'mine')");
	  db.tables.length = 0;
	  const round = await db.sync();
	  await until(() => db.rejections.length === 2, "the syncreject event");
	  const items = (await db.query("SELECT id, owner, title FROM items ORDER BY id")).map((r) => r.id + "|" + r.owner + "|" + r.title).join(",");
	  return { round, events: db.rejections, tables: db.tables, items }`, name, sub), &out)
	want := []rejection{{"items", "given", "LARDER_FORBIDDEN", true}, {"items", "r0001", "LARDER_FORBIDDEN", false}}
	if out.Round.Pushed != 1 || out.Round.Rejected != 2 || fmt.Sprint(out.Round.Rejections) != fmt.Sprint(want) || fmt.Sprint(out.Events) != fmt.Sprint(want) {
		t.Fatalf("the round %+v, syncreject %+v; want the rejections %+v", out.Round, out.Events, want)
	}
	if out.Items != "kept|rita|mine,r0001|rita|new,r0002|rita|edited" || fmt.Sprint(out.Tables) != "[items]" {
		t.Fatalf("a after the round: %s (change events %v)", out.Items, out.Tables)
	}
	e.writes++ // 'kept': the one change the server took
	e.seq++
	got := e.settle(name, sub)
	if !strings.Contains(got, "kept|rita|mine") || strings.Count(got, "\n") != strings.Count(before, "\n")+1 {
		t.Fatalf("after the rejections:\n%s\nbefore:\n%s", got, before)
	}
	e.verify(sub, got)
}
