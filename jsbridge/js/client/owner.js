// owner.js — many tabs: one owner per database, the others forward to it.
//
// Every context that opens database NAME asks for the Web Lock
// "larder:NAME"; the holder is the owner: its larder.wasm has the database
// open and runs every request, its own and those other contexts forward
// over the BroadcastChannel "larder:NAME". The others queue for the lock,
// so when the owner goes (tab closed, worker dead, page hidden) the next
// one takes over and announces itself. Forwarded requests are re-posted
// until acknowledged; those never acknowledged go to the new owner (once
// the old one said "bye", all its acks sent, or BYE_MS after it vanished),
// those acknowledged by a gone owner reject with LARDER_OWNER_GONE. How long a
// request waits follows the owner's liveness (liveness.js). The messages,
// their checks (channel.js) and the liveness rules are in
// docs/PROTOCOL.md, "Tab ↔ tab" and "Liveness".

import { failure, wireError, OWNER_GONE } from "./errors.js";
import { normalizeOpen } from "./migrations.js";
import { CONTEXT_ID, DB_LOCK, MSG, VERIFIED_MS, checkMessage, contextLocked, isLockHolder } from "./channel.js";
import { forwarding, watchOwner, heartbeat, watchTx } from "./liveness.js";

export { forwarding };

const RESEND_MS = 250;
// An owner that went without its "bye" (killed) may have acknowledged a
// request in a message still on its way: unacknowledged requests wait
// this long for it before they go to the next owner.
const BYE_MS = 1000;
const SEEN_MS = 60000;


export class SharedDb {
  // env: {locks, Channel}, the platform's navigator.locks and
  // BroadcastChannel (fakes in the Node tests).
  constructor(host, name, storage, env) {
    this.host = host;
    this.id = env.id || CONTEXT_ID; // this context on the channel
    this.locks = env.locks;
    // Held for as long as this context lives: an owner tells from it that
    // the context behind a transaction died (contextGone).
    this.contextLocked = contextLocked(this.locks, this.id);
    this.name = name;
    this.storage = storage;
    this.lockName = DB_LOCK + name;
    this.role = "none"; // "owner" | "client" | "none"
    this.ownerId = null;
    this.serving = false;
    this.handles = 0; // open handles of this context
    this.pending = new Map(); // forwarded requests of this context
    this.byes = new Set(); // owners that said "bye": all their acks came before it
    this.byeWaits = new Map(); // owner → resolves of those waiting for its bye
    this.seen = new Map(); // requests run for others: key → result | null
    this.answered = []; // [key, Date.now()] of answers kept in seen, oldest first
    this.inflight = 0;
    this.txOwner = new Map(); // tx id → owner that began it
    this.seq = 0;
    this.electing = null;
    this.verified = null; // {id, at}: the owner, as last checked
    this.inbox = null; // Promise of the owner's messages being checked, in order
    this.lastBeat = 0; // Date.now() of the owner's last sign of life on the channel
    this.lastRemote = 0; // Date.now() of the last request of another context (owner)
    this.beating = null;
    this.channel = new env.Channel(this.lockName);
    this.channel.onmessage = (e) => this.onChannel(e.data);
    this.channel.onmessageerror = () => {}; // undeserializable: dropped
  }

  // elect settles once this context knows its role.
  elect() {
    if (this.electing) return this.electing;
    this.electing = new Promise((resolve) => {
      this.locks.request(this.lockName, { ifAvailable: true }, async (lock) => {
        if (lock) {
          await this.becomeOwner(false);
          resolve();
          return this.hold();
        }
        this.role = "client";
        this.channel.postMessage({ t: MSG.hello, from: this.id });
        resolve();
        // Queue for the takeover.
        this.locks.request(this.lockName, async () => {
          if (this.role === "none") return; // released meanwhile
          await this.becomeOwner(true);
          return this.hold();
        });
      });
    });
    return this.electing;
  }

