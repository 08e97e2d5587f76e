// The sync scheduler (client/sync.js) between tabs in one process, over
// fake Web Locks and BroadcastChannel (fakes.js), a fake clock and a fake
// worker whose op "sync" answers what each test says: the scheduling tab,
// the debounce of commits, backoff and its reset, the outdated stop,
// failover, and the status in every tab (docs/sync.md, "In the browser").
import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { Syncer, syncOptions, backoff, timing } from "../client/sync.js";
import { larderError } from "../client/errors.js";
import { LockManager, Bus, until } from "./fakes.js";

// Clock is a fake setTimeout: advance(ms) runs what falls due, in order.
class Clock {
  constructor() {
    this.t = 0;
    this.seq = 0;
    this.timers = new Map();
  }
  setTimeout(f, ms) {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, f });
    return id;
  }
  clearTimeout(id) {
    this.timers.delete(id);
  }
  advance(ms) {
    this.t += ms;
    const due = [...this.timers].filter(([, x]) => x.at <= this.t).sort((a, b) => a[1].at - b[1].at);
    for (const [id, x] of due) {
      this.timers.delete(id);
      x.f();
    }
  }
  // next is the delay of the one timer set, or null.
  next() {
    const all = [...this.timers.values()];
    assert.ok(all.length <= 1, `${all.length} timers set`);
    return all.length ? all[0].at - this.t : null;
  }
}

const live = [];
afterEach(() => {
  for (const s of live.splice(0)) s.close();
});

// tab is one page with database "app" open with sync: answer(req) is its
// worker's answer to op "sync" (throw for a failure); db.outbox the
// outbox's count its query reports.
function tab(locks, bus, clock, answer, id) {
  const db = new EventTarget();
  Object.assign(db, {
    name: "app",
    storage: "idb",
    _known: 3,
    _closed: null,
    outbox: 0,
    requests: [],
    statuses: [],
    _rt: {
      dead: null,
      request: async (req) => {
        db.requests.push(req);
        return answer(req);
      },
    },
    query: async () => ({ columns: ["n"], rows: [[db.outbox]] }),
  });
  db.addEventListener("syncstatus", (e) => db.statuses.push(e.detail));
  const online = [];
  const env = {
    locks: locks.forContext(id),
    Channel: bus.forContext(id),
    setTimeout: (f, ms) => clock.setTimeout(f, ms),
    clearTimeout: (t) => clock.clearTimeout(t),
    now: () => new Date(Date.UTC(2026, 0, 1) + clock.t),
    listen: (type, f) => {
      if (type === "online") online.push(f);
      return () => {};
    },
  };
  let n = 0;
  const s = new Syncer(db, { url: "https://edge.test", token: () => `${id}-token-${++n}`, config: "[tables.items]\nowner = \"owner\"\n" }, env);
  s.online = () => online.forEach((f) => f());
  live.push(s);
  s.start();
  return { db, s };
}

const ok = () => ({ pushed: 1, pulled: 2, rejected: 0, tables: ["items"] });

test("syncOptions: checks the option and takes the bundle's declaration", () => {
  const token = () => "t";
  assert.throws(() => syncOptions({ url: "https://e" }, []), { code: "LARDER_INVALID_ARGUMENT", message: /token/ });
  assert.throws(() => syncOptions({ token }, []), { code: "LARDER_INVALID_ARGUMENT", message: /url/ });
  assert.throws(() => syncOptions({ url: "https://e", token }, []), { code: "LARDER_INVALID_MIGRATIONS", message: /sync\.toml/ });
  const migs = Object.assign([], { sync: "[tables.a]\nowner = \"o\"\n" });
  assert.deepEqual(syncOptions({ url: "https://e/", token }, migs), { url: "https://e", token, config: migs.sync });
  assert.equal(syncOptions({ url: "https://e", token, config: "x" }, migs).config, "x");
});

test("backoff doubles from 1 s to 60 s", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map(backoff), [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
});

test("one tab schedules: a round at once, then every period; the status reaches every tab", async () => {
  const locks = new LockManager(), bus = new Bus(), clock = new Clock();
  const a = tab(locks, bus, clock, ok, "a");
  await until(() => a.s.leader, "a leads");
  const b = tab(locks, bus, clock, ok, "b");
  clock.advance(0);
  await until(() => a.db.requests.length === 1 && a.s.status.connected, "a's first round");
  const req = a.db.requests[0];
  assert.deepEqual(
    { op: req.op, db: req.db, url: req.url, token: req.token, known: req.known },
    { op: "sync", db: "app", url: "https://edge.test", token: "a-token-1", known: 3 },
  );
  assert.match(req.config, /tables\.items/);
  assert.equal(b.s.leader, false);
  await until(() => b.s.status.lastSyncedAt === a.s.status.lastSyncedAt, "b sees a's status");
  assert.ok(b.db.statuses.some((s) => s.connected && s.lastSyncedAt !== null));
  assert.equal(clock.next(), timing.periodMs);
  clock.advance(timing.periodMs);
  await until(() => a.db.requests.length === 2, "the periodic round");
  assert.equal(b.db.requests.length, 0, "only the scheduling tab runs rounds by itself");
});

