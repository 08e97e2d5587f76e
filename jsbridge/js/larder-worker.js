// larder-worker.js — runs larder.wasm (SQLite + Larder's Go runtime).
//
// Two ways to use it:
//  - larder.js starts it as a dedicated module Worker named "larder…"; it
//    then answers the page's requests over postMessage.
//  - In a context without Worker (a service worker, an MV3 extension
//    background), import it next to larder.js — `import "./larder-worker.js"`
//    — and open() runs larder.wasm in the same context (use storage "idb"
//    or "auto", which picks IndexedDB there).
//
// Protocol (page → worker): {type: "init", wasm, module?},
// {type: "req", id, op, ...request}, {type: "pagehide"},
// {type: "warmup", key}. Requests may come before init (the page does not
// wait for larder.wasm to start): each waits for it where it needs it.
// Worker → page: {type: "ready"}, {type: "res", id, ok, result | error},
// {type: "event", db, detail}, {type: "exit", error},
// {type: "warmup", state, rounds?, ms?, error?},
// {type: "prepared", db, state, error?}.
import "./wasm_exec.js";

const CRASHED = "LARDER_CRASHED";

// Keep the tail of what Go writes to stdout/stderr: a fatal error's message
// is printed there just before the program exits.
let outputTail = "";
if (globalThis.fs && globalThis.fs.writeSync && !globalThis.fs.__larderTail) {
  const write = globalThis.fs.writeSync.bind(globalThis.fs);
  const dec = new TextDecoder();
  globalThis.fs.writeSync = (fd, buf) => {
    outputTail = (outputTail + dec.decode(buf)).slice(-2000);
    return write(fd, buf);
  };
  globalThis.fs.__larderTail = true;
}

let hookSeq = 0;

export function wireError(e) {
  if (e && typeof e === "object") {
    const out = {
      name: String(e.name || "Error"),
      message: String(e.message ?? e),
      code: typeof e.code === "string" ? e.code : "LARDER_INTERNAL",
    };
    if (e.migration) out.migration = { version: e.migration.version, name: e.migration.name };
    return out;
  }
  return { name: "Error", message: String(e), code: "LARDER_INTERNAL" };
}

// Runtime is one larder.wasm instance. call(op, req) returns a Promise that
// always settles: if the Go program exits (a fatal error) every pending and
// later call rejects with LARDER_CRASHED.
export class Runtime {
  constructor(onevent, onexit) {
    this.onevent = onevent;
    this.onexit = onexit;
    this.dead = null;
    this.waiting = new Map(); // call id → {op, resolve} of calls answered later
    this.early = new Map(); // call id → {failed, v} settled before call returned
  }

  async start(source) {
    const go = new Go();
    const hook = `__larder_${++hookSeq}_${Math.random().toString(36).slice(2)}`;
    go.env = { LARDER_HOOK: hook };
    let instance;
    if (source instanceof WebAssembly.Module) {
      instance = await WebAssembly.instantiate(source, go.importObject);
    } else {
      const resp = fetch(source);
      try {
        ({ instance } = await WebAssembly.instantiateStreaming(resp, go.importObject));
      } catch (e) {
        // A server without application/wasm: fall back to bytes.
        const bytes = await (await fetch(source)).arrayBuffer();
        ({ instance } = await WebAssembly.instantiate(bytes, go.importObject));
      }
    }
    // run() executes main synchronously until it blocks, by which time it
    // has published its API under the hook name.
    // The direct entry of exec and query (jsbridge.DirectRun): wasm
    // exports called without syscall/js.
    const ex = instance.exports;
    if (typeof ex.larder_run !== "function" || !(ex.mem instanceof WebAssembly.Memory)) {
      throw new Error("this larder.wasm has no larder_run export: it is older than larder-worker.js (rebuild both with make build)");
    }
    this.direct = ex;
    const exited = go.run(instance);
    // What this build does (wasm/main_js.go, larder_features); an older
    // build has no such export.
    this.features = typeof ex.larder_features === "function" ? ex.larder_features() : 0;
    this.api = globalThis[hook];
    delete globalThis[hook];
    exited.then(() => this.kill(`larder.wasm exited${outputTail ? ": " + lastLines(outputTail) : ""}`));
    if (!this.api) {
      this.kill("larder.wasm did not start");
      throw this.dead;
    }
    this.api.onevent = (db, detail) => this.onevent && this.onevent(db, detail);
    this.api.settle = (id, failed, v) => this.settle(id, failed, v);
  }

  kill(message) {
    if (this.dead) return;
    const err = new Error(`${message}; this database handle is dead, open it again`);
    err.code = CRASHED;
    this.dead = err;
    for (const w of this.waiting.values()) w.resolve({ ok: false, error: err });
    this.waiting.clear();
    if (this.onexit) this.onexit(err);
  }

  // call runs one request: a Promise of its result.
  call(op, req) {
    const r = this.tryCall(op, req);
    if (r instanceof Promise) return r.then(unwrap);
    return unwrap(r);
  }

  // tryCall runs one request and answers {ok, result} or {ok: false,
  // error} at once when larder.wasm did, else a Promise of that answer
  // (never rejected). exec and query go through larder.wasm's exports with
  // the statement encoded in one buffer (runDirect); the rest to its call.
  tryCall(op, req) {
    if (this.dead) return { ok: false, error: this.dead };
    if (typeof op !== "string" || (op.startsWith("__") && !(this.features & FEATURE_TEST_HOOKS))) {
      // Fault-injection ops exist only in test builds of larder.wasm.
      return { ok: false, error: paramError("LARDER_INVALID_ARGUMENT", `unknown request ${JSON.stringify(String(op))}`) };
    }
    let v;
    try {
      if (op === "exec" || op === "query") {
        const n = encodeStatement(req);
        const tx = typeof req.tx === "number" ? req.tx : 0;
        const known = typeof req.known === "number" ? req.known : -1;
        return this.runDirect(op, op === "exec" ? 1 : 2, n, tx, known);
      }
      v = this.api.call(op, req);
    } catch (e) {
      // "Go program has already exited", a throw while converting, or a
      // parameter encodeStatement refused.
      if (!this.dead && /exited/.test(String(e && e.message))) this.kill(String(e.message));
      return { ok: false, error: this.dead || e };
    }
    const st = this.api.st;
    if (!st) return { ok: true, result: v };
    this.api.st = 0;
    if (st === 1) return { ok: false, error: this.failed(v) };
    return this.pending(op, v);
  }

