// host.js — the requests of one context (a tab's worker, or a service
// worker running Larder in-process): the Host owns the larder.wasm Runtime
// and one SharedDb (owner.js) per database shared with other tabs.

import { failure, wireError, INVALID_ARGUMENT, CLOSED } from "./errors.js";
import { Runtime, FEATURE_OPFS_ADOPT, FEATURE_TEST_HOOKS } from "./wasm.js";
import { normalizeOpen } from "./migrations.js";
import { SharedDb, forwarding } from "./owner.js";
import { CONTEXT_ID, MSG } from "./channel.js";
import { acquireOPFS, validName, resolveStorage, opfsProbeTime } from "./storage.js";

// TIME_ORIGIN is this context's performance.timeOrigin, read once: a
// WebKitGTK worker's timeOrigin is recomputed from the wall clock on each
// read and moved by up to 0.04 ms within a second, which put the end of one
// start-up phase after the start of the next (larder:storage-open,
// larder:migrate) once converted to the page's clock.
export const TIME_ORIGIN = typeof performance !== "undefined" ? performance.timeOrigin : 0;

// platformEnv: this context's Web Locks and BroadcastChannel, or nulls
// where it has none (then it coordinates with no other context).
export function platformEnv() {
  const locks = typeof navigator !== "undefined" && navigator.locks ? navigator.locks : null;
  const Channel = typeof BroadcastChannel === "function" ? BroadcastChannel : null;
  return { locks, Channel, id: CONTEXT_ID };
}

// The answer to a request, as posted: errors as plain objects.
function wired(r) {
  return r.ok ? r : { ok: false, error: wireError(r.error) };
}

// Host serves the requests of one context (a tab's worker, or a service
// worker in-process): it owns the Runtime and one SharedDb per database.
export class Host {
  constructor(emit, env = platformEnv()) {
    this.emit = emit; // (message, transfer?) => void
    this.env = env;
    // Whether this context coordinates with others (Web Locks, BroadcastChannel).
    this.multiTab = !!(env.locks && env.Channel);
    this.runtime = null;
    this.dbs = new Map();
    this.tails = new Map(); // database → tail of its ordered calls
    this.lastRequest = 0; // performance.now() of the last request
    this.prepared = new Map(); // database → Promise of its OPFS handles
    // started settles when larder.wasm runs: a context can own a database
    // before that (requests come while the module compiles), and serves
    // nothing until then.
    this.started = new Promise((resolve, reject) => {
      this.startedResolve = resolve;
      this.startedReject = reject;
    });
    this.started.catch(() => {});
    this.running = false; // larder.wasm runs: direct may answer
    this.hidden = false; // the page went away (pagehide): serve nothing until pageshow
  }

  // phase reports a start-up phase (docs/startup.md) to the page, on this
  // context's clock: performance.now() values and its timeOrigin.
  phase(name, start, end, db) {
    this.emit({ type: "phase", name, start, end, origin: TIME_ORIGIN, db });
  }

  // prepareFiles opens database name's OPFS sync access handles, all at
  // once, for larder.wasm to adopt (takePrepared) instead of opening them
  // one await at a time. SharedDb.becomeOwner calls it on every election
  // won: the page's open arrives while the module still compiles (the
  // page does not wait for it), so the election and the handles are done
  // by the time Go starts.
  prepareFiles(name) {
    if (this.prepared.has(name) || !validName(name) || this.adopts === false) return;
    const t0 = performance.now();
    const p = acquireOPFS(name);
    this.prepared.set(name, p);
    p.then(() => this.phase("opfs-handles", t0, performance.now(), name), () => {});
    p.catch((e) => {
      if (this.prepared.get(name) === p) this.prepared.delete(name);
      this.emit({ type: "prepared", db: name, state: "failed", error: String(e && e.message ? `${e.name}: ${e.message}` : e) });
    });
  }

  // takePrepared hands database name's prepared handles to larder.wasm
  // (the hook opfs.preparedHook names): undefined when there are none.
  takePrepared(name) {
    const p = this.prepared.get(name);
    if (!p) return undefined;
    this.prepared.delete(name);
    this.emit({ type: "prepared", db: name, state: "adopted" });
    return p;
  }

