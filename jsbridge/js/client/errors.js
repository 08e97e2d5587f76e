// errors.js — Larder's error codes and the LarderError class, for the page
// and the worker alike (docs/PROTOCOL.md, "Error codes").
//
// Every error the library rejects with has a string `code`: one of CODES
// or SQLite's extended result code name ("SQLITE_CONSTRAINT_UNIQUE"). The
// Go side defines the codes it produces (jsbridge/errors.go,
// migrations/errors.go); the Node test jsbridge/js/test/errors.test.js
// checks this list against those sources and against every code the JS
// sources use, so the copies cannot drift.

/** Every LARDER_* code the browser library can reject with. */
export const CODES = Object.freeze([
  // The core (jsbridge/errors.go).
  "LARDER_CLOSED",
  "LARDER_INVALID_DATABASE",
  "LARDER_STORAGE_UNAVAILABLE",
  "LARDER_OUTDATED",
  "LARDER_INVALID_ARGUMENT",
  "LARDER_INTERNAL",
  "LARDER_CRASHED",
  // The migration engine (migrations/errors.go, Code).
  "LARDER_MIGRATION_FAILED",
  "LARDER_DATABASE_NEWER",
  "LARDER_MISSING_MIGRATION",
  "LARDER_CHECKSUM_MISMATCH",
  "LARDER_OUT_OF_ORDER",
  "LARDER_INVALID_MIGRATIONS",
  "LARDER_UNKNOWN_VERSION",
  "LARDER_NO_DOWN",
  // Sync (engine/sync.go, and the codes syncer and the edge answer).
  "LARDER_SYNC_OFF",
  "LARDER_SERVER_BEHIND",
  "LARDER_FORBIDDEN",
  "LARDER_UNAUTHORIZED",
  "LARDER_BUSY",
  // The JS client itself: many tabs, and HTTP backup/restore.
  "LARDER_OWNER_GONE",
  "LARDER_TIMEOUT",
  "LARDER_HTTP_ERROR",
]);

export const CLOSED = "LARDER_CLOSED";
export const CRASHED = "LARDER_CRASHED";
export const OUTDATED = "LARDER_OUTDATED";
export const INTERNAL = "LARDER_INTERNAL";
export const INVALID_ARGUMENT = "LARDER_INVALID_ARGUMENT";
export const INVALID_MIGRATIONS = "LARDER_INVALID_MIGRATIONS";
export const STORAGE_UNAVAILABLE = "LARDER_STORAGE_UNAVAILABLE";
export const OWNER_GONE = "LARDER_OWNER_GONE";
export const TIMEOUT = "LARDER_TIMEOUT";
export const HTTP_ERROR = "LARDER_HTTP_ERROR";
export const SYNC_OFF = "LARDER_SYNC_OFF";

/** The errors Larder rejects with: an Error with a `code` (and, on
 * LARDER_MIGRATION_FAILED, `migration`; on HTTP errors, `status`). */
export class LarderError extends Error {
  constructor(code, message, extra) {
    super(message);
    this.code = code;
    if (extra) Object.assign(this, extra);
  }
}
Object.defineProperty(LarderError.prototype, "name", { value: "Error", writable: true, configurable: true });

/** isLarderError reports whether e is an error of the library (any object
 * with a LARDER_* or SQLITE_* code counts, so errors that crossed a realm
 * or a postMessage do too). */
export function isLarderError(e) {
  return e instanceof LarderError || (e != null && typeof e === "object" && typeof e.code === "string" && /^(LARDER|SQLITE)_[A-Z0-9_]+$/.test(e.code));
}

export function larderError(code, message, extra) {
  return new LarderError(code, message, extra);
}

// wireError turns anything thrown into the plain object that crosses
// postMessage and the BroadcastChannel: {name, message, code, migration?}.
// A thrown value without a string code is LARDER_INTERNAL.
export function wireError(e) {
  if (e && typeof e === "object") {
    const out = {
      name: String(e.name || "Error"),
      message: String(e.message ?? e),
      code: typeof e.code === "string" ? e.code : INTERNAL,
    };
    if (e.migration) out.migration = { version: e.migration.version, name: e.migration.name };
    return out;
  }
  return { name: "Error", message: String(e), code: INTERNAL };
}

// fromWire is wireError's inverse, on the page: a LarderError.
export function fromWire(w) {
  const e = new LarderError(w.code, w.message);
  if (w.name && w.name !== "Error") e.name = w.name;
  if (w.migration) e.migration = w.migration;
  return e;
}

// failure is a request's answer that failed with code.
export function failure(code, message) {
  return { ok: false, error: { name: "Error", code, message } };
}

// httpError turns a failed backup/restore response into an error with the
// server's LARDER_* code when it sent one ({"error": {code, message}}).
export async function httpError(op, url, res) {
  let code = HTTP_ERROR,
    msg = res.statusText;
  try {
    const b = await res.json();
    if (b && b.error) ({ code = code, message: msg = msg } = b.error);
  } catch {}
  return larderError(code, `${op} ${url}: HTTP ${res.status}: ${msg}`, { status: res.status });
}
