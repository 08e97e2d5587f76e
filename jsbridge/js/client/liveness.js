// liveness.js — how long a forwarded request waits, and what an owner does
// to be seen alive: the timers of docs/PROTOCOL.md, "Liveness", over one
// SharedDb (owner.js).

import { failure, TIMEOUT } from "./errors.js";
import { MSG, contextGone, isHeld } from "./channel.js";

const LIVENESS_MS = 1000;
const BEAT_MS = 1000; // the owner's heartbeat while it serves others
const BEAT_IDLE_MS = 10000; // no request from others for this long: no beats
const GONE_MS = 3000;
const STALL_MS = 600000; // a worker in one long statement cannot beat: a frozen tab only (60 s was too short)
const TX_WATCH_MS = 500;

// Forwarding's limits and how many requests outlived timeoutMs as their owner
// lived: tests shorten them and read the count (Host's "__forwarding").
export const forwarding = { timeoutMs: GONE_MS, stallMs: STALL_MS, keptAlive: 0 };

// watchOwner applies the liveness rules (see "How long a forwarded
// request waits") to the pending requests, every LIVENESS_MS while there
// are any.
export function watchOwner(db) {
  if (db.watching) return;
  db.watching = setInterval(async () => {
    if (db.pending.size === 0) {
      clearInterval(db.watching);
      db.watching = null;
      return;
    }
    const held = await isHeld(db.locks, db.lockName).catch(() => false);
    const now = Date.now();
    const { timeoutMs, stallMs } = forwarding;
    for (const [id, p] of db.pending) {
      if (!held) {
        if (now - p.alive > timeoutMs) {
          db.settle(id, failure(TIMEOUT, `no tab has owned database "${db.name}" for ${timeoutMs} ms: nobody can answer ${p.msg.op}`));
        }
        continue;
      }
      p.alive = now;
      if (!p.kept && now - p.t0 > timeoutMs) {
        p.kept = true;
        forwarding.keptAlive++;
      }
      if (!p.started && now - Math.max(p.t0, db.lastBeat) > stallMs) {
        db.settle(id, failure(TIMEOUT, `the tab that owns database "${db.name}" has shown no progress for ${stallMs} ms (a frozen tab?): nobody answered ${p.msg.op}`));
      }
    }
  }, Math.min(LIVENESS_MS, forwarding.timeoutMs));
}

// heartbeat: while other contexts send requests, the owner posts
// {t:"beat"} every BEAT_MS (none while its worker is blocked in a long
// statement: its acknowledgements cover that).
export function heartbeat(db) {
  db.lastRemote = Date.now();
  if (db.beating) return;
  db.beating = setInterval(() => {
    if (db.role !== "owner" || db.releasing || Date.now() - db.lastRemote > BEAT_IDLE_MS) {
      clearInterval(db.beating);
      db.beating = null;
      return;
    }
    db.channel.postMessage({ t: MSG.beat, from: db.id });
  }, BEAT_MS);
}

// watchTx rolls back transaction tx, begun for context `from`, as soon
// as that context is gone (its tab closed mid-transaction), so the others
// are not kept waiting.
export function watchTx(db, from, tx) {
  db.txWatch ||= new Set();
  db.txWatch.add(tx);
  const timer = setInterval(async () => {
    if (!db.txWatch.has(tx) || db.role !== "owner") {
      clearInterval(timer);
      return;
    }
    if (await contextGone(db.locks, from)) {
      clearInterval(timer);
      db.txWatch.delete(tx);
      db.host.runtime.call("rollback", { db: db.name, tx }).catch(() => {});
    }
  }, TX_WATCH_MS);
}