  // dropPrepared closes handles that were prepared and never adopted (the
  // database is released, or larder.wasm died), so the next owner can
  // open them.
  async dropPrepared(name) {
    const p = this.prepared.get(name);
    if (!p) return;
    this.prepared.delete(name);
    const files = await p.catch(() => null);
    if (!files) return;
    for (const h of Object.values(files)) {
      try {
        h.close();
      } catch {}
    }
    this.emit({ type: "prepared", db: name, state: "released" });
  }

  async init(source) {
    this.runtime = new Runtime(
      (db, detail) => {
        this.emit({ type: "event", db, detail });
        const shared = this.dbs.get(db);
        if (shared) shared.channel.postMessage({ t: MSG.event, from: this.env.id, db, detail });
      },
      (err) => {
        // larder.wasm is gone: stop owning anything at once, so another
        // context takes over instead of talking to a dead instance.
        for (const db of this.dbs.values()) db.abandon();
        this.emit({ type: "exit", error: wireError(err) });
      },
    );
    this.runtime.onphase = (name, start, end) => this.phase(name, start, end);
    try {
      await this.runtime.start(source);
    } catch (e) {
      this.startedReject(e);
      throw e;
    }
    if (!(this.runtime.features & FEATURE_OPFS_ADOPT)) {
      // An older larder.wasm opens its OPFS handles itself: give back any
      // opened for it, before it runs anything.
      this.adopts = false;
      await Promise.all([...this.prepared.keys()].map((name) => this.dropPrepared(name)));
    }
    this.running = true;
    this.startedResolve();
  }

  // request answers msg through reply(answer): the one route of every
  // request. An exec, query or run that this context runs itself with
  // nothing else in flight on its database is answered synchronously when
  // larder.wasm answers at once (direct); anything else takes handle.
  request(msg, reply) {
    this.lastRequest = performance.now();
    if (msg === null || typeof msg !== "object" || typeof msg.op !== "string") return reply(failure(INVALID_ARGUMENT, "request without an op"));
    // A request the page posted as it went away must not take a database
    // back (its lock, its handles) from the tab that follows.
    if (this.hidden) return reply(failure(CLOSED, `${msg.op}: the page is being unloaded (pagehide): no request is served until it is shown again`));
    const r = this.direct(msg);
    if (r === null) this.handle(msg).then(reply);
    else if (r instanceof Promise) r.then(reply);
    else reply(r);
  }

  // handle answers one request: a Promise of {ok, result} or {ok: false,
  // error}.
  async handle(msg) {
    if (msg.op === "__forwarding") return this.forwarding(msg);
    const name = msg.op === "open" ? msg.name : msg.db;
    // "auto" is resolved here, in the context that asks, never by whichever
    // context happens to own the database: a page's worker means OPFS, a
    // service worker IndexedDB. An owner on another backend then refuses
    // the open (LARDER_STORAGE_UNAVAILABLE) instead of mixing backends.
    const resolved = await resolveStorage(msg.storage || "auto", msg.op);
    const probe = opfsProbeTime();
    if (probe && !this.probeReported) {
      this.probeReported = true;
      this.phase("opfs-probe", probe.start, probe.end);
    }
    if (resolved.error) return resolved.error;
    const { storage, fallback } = resolved;
    if (msg.storage === "auto" || msg.storage == null) msg = { ...msg, storage };
    const res = await this.dispatch(name, storage, msg);
    if (fallback && msg.op === "open" && res.ok) {
      // Between two persistent backends, never silent: the app reads why.
      console.warn(`larder: database "${name}" is on IndexedDB: OPFS does not work here: ${fallback}`);
      res.result = { ...res.result, storageFallback: fallback };
    }
    return res;
  }

  // forwarding: the forwarded requests' timeout (timeoutMs, if given) and
  // how many outlived it while their owner lived. Test-hooks builds only.
  async forwarding(msg) {
    await this.started.catch(() => {});
    if (!this.runtime || !(this.runtime.features & FEATURE_TEST_HOOKS)) {
      return { ok: false, error: failure(INVALID_ARGUMENT, `unknown request ${JSON.stringify(msg.op)}`) };
    }
    if (Number.isSafeInteger(msg.timeoutMs) && msg.timeoutMs > 0) forwarding.timeoutMs = msg.timeoutMs;
    if (Number.isSafeInteger(msg.stallMs) && msg.stallMs > 0) forwarding.stallMs = msg.stallMs;
    const { timeoutMs, stallMs, keptAlive } = forwarding;
    return { ok: true, result: { timeoutMs, stallMs, keptAlive } };
  }

