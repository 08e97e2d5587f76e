// larder.js — Larder's JS API: SQLite in a Web Worker, on OPFS or
// IndexedDB, with migrations applied on open. See larder.d.ts.
//
//   import { open } from "./larder.js";
//   const db = await open({ name: "app", migrations: "./migrations.json" });
//   await db.exec("INSERT INTO note(body) VALUES (?)", ["hi"]);
//   const rows = await db.query("SELECT * FROM note");

const WORKER_URL = new URL("./larder-worker.js", import.meta.url);
const DEFAULT_WASM = new URL("./larder.wasm", import.meta.url).href;

const CLOSED = "LARDER_CLOSED";
const CRASHED = "LARDER_CRASHED";
const OUTDATED = "LARDER_OUTDATED";

function larderError(code, message, extra) {
  const e = new Error(message);
  e.code = code;
  if (extra) Object.assign(e, extra);
  return e;
}

// httpError turns a failed backup/restore response into an Error with the
// server's LARDER_* code when it sent one ({"error": {code, message}}).
async function httpError(op, url, res) {
  let code = "LARDER_HTTP_ERROR", msg = res.statusText;
  try {
    const b = await res.json();
    if (b && b.error) ({ code = code, message: msg = msg } = b.error);
  } catch {}
  return larderError(code, `${op} ${url}: HTTP ${res.status}: ${msg}`, { status: res.status });
}

function fromWire(w) {
  const e = new Error(w.message);
  if (w.name && w.name !== "Error") e.name = w.name;
  e.code = w.code;
  if (w.migration) e.migration = w.migration;
  return e;
}

// ---- wasm preloading: fetch and compile as soon as this module loads ----

const compiled = new Map();
const builds = new Map(); // wasm URL → Promise of its build key (see buildKey)

/** Starts fetching and compiling a larder.wasm (the default one is started
 * when larder.js is imported, in contexts that can start a Worker). */
export function preload(wasm = DEFAULT_WASM) {
  const url = new URL(wasm, import.meta.url).href;
  let p = compiled.get(url);
  if (!p) {
    const resp = fetch(url);
    builds.set(url, resp.then(buildKey, () => null));
    p = WebAssembly.compileStreaming(resp).catch(async () => {
      const r = await fetch(url);
      if (!r.ok) throw larderError("LARDER_STORAGE_UNAVAILABLE", `larder: cannot load ${url}: HTTP ${r.status}`);
      return WebAssembly.compile(await r.arrayBuffer());
    });
    compiled.set(url, p);
  }
  return p;
}

// buildKey names one build of larder.wasm as the browser's caches know it:
// its URL and validators. The warm-up runs once per build key.
function buildKey(r) {
  const h = (k) => r.headers.get(k) || "";
  return `${r.url} ${h("etag")} ${h("last-modified")} ${h("content-length")}`;
}

if (typeof Worker === "function" && typeof WebAssembly === "object" && !globalThis.LARDER_NO_PRELOAD) {
  preload().catch(() => {}); // errors surface again from open()
}

// ---- row decoding (the flat encoding of jsbridge.EncodeRows) ----

const textDecoder = new TextDecoder();

