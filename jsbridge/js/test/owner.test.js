// The owner protocol (client/owner.js) between contexts in one process,
// over fake Web Locks and a fake BroadcastChannel (fakes.js): election,
// forwarding, failover, forged messages and the liveness rules
// (docs/PROTOCOL.md, "Tab ↔ tab" and "Liveness").
import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { SharedDb, forwarding } from "../client/owner.js";
import { LockManager, Bus, until } from "./fakes.js";

let seq = 0;
const live = [];
const defaults = { ...forwarding };

// context is one tab's worker: a SharedDb of database "db" over a fake
// runtime whose exec answers {changes: 1, by: id}; host.gate (a Promise)
// holds execs, as a long statement does.
function context(locks, bus, tag = "ctx") {
  const id = `${tag}-${++seq}`;
  const env = { locks: locks.forContext(id), Channel: bus.forContext(id), id };
  const calls = [];
  const host = {
    started: Promise.resolve(),
    lastRequest: 0,
    emitted: [],
    gate: null,
    runtime: {
      call: async (op, req) => {
        calls.push({ op, req });
        if (op === "exec" && host.gate) await host.gate;
        if (op === "exec") return { changes: 1, by: id };
        if (op === "open") return { storage: "idb", version: 1 };
        return null;
      },
    },
    ordered(op, req) {
      return this.runtime.call(op, req);
    },
    prepareFiles() {},
    async dropPrepared() {},
    emit(m) {
      this.emitted.push(m);
    },
  };
  const db = new SharedDb(host, "db", "idb", env);
  const ctx = { id, host, db, calls, kill: () => (locks.kill(id), bus.kill(id), stop(ctx)) };
  live.push(ctx);
  return ctx;
}

function stop(ctx) {
  const db = ctx.db;
  clearInterval(db.watching);
  clearInterval(db.beating);
  for (const p of db.pending.values()) clearInterval(p.timer);
  db.releasing = true;
  db.txWatch?.clear();
}

const open = { op: "open", name: "db", storage: "idb", migrations: [] };
const exec = (sql) => ({ op: "exec", db: "db", storage: "idb", sql });

afterEach(() => {
  for (const c of live.splice(0)) stop(c);
  Object.assign(forwarding, defaults);
});

// gate is a Promise with its resolve.
function gate() {
  let open;
  const p = new Promise((r) => (open = r));
  p.open = open;
  return p;
}

test("the first context owns, the next forwards to it", async () => {
  const locks = new LockManager(), bus = new Bus();
  const a = context(locks, bus), b = context(locks, bus);
  assert.equal((await a.db.route(open)).ok, true);
  assert.equal(a.db.role, "owner");
  const res = await b.db.route(open);
  assert.equal(b.db.role, "client");
  assert.equal(res.ok, true);
  const r = await b.db.route(exec("INSERT 1"));
  assert.deepEqual(r.result, { changes: 1, by: a.id });
  assert.ok(a.calls.some((c) => c.op === "exec" && c.req.sql === "INSERT 1"), "the owner ran the client's exec");
  assert.ok(!b.calls.some((c) => c.op === "exec"), "the client ran nothing itself");
  const kinds = bus.posted.filter((m) => m.from === a.id).map((m) => m.data.t);
  assert.ok(kinds.includes("ack") && kinds.includes("res"), `owner posted ${kinds}`);
});

test("a request no owner acknowledged goes to the next owner", async () => {
  const locks = new LockManager(), bus = new Bus();
  const a = context(locks, bus), b = context(locks, bus);
  await a.db.route(open);
  await b.db.route(open);
  a.host.emitted.length = 0;
  // The owner stops hearing the channel (its worker is stuck) and then dies.
  a.db.channel.onmessage = null;
  const pending = b.db.route(exec("INSERT 2"));
  await until(() => bus.posted.some((m) => m.from === b.id && m.data.t === "req" && m.data.msg.sql === "INSERT 2"), "the forwarded request");
  a.kill();
  const r = await pending;
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(b.db.role, "owner");
  assert.deepEqual(r.result, { changes: 1, by: b.id }, "the new owner ran it");
});

test("a request the gone owner had acknowledged rejects with LARDER_OWNER_GONE", async () => {
  const locks = new LockManager(), bus = new Bus();
  const a = context(locks, bus), b = context(locks, bus);
  await a.db.route(open);
  await b.db.route(open);
  a.host.gate = gate(); // the owner's statement never finishes
  const pending = b.db.route(exec("INSERT 3"));
  await until(() => [...b.db.pending.values()].some((p) => p.started === a.id), "the owner's ack");
  a.kill();
  const r = await pending;
  assert.equal(r.ok, false);
  assert.equal(r.error.code, "LARDER_OWNER_GONE");
  assert.match(r.error.message, /outcome is unknown/);
});

