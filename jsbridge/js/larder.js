// larder.js — Larder's JS API: SQLite in a Web Worker, on OPFS or
// IndexedDB, with migrations applied on open. See larder.d.ts, and
// docs/PROTOCOL.md for what crosses between the page, the worker and other
// tabs.
//
//   import { open } from "./larder.js";
//   const db = await open({ name: "app", migrations: "./migrations.json" });
//   await db.exec("INSERT INTO note(body) VALUES (?)", ["hi"]);
//   const rows = await db.query("SELECT * FROM note");
//
// Importing this module starts nothing and downloads nothing: open() (or
// preload(), to start the download early) does.

import { larderError, INVALID_ARGUMENT } from "./client/errors.js";
import { connectionFor, liveConnections, preloadURL } from "./client/connection.js";
import { loadMigrations } from "./client/migrations.js";
import { Database, persistedNow, askPersistence } from "./client/database.js";
import { Syncer, syncOptions } from "./client/sync.js";

export { decodeRows } from "./client/encoding.js";
export { LarderError, isLarderError, CODES } from "./client/errors.js";

const DEFAULT_WASM = new URL("./larder.wasm", import.meta.url).href;

// startWorker starts larder-worker.js, written literally as bundlers
// (Vite, webpack 5, Rollup and esbuild plugins) recognise it: they then
// emit the worker and what it imports (wasm_exec.js, client/*.js).
function startWorker() {
  return new Worker(new URL("./larder-worker.js", import.meta.url), { type: "module" });
}

function wasmURL(wasm) {
  return new URL(wasm ?? DEFAULT_WASM, typeof location !== "undefined" ? location.href : import.meta.url).href;
}

/** Starts fetching and compiling a larder.wasm (default: the one next to
 * larder.js), so that a later open() finds it compiled. */
export function preload(wasm) {
  return preloadURL(wasmURL(wasm));
}

/**
 * Opens (creating it if needed) the database `name` and applies its
 * migrations. See larder.d.ts for the options.
 */
export async function open(options = {}) {
  const name = options.name;
  if (typeof name !== "string" || name === "") throw larderError(INVALID_ARGUMENT, "open: name is required");
  const storage = options.storage ?? "auto";
  const wasm = wasmURL(options.wasm);
  const migs = await loadMigrations(options.migrations);
  const sync = options.sync == null ? null : syncOptions(options.sync, migs);
  // Neither is awaited: persisted() does not prompt, and a persist() the
  // app asked for is answered whenever the user does. Each answer lands in
  // db.persisted when it comes; the app's own request wins over persisted().
  let db = null,
    persisted = null,
    answered = false;
  const keep = (v) => {
    if (v === null) return;
    persisted = v;
    if (db) db.persisted = v;
  };
  persistedNow().then((v) => answered || keep(v));
  if (options.persist === true) askPersistence().then((v) => v !== null && ((answered = true), keep(v)));
  const conn = connectionFor(wasm, startWorker);
  const res = await conn.request({
    op: "open",
    name,
    storage,
    migrations: conn.wireMigrations(migs),
    allowOutOfOrder: !!options.allowOutOfOrder,
    sync: sync ? sync.config : undefined,
  });
  const known = migs.reduce((m, x) => Math.max(m, Number(x.version) || 0), 0);
  if (options.warmup !== false && conn.warm) conn.warm();
  db = new Database(conn, name, res, persisted, known);
  if (sync) (db._sync = new Syncer(db, sync)).start();
  return db;
}

/** Deletes the storage of database `name` without opening it (devtools). */
export async function reset(name, { storage = "auto", wasm } = {}) {
  const conn = connectionFor(wasmURL(wasm), startWorker);
  await conn.request({ op: "reset", db: name, storage });
}

/** For tests and devtools: the live connections to larder.wasm (their
 * kill() is the fault-injection seam of the kill-loop tests). */
export function __runtimes() {
  return liveConnections();
}