  // pending answers call id, answered "pending": larder.wasm calls
  // settle(id, …) later, or already did while the call was returning.
  pending(op, id) {
    const early = this.early.get(id);
    if (early) {
      this.early.delete(id);
      return this.answer(op, early.failed, early.v);
    }
    return new Promise((resolve) => this.waiting.set(id, { op, resolve }));
  }

  // runDirect runs the statement encoded in scratch[0:n] through the wasm
  // exports (see jsbridge.DirectRun for the buffer's header).
  runDirect(op, kind, n, tx, known) {
    const ex = this.direct;
    const base = ex.larder_buf(n);
    new Uint8Array(ex.mem.buffer, base + 8, n).set(scratch.subarray(0, n));
    new DataView(ex.mem.buffer).setUint32(base, 1, true);
    const r = ex.larder_run(kind, n, tx, known);
    const dv = new DataView(ex.mem.buffer); // memory may have grown
    if (dv.getUint32(base, true) !== 0) {
      this.kill("larder.wasm: a call returned before it finished (it waited on JavaScript without announcing it)");
      return { ok: false, error: this.dead };
    }
    if (r >= 0) {
      const at = dv.getUint32(base + 4, true);
      return { ok: true, result: this.result(op, new Uint8Array(ex.mem.buffer, at, r).slice()) };
    }
    if (r === -1) {
      const err = this.api.err;
      this.api.err = undefined;
      return { ok: false, error: this.failed(err) };
    }
    return this.pending(op, dv.getUint32(base + 4, true));
  }

  settle(id, failed, v) {
    const w = this.waiting.get(id);
    if (!w) {
      this.early.set(id, { failed, v });
      return;
    }
    this.waiting.delete(id);
    w.resolve(this.answer(w.op, failed, v));
  }

  answer(op, failed, v) {
    return failed ? { ok: false, error: this.failed(v) } : { ok: true, result: this.result(op, v) };
  }

  result(op, v) {
    return op === "exec" ? execResult(v) : v;
  }

  failed(e) {
    if (e && e.code === CRASHED) this.kill(e.message.replace(/; this database handle is dead.*$/, ""));
    return e;
  }
}

// wired is an answer as posted to the page: errors as plain objects.
function wired(r) {
  return r.ok ? r : { ok: false, error: wireError(r.error) };
}

function unwrap(r) {
  return r.ok ? Promise.resolve(r.result) : Promise.reject(r.error);
}

// ---- Statement requests (see jsbridge.StatementRequest) ----------------

let scratch = new Uint8Array(4096);
let scratchView = new DataView(scratch.buffer);
const utf8 = new TextEncoder();
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function room(at, n) {
  if (at + n <= scratch.length) return;
  let size = scratch.length * 2;
  while (size < at + n) size *= 2;
  const next = new Uint8Array(size);
  next.set(scratch.subarray(0, at));
  scratch = next;
  scratchView = new DataView(scratch.buffer);
}

function putText(at, s) {
  room(at, 4 + s.length * 3);
  const { written } = utf8.encodeInto(s, scratch.subarray(at + 4));
  scratchView.setUint32(at, written, true);
  return at + 4 + written;
}

function putBytes(at, b) {
  room(at, 4 + b.length);
  scratchView.setUint32(at, b.length, true);
  scratch.set(b, at + 4);
  return at + 4 + b.length;
}

function paramError(code, message) {
  const e = new Error(message);
  e.code = code;
  return e;
}

function putCell(at, v, where) {
  room(at, 9);
  switch (typeof v) {
    case "undefined":
      scratch[at] = 0;
      return at + 1;
    case "boolean":
      scratch[at] = 5;
      scratch[at + 1] = v ? 1 : 0;
      return at + 2;
    case "number":
      scratch[at] = 1;
      scratchView.setFloat64(at + 1, v, true);
      return at + 9;
    case "bigint":
      if (v < -(2n ** 63n) || v >= 2n ** 63n) {
        throw paramError("SQLITE_RANGE", `${where}: bigint ${v} does not fit in a 64-bit INTEGER`);
      }
      scratch[at] = 2;
      scratchView.setBigInt64(at + 1, v, true);
      return at + 9;
    case "string":
      scratch[at] = 3;
      return putText(at + 1, v);
    case "object":
      if (v === null) {
        scratch[at] = 0;
        return at + 1;
      }
      if (v instanceof Uint8Array) {
        scratch[at] = 4;
        return putBytes(at + 1, v);
      }
      if (v instanceof ArrayBuffer) {
        scratch[at] = 4;
        return putBytes(at + 1, new Uint8Array(v));
      }
      if (ArrayBuffer.isView(v)) {
        scratch[at] = 4;
        return putBytes(at + 1, new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      }
      if (v instanceof Date) {
        scratch[at] = 3;
        return putText(at + 1, v.toISOString());
      }
  }
  throw paramError("SQLITE_MISMATCH", `${where}: unsupported parameter type ${typeof v}`);
}

// encodeStatement writes {db, sql, params} into scratch; it returns the
// length.
function encodeStatement(req) {
  let at = putText(0, typeof req.db === "string" ? req.db : "");
  at = putText(at, typeof req.sql === "string" ? req.sql : "");
  const p = req.params;
  room(at, 5);
  if (p === undefined || p === null) {
    scratch[at] = 0;
    scratchView.setUint32(at + 1, 0, true);
    return at + 5;
  }
  if (typeof p !== "object" || p instanceof ArrayBuffer || ArrayBuffer.isView(p)) {
    throw paramError("LARDER_INVALID_ARGUMENT", "params: want an array or an object");
  }
  if (Array.isArray(p)) {
    scratch[at] = 1;
    scratchView.setUint32(at + 1, p.length, true);
    at += 5;
    for (let i = 0; i < p.length; i++) at = putCell(at, p[i], `params[${i}]`);
    return at;
  }
  const keys = Object.keys(p);
  scratch[at] = 2;
  scratchView.setUint32(at + 1, keys.length, true);
  at += 5;
  for (const k of keys) {
    at = putText(at, k);
    at = putCell(at, p[k], `params.${k}`);
  }
  return at;
}

// execResult decodes run's answer to an exec: changes and lastInsertRowid,
// little-endian int64s (lastInsertRowid a BigInt beyond ±(2^53−1)).
function execResult(b) {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const changes = dv.getBigInt64(0, true);
  const rowid = dv.getBigInt64(8, true);
  const n = Number(rowid);
  return { changes: Number(changes), lastInsertRowid: Number.isSafeInteger(n) && BigInt(n) === rowid ? n : rowid };
}

// lastLines keeps the Go runtime's own words about a crash: from the last
// "panic:" or "fatal error:" line, at most a few lines.
function lastLines(s) {
  const lines = s.trim().split("\n");
  let start = Math.max(0, lines.length - 6);
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^(panic|fatal error):/.test(lines[i])) {
      start = i;
      break;
    }
  }
  return lines.slice(start, start + 6).join("\n");
}