function decodeText(u8, p, n) {
  if (n < 24) {
    let s = "";
    for (let i = p; i < p + n; i++) {
      const c = u8[i];
      if (c >= 0x80) return textDecoder.decode(u8.subarray(p, p + n));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return textDecoder.decode(u8.subarray(p, p + n));
}

export function decodeRows(u8) {
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  let p = 0;
  const ncols = dv.getUint32(p, true);
  p += 4;
  const cols = new Array(ncols);
  for (let i = 0; i < ncols; i++) {
    const n = dv.getUint32(p, true);
    p += 4;
    cols[i] = decodeText(u8, p, n);
    p += n;
  }
  const nrows = dv.getUint32(p, true);
  p += 4;
  const rows = new Array(nrows);
  for (let r = 0; r < nrows; r++) {
    const o = {};
    for (let c = 0; c < ncols; c++) {
      const tag = u8[p++];
      let v = null;
      if (tag === 1) {
        v = dv.getFloat64(p, true);
        p += 8;
      } else if (tag === 2) {
        v = dv.getBigInt64(p, true);
        p += 8;
      } else if (tag === 3 || tag === 4) {
        const n = dv.getUint32(p, true);
        p += 4;
        v = tag === 3 ? decodeText(u8, p, n) : u8.slice(p, p + n);
        p += n;
      }
      o[cols[c]] = v;
    }
    rows[r] = o;
  }
  return rows;
}

// ---- runtimes: a dedicated worker, or in-process where there is no Worker ----

class WorkerRuntime {
  constructor(wasm) {
    this.wasm = wasm;
    this.seq = 0;
    this.pending = new Map();
    this.handles = new Set();
    this.dead = null;
    this.prepared = {};
    this.worker = new Worker(WORKER_URL, { type: "module", name: "larder" });
    this.worker.onmessage = (e) => this.onMessage(e.data);
    this.worker.onerror = (e) => {
      e.preventDefault && e.preventDefault();
      this.kill(`larder worker failed: ${e.message || "script error"} (${WORKER_URL.href})`);
    };
    this.worker.onmessageerror = () => this.kill("larder worker: message could not be deserialized");
    preload(wasm).then(
      (module) => this.worker.postMessage({ type: "init", module, wasm }),
      () => this.worker.postMessage({ type: "init", wasm }),
    );
    if (typeof addEventListener === "function" && typeof window !== "undefined") {
      addEventListener("pagehide", () => {
        if (!this.dead) this.worker.postMessage({ type: "pagehide" });
      });
    }
  }

  onMessage(m) {
    switch (m.type) {
      case "ready":
        this.started = true; // statement() may skip request()'s layers
        break;
      case "res": {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.result);
        else {
          if (m.error.code === CRASHED) this.kill(m.error.message);
          p.reject(fromWire(m.error));
        }
        break;
      }
      case "event":
        for (const h of this.handles) h._event(m.db, m.detail);
        break;
      case "exit":
        this.kill(m.error.message, m.error.code);
        break;
      case "warmup":
        this.warmup = { state: m.state, rounds: m.rounds, ms: m.ms, error: m.error };
        break;
      case "prepared":
        // What became of the OPFS handles the worker opened for an open
        // (larder-worker.js, Host.prepareFiles), for tests and devtools.
        this.prepared[m.db] = m.error ? { state: m.state, error: m.error } : { state: m.state };
        break;
    }
  }

  // warm asks the worker to warm larder.wasm up (see larder-worker.js,
  // Warmer), once; it does so only on the first visit of this build.
  warm() {
    if (this.warmAsked) return;
    this.warmAsked = true;
    const key = builds.get(new URL(this.wasm, import.meta.url).href);
    if (!key) return;
    key.then((k) => {
      if (k && !this.dead) this.worker.postMessage({ type: "warmup", key: k });
    });
  }

  kill(message, code = CRASHED) {
    if (this.dead) return;
    this.dead = larderError(code, message);
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
    runtimes.delete(this.wasm);
    this.worker.terminate();
  }

  // request posts at once, also before larder.wasm has started: the worker
  // holds what needs it, and does what does not (the tabs' election, the
  // storage's handles) meanwhile.
  async request(msg, transfer) {
    if (this.dead) throw this.dead;
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: "req", id, ...msg }, transfer || []);
    });
  }

  // statement sends an exec or query of handle h: request's message, built
  // without its awaits and copies (the call that matters for speed).
  statement(h, op, sql, params, tx) {
    if (!this.started) return h._call(op, { sql, params, tx });
    const id = ++this.seq;
    const known = h._known > 0 ? h._known : undefined;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: "req", id, op, db: h.name, storage: h.storage, sql, params, tx, known });
    });
  }

  // Functions cannot cross postMessage: send JS-function migrations as
  // source text, rebuilt in the worker (so they must not use closures).
  // Only functions the page passed become source text; everything else
  // crosses as the plain fields the worker accepts (see normalizeOpen).
  wireMigrations(migs) {
    return migs.map((m) => {
      const out = { version: m.version, name: m.name, checksum: m.checksum, breaking: m.breaking };
      if (typeof m.up === "function") out.upSource = m.up.toString();
      else out.up = m.up;
      if (typeof m.down === "function") out.downSource = m.down.toString();
      else if (m.down != null) out.down = m.down;
      if (m.noTransaction === true) out.noTransaction = true;
      if (m.downNoTransaction === true) out.downNoTransaction = true;
      return out;
    });
  }
}

class InProcessRuntime {
  constructor(wasm, Host) {
    this.wasm = wasm;
    this.handles = new Set();
    this.dead = null;
    this.host = new Host((m) => {
      if (m.type === "event") for (const h of this.handles) h._event(m.db, m.detail);
      if (m.type === "exit" && !this.dead) {
        this.dead = fromWire(m.error);
        runtimes.delete(this.wasm);
      }
    });
    this.ready = this.host.init(wasm).catch((e) => {
      this.dead = larderError(CRASHED, `larder.wasm could not start (${wasm}): ${e && e.message}`);
      runtimes.delete(this.wasm);
      throw this.dead;
    });
    this.ready.catch(() => {});
  }

