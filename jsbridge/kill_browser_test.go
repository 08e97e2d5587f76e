//go:build !js && browser

package jsbridge_test

import (
	"fmt"
	"testing"
	"time"
)

// killLoop is the in-page body of TestBrowserKillLoop: trials alternate
// between killing the worker during a long migration and during a stream
// of transactions, then reopen and check integrity, a whole migration
// version, and that every transaction whose promise resolved is there and
// none is half there. The kill is the runtime's own teardown
// (worker.terminate(), pending calls rejected): the fault-injection seam.
const killLoop = `
const STORAGE = %q, TRIALS = %d, PREFIX = %q;
const m1 = { version: 1, name: "init", up: "CREATE TABLE tx(id INTEGER PRIMARY KEY, n INTEGER, part INTEGER)" };
// The long migration is a JS function (run in the worker) that reports
// each step on a BroadcastChannel and waits for the page's go-ahead, so the
// page kills the worker exactly inside it: at a random step, or (target 43)
// right after letting the last step through, racing the commit.
const m2 = { version: 2, name: "long", up: async (tx) => {
  // Go-aheads carry the page's trial number; the first one fixes this
  // run's, so a terminated worker that lingers (Chromium lets it run for a
  // moment) is never advanced by a later trial's go-aheads.
  const ch = new BroadcastChannel("larder-killtest");
  let trial = null;
  const step = (k) => new Promise((r) => {
    ch.onmessage = (e) => {
      if (e.data.k === k && (trial === null || e.data.trial === trial)) { trial = e.data.trial; r(); }
    };
    ch.postMessage(k);
  });
  await step(0);
  await tx.exec("CREATE TABLE big(i INTEGER PRIMARY KEY, pad TEXT)");
  for (let k = 0; k < 40; k++) {
    await step(k + 1);
    await tx.exec("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 500) INSERT INTO big SELECT i + ?, printf('%%0100d', i) FROM c", [k * 500]);
  }
  await step(41);
  await tx.exec("CREATE INDEX big_pad ON big(pad)");
  await step(42);
} };
const killCh = new BroadcastChannel("larder-killtest");
let onStep = null;
killCh.onmessage = (e) => onStep && onStep(e.data);
// reachStep lets the migration through every step below k and resolves
// when it reports step k (k = 43: lets every step through).
let currentTrial = -1;
const reachStep = (k) => new Promise((r) => (onStep = (s) => {
  if (s < k) killCh.postMessage({ k: s, trial: currentTrial });
  if (s >= Math.min(k, 42)) { if (k > 42) killCh.postMessage({ k: s, trial: currentTrial }); onStep = null; r(s); }
}));
const sleep = (ms) => new Promise(r => setTimeout(r, ms));
const kill = (db) => db._rt.kill("test: worker terminated");
const problems = [];
const stats = { migrationKills: 0, txKills: 0, midMigration: 0, resolvedTx: 0 };
async function check(name, migs, resolved) {
  const db = await L.open({ name, storage: STORAGE, migrations: [m1] }).catch(e => e);
  if (db instanceof Error) { problems.push(name + ": reopen: " + db.code + " " + db.message); return null; }
  const [ic] = await db.query("PRAGMA integrity_check");
  if (ic.integrity_check !== "ok") problems.push(name + ": integrity_check: " + ic.integrity_check);
  const ms = await db.migrations();
  const [hasBig] = await db.query("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'big'");
  if (ms.length === 2) {
    const [b] = await db.query("SELECT count(*) AS n FROM big");
    if (b.n !== 20000) problems.push(name + ": version 2 with " + b.n + " rows in big");
  } else if (hasBig.n !== 0) problems.push(name + ": version " + ms.length + " but table big exists");
  for (const n of resolved) {
    const [r] = await db.query("SELECT count(*) AS c FROM tx WHERE n = ?", [n]);
    if (r.c !== 3) problems.push(name + ": resolved transaction " + n + " has " + r.c + " of 3 rows");
  }
  const [partial] = await db.query("SELECT count(*) AS c FROM (SELECT n FROM tx GROUP BY n HAVING count(*) <> 3)");
  if (partial.c !== 0) problems.push(name + ": " + partial.c + " half-applied transactions");
  return { db, version: ms.length };
}
// How long an open with the long migration takes here, to aim the kills.
const openMs = 0;
const resolved = [];
// where: what the loop waits for now, read by the Go test if it times out.
const where = (s) => (globalThis.killLoopAt = s);
for (let trial = 0; trial < TRIALS; trial++) {
  if (trial %% 2 === 0) {
    const name = PREFIX + "mig-" + trial;
    const target = Math.floor(Math.random() * 44);
    currentTrial = trial;
    const inMigration = reachStep(target);
    where("trial " + trial + ": open " + name + ", the migration to reach step " + target);
    const p = L.open({ name, storage: STORAGE, migrations: [m1, m2] });
    let db = null;
    p.then(d => db = d, () => {});
    // An open that fails before the step is a problem, not a wait forever.
    const step = await Promise.race([inMigration, p.then(() => new Promise(() => {}), (e) => e)]);
    if (step instanceof Error) {
      problems.push(name + ": open failed before step " + target + ": " + step.code + " " + step.message);
      break;
    }
    const rt = [...L.__runtimes()][0];
    if (trial %% 4 === 2) {
      // The Go runtime dies at once (a fatal error), then the worker goes.
      where("trial " + trial + ": the fatal fault's answer");
      await rt.request({ op: "__fault", kind: "fatal" }).catch(() => {});
    }
    const done = !!db;
    rt.kill("test: worker terminated");
    stats.migrationKills++;
    where("trial " + trial + ": reopen and check " + name);
    const c = await check(name, [m1], []);
    if (c) {
      if (c.version < 2) stats.midMigration++;
      // Killed while the migration waited at a step (target <= 42), it
      // cannot have committed: version 2 here means the kill missed.
      if (target <= 42 && c.version !== 1) problems.push(name + ": killed at step " + step + " of the migration, reopened at version " + c.version);
      await c.db.reset();
    }
  } else {
    const name = PREFIX + "tx";
    where("trial " + trial + ": open " + name);
    const db = await L.open({ name, storage: STORAGE, migrations: [m1] });
    let stop = false;
    const stream = (async () => {
      for (let n = trial * 1000; !stop; n++) {
        try {
          await db.transaction(async (tx) => {
            for (let part = 0; part < 3; part++) await tx.exec("INSERT INTO tx(n, part) VALUES (?, ?)", [n, part]);
          });
          resolved.push(n);
        } catch (e) { return; }
      }
    })();
    await sleep(50 + Math.random() * 400);
    kill(db);
    stop = true;
    where("trial " + trial + ": the transactions to end after the kill");
    await stream;
    stats.txKills++;
    where("trial " + trial + ": reopen and check " + name);
    const c = await check(name, [m1], resolved);
    if (c) await c.db.close();
  }
}
stats.resolvedTx = resolved.length;
return { problems: problems.slice(0, 10), nproblems: problems.length, stats, openMs };
`