test("an owner that acknowledged and closed before its ack was checked: the request is not run again", async () => {
  const locks = new LockManager(), bus = new Bus();
  const a = context(locks, bus), c = context(locks, bus), b = context(locks, bus);
  await a.db.route(open);
  await c.db.route(open); // c queued for the lock first: c owns next
  await b.db.route(open);
  a.host.gate = gate(); // the owner's statement runs when it closes
  // The owner closes right after posting its ack, so the ack reaches b
  // after the lock went to c: b's check of the sender (the lock holder)
  // fails, as it did in WebKit when the owner tab closed.
  const post = a.db.channel.postMessage.bind(a.db.channel);
  a.db.channel.postMessage = (m) => {
    post(m);
    if (m.t === "ack") a.kill();
  };
  b.db.verified = null; // no recent check of a to reuse
  const r = await b.db.route(exec("INSERT 4"));
  assert.equal(r.ok, false, JSON.stringify(r));
  assert.equal(r.error.code, "LARDER_OWNER_GONE");
  assert.equal(c.db.role, "owner");
  assert.equal(c.calls.filter((x) => x.op === "exec").length, 0, "the new owner did not run it again");
});

// lagging makes every later message of ctx reach the others ms late, in
// the order posted, even once ctx is gone (BroadcastChannel orders one
// sender's messages, not two senders'); after(m) runs once m is posted.
function lagging(bus, ctx, ms, after = () => {}) {
  const Relay = bus.forContext(ctx.id + "-relay");
  const relay = new Relay("larder:db");
  let last = Promise.resolve();
  ctx.db.channel.postMessage = (m) => {
    last = last.then(() => new Promise((r) => setTimeout(r, ms))).then(() => relay.postMessage(m));
    after(m);
  };
}

test("the next owner's own request, answered by the owner that closed: its late ack and answer are used, it is not run again", async () => {
  const locks = new LockManager(), bus = new Bus();
  const a = context(locks, bus), c = context(locks, bus);
  await a.db.route(open);
  await c.db.route(open); // c queued for the lock: c owns next
  // a's messages lag; it closes (gracefully) as soon as it answered, so
  // c gets the lock before a's ack, answer and bye reach it.
  lagging(bus, a, 50, (m) => m.t === "res" && m.res.result?.changes && a.db.release());
  const r = await c.db.route(exec("INSERT 10"));
  assert.equal(c.db.role, "owner");
  assert.deepEqual(r.result, { changes: 1, by: a.id }, JSON.stringify(r));
  assert.equal(c.calls.filter((x) => x.op === "exec").length, 0, "the new owner did not run it again");
});

test("the next owner's own request, acknowledged by an owner killed before it answered: outcome unknown, not run again", async () => {
  const locks = new LockManager(), bus = new Bus();
  const a = context(locks, bus), c = context(locks, bus);
  await a.db.route(open);
  await c.db.route(open);
  a.host.gate = gate(); // the statement runs when a dies
  lagging(bus, a, 50, (m) => m.t === "ack" && a.kill());
  const r = await c.db.route(exec("INSERT 11"));
  assert.equal(c.db.role, "owner");
  assert.equal(r.ok, false, JSON.stringify(r));
  assert.equal(r.error.code, "LARDER_OWNER_GONE");
  assert.equal(c.calls.filter((x) => x.op === "exec").length, 0, "the new owner did not run it again");
});

test("a client's request: the new owner's announcement before the old owner's ack does not run it twice", async () => {
  const locks = new LockManager(), bus = new Bus();
  const a = context(locks, bus), c = context(locks, bus), b = context(locks, bus);
  await a.db.route(open);
  await c.db.route(open); // c owns next
  await b.db.route(open);
  lagging(bus, a, 50, (m) => m.t === "res" && m.res.result?.changes && a.db.release());
  const r = await b.db.route(exec("INSERT 12"));
  assert.deepEqual(r.result, { changes: 1, by: a.id }, JSON.stringify(r));
  await until(() => c.db.role === "owner", "c's takeover");
  assert.equal(c.calls.filter((x) => x.op === "exec").length, 0, "the new owner did not run it again");
});