  async request(msg) {
    if (this.dead) throw this.dead;
    await this.ready;
    const res = await this.host.handle(msg);
    if (!res.ok) throw fromWire(res.error);
    return res.result;
  }

  wireMigrations(migs) {
    return migs;
  }

  statement(h, op, sql, params, tx) {
    return h._call(op, { sql, params, tx });
  }
}

const runtimes = new Map(); // wasm URL → runtime

function runtimeFor(wasm) {
  let rt = runtimes.get(wasm);
  if (!rt) {
    if (typeof Worker === "function") {
      rt = new WorkerRuntime(wasm);
    } else if (globalThis.__larderInProcess) {
      rt = new InProcessRuntime(wasm, globalThis.__larderInProcess);
    } else {
      throw larderError(
        "LARDER_STORAGE_UNAVAILABLE",
        'larder: this context cannot start a Worker (service worker, extension background): add `import "./larder-worker.js"` next to larder.js to run Larder in-process',
      );
    }
    runtimes.set(wasm, rt);
  }
  return rt;
}

// ---- migrations ----

// A bundle (`larder migrate bundle`) carries data, never code: these are
// the only fields an entry may have. A bundle comes from a URL (a CDN, a
// build step) that the page trusts less than its own script, so a field
// outside this list (such as upSource, which the worker would evaluate)
// refuses the whole bundle.
const BUNDLE_FIELDS = new Set(["version", "name", "up", "down", "checksum", "breaking", "up_line", "down_line", "up_statements", "down_statements", "no_transaction", "down_no_transaction"]);

// Fields the wire to the worker uses for functions' source text: never
// accepted from the page's own objects either.
const WIRE_FIELDS = ["upSource", "downSource"];

function invalidMigrations(message) {
  return larderError("LARDER_INVALID_MIGRATIONS", message);
}

// bundleEntry checks entry i of the bundle at url and copies what Larder
// uses of it (plain data: numbers, strings, booleans).
export function bundleEntry(url, i, e) {
  const where = `open: migrations bundle ${url}: entry ${i}`;
  if (e === null || typeof e !== "object" || Array.isArray(e)) throw invalidMigrations(`${where}: not an object`);
  for (const k of Object.keys(e)) {
    if (!BUNDLE_FIELDS.has(k)) throw invalidMigrations(`${where}: field "${k}" is not allowed in a bundle (allowed: ${[...BUNDLE_FIELDS].join(", ")})`);
  }
  if (!Number.isSafeInteger(e.version) || e.version <= 0) throw invalidMigrations(`${where}: version must be a positive integer`);
  const at = `${where} (version ${e.version})`;
  if (typeof e.name !== "string" || e.name === "") throw invalidMigrations(`${at}: name must be a non-empty string`);
  if (typeof e.up !== "string") throw invalidMigrations(`${at}: up must be a string of SQL`);
  if (e.down != null && typeof e.down !== "string") throw invalidMigrations(`${at}: down must be a string of SQL or null`);
  if (typeof e.checksum !== "string" || !/^[0-9a-f]{64}$/.test(e.checksum)) {
    throw invalidMigrations(`${at}: checksum must be the hex SHA-256 that larder migrate bundle writes (got ${JSON.stringify(e.checksum ?? null)})`);
  }
  for (const k of ["breaking", "no_transaction", "down_no_transaction"]) {
    if (e[k] != null && typeof e[k] !== "boolean") throw invalidMigrations(`${at}: ${k} must be a boolean`);
  }
  for (const k of ["up_line", "down_line"]) {
    if (e[k] != null && (!Number.isSafeInteger(e[k]) || e[k] < 0)) throw invalidMigrations(`${at}: ${k} must be a line number`);
  }
  for (const k of ["up_statements", "down_statements"]) {
    const st = e[k];
    if (st == null) continue;
    if (!Array.isArray(st) || !st.every((x) => x && typeof x === "object" && typeof x.sql === "string" && Number.isSafeInteger(x.line) && Object.keys(x).every((f) => f === "sql" || f === "line"))) {
      throw invalidMigrations(`${at}: ${k} must be an array of {sql, line}`);
    }
  }
  const out = { version: e.version, name: e.name, up: e.up, checksum: e.checksum, breaking: e.breaking === true };
  if (typeof e.down === "string") out.down = e.down;
  // A part the file runs outside a transaction (dbmate transaction:false,
  // goose NO TRANSACTION) runs so in the browser too.
  if (e.no_transaction === true) out.noTransaction = true;
  if (e.down_no_transaction === true) out.downNoTransaction = true;
  return out;
}