test("commits that captured changes are pushed after the debounce, once", async () => {
  const locks = new LockManager(), bus = new Bus(), clock = new Clock();
  const a = tab(locks, bus, clock, ok, "a");
  await until(() => a.s.leader, "a leads");
  clock.advance(0);
  await until(() => a.s.status.connected && clock.next() === timing.periodMs, "first round done");
  a.s.onChange(["drafts"]); // no captured change: nothing to push
  assert.equal(clock.next(), timing.periodMs);
  for (let i = 0; i < 3; i++) a.s.onChange(["_sync_outbox", "_sync_state", "items"]);
  assert.equal(clock.next(), timing.debounceMs);
  clock.advance(timing.debounceMs);
  await until(() => a.db.requests.length === 2 && clock.next() === timing.periodMs, "one round for three commits");
});

test("failures back off, doubling; a success resets; online retries at once", async () => {
  const locks = new LockManager(), bus = new Bus(), clock = new Clock();
  let down = true;
  const a = tab(locks, bus, clock, () => {
    if (down) throw larderError("LARDER_HTTP_ERROR", "sync: fetch failed");
    return ok();
  }, "a");
  await until(() => a.s.leader, "a leads");
  clock.advance(0);
  const waits = [];
  for (let i = 1; i <= 7; i++) {
    await until(() => a.db.requests.length === i && clock.next() !== null && a.s.failures === i, `failure ${i}`);
    waits.push(clock.next());
    a.s.onChange(["_sync_outbox"]); // a commit during backoff does not hurry it
    assert.equal(clock.next(), waits.at(-1));
    clock.advance(clock.next());
  }
  assert.deepEqual(waits, [1000, 2000, 4000, 8000, 16000, 32000, 60000]);
  assert.equal(a.s.status.connected, false);
  assert.equal(a.s.status.lastError.code, "LARDER_HTTP_ERROR");
  await until(() => a.db.requests.length === 8 && a.s.failures === 8, "failure 8");
  down = false;
  a.s.online();
  assert.equal(clock.next(), 0);
  clock.advance(0);
  await until(() => a.s.status.connected && a.s.failures === 0, "back online");
  assert.equal(a.s.status.lastError, null);
  assert.equal(clock.next(), timing.periodMs);
});

test("LARDER_OUTDATED stops uploads in every tab until reload", async () => {
  const locks = new LockManager(), bus = new Bus(), clock = new Clock();
  const outdated = () => {
    throw larderError("LARDER_OUTDATED", "this device is at migration 2, the server has breaking migration 3");
  };
  const a = tab(locks, bus, clock, outdated, "a");
  await until(() => a.s.leader, "a leads");
  const b = tab(locks, bus, clock, ok, "b");
  clock.advance(0);
  await until(() => a.s.status.outdated, "a outdated");
  assert.equal(clock.next(), null, "no round scheduled");
  a.s.onChange(["_sync_outbox"]);
  a.s.online();
  assert.equal(clock.next(), null);
  await assert.rejects(a.s.sync(), { code: "LARDER_OUTDATED" });
  await until(() => b.s.status.outdated, "b outdated");
  await assert.rejects(b.s.sync(), { code: "LARDER_OUTDATED" });
  assert.equal(a.db.requests.length, 1);
  assert.equal(b.db.requests.length, 0, "b uploads nothing");
});

test("db.sync() from another tab runs a round there and resolves with the counts", async () => {
  const locks = new LockManager(), bus = new Bus(), clock = new Clock();
  const a = tab(locks, bus, clock, ok, "a");
  await until(() => a.s.leader, "a leads");
  const b = tab(locks, bus, clock, ok, "b");
  b.db.outbox = 0;
  assert.deepEqual(await b.s.sync(), { pushed: 1, pulled: 2, rejected: 0 });
  assert.equal(b.db.requests[0].token, "b-token-1");
  await until(() => a.s.status.connected, "a sees b's round");
});

test("the next tab takes the scheduling over when the first goes", async () => {
  const locks = new LockManager(), bus = new Bus(), clock = new Clock();
  const a = tab(locks, bus, clock, ok, "a");
  await until(() => a.s.leader, "a leads");
  const b = tab(locks, bus, clock, ok, "b");
  clock.advance(0);
  await until(() => a.db.requests.length === 1, "a's round");
  a.s.close();
  locks.kill("a");
  bus.kill("a");
  await until(() => b.s.leader, "b leads");
  clock.advance(0);
  await until(() => b.db.requests.length === 1, "b's round");
});

test("pending follows the outbox; a failed token is LARDER_UNAUTHORIZED", async () => {
  const locks = new LockManager(), bus = new Bus(), clock = new Clock();
  const a = tab(locks, bus, clock, ok, "a");
  await until(() => a.s.leader, "a leads");
  a.db.outbox = 4;
  a.s.onChange(["_sync_outbox"]);
  await until(() => a.s.status.pending === 4, "pending 4");
  a.s.opts.token = async () => {
    throw new Error("signed out");
  };
  await assert.rejects(a.s.sync(), { code: "LARDER_UNAUTHORIZED", message: /signed out/ });
  assert.equal(a.s.status.lastError.code, "LARDER_UNAUTHORIZED");
});