test("liveness: an acknowledged request waits for a slow owner past timeoutMs", async () => {
  forwarding.timeoutMs = 100;
  forwarding.stallMs = 150;
  const locks = new LockManager(), bus = new Bus();
  const a = context(locks, bus), b = context(locks, bus);
  await a.db.route(open);
  await b.db.route(open);
  const kept = forwarding.keptAlive;
  a.host.gate = gate();
  const pending = b.db.route(exec("INSERT 4"));
  // Past both limits while the owner lives and runs the statement.
  await until(() => forwarding.keptAlive > kept, "the request to outlive timeoutMs");
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(b.db.pending.size, 1, "the request is still waiting");
  a.host.gate.open();
  const r = await pending;
  assert.deepEqual(r.result, { changes: 1, by: a.id });
});

test("liveness: the owner beats while others' requests run", async () => {
  const locks = new LockManager(), bus = new Bus();
  const a = context(locks, bus), b = context(locks, bus);
  await a.db.route(open);
  await b.db.route(open);
  a.host.gate = gate();
  const pending = b.db.route(exec("INSERT 5"));
  await until(() => bus.posted.some((m) => m.from === a.id && m.data.t === "beat"), "a beat", 5000);
  await until(() => b.db.lastBeat > 0, "the client to take the beat");
  a.host.gate.open();
  assert.equal((await pending).ok, true);
});

test("liveness: a frozen owner (lock held, no ack, no beat) times out after stallMs", async () => {
  forwarding.timeoutMs = 100;
  forwarding.stallMs = 300;
  const locks = new LockManager(), bus = new Bus();
  const a = context(locks, bus), b = context(locks, bus);
  await a.db.route(open);
  await b.db.route(open);
  a.db.channel.onmessage = null; // frozen: holds its locks, hears nothing
  const r = await b.db.route(exec("INSERT 6"));
  assert.equal(r.ok, false);
  assert.equal(r.error.code, "LARDER_TIMEOUT");
  assert.match(r.error.message, /no progress/);
});

test("liveness: with no owner at all a request rejects after timeoutMs, not 20 s", async () => {
  forwarding.timeoutMs = 200;
  const locks = new LockManager(), bus = new Bus();
  const a = context(locks, bus), b = context(locks, bus);
  await a.db.route(open);
  await b.db.route(open);
  a.db.channel.onmessage = null;
  locks.queue.clear(); // nobody queued to take over
  const pending = b.db.route(exec("INSERT 7"));
  a.kill();
  const r = await pending;
  assert.equal(r.ok, false);
  assert.equal(r.error.code, "LARDER_TIMEOUT");
  assert.match(r.error.message, /no tab has owned database "db" for 200 ms/);
});

test("a forged ack and answer to a request no owner has acknowledged yet are ignored", async () => {
  const locks = new LockManager(), bus = new Bus();
  const a = context(locks, bus), b = context(locks, bus);
  await a.db.route(open);
  await b.db.route(open);
  const hear = a.db.channel.onmessage;
  a.db.channel.onmessage = null; // the owner hears nothing for now
  const pending = b.db.route(exec("INSERT 13"));
  await until(() => b.db.pending.size === 1, "the forwarded request");
  const [id] = [...b.db.pending.keys()];
  const Forger = bus.forContext("forger-2");
  const f = new Forger("larder:db");
  f.postMessage({ t: "ack", to: b.id, id, owner: "forger-2" });
  f.postMessage({ t: "res", to: b.id, id, from: "forger-2", res: { ok: true, result: "forged" } });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(b.db.pending.get(id)?.claimed, undefined, "the forged ack claimed nothing");
  a.db.channel.onmessage = hear; // the re-posts reach the owner
  const r = await pending;
  assert.deepEqual(r.result, { changes: 1, by: a.id });
});

test("forged owner claims and answers are ignored", async () => {
  const locks = new LockManager(), bus = new Bus();
  const a = context(locks, bus), b = context(locks, bus);
  await a.db.route(open);
  await b.db.route(open);
  a.host.gate = gate();
  const pending = b.db.route(exec("INSERT 8"));
  await until(() => b.db.pending.size === 1 && [...b.db.pending.values()][0].started, "the ack");
  const [id] = [...b.db.pending.keys()];
  // A script of the origin that holds no lock speaks as the owner.
  const Forger = bus.forContext("forger-1");
  const f = new Forger("larder:db");
  f.postMessage({ t: "owner", owner: "forger-1" });
  f.postMessage({ t: "res", to: b.id, id, from: "forger-1", res: { ok: true, result: "forged" } });
  await new Promise((r) => setTimeout(r, 100));
  a.host.gate.open();
  const r = await pending;
  assert.deepEqual(r.result, { changes: 1, by: a.id });
  assert.equal(b.db.ownerId, a.id);
});