// pageEntry checks entry i of the page's own migrations array: SQL text or
// functions (run in the worker).
function pageEntry(i, m) {
  if (m === null || typeof m !== "object") throw invalidMigrations(`open: migrations[${i}]: not an object`);
  for (const k of WIRE_FIELDS) {
    if (k in m) throw invalidMigrations(`open: migrations[${i}]: field "${k}" is not allowed: pass the function itself as up or down`);
  }
  for (const k of ["up", "down"]) {
    const v = m[k];
    if (k === "up" ? typeof v !== "string" && typeof v !== "function" : v != null && typeof v !== "string" && typeof v !== "function") {
      throw invalidMigrations(`open: migrations[${i}] (version ${m.version}): ${k} must be a string of SQL or a function`);
    }
  }
  return m;
}

async function loadMigrations(m) {
  if (m == null) return [];
  if (Array.isArray(m)) return m.map((x, i) => pageEntry(i, x));
  if (typeof m === "string" || m instanceof URL) {
    const base = typeof location !== "undefined" ? location.href : import.meta.url;
    const url = new URL(m, base);
    const r = await fetch(url, { cache: "no-cache" });
    if (!r.ok) throw invalidMigrations(`open: migrations bundle ${url}: HTTP ${r.status}`);
    let list;
    try {
      list = await r.json();
    } catch (e) {
      throw invalidMigrations(`open: migrations bundle ${url}: not JSON: ${e && e.message}`);
    }
    if (!Array.isArray(list)) throw invalidMigrations(`open: migrations bundle ${url}: not a JSON array`);
    return list.map((e, i) => bundleEntry(url, i, e));
  }
  throw invalidMigrations("open: migrations must be an array or the URL of a bundle");
}

// Persistent storage: asking (navigator.storage.persist()) may prompt the
// user (Firefox does, and its Promise then waits on the user), so Larder
// asks only when the app does — open({ persist: true }) or db.persist() —
// and never waits for the answer before opening. db.persisted starts from
// navigator.storage.persisted(), which never prompts.
function storageManager() {
  const s = typeof navigator !== "undefined" && navigator.storage;
  return s && typeof s.persisted === "function" ? s : null;
}

function persistedNow() {
  const s = storageManager();
  if (!s) return Promise.resolve(null);
  return s.persisted().then((v) => !!v, () => null);
}

function askPersistence() {
  const s = storageManager();
  if (!s || typeof s.persist !== "function") return Promise.resolve(null);
  return s.persist().then((v) => !!v, () => null);
}

// ---- the handle ----

class Database extends EventTarget {
  constructor(rt, name, res, persisted, known) {
    super();
    this._rt = rt;
    this.name = name;
    this.storage = res.storage;
    this.version = res.version;
    this.persisted = persisted;
    // Why "auto" did not pick OPFS although its API exists here (its first
    // error), or null: the database is on IndexedDB instead.
    this.storageFallback = res.storageFallback ?? null;
    this._known = known; // newest migration this code knows (0: none given)
    this._closed = null;
    this._outdated = null;
    rt.handles.add(this);
  }

  _event(db, detail) {
    if (db !== this.name || this._closed) return;
    if (detail.type === "versionchange") {
      this.version = Math.max(Number(this.version), Number(detail.to));
      if (detail.breaking && this._known > 0 && Number(detail.to) > this._known && !this._outdated) {
        this._outdated = larderError(
          OUTDATED,
          `database "${this.name}" was upgraded to version ${detail.to} by a breaking migration; this code knows up to ${this._known}: load the new version of the app`,
        );
      }
    }
    const { type, ...rest } = detail;
    this.dispatchEvent(new CustomEvent(type, { detail: rest }));
  }

  async _call(op, msg = {}, transfer) {
    if (this._closed) throw this._closed;
    if (this._outdated && op !== "close" && op !== "reset" && op !== "export") throw this._outdated;
    if (this._rt.dead) throw this._rt.dead;
    const req = { op, db: this.name, storage: this.storage, ...msg };
    if (this._known > 0) req.known = this._known;
    try {
      return await this._rt.request(req, transfer);
    } catch (e) {
      this._failed(e);
    }
  }

  // _failed rethrows e; LARDER_OUTDATED also marks the handle, whose later
  // calls then fail the same way without a round trip.
  _failed(e) {
    if (e.code === OUTDATED && !this._outdated) this._outdated = e;
    throw e;
  }

  // _statement runs an exec or a query (in transaction tx, if given).
  _statement(op, sql, params, tx) {
    const bad = this._closed || this._outdated || this._rt.dead;
    if (bad) return Promise.reject(bad);
    return this._rt.statement(this, op, sql, params, tx).catch((e) => this._failed(e));
  }