// killTrials is the number of kills per storage backend in Chromium;
// killTrialsOther in the other engines, whose worker start-up is slower.
const (
	killTrials      = 50
	killTrialsOther = 16
)

func TestBrowserKillLoop(t *testing.T) {
	onEngines(t, newTestHooksEnvOn, func(t *testing.T, e *env) {
		for _, st := range e.persistent() {
			t.Run(st, func(t *testing.T) {
				e.t = t
				trials := killTrials
				if e.engine != "chromium" {
					trials = killTrialsOther
				}
				var r result
				if err := e.tab.EvalTimeout(15*time.Minute, fmt.Sprintf("T.run(async () => { %s })", fmt.Sprintf(killLoop, st, trials, "kill-"+st+"-")), &r); err != nil {
					var at string
					e.tab.Eval("globalThis.killLoopAt", &at)
					t.Fatalf("%v (the loop was at: %s)", err, at)
				}
				if r.Error != nil {
					t.Fatalf("%s: %s", r.Error.Code, r.Error.Message)
				}
				var v struct {
					Problems  []string       `json:"problems"`
					NProblems int            `json:"nproblems"`
					Stats     map[string]any `json:"stats"`
					OpenMs    float64        `json:"openMs"`
				}
				jsonUnmarshal(r.Value, &v)
				t.Logf("%s %s: %d trials: %v (midMigration: kills that left the database at version 1)", e.engine, st, trials, v.Stats)
				if v.NProblems > 0 {
					t.Fatalf("%d problems after kills: %v", v.NProblems, v.Problems)
				}
				if num(v.Stats["migrationKills"])+num(v.Stats["txKills"]) < float64(trials) || num(v.Stats["resolvedTx"]) == 0 || num(v.Stats["midMigration"]) == 0 {
					t.Fatalf("not enough trials: %v", v.Stats)
				}
			})
		}
	})
}

func num(v any) float64 { f, _ := v.(float64); return f }