  hold() {
    return new Promise((r) => (this.releaseLock = r));
  }

  // becomeOwner: on a takeover the database was open elsewhere, so open it
  // here at once; on a first election the page's own open() opens it.
  async becomeOwner(takeover) {
    const prev = this.ownerId;
    this.role = "owner";
    this.ownerId = this.id;
    // On OPFS, open the database's sync access handles at once, all in
    // parallel, whether larder.wasm runs yet or not: its VFS adopts them
    // when it opens the database (the takeover's serve, or the open).
    if (this.storage === "opfs" && !this.serving) this.host.prepareFiles(this.name);
    if (takeover) await this.serve().catch(() => {});
    await this.contextLocked; // others check this claim against the context lock
    this.channel.postMessage({ t: MSG.owner, owner: this.id });
    // Our own forwarded requests: not started → run here; started by the
    // old owner → outcome unknown.
    for (const [id, p] of this.pending) this.reroute(id, p, this.id, prev);
  }

  // serve opens the database for serving (no migrations: each context's
  // open() validates and applies its own).
  async serve() {
    if (this.serving) return;
    await this.host.started;
    await this.host.runtime.call("open", { name: this.name, storage: this.storage, migrations: [] });
    this.serving = true;
  }

  async route(msg) {
    if (msg.tx != null && this.txOwner.has(msg.tx) && this.txOwner.get(msg.tx) !== this.currentOwner()) {
      return failure(OWNER_GONE, `the tab that ran this transaction closed; it was rolled back`);
    }
    // An election under way (an earlier request's, made while larder.wasm
    // was still starting) is joined, never run twice: a second lock request would lose to the
    // first and make this context a client of itself.
    await this.elect();
    const res = this.role === "owner" ? await this.local(msg) : await this.forward(msg);
    if (msg.op === "begin" && res.ok) this.txOwner.set(res.result, res.owner || this.id);
    if ((msg.op === "commit" || msg.op === "rollback") && msg.tx != null) this.txOwner.delete(msg.tx);
    return res;
  }

  currentOwner() {
    return this.role === "owner" ? this.id : this.ownerId;
  }

  async local(msg) {
    try {
      await this.host.started;
      // An open opens the database itself (one read of _migrations when
      // the schema is current); other calls need it open for serving.
      // After a reset only an open brings the database back: older
      // handles get LARDER_CLOSED rather than a fresh empty database.
      if (msg.op !== "reset" && msg.op !== "open" && !this.wasReset) await this.serve();
      // A reset deletes the files: handles prepared for an open that has
      // not come yet would hold them.
      if (msg.op === "reset") await this.host.dropPrepared(this.name);
      const req = msg.op === "open" ? normalizeOpen(msg) : msg;
      const result = await this.host.ordered(msg.op, req);
      if (msg.op === "open") {
        this.serving = true;
        this.wasReset = false;
      }
      if (msg.op === "reset") {
        this.serving = false;
        this.wasReset = true;
      }
      return { ok: true, result, owner: this.id };
    } catch (e) {
      if (msg.op === "reset") this.serving = false;
      return { ok: false, error: wireError(e) };
    }
  }

  forward(msg) {
    return new Promise((resolve) => {
      const id = ++this.seq;
      const now = Date.now();
      // sentTo: the owners it was addressed to (each checked as owner when
      // learnt): their acks count unchecked (the "ack" case).
      const p = { msg, resolve, started: null, t0: now, alive: now, sentTo: new Set() };
      this.pending.set(id, p);
      // To the owner known (or any): a next owner runs only a re-post.
      const post = () => {
        if (this.ownerId != null) p.sentTo.add(this.ownerId);
        this.channel.postMessage({ t: MSG.req, from: this.id, to: this.ownerId ?? undefined, id, msg });
      };
      p.post = post;
      post();
      p.timer = setInterval(() => {
        if (!p.started && !p.claimed && !p.held) post();
      }, RESEND_MS);
      watchOwner(this);
    });
  }