// Rebuild functions of JS-function migrations sent as source text by
// larder.js (WorkerRuntime.wireMigrations), which makes upSource and
// downSource only from functions the page passed to open() itself, never
// from a bundle's fields. Evaluating them needs 'unsafe-eval' in the
// worker's Content-Security-Policy (docs/security.md).
function reviveFunction(src, where) {
  if (typeof src !== "string") throw invalidMigrations(`${where}: function source must be a string`);
  try {
    return (0, eval)(`(${src})`);
  } catch (e) {
    if (e instanceof EvalError) throw invalidMigrations(`${where}: JS-function migrations need 'unsafe-eval' in the Content-Security-Policy of larder-worker.js: ${e.message}`);
    // Method shorthand: "up(tx) { ... }" or "async up(tx) { ... }".
    const obj = (0, eval)(`({${src}})`);
    return obj[Object.keys(obj)[0]];
  }
}

function invalidMigrations(message) {
  const e = new Error(message);
  e.code = "LARDER_INVALID_MIGRATIONS";
  return e;
}

// The fields of a migration on the wire (larder.js, wireMigrations; or the
// page's own objects when running in-process): anything else is dropped.
function wirePart(m, i, k) {
  const src = m[k + "Source"];
  const where = `open: migration ${i} (version ${m.version}) ${k}`;
  if (src !== undefined) {
    if (m[k] !== undefined) throw invalidMigrations(`${where}: both ${k} and ${k}Source`);
    return reviveFunction(src, where);
  }
  const v = m[k];
  if (v == null || typeof v === "string" || typeof v === "function") return v;
  throw invalidMigrations(`${where}: want SQL text or a function, got ${typeof v}`);
}

// normalizeOpen copies an open request's migrations, field by field, into
// what larder.wasm takes: {version, name, up, down, checksum, breaking,
// noTransaction, downNoTransaction}.
export function normalizeOpen(req) {
  const list = req.migrations == null ? [] : req.migrations;
  if (!Array.isArray(list)) throw invalidMigrations("open: migrations must be an array");
  const migrations = list.map((m, i) => {
    if (m === null || typeof m !== "object") throw invalidMigrations(`open: migration ${i}: not an object`);
    return {
      version: Number(m.version),
      name: String(m.name ?? ""),
      up: wirePart(m, i, "up"),
      down: wirePart(m, i, "down"),
      checksum: m.checksum == null ? "" : String(m.checksum),
      breaking: !!m.breaking,
      noTransaction: m.noTransaction === true,
      downNoTransaction: m.downNoTransaction === true,
    };
  });
  return { ...req, migrations };
}

// ---- Many tabs ----------------------------------------------------------
//
// One owner per database per origin. Every context (the worker of each tab,
// or a service worker running in-process) that opens database NAME asks for
// the Web Lock "larder:NAME". The holder is the owner: its larder.wasm has
// the database open and runs every request, its own and those other
// contexts forward to it over the BroadcastChannel "larder:NAME". The
// others queue for the lock, so when the owner goes away (tab closed,
// worker killed or crashed, page hidden) the browser hands the lock to the
// next one, which opens the database and announces itself.
//
// Forwarded requests: the client posts {t:"req"} and re-posts it every
// RESEND_MS until the owner acknowledges it with {t:"ack"}, which the
// owner sends when it hands the request to SQLite (it dedupes re-posts).
// When a new owner announces itself, requests that were never acknowledged
// go to it (retried); requests acknowledged by the old owner have an
// unknown outcome and reject with LARDER_OWNER_GONE, as do later calls in
// a transaction begun on the old owner (SQLite rolled it back).
//
// How long a forwarded request waits follows the owner's life, not a
// clock: an owner busy with a long statement (its worker then cannot even
// acknowledge) on a loaded machine is slow, not gone. Every LIVENESS_MS
// the client asks navigator.locks.query() whether some context holds the
// database's lock "larder:NAME": while one does, the owner lives (the
// browser frees a lock the moment its tab closes or its worker dies) and
// the request waits. When the owner goes, the lock passes at once to a
// context queued for it, whose announcement reroutes the request (or
// rejects it with LARDER_OWNER_GONE): that is the prompt answer. Only when
// no context has held the lock for FORWARD_TIMEOUT_MS does a request
// reject with LARDER_TIMEOUT, so nothing waits forever on a database
// nobody owns.

