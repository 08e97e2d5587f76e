// encoding.js — the two binary encodings between JavaScript and larder.wasm
// (docs/PROTOCOL.md, "Statement requests" and "Rows"): statement requests
// (encodeStatement, the Go side's engine.DecodeStatement) and rows
// (decodeRows, the Go side's engine.EncodeRows). Golden vectors in
// testdata/wire/ hold both sides to one format.

import { larderError, INVALID_ARGUMENT } from "./errors.js";

// Cell tags, shared by both encodings; TAG_BOOL only in requests.
export const TAG_NULL = 0;
export const TAG_FLOAT = 1;
export const TAG_INT = 2;
export const TAG_TEXT = 3;
export const TAG_BLOB = 4;
export const TAG_BOOL = 5;

// Parameter kinds of a statement request.
export const PARAMS_NONE = 0;
export const PARAMS_POSITIONAL = 1;
export const PARAMS_NAMED = 2;

// Statement kinds of larder.wasm's direct entry (jsbridge.DirectRun).
export const KIND = Object.freeze({ exec: 1, query: 2, run: 3 });

// ---- statement requests ----

// The request is written into one scratch buffer, reused and grown.
let scratch = new Uint8Array(4096);
let view = new DataView(scratch.buffer);
const utf8 = new TextEncoder();

function room(at, n) {
  if (at + n <= scratch.length) return;
  let size = scratch.length * 2;
  while (size < at + n) size *= 2;
  const next = new Uint8Array(size);
  next.set(scratch.subarray(0, at));
  scratch = next;
  view = new DataView(scratch.buffer);
}

function putText(at, s) {
  room(at, 4 + s.length * 3);
  const { written } = utf8.encodeInto(s, scratch.subarray(at + 4));
  view.setUint32(at, written, true);
  return at + 4 + written;
}

function putBytes(at, b) {
  room(at, 4 + b.length);
  view.setUint32(at, b.length, true);
  scratch.set(b, at + 4);
  return at + 4 + b.length;
}

function putCell(at, v, where) {
  room(at, 9);
  switch (typeof v) {
    case "undefined":
      scratch[at] = TAG_NULL;
      return at + 1;
    case "boolean":
      scratch[at] = TAG_BOOL;
      scratch[at + 1] = v ? 1 : 0;
      return at + 2;
    case "number":
      scratch[at] = TAG_FLOAT;
      view.setFloat64(at + 1, v, true);
      return at + 9;
    case "bigint":
      if (v < -(2n ** 63n) || v >= 2n ** 63n) {
        throw larderError("SQLITE_RANGE", `${where}: bigint ${v} does not fit in a 64-bit INTEGER`);
      }
      scratch[at] = TAG_INT;
      view.setBigInt64(at + 1, v, true);
      return at + 9;
    case "string":
      scratch[at] = TAG_TEXT;
      return putText(at + 1, v);
    case "object":
      if (v === null) {
        scratch[at] = TAG_NULL;
        return at + 1;
      }
      if (v instanceof Uint8Array) {
        scratch[at] = TAG_BLOB;
        return putBytes(at + 1, v);
      }
      if (v instanceof ArrayBuffer) {
        scratch[at] = TAG_BLOB;
        return putBytes(at + 1, new Uint8Array(v));
      }
      if (ArrayBuffer.isView(v)) {
        scratch[at] = TAG_BLOB;
        return putBytes(at + 1, new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      }
      if (v instanceof Date) {
        scratch[at] = TAG_TEXT;
        return putText(at + 1, v.toISOString());
      }
  }
  throw larderError("SQLITE_MISMATCH", `${where}: unsupported parameter type ${typeof v}`);
}

/** encodeStatement writes {db, sql, params} into the scratch buffer and
 * returns its length; statementBytes() is the buffer (valid until the next
 * call). Parameters it cannot encode throw SQLITE_RANGE, SQLITE_MISMATCH
 * or LARDER_INVALID_ARGUMENT. */
export function encodeStatement(req) {
  let at = putText(0, typeof req.db === "string" ? req.db : "");
  at = putText(at, typeof req.sql === "string" ? req.sql : "");
  const p = req.params;
  room(at, 5);
  if (p === undefined || p === null) {
    scratch[at] = PARAMS_NONE;
    view.setUint32(at + 1, 0, true);
    return at + 5;
  }
  if (typeof p !== "object" || p instanceof ArrayBuffer || ArrayBuffer.isView(p)) {
    throw larderError(INVALID_ARGUMENT, "params: want an array or an object");
  }
  if (Array.isArray(p)) {
    scratch[at] = PARAMS_POSITIONAL;
    view.setUint32(at + 1, p.length, true);
    at += 5;
    for (let i = 0; i < p.length; i++) at = putCell(at, p[i], `params[${i}]`);
    return at;
  }
  const keys = Object.keys(p);
  scratch[at] = PARAMS_NAMED;
  view.setUint32(at + 1, keys.length, true);
  at += 5;
  for (const k of keys) {
    at = putText(at, k);
    at = putCell(at, p[k], `params.${k}`);
  }
  return at;
}

/** statementBytes is the scratch buffer encodeStatement wrote into. */
export function statementBytes() {
  return scratch;
}

// ---- answers ----

// rowid turns an int64 into a Number when exact, else keeps the BigInt.
function exact(v) {
  const n = Number(v);
  return Number.isSafeInteger(n) && BigInt(n) === v ? n : v;
}

/** execResult decodes the answer to an exec: changes and lastInsertRowid,
 * little-endian int64s (lastInsertRowid a BigInt beyond ±(2^53−1)). */
export function execResult(b) {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { changes: Number(dv.getBigInt64(0, true)), lastInsertRowid: exact(dv.getBigInt64(8, true)) };
}

/** runResult decodes the answer to a run (kind 3): execResult's 16 bytes,
 * then the rows. */
export function runResult(b, options) {
  const head = execResult(b);
  const rows = decodeRows(b.subarray(16), options);
  if (Array.isArray(rows)) return { rows, ...head };
  return { ...rows, ...head };
}

// ---- rows (engine.EncodeRows) ----

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

/** decodeRows decodes the row encoding: with rowMode "object" (the
 * default) an array of objects keyed by column name (a later duplicate
 * name wins); with rowMode "array" {columns, rows} with every row an array
 * of values in column order (duplicate names kept). */
export function decodeRows(u8, { rowMode = "object" } = {}) {
  if (rowMode !== "object" && rowMode !== "array") {
    throw larderError(INVALID_ARGUMENT, `rowMode: want "object" or "array", got ${JSON.stringify(String(rowMode))}`);
  }
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
  const asArray = rowMode === "array";
  const rows = new Array(nrows);
  for (let r = 0; r < nrows; r++) {
    const o = asArray ? new Array(ncols) : {};
    for (let c = 0; c < ncols; c++) {
      const tag = u8[p++];
      let v = null;
      if (tag === TAG_FLOAT) {
        v = dv.getFloat64(p, true);
        p += 8;
      } else if (tag === TAG_INT) {
        v = dv.getBigInt64(p, true);
        p += 8;
      } else if (tag === TAG_TEXT || tag === TAG_BLOB) {
        const n = dv.getUint32(p, true);
        p += 4;
        v = tag === TAG_TEXT ? decodeText(u8, p, n) : u8.slice(p, p + n);
        p += n;
      }
      o[asArray ? c : cols[c]] = v;
    }
    rows[r] = o;
  }
  return asArray ? { columns: cols, rows } : rows;
}