  // afterBye resolves when owner said "bye", or after BYE_MS.
  afterBye(owner) {
    return new Promise((resolve) => {
      if (this.byes.has(owner)) return resolve();
      this.byeWaits.set(owner, [...(this.byeWaits.get(owner) || []), resolve]);
      setTimeout(() => {
        const left = (this.byeWaits.get(owner) || []).filter((r) => r !== resolve);
        if (left.length) this.byeWaits.set(owner, left);
        else this.byeWaits.delete(owner);
        resolve();
      }, BYE_MS);
    });
  }

  // bye tells the others that this owner answers nothing more: every ack
  // it posted came before (reroute).
  bye() {
    try {
      this.channel.postMessage({ t: MSG.bye, from: this.id });
    } catch {} // the channel is closed: nobody hears it
  }

  settle(id, res) {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearInterval(p.timer);
    p.resolve(res);
  }

  // reroute moves pending request id to newOwner, which took over from
  // prev: acknowledged by another → outcome unknown; not acknowledged →
  // run there, once prev said "bye" (or BYE_MS passed), since its ack may
  // still be on its way (BroadcastChannel orders no two senders' messages).
  reroute(id, p, newOwner, prev = newOwner) {
    const by = p.started || p.claimed;
    if (by && by !== newOwner) {
      this.settle(id, failure(OWNER_GONE, `the tab that owned database "${this.name}" closed while running ${p.msg.op}; its outcome is unknown`));
    } else if (!by && prev != null && prev !== newOwner && !this.byes.has(prev)) {
      if (p.held) return;
      p.held = true;
      this.afterBye(prev).then(() => {
        p.held = false;
        if (this.pending.get(id) === p) this.reroute(id, p, this.currentOwner());
      });
    } else if (!by) {
      if (newOwner === this.id) {
        this.pending.delete(id);
        clearInterval(p.timer);
        this.local(p.msg).then(p.resolve);
      } else p.post();
    }
  }

  onChannel(m) {
    if (!checkMessage(m, this.name)) return; // malformed: dropped
    switch (m.t) {
      case "req":
        this.host.lastRequest = performance.now();
        if (this.role === "owner" && (m.to == null || m.to === this.id)) {
          heartbeat(this);
          this.serveRemote(m);
        }
        break;
      case "beat":
        this.fromOwner(m.from, () => (this.lastBeat = Date.now()));
        break;
      case "hello":
        if (this.role === "owner") this.channel.postMessage({ t: MSG.owner, owner: this.id });
        break;
      case "owner":
        if (m.owner === this.id) break;
        this.fromOwner(m.owner, () => {
          const prev = this.ownerId;
          this.ownerId = m.owner;
          this.byes.delete(m.owner);
          this.lastBeat = Date.now();
          for (const [id, p] of this.pending) this.reroute(id, p, m.owner, prev);
        });
        break;
      case "bye":
        this.byes.add(m.from);
        for (const resolve of this.byeWaits.get(m.from) || []) resolve();
        this.byeWaits.delete(m.from);
        break;
      case "ack": {
        if (m.to !== this.id) break;
        // From an owner it was addressed to: noted unchecked, also by a
        // context that took over since (the acknowledging owner, closed
        // since, fails the check yet may have run it: never re-posted nor
        // run elsewhere, reroute). Anyone else's is checked (fromOwner).
        const c = this.pending.get(m.id);
        if (c && !c.started && !c.claimed && c.sentTo.has(m.owner)) c.claimed = m.owner;
        this.fromOwner(m.owner, () => {
          const p = this.pending.get(m.id);
          if (p && !p.started) p.started = m.owner;
          this.ownerId = m.owner;
          this.lastBeat = Date.now();
        });
        break;
      }
      case "res": {
        if (m.to !== this.id) break;
        // The answer of the owner that acknowledged it (checked then): it
        // may have given the lock up since, having answered first.
        const p = this.pending.get(m.id);
        if (p && (p.started || p.claimed) === m.from) this.settle(m.id, m.res);
        else this.fromOwner(m.from, () => this.settle(m.id, m.res));
        break;
      }
      case "event":
        this.fromOwner(m.from, () => {
          if (this.handles > 0) this.host.emit({ type: "event", db: m.db, detail: m.detail });
        });
        break;
    }
  }