  exec(sql, params) {
    return this._statement("exec", sql, params);
  }

  query(sql, params) {
    return this._statement("query", sql, params).then(decodeRows);
  }

  async transaction(fn) {
    const tx = await this._call("begin");
    const t = {
      exec: (sql, params) => this._statement("exec", sql, params, tx),
      query: (sql, params) => this._statement("query", sql, params, tx).then(decodeRows),
    };
    let result;
    try {
      result = await fn(t);
    } catch (e) {
      await this._call("rollback", { tx }).catch(() => {});
      throw e;
    }
    await this._call("commit", { tx });
    return result;
  }

  async migrations() {
    return this._call("migrations");
  }

  /** Asks for persistent storage (navigator.storage.persist(), which may
   * prompt the user); resolves to the answer, also kept in db.persisted,
   * or null where the browser has no such API. */
  async persist() {
    const v = await askPersistence();
    if (v !== null) this.persisted = v;
    return v;
  }

  async export() {
    return this._call("export");
  }

  async import(bytes, options = {}) {
    if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
    if (!(bytes instanceof Uint8Array)) throw larderError("LARDER_INVALID_DATABASE", "import: want a Uint8Array");
    const { timeoutMs, allowExtraSchema } = options;
    const v = await this._call("import", { bytes, timeoutMs, allowExtraSchema: allowExtraSchema === true });
    this.version = v;
  }

  // backup and restore: a copy of the database at an HTTP endpoint, e.g. a
  // Larder edge Worker's /api/backup/NAME (edge/README.md). init is passed
  // to fetch (headers such as Authorization).
  async backup(url, init = {}) {
    const body = await this.export();
    const headers = { "Content-Type": "application/vnd.sqlite3", ...(init.headers || {}) };
    const res = await fetch(url, { ...init, method: "PUT", headers, body });
    if (!res.ok) throw await httpError("backup", url, res);
    return res.json().catch(() => ({}));
  }

  async restore(url, init = {}, options = {}) {
    const res = await fetch(url, { ...init, method: "GET" });
    if (!res.ok) throw await httpError("restore", url, res);
    await this.import(new Uint8Array(await res.arrayBuffer()), options);
  }

  async reset() {
    await this._call("reset", { storage: this.storage });
    this._close(`database "${this.name}" was reset; open it again`);
  }

  async close() {
    if (this._closed) return;
    this._close(`database "${this.name}" is closed`);
    await this._rt.request({ op: "close", db: this.name, storage: this.storage }).catch(() => {});
  }

  _close(message) {
    this._closed = larderError(CLOSED, message);
    this._rt.handles.delete(this);
  }
}

/**
 * Opens (creating it if needed) the database `name` and applies its
 * migrations. See larder.d.ts for the options.
 */
export async function open(options = {}) {
  const name = options.name;
  if (typeof name !== "string" || name === "") throw larderError("LARDER_INVALID_ARGUMENT", "open: name is required");
  const storage = options.storage ?? "auto";
  const wasm = new URL(options.wasm ?? DEFAULT_WASM, typeof location !== "undefined" ? location.href : import.meta.url).href;
  const migs = await loadMigrations(options.migrations);
  // Neither is awaited: persisted() does not prompt, and a persist() the
  // app asked for is answered whenever the user does. Each answer lands in
  // db.persisted when it comes; the app's own request wins over persisted().
  let db = null, persisted = null, answered = false;
  const keep = (v) => {
    if (v === null) return;
    persisted = v;
    if (db) db.persisted = v;
  };
  persistedNow().then((v) => answered || keep(v));
  if (options.persist === true) askPersistence().then((v) => v !== null && ((answered = true), keep(v)));
  const rt = runtimeFor(wasm);
  const res = await rt.request({
    op: "open",
    name,
    storage,
    migrations: rt.wireMigrations(migs),
    allowOutOfOrder: !!options.allowOutOfOrder,
  });
  const known = migs.reduce((m, x) => Math.max(m, Number(x.version) || 0), 0);
  if (options.warmup !== false && rt.warm) rt.warm();
  db = new Database(rt, name, res, persisted, known);
  return db;
}

// For tests and devtools: the live runtimes (their kill() is the
// fault-injection seam of the kill-loop tests).
export function __runtimes() {
  return runtimes.values();
}

/** Deletes the storage of database `name` without opening it (devtools). */
export async function reset(name, { storage = "auto", wasm } = {}) {
  const rt = runtimeFor(new URL(wasm ?? DEFAULT_WASM, import.meta.url).href);
  await rt.request({ op: "reset", db: name, storage });
}
