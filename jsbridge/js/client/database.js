// database.js — the handle open() resolves to (larder.d.ts, Database).
//
// Every call takes one route, _call: the handle's guards (closed,
// outdated, dead runtime) are checked once, synchronously, and the request
// is posted at once; statements need no other way.

import { larderError, httpError, CLOSED, OUTDATED, SYNC_OFF } from "./errors.js";
import { decodeRows, runResult } from "./encoding.js";
import { watch } from "./watch.js";

// Ops an outdated handle may still run: getting out of the way of the new
// version, or saving the data first.
const OUTDATED_OK = new Set(["close", "reset", "export"]);

// Persistent storage: asking (navigator.storage.persist()) may prompt the
// user (Firefox does, and its Promise then waits on the user), so Larder
// asks only when the app does — open({ persist: true }) or db.persist() —
// and never waits for the answer before opening. db.persisted starts from
// navigator.storage.persisted(), which never prompts.
function storageManager() {
  const s = typeof navigator !== "undefined" && navigator.storage;
  return s && typeof s.persisted === "function" ? s : null;
}

export function persistedNow() {
  const s = storageManager();
  if (!s) return Promise.resolve(null);
  return s.persisted().then((v) => !!v, () => null);
}

export function askPersistence() {
  const s = storageManager();
  if (!s || typeof s.persist !== "function") return Promise.resolve(null);
  return s.persist().then((v) => !!v, () => null);
}

// rowsOf decodes a query's answer in the rowMode its options ask for.
function rowsOf(options) {
  return options && options.rowMode !== undefined ? (b) => decodeRows(b, options) : decodeRows;
}

export class Database extends EventTarget {
  constructor(conn, name, res, persisted, known) {
    super();
    this._rt = conn;
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
    conn.handles.add(this);
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
    if (detail.type === "change" && this._sync) this._sync.onChange(detail.tables);
    const { type, ...rest } = detail;
    this.dispatchEvent(new CustomEvent(type, { detail: rest }));
  }

  // _call is the one route of every request of this handle: op with the
  // request's other fields.
  _call(op, fields) {
    const bad = this._closed || (this._outdated && !OUTDATED_OK.has(op) && this._outdated) || this._rt.dead;
    if (bad) return Promise.reject(bad);
    const req = { op, db: this.name, storage: this.storage };
    if (fields) Object.assign(req, fields);
    if (this._known > 0) req.known = this._known;
    return this._rt.request(req).catch((e) => this._failed(e));
  }

  // _failed rethrows e; LARDER_OUTDATED also marks the handle, whose later
  // calls then fail the same way without a round trip.
  _failed(e) {
    if (e.code === OUTDATED && !this._outdated) this._outdated = e;
    throw e;
  }

  exec(sql, params) {
    return this._call("exec", { sql, params });
  }

  query(sql, params, options) {
    return this._call("query", { sql, params }).then(rowsOf(options));
  }

  // run: an exec that also answers the rows (RETURNING) — {rows, changes,
  // lastInsertRowid}, or {columns, rows, changes, lastInsertRowid} with
  // { rowMode: "array" }.
  run(sql, params, options) {
    return this._call("run", { sql, params }).then((b) => runResult(b, options));
  }

  /** watch calls callback(rows) with sql's result, then again after every
   * committed write (any tab) to a table sql reads; it returns unwatch().
   * options: { onError, rowMode }. */
  watch(sql, params, callback, options) {
    return watch(this, sql, params, callback, options);
  }

  async transaction(fn) {
    const tx = await this._call("begin");
    const t = {
      exec: (sql, params) => this._call("exec", { sql, params, tx }),
      query: (sql, params, options) => this._call("query", { sql, params, tx }).then(rowsOf(options)),
      run: (sql, params, options) => this._call("run", { sql, params, tx }).then((b) => runResult(b, options)),
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

  migrations() {
    return this._call("migrations");
  }

  // sync and syncStatus: client/sync.js (open({ sync })).
  sync() {
    if (!this._sync) return Promise.reject(larderError(SYNC_OFF, `db.sync: database "${this.name}" was opened without the sync option`));
    return this._sync.sync();
  }

  get syncStatus() {
    return this._sync ? { ...this._sync.status } : null;
  }

  /** Asks for persistent storage (navigator.storage.persist(), which may
   * prompt the user); resolves to the answer, also kept in db.persisted,
   * or null where the browser has no such API. */
  async persist() {
    const v = await askPersistence();
    if (v !== null) this.persisted = v;
    return v;
  }

  export() {
    return this._call("export");
  }

  async import(bytes, options = {}) {
    if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
    if (!(bytes instanceof Uint8Array)) throw larderError("LARDER_INVALID_DATABASE", "import: want a Uint8Array");
    const { timeoutMs, allowExtraSchema } = options;
    this.version = await this._call("import", { bytes, timeoutMs, allowExtraSchema: allowExtraSchema === true });
  }

  // backup and restore: a copy of the database at an HTTP endpoint, e.g. a
  // Larder edge Worker's /api/backup/NAME (docs/edge.md). init is passed
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
    await this._call("reset");
    this._close(`database "${this.name}" was reset; open it again`);
  }

  async close() {
    if (this._closed) return;
    this._close(`database "${this.name}" is closed`);
    await this._rt.request({ op: "close", db: this.name, storage: this.storage }).catch(() => {});
  }

  _close(message) {
    this._closed = larderError(CLOSED, message);
    if (this._sync) this._sync.close();
    this._rt.handles.delete(this);
  }
}