  // fromOwner runs fn if context id is the owner of the database (the
  // holder of its Web Lock), else drops it. Messages are handled in the
  // order they came: a message waits for the checks of those before it.
  fromOwner(id, fn) {
    if (this.role === "owner") return; // only this context may speak as owner
    const v = this.verified;
    if (!this.inbox && v && v.id === id && performance.now() - v.at < VERIFIED_MS) return fn();
    const run = (this.inbox || Promise.resolve())
      .then(() => {
        const v = this.verified;
        if (v && v.id === id && performance.now() - v.at < VERIFIED_MS) return true;
        return isLockHolder(this.locks, this.lockName, id);
      })
      .then((ok) => {
        if (!ok || this.role === "owner") return;
        this.verified = { id, at: performance.now() };
        fn();
      })
      .catch(() => {});
    this.inbox = run;
    run.then(() => {
      if (this.inbox === run) this.inbox = null;
    });
  }

  async serveRemote(m) {
    const key = m.from + ":" + m.id;
    if (this.seen.has(key)) {
      const done = this.seen.get(key);
      if (done) this.channel.postMessage({ t: MSG.res, to: m.from, from: this.id, id: m.id, res: done });
      else this.channel.postMessage({ t: MSG.ack, to: m.from, id: m.id, owner: this.id });
      return;
    }
    if (this.releasing) return; // not started: the next owner will take it
    this.seen.set(key, null);
    this.channel.postMessage({ t: MSG.ack, to: m.from, id: m.id, owner: this.id });
    this.inflight++;
    const res = await this.local(m.msg);
    this.inflight--;
    this.seen.set(key, res);
    // An answer is kept SEEN_MS for re-posts of its request, then dropped.
    const now = Date.now();
    this.answered.push([key, now]);
    while (now - this.answered[0][1] > SEEN_MS) this.seen.delete(this.answered.shift()[0]);
    if (m.msg.op === "begin" && res.ok) watchTx(this, m.from, res.result);
    if ((m.msg.op === "commit" || m.msg.op === "rollback") && m.msg.tx != null) this.txWatch?.delete(m.msg.tx);
    this.channel.postMessage({ t: MSG.res, to: m.from, from: this.id, id: m.id, res });
    if (this.releasing && this.inflight === 0 && this.drained) this.drained();
  }

  // abandon drops ownership without touching the (dead) runtime.
  abandon() {
    const owned = this.role === "owner";
    this.releasing = true; // answer nothing more
    clearInterval(this.beating);
    this.beating = null;
    this.host.dropPrepared(this.name);
    this.role = "none";
    this.electing = null;
    this.serving = false;
    if (owned) this.bye();
    if (this.releaseLock) this.releaseLock();
    this.channel.close();
  }

  // release gives ownership up (last handle of this context closed, or
  // pagehide): finish what runs, close the database, free the lock.
  async release() {
    if (this.role !== "owner") {
      this.role = "none";
      this.electing = null;
      return;
    }
    this.releasing = true;
    if (this.inflight > 0) await new Promise((r) => (this.drained = r));
    try {
      await this.host.runtime.call("shutdown", { db: this.name });
    } catch {}
    await this.host.dropPrepared(this.name);
    this.serving = false;
    this.role = "none";
    this.releasing = false;
    this.electing = null;
    this.bye();
    if (this.releaseLock) this.releaseLock();
  }
}