const RESEND_MS = 250;
const LIVENESS_MS = 1000;
const FORWARD_TIMEOUT_MS = 20000;
let forwardTimeoutMs = FORWARD_TIMEOUT_MS; // tests shorten it ("__forwarding", test-hooks builds only)
const forwardStats = { keptAlive: 0 }; // requests that outlived forwardTimeoutMs because the owner lived
const CONTEXT_ID = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
const CONTEXT_LOCK = "larder-context:";
const TX_WATCH_MS = 500;

// Every context holds a Web Lock named after itself for as long as it
// lives, so an owner can tell that the context behind an open transaction
// died (the lock becomes available) and roll the transaction back at once
// instead of after the idle timeout.
// contextLocked settles once this context holds its own lock: an owner
// announces itself only then, so that others can check its claim.
const contextLocked = new Promise((resolve) => {
  if (typeof navigator === "undefined" || !navigator.locks) return resolve();
  navigator.locks
    .request(CONTEXT_LOCK + CONTEXT_ID, () => {
      resolve();
      return new Promise(() => {});
    })
    .catch(resolve);
});

function contextGone(id) {
  return navigator.locks.request(CONTEXT_LOCK + id, { ifAvailable: true }, (lock) => !!lock);
}

// ---- What the channel may carry, and whom to believe ----
//
// Any script of the origin can post on the BroadcastChannel "larder:NAME",
// so every message is checked before it is used: its shape (checkMessage;
// malformed ones are dropped, never thrown on), and for what only the
// owner may say (owner claims, acks, answers, events) its sender. The
// owner is the context holding the Web Lock "larder:NAME"; a sender's id
// is believed to be the owner when navigator.locks.query() shows that lock
// and the sender's own lock ("larder-context:ID") held by the same client
// (isLockHolder). A script that only posts messages holds neither.

const VERIFIED_MS = 1000; // how long a sender's check is reused
// Ops only a context runs on itself, never for another tab.
const LOCAL_OPS = new Set(["shutdown", "closeAll", "warmup"]);
const EVENT_TYPE = /^[a-z]{1,32}$/;

function isId(x) {
  return typeof x === "string" && x.length > 0 && x.length <= 64 && /^[0-9A-Za-z_-]+$/.test(x);
}

function isSeq(x) {
  return Number.isSafeInteger(x) && x > 0;
}

function isVersion(x) {
  return (typeof x === "number" && Number.isSafeInteger(x) && x >= 0) || (typeof x === "bigint" && x >= 0n);
}