  async dispatch(name, storage, msg) {
    if (!this.multiTab || storage === "memory" || (msg.op !== "open" && msg.op !== "reset" && !this.dbs.has(name))) {
      try {
        await this.started;
        const req = msg.op === "open" ? normalizeOpen(msg) : msg;
        return { ok: true, result: await this.ordered(msg.op, req) };
      } catch (e) {
        return { ok: false, error: wireError(e) };
      }
    }
    let db = this.dbs.get(name);
    if (!db) {
      db = new SharedDb(this, name, storage, this.env);
      this.dbs.set(name, db);
    }
    if (!db.electing) {
      // The tabs' election (the Web Lock "larder:NAME"): route joins it.
      const t0 = performance.now();
      db.elect().then(() => this.phase("election", t0, performance.now(), name));
    }
    if (msg.op === "open") db.handles++;
    const res = await db.route(msg);
    if (msg.op === "open" && !res.ok) db.handles--;
    if (msg.op === "close" || msg.op === "reset") db.handles = Math.max(0, db.handles - 1);
    if ((msg.op === "close" || msg.op === "reset" || (msg.op === "open" && !res.ok)) && db.handles === 0) {
      await db.release();
    }
    delete res.owner;
    return res;
  }

  // direct runs an exec, query or run at once when this context runs it
  // (memory, or the owner serving it) and nothing else is in flight on its
  // database: its answer, or a Promise of it when larder.wasm answers
  // later. null, having done nothing, when the call must take handle's way.
  direct(msg) {
    const rt = this.runtime;
    if (!this.running || rt.dead || (msg.op !== "exec" && msg.op !== "query" && msg.op !== "run")) return null;
    const name = msg.db;
    const inTx = msg.tx != null;
    if (!inTx && this.tails.has(name)) return null;
    const db = this.dbs.get(name);
    if (db) {
      if (db.role !== "owner" || !db.serving || db.releasing || db.wasReset) return null;
      if (inTx && db.txOwner.has(msg.tx) && db.txOwner.get(msg.tx) !== this.env.id) return null;
    } else if (this.multiTab && msg.storage !== "memory") return null;
    const r = rt.tryCall(msg.op, msg);
    if (!(r instanceof Promise)) return wired(r);
    if (!inTx) this.follow(name, r);
    return r.then(wired);
  }

  // follow makes later calls on database key wait for run.
  follow(key, run) {
    const tail = run.then(
      () => {},
      () => {},
    );
    this.tails.set(key, tail);
    tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
  }

  // ordered runs calls on one database in the order they arrive (larder.wasm
  // would otherwise start them on goroutines in no particular order), so
  // db.exec("CREATE …"); db.exec("INSERT …") without await between works,
  // and forwarded calls run in arrival order. Calls inside a transaction,
  // and its commit or rollback, skip the line: the transaction holds the
  // database until they come.
  ordered(op, req) {
    if (req.tx != null || op === "commit" || op === "rollback" || op === "sync") return this.runtime.call(op, req); // a sync round waits on the network, not in line
    const key = op === "open" ? req.name : req.db;
    const prev = this.tails.get(key) || Promise.resolve();
    const run = prev.then(() => (op === "open" ? this.open(req) : this.runtime.call(op, req)));
    this.follow(key, run);
    return run;
  }

  // open runs an open and reports its phases (larder.wasm's "phases": ms
  // from the call when the migrations were read, the storage open and the
  // migrations applied).
  async open(req) {
    const t0 = performance.now();
    const res = await this.runtime.call("open", req);
    const p = res && res.phases;
    if (Array.isArray(p) && p.length === 3) {
      delete res.phases;
      this.phase("migrations-read", t0, t0 + p[0], req.name);
      this.phase("storage-open", t0 + p[0], t0 + p[1], req.name);
      this.phase("migrate", t0 + p[1], t0 + p[2], req.name);
    }
    return res;
  }

  // pagehide: give up every ownership so the next owner is not kept
  // waiting on handles of a page that is going away.
  async releaseAll() {
    await Promise.all([...this.dbs.values()].map((db) => db.release()));
  }
}

