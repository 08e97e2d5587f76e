// migrations.js — migrations on their way from open() to larder.wasm
// (docs/PROTOCOL.md, "open"): the page checks a bundle's entries or its own
// array (loadMigrations), sends functions as source text across
// postMessage (toWire), and the worker rebuilds them and copies the
// fields larder.wasm takes (normalizeOpen).

import { larderError, INVALID_MIGRATIONS } from "./errors.js";

function invalidMigrations(message) {
  return larderError(INVALID_MIGRATIONS, message);
}

// ---- the page ----

// A bundle (`larder migrate bundle`) carries data, never code: these are
// the only fields an entry may have. A bundle comes from a URL (a CDN, a
// build step) that the page trusts less than its own script, so a field
// outside this list (such as upSource, which the worker would evaluate)
// refuses the whole bundle.
const BUNDLE_FIELDS = new Set(["version", "name", "up", "down", "checksum", "breaking", "up_line", "down_line", "up_statements", "down_statements", "no_transaction", "down_no_transaction"]);

// Fields the wire to the worker uses for functions' source text: never
// accepted from the page's own objects either.
const WIRE_FIELDS = ["upSource", "downSource"];


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

export async function loadMigrations(m) {
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
    // With sync.toml beside the migrations, `larder migrate bundle` writes
    // {migrations, sync}: the sync declaration rides along (client/sync.js).
    const sync = list && !Array.isArray(list) && typeof list.sync === "string" ? list.sync : undefined;
    if (list && !Array.isArray(list) && Array.isArray(list.migrations)) list = list.migrations;
    if (!Array.isArray(list)) throw invalidMigrations(`open: migrations bundle ${url}: not a JSON array`);
    const out = list.map((e, i) => bundleEntry(url, i, e));
    if (sync !== undefined) out.sync = sync;
    return out;
  }
  throw invalidMigrations("open: migrations must be an array or the URL of a bundle");
}

// toWire: functions cannot cross postMessage, so JS-function migrations
// travel as source text, rebuilt in the worker (they must not use
// closures). Only functions the page passed become source text; everything
// else crosses as the plain fields the worker accepts (see normalizeOpen).
export function toWire(migs) {
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

// ---- the worker ----

// Rebuild functions of JS-function migrations sent as source text by
// larder.js (toWire), which makes upSource and
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


// The fields of a migration on the wire (toWire; or the
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