function isPlain(x) {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

// checkDetail checks an event's detail, as larder.wasm makes them
// (jsbridge's server.event).
export function checkDetail(d) {
  if (!isPlain(d) || typeof d.type !== "string" || !EVENT_TYPE.test(d.type)) return false;
  if (d.type === "change") return Array.isArray(d.tables) && d.tables.every((t) => typeof t === "string");
  if (d.type === "versionchange") return isVersion(d.from) && isVersion(d.to) && typeof d.breaking === "boolean";
  return true;
}

// checkRequest checks a forwarded request for database name.
function checkRequest(msg, name) {
  if (!isPlain(msg) || typeof msg.op !== "string" || LOCAL_OPS.has(msg.op) || msg.op.startsWith("__")) return false;
  if ((msg.op === "open" ? msg.name : msg.db) !== name) return false;
  return msg.tx == null || isSeq(msg.tx);
}

// checkMessage reports whether m is a well-formed message of the channel
// of database name.
export function checkMessage(m, name) {
  if (!isPlain(m)) return false;
  switch (m.t) {
    case "hello":
      return isId(m.from);
    case "owner":
      return isId(m.owner);
    case "req":
      return isId(m.from) && isSeq(m.id) && checkRequest(m.msg, name);
    case "ack":
      return isId(m.to) && isSeq(m.id) && isId(m.owner);
    case "res":
      return isId(m.to) && isSeq(m.id) && isId(m.from) && isPlain(m.res) && typeof m.res.ok === "boolean" && (m.res.ok || isPlain(m.res.error));
    case "event":
      return isId(m.from) && m.db === name && checkDetail(m.detail);
  }
  return false;
}

// isLockHolder reports whether context id holds the Web Lock lockName:
// both locks are held by one client. Where the browser does not report
// clientId, the check is weaker: id's context lock and lockName held.
async function isLockHolder(lockName, id) {
  const { held = [] } = await navigator.locks.query();
  const owner = held.find((l) => l.name === lockName);
  const ctx = held.find((l) => l.name === CONTEXT_LOCK + id);
  return !!owner && !!ctx && owner.clientId === ctx.clientId;
}

function failure(code, message) {
  return { ok: false, error: { name: "Error", code, message } };
}

class SharedDb {
  constructor(host, name, storage) {
    this.host = host;
    this.name = name;
    this.storage = storage;
    this.lockName = "larder:" + name;
    this.role = "none"; // "owner" | "client" | "none"
    this.ownerId = null;
    this.serving = false;
    this.handles = 0; // open handles of this context
    this.pending = new Map(); // forwarded requests of this context
    this.seen = new Map(); // requests run for others: key → result | null
    this.inflight = 0;
    this.txOwner = new Map(); // tx id → owner that began it
    this.seq = 0;
    this.electing = null;
    this.verified = null; // {id, at}: the owner, as last checked
    this.inbox = null; // Promise of the owner's messages being checked, in order
    this.channel = new BroadcastChannel(this.lockName);
    this.channel.onmessage = (e) => this.onChannel(e.data);
    this.channel.onmessageerror = () => {}; // undeserializable: dropped
  }

  // elect settles once this context knows its role.
  elect() {
    if (this.electing) return this.electing;
    this.electing = new Promise((resolve) => {
      navigator.locks.request(this.lockName, { ifAvailable: true }, async (lock) => {
        if (lock) {
          await this.becomeOwner(false);
          resolve();
          return this.hold();
        }
        this.role = "client";
        this.channel.postMessage({ t: "hello", from: CONTEXT_ID });
        resolve();
        // Queue for the takeover.
        navigator.locks.request(this.lockName, async () => {
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
    this.role = "owner";
    this.ownerId = CONTEXT_ID;
    // On OPFS, open the database's sync access handles at once, all in
    // parallel, whether larder.wasm runs yet or not: its VFS adopts them
    // when it opens the database (the takeover's serve, or the open).
    if (this.storage === "opfs" && !this.serving) this.host.prepareFiles(this.name);
    if (takeover) await this.serve().catch(() => {});
    await contextLocked; // others check this claim against the context lock
    this.channel.postMessage({ t: "owner", owner: CONTEXT_ID });
    // Our own forwarded requests: not started → run here; started by the
    // old owner → outcome unknown.
    for (const [id, p] of this.pending) this.reroute(id, p, CONTEXT_ID);
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
      return failure("LARDER_OWNER_GONE", `the tab that ran this transaction closed; it was rolled back`);
    }
    // An election under way (an earlier request's, made while larder.wasm
    // was still starting) is joined, never run twice: a second lock request would lose to the
    // first and make this context a client of itself.
    await this.elect();
    const res = this.role === "owner" ? await this.local(msg) : await this.forward(msg);
    if (msg.op === "begin" && res.ok) this.txOwner.set(res.result, res.owner || CONTEXT_ID);
    if ((msg.op === "commit" || msg.op === "rollback") && msg.tx != null) this.txOwner.delete(msg.tx);
    return res;
  }

  currentOwner() {
    return this.role === "owner" ? CONTEXT_ID : this.ownerId;
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
      return { ok: true, result, owner: CONTEXT_ID };
    } catch (e) {
      if (msg.op === "reset") this.serving = false;
      return { ok: false, error: wireError(e) };
    }
  }

  forward(msg) {
    return new Promise((resolve) => {
      const id = ++this.seq;
      const now = Date.now();
      const p = { msg, resolve, started: null, t0: now, alive: now };
      this.pending.set(id, p);
      const post = () => this.channel.postMessage({ t: "req", from: CONTEXT_ID, id, msg });
      p.post = post;
      post();
      p.timer = setInterval(() => {
        if (!p.started) post();
      }, RESEND_MS);
      this.watchOwner();
    });
  }

  // watchOwner checks, while requests are forwarded, that some context
  // holds the database's lock (see "How long a forwarded request waits").
  watchOwner() {
    if (this.watching) return;
    this.watching = setInterval(async () => {
      if (this.pending.size === 0) {
        clearInterval(this.watching);
        this.watching = null;
        return;
      }
      let held = false;
      try {
        const { held: locks = [] } = await navigator.locks.query();
        held = locks.some((l) => l.name === this.lockName);
      } catch {}
      const now = Date.now();
      for (const [id, p] of this.pending) {
        if (held) {
          if (!p.kept && now - p.t0 > forwardTimeoutMs) {
            p.kept = true;
            forwardStats.keptAlive++;
          }
          p.alive = now;
        } else if (now - p.alive > forwardTimeoutMs) {
          this.settle(id, failure("LARDER_TIMEOUT", `no tab has owned database "${this.name}" for ${forwardTimeoutMs} ms: nobody can answer ${p.msg.op}`));
        }
      }
    }, Math.min(LIVENESS_MS, forwardTimeoutMs));
  }

  settle(id, res) {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearInterval(p.timer);
    p.resolve(res);
  }

  reroute(id, p, newOwner) {
    if (p.started && p.started !== newOwner) {
      this.settle(id, failure("LARDER_OWNER_GONE", `the tab that owned database "${this.name}" closed while running ${p.msg.op}; its outcome is unknown`));
    } else if (!p.started) {
      if (newOwner === CONTEXT_ID) {
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
        if (this.role === "owner") this.serveRemote(m);
        break;
      case "hello":
        if (this.role === "owner") this.channel.postMessage({ t: "owner", owner: CONTEXT_ID });
        break;
      case "owner":
        if (m.owner === CONTEXT_ID) break;
        this.fromOwner(m.owner, () => {
          this.ownerId = m.owner;
          for (const [id, p] of this.pending) this.reroute(id, p, m.owner);
        });
        break;
      case "ack": {
        if (m.to !== CONTEXT_ID) break;
        this.fromOwner(m.owner, () => {
          const p = this.pending.get(m.id);
          if (p && !p.started) p.started = m.owner;
          this.ownerId = m.owner;
        });
        break;
      }
      case "res": {
        if (m.to !== CONTEXT_ID) break;
        // The answer of the owner that acknowledged it (checked then): it
        // may have given the lock up since, having answered first.
        const p = this.pending.get(m.id);
        if (p && p.started === m.from) this.settle(m.id, m.res);
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
        return isLockHolder(this.lockName, id);
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
      if (done) this.channel.postMessage({ t: "res", to: m.from, from: CONTEXT_ID, id: m.id, res: done });
      else this.channel.postMessage({ t: "ack", to: m.from, id: m.id, owner: CONTEXT_ID });
      return;
    }
    if (this.releasing) return; // not started: the next owner will take it
    this.seen.set(key, null);
    this.channel.postMessage({ t: "ack", to: m.from, id: m.id, owner: CONTEXT_ID });
    this.inflight++;
    const res = await this.local(m.msg);
    this.inflight--;
    if (res.ok && res.result instanceof Uint8Array) {
      // posting copies it for every listener: fine, it is not transferred
    }
    this.seen.set(key, res);
    setTimeout(() => this.seen.delete(key), 60000);
    if (m.msg.op === "begin" && res.ok) this.watchTx(m.from, res.result);
    if ((m.msg.op === "commit" || m.msg.op === "rollback") && m.msg.tx != null) this.txWatch?.delete(m.msg.tx);
    this.channel.postMessage({ t: "res", to: m.from, from: CONTEXT_ID, id: m.id, res });
    if (this.releasing && this.inflight === 0 && this.drained) this.drained();
  }

  // watchTx rolls back transaction tx, begun for context `from`, as soon
  // as that context is gone (its tab closed mid-transaction), so the others
  // are not kept waiting.
  watchTx(from, tx) {
    this.txWatch ||= new Set();
    this.txWatch.add(tx);
    const timer = setInterval(async () => {
      if (!this.txWatch.has(tx) || this.role !== "owner") {
        clearInterval(timer);
        return;
      }
      if (await contextGone(from)) {
        clearInterval(timer);
        this.txWatch.delete(tx);
        this.host.runtime.call("rollback", { db: this.name, tx }).catch(() => {});
      }
    }, TX_WATCH_MS);
  }

  // abandon drops ownership without touching the (dead) runtime.
  abandon() {
    this.releasing = true; // answer nothing more
    this.host.dropPrepared(this.name);
    this.role = "none";
    this.electing = null;
    this.serving = false;
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
    if (this.releaseLock) this.releaseLock();
  }
}

// Whether this context coordinates with others (Web Locks, BroadcastChannel).
const MULTI_TAB = typeof navigator !== "undefined" && !!navigator.locks && typeof BroadcastChannel === "function";

// larder_features bits: the OPFS VFS adopts handles opened by this
// script; the build has the fault-injection hooks of the tests (built with
// -tags larder_test_hooks by `make build-testhooks`, never by `make build`).
const FEATURE_OPFS_ADOPT = 1;
const FEATURE_TEST_HOOKS = 2;

// The OPFS layout of a database, as wasm/opfs (opfs.go) keeps it:
// larder/<name>/ holding these files.
const OPFS_ROOT = "larder";
const OPFS_FILES = ["LAYOUT", "db", "db-journal", "db-wal"];

// acquireOPFS opens a sync access handle on each file of database name,
// all at once: a Promise of {file name: handle}. On any failure it closes
// what it opened and rejects.
async function acquireOPFS(name) {
  const root = await navigator.storage.getDirectory();
  const top = await root.getDirectoryHandle(OPFS_ROOT, { create: true });
  const dir = await top.getDirectoryHandle(name, { create: true });
  const got = await Promise.allSettled(
    OPFS_FILES.map(async (f) => (await dir.getFileHandle(f, { create: true })).createSyncAccessHandle()),
  );
  const failed = got.find((g) => g.status === "rejected");
  if (failed) {
    for (const g of got) if (g.status === "fulfilled") g.value.close();
    throw failed.reason;
  }
  return Object.fromEntries(OPFS_FILES.map((f, i) => [f, got[i].value]));
}

// validName mirrors the names larder.wasm accepts (jsbridge's Host.Open,
// vfscore.ValidName): a name it would refuse is never prepared, so its open
// fails there with the proper error and leaves nothing in OPFS.
function validName(name) {
  if (typeof name !== "string" || name === "" || name === "." || name === "..") return false;
  if (new TextEncoder().encode(name).length > 200) return false;
  return !/[\x00-\x1f\x7f/\\?#]/.test(name);
}

// ---- OPFS, proven before it is used ----
//
// OPFS's API can exist where OPFS does not work: WebKitGTK's
// createSyncAccessHandle throws NotSupportedError (and a retry then throws
// a misleading InvalidStateError), Safari's private windows throw
// UnknownError from getDirectory. So before "auto" picks OPFS, or an
// explicit "opfs" opens anything, this context proves it once: it opens
// the origin's directory, a directory of its own (larder-probe/) and a
// sync access handle on a file there, writes, flushes and closes it. The
// first error of that proof is the one reported: "auto" falls back to
// IndexedDB and says why (db.storageFallback), an explicit "opfs" rejects
// with LARDER_STORAGE_UNAVAILABLE naming it.

const OPFS_PROBE_DIR = "larder-probe";
let opfsProof = null;

function describe(e) {
  if (e && typeof e === "object" && e.name && e.message != null) return `${e.name}: ${e.message}`;
  return String(e);
}

// proveOPFS settles to null when OPFS works in this context, else to
// {missing: true} (no API here: a page or service worker) or {error} (the
// API is here and failed: the first error, as "Name: message").
function proveOPFS() {
  return (opfsProof ||= (async () => {
    const s = typeof navigator !== "undefined" && navigator.storage;
    if (typeof FileSystemSyncAccessHandle !== "function" || !s || typeof s.getDirectory !== "function") return { missing: true };
    let step = "navigator.storage.getDirectory()";
    try {
      const root = await s.getDirectory();
      step = `directory ${OPFS_PROBE_DIR}`;
      const dir = await root.getDirectoryHandle(OPFS_PROBE_DIR, { create: true });
      step = `file ${OPFS_PROBE_DIR}/${CONTEXT_ID}`;
      const fh = await dir.getFileHandle(CONTEXT_ID, { create: true });
      step = "createSyncAccessHandle()";
      const h = await fh.createSyncAccessHandle();
      try {
        step = "a write through the sync access handle";
        h.write(new Uint8Array([1]), { at: 0 });
        h.flush();
      } finally {
        h.close();
      }
      await dir.removeEntry(CONTEXT_ID).catch(() => {});
      await root.removeEntry(OPFS_PROBE_DIR).catch(() => {}); // others may be probing: then it stays
      return null;
    } catch (e) {
      return { error: `${describe(e)} (at ${step})` };
    }
  })());
}

// resolveStorage settles to {storage, fallback?} or {error} for a request
// naming storage.
async function resolveStorage(storage, op) {
  if (storage === "opfs" && op === "open") {
    const why = await proveOPFS();
    if (why && why.error) {
      return { error: failure("LARDER_STORAGE_UNAVAILABLE", `open: storage "opfs" does not work in this context: ${why.error}`) };
    }
    return { storage }; // (missing: larder.wasm reports it)
  }
  if (storage !== "auto") return { storage };
  const why = await proveOPFS();
  if (!why) return { storage: "opfs" };
  if (typeof indexedDB !== "undefined") return { storage: "idb", fallback: why.error || null };
  return { storage: "auto" }; // larder.wasm reports what is missing
}

// Host serves the requests of one context (a tab's worker, or a service
// worker in-process): it owns the Runtime and one SharedDb per database.
export class Host {
  constructor(emit) {
    this.emit = emit; // (message, transfer?) => void
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
  }

  // prepareFiles opens database name's OPFS sync access handles, all at
  // once, for larder.wasm to adopt (takePrepared) instead of opening them
  // one await at a time. SharedDb.becomeOwner calls it on every election
  // won: the page's open arrives while the module still compiles (the
  // page does not wait for it), so the election and the handles are done
  // by the time Go starts.
  prepareFiles(name) {
    if (this.prepared.has(name) || !validName(name) || this.adopts === false) return;
    const p = acquireOPFS(name);
    this.prepared.set(name, p);
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
        if (shared) shared.channel.postMessage({ t: "event", from: CONTEXT_ID, db, detail });
      },
      (err) => {
        // larder.wasm is gone: stop owning anything at once, so another
        // context takes over instead of talking to a dead instance.
        for (const db of this.dbs.values()) db.abandon();
        this.emit({ type: "exit", error: wireError(err) });
      },
    );
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
    this.startedResolve();
  }

  // handle answers one request: {ok, result} or {ok: false, error}.
  async handle(msg) {
    if (msg.op === "__forwarding") return this.forwarding(msg);
    const name = msg.op === "open" ? msg.name : msg.db;
    // "auto" is resolved here, in the context that asks, never by whichever
    // context happens to own the database: a page's worker means OPFS, a
    // service worker IndexedDB. An owner on another backend then refuses
    // the open (LARDER_STORAGE_UNAVAILABLE) instead of mixing backends.
    const resolved = await resolveStorage(msg.storage || "auto", msg.op);
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
      return { ok: false, error: paramError("LARDER_INVALID_ARGUMENT", `unknown request ${JSON.stringify(msg.op)}`) };
    }
    if (Number.isSafeInteger(msg.timeoutMs) && msg.timeoutMs > 0) forwardTimeoutMs = msg.timeoutMs;
    return { ok: true, result: { timeoutMs: forwardTimeoutMs, keptAlive: forwardStats.keptAlive } };
  }

  async dispatch(name, storage, msg) {
    const multi = MULTI_TAB;
    if (!multi || storage === "memory" || (msg.op !== "open" && msg.op !== "reset" && !this.dbs.has(name))) {
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
      db = new SharedDb(this, name, storage);
      this.dbs.set(name, db);
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

  // fast answers an exec or query without the Promises of handle when
  // nothing else is in flight on its database and this context runs it
  // (memory, or the owner serving it): res(answer) is called at once when
  // larder.wasm answered at once. It returns false, having done nothing,
  // when the call must take handle's way.
  fast(msg, res) {
    const rt = this.runtime;
    if (!rt || rt.dead || (msg.op !== "exec" && msg.op !== "query")) return false;
    const name = msg.db;
    const inTx = msg.tx != null;
    if (!inTx && this.tails.has(name)) return false;
    const db = this.dbs.get(name);
    if (db) {
      if (db.role !== "owner" || !db.serving || db.releasing || db.wasReset) return false;
      if (inTx && db.txOwner.has(msg.tx) && db.txOwner.get(msg.tx) !== CONTEXT_ID) return false;
    } else if (MULTI_TAB && msg.storage !== "memory") return false;
    const r = rt.tryCall(msg.op, msg);
    if (!(r instanceof Promise)) {
      res(wired(r));
      return true;
    }
    if (!inTx) this.follow(name, r);
    r.then((a) => res(wired(a)));
    return true;
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
    if (req.tx != null || op === "commit" || op === "rollback") return this.runtime.call(op, req);
    const key = op === "open" ? req.name : req.db;
    const prev = this.tails.get(key) || Promise.resolve();
    const run = prev.then(() => this.runtime.call(op, req));
    this.follow(key, run);
    return run;
  }

  // pagehide: give up every ownership so the next owner is not kept
  // waiting on handles of a page that is going away.
  async releaseAll() {
    await Promise.all([...this.dbs.values()].map((db) => db.release()));
  }
}

// ---- warm-up (see jsbridge.Warmup) ----
//
// Chrome writes a wasm module's optimised code to its code cache only from
// the visit that compiled the module without that cache, a few seconds
// after the code was optimised; later visits load it and never add to it.
// So on that first visit, once the page has opened a database and the
// worker is idle, the worker runs larder.wasm's hot paths (jsbridge.Warmup:
// inserts, point selects, scans, transactions on a private memory database)
// in slices of a few milliseconds that give way to every request, until V8
// has optimised them. An IndexedDB record per larder.wasm build (URL and
// validators) marks the first visit as done, so that later visits, which
// could not improve the cache, skip it. open({warmup: false}) turns it off.

const WARMUP_ROUNDS = 50; // ~2 s of unoptimised code; what V8's tier-up budget needs
const WARMUP_SLICE_MS = 8; // longest a request waits behind a slice, plus one step
const WARMUP_IDLE_MS = 250; // quiet time before the first slice
const WARMUP_GAP_MS = 20; // quiet time before each further slice
const WARMUP_DB = "larder-warmup"; // IndexedDB database of the records (not "larder/…")

function idbRequest(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

// claimWarmup records that build key is being warmed up here and answers
// true, or false when an earlier visit did.
async function claimWarmup(key) {
  const open = indexedDB.open(WARMUP_DB, 1);
  open.onupgradeneeded = () => open.result.createObjectStore("builds");
  const db = await idbRequest(open);
  try {
    const tx = db.transaction("builds", "readwrite");
    const store = tx.objectStore("builds");
    if ((await idbRequest(store.get(key))) !== undefined) return false;
    await idbRequest(store.put({ startedAt: new Date().toISOString() }, key));
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
    return true;
  } finally {
    db.close();
  }
}

// v8WasmCodeCache reports whether this engine keeps optimised wasm code in
// a code cache that a warm-up can fill: V8's, in Chromium-based browsers
// (Chrome, Edge, Opera, Brave…). Firefox (SpiderMonkey) and Safari
// (JavaScriptCore) have no such cache, so there the warm-up would only burn
// CPU: it does not run (state "off").
export function v8WasmCodeCache(nav = typeof navigator !== "undefined" ? navigator : null) {
  if (!nav) return false;
  const brands = nav.userAgentData && nav.userAgentData.brands;
  if (Array.isArray(brands) && brands.some((b) => b && b.brand === "Chromium")) return true;
  // userAgentData exists only in secure contexts: the user agent string.
  return /\b(Chrome|Chromium|HeadlessChrome)\/\d/.test(String(nav.userAgent || ""));
}

export class Warmer {
  constructor(host, report) {
    this.host = host;
    this.report = report; // ({state, rounds?, ms?, error?}) => void
    this.state = null;
  }

  async start(key) {
    if (this.state) return;
    if (!v8WasmCodeCache()) return this.set("off", { reason: "this engine has no wasm code cache to fill (not V8)" });
    this.state = "claiming";
    try {
      if (!(await claimWarmup(key))) return this.set("skipped");
    } catch (e) {
      // Without the record there is no telling a first visit: do nothing.
      console.warn("larder: warm-up skipped: IndexedDB unavailable:", e && e.message);
      return this.set("skipped", { error: String(e && e.message) });
    }
    this.rounds = 0;
    this.busyMs = 0;
    this.set("running");
    setTimeout(() => this.tick(), WARMUP_IDLE_MS);
  }

  set(state, extra) {
    this.state = state;
    this.report({ state, ...extra });
  }

  tick() {
    const host = this.host;
    const rt = host.runtime;
    if (!rt || rt.dead) return this.set("failed", { rounds: this.rounds, error: "larder.wasm is gone" });
    // Give way: to a request seen lately, to calls still running (ordered
    // tails, calls waiting on JavaScript).
    if (performance.now() - host.lastRequest < WARMUP_GAP_MS || host.tails.size > 0 || rt.waiting.size > 0) {
      setTimeout(() => this.tick(), WARMUP_GAP_MS);
      return;
    }
    const t0 = performance.now();
    const r = rt.tryCall("warmup", { ms: WARMUP_SLICE_MS, rounds: WARMUP_ROUNDS });
    Promise.resolve(r).then((a) => {
      this.busyMs += performance.now() - t0;
      if (!a.ok) return this.finish("failed", a.error);
      this.rounds = a.result;
      if (this.rounds >= WARMUP_ROUNDS) return this.finish("done");
      setTimeout(() => this.tick(), 0);
    });
  }

  finish(state, error) {
    const rt = this.host.runtime;
    if (rt && !rt.dead) rt.tryCall("warmup", { close: true });
    const extra = { rounds: this.rounds, ms: Math.round(this.busyMs) };
    if (error) {
      extra.error = String(error.message || error);
      console.warn("larder: warm-up failed:", extra.error);
    }
    this.set(state, extra);
  }
}

// Dedicated worker mode.
const isLarderWorker =
  typeof DedicatedWorkerGlobalScope !== "undefined" &&
  self instanceof DedicatedWorkerGlobalScope &&
  String(self.name).startsWith("larder");

if (isLarderWorker) {
  const host = new Host((m, transfer) => self.postMessage(m, transfer || []));
  // larder.wasm's OPFS VFS asks for handles prepared before it started.
  globalThis.__larderOPFSPrepared = (name) => host.takePrepared(name);
  const warmer = new Warmer(host, (state) => self.postMessage({ type: "warmup", ...state }));
  let started = false; // larder.wasm runs: host.fast may answer
  self.onmessage = async (e) => {
    const msg = e.data;
    if (msg === null || typeof msg !== "object") return; // not larder.js's
    if (msg.type === "init") {
      try {
        await host.init(msg.module || msg.wasm);
        started = true;
        self.postMessage({ type: "ready" });
      } catch (err) {
        const e = wireError(err);
        if (e.code !== CRASHED) {
          e.code = CRASHED;
          e.message = `larder.wasm could not start (${msg.wasm}): ${e.message}`;
        }
        self.postMessage({ type: "exit", error: e });
      }
      return;
    }
    if (msg.type === "pagehide") {
      if (host.runtime && !host.runtime.dead) host.releaseAll().catch(() => {});
      return;
    }
    if (msg.type === "warmup") {
      if (started) warmer.start(String(msg.key));
      return;
    }
    if (msg.type !== "req") return;
    if (typeof msg.op !== "string") return reply(msg.id, failure("LARDER_INVALID_ARGUMENT", "request without an op"));
    host.lastRequest = performance.now();
    if (started && host.fast(msg, (res) => reply(msg.id, res))) return;
    // Before larder.wasm runs, handle waits for it (host.started) where
    // it needs it, after the tabs' election: an open on OPFS gets its
    // handles while the module compiles (SharedDb.becomeOwner).
    reply(msg.id, await host.handle(msg));
  };
  const reply = (id, res) => {
    const r = res.result;
    const transfer = r instanceof Uint8Array ? [r.buffer] : [];
    self.postMessage({ type: "res", id, ok: res.ok, result: r, error: res.error }, transfer);
  };
  self.addEventListener("unhandledrejection", (e) => {
    console.error("larder worker: unhandled rejection", e.reason);
  });
} else {
  // In-process mode for contexts without Worker: larder.js looks for this.
  globalThis.__larderInProcess = Host;
}
