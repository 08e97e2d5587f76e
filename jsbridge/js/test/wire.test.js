// The JS side of the golden vectors of testdata/wire (docs/PROTOCOL.md):
// encodeStatement must write exactly the bytes of statements.json, and
// decodeRows must read rows.json's bytes (which engine.EncodeRows wrote)
// as its values. jsbridge/wire_test.go holds the Go side to the same files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { encodeStatement, statementBytes, decodeRows, runResult } from "../client/encoding.js";

const wire = (name) => JSON.parse(readFileSync(new URL(`../../../testdata/wire/${name}`, import.meta.url), "utf8"));
const hex = (u8) => Buffer.from(u8).toString("hex");
const bytes = (h) => new Uint8Array(Buffer.from(h, "hex"));

// jsParam is a vector's parameter as the page passes it.
function jsParam(v) {
  if (v === null) return null;
  if ("number" in v) return v.number;
  if ("bigint" in v) return BigInt(v.bigint);
  if ("text" in v) return v.text;
  if ("blob" in v) return bytes(v.blob);
  if ("bool" in v) return v.bool;
  if ("date" in v) return new Date(v.date);
  if ("undefined" in v) return undefined;
  throw new Error(`unknown value form ${JSON.stringify(v)}`);
}

// jsValue is a decoded row value as decodeRows returns it.
function jsValue(v) {
  if (v === null) return null;
  if ("int" in v) {
    const b = BigInt(v.int);
    return b >= -(2n ** 53n - 1n) && b <= 2n ** 53n - 1n ? Number(b) : b;
  }
  if ("float" in v) return v.float;
  if ("text" in v) return v.text;
  if ("blob" in v) return bytes(v.blob);
  throw new Error(`unknown value form ${JSON.stringify(v)}`);
}

const statements = wire("statements.json").vectors;
test("statement vectors exist", () => assert.ok(statements.length >= 5));
for (const v of statements) {
  test(`encodeStatement: ${v.name}`, () => {
    let params = v.params;
    if (Array.isArray(params)) params = params.map(jsParam);
    else if (params) params = Object.fromEntries(Object.entries(params).map(([k, x]) => [k, jsParam(x)]));
    const n = encodeStatement({ db: v.db, sql: v.sql, params });
    assert.equal(hex(statementBytes().subarray(0, n)), v.hex);
  });
}

const rows = wire("rows.json").vectors;
test("row vectors exist", () => assert.ok(rows.length >= 3));
for (const v of rows) {
  test(`decodeRows: ${v.name}`, () => {
    const want = v.rows.map((r) => r.map(jsValue));
    const arr = decodeRows(bytes(v.hex), { rowMode: "array" });
    assert.deepEqual(arr.columns, v.columns);
    assert.deepEqual(arr.rows, want);
    // Objects: keyed by name, a later duplicate winning.
    const objs = decodeRows(bytes(v.hex));
    assert.deepEqual(objs, want.map((r) => Object.fromEntries(v.columns.map((c, i) => [c, r[i]]))));
  });
  test(`runResult: ${v.name}`, () => {
    const head = new Uint8Array(16);
    new DataView(head.buffer).setBigInt64(0, 3n, true);
    new DataView(head.buffer).setBigInt64(8, 2n ** 60n, true);
    const body = bytes(v.hex);
    const all = new Uint8Array(16 + body.length);
    all.set(head);
    all.set(body, 16);
    const r = runResult(all, { rowMode: "array" });
    assert.equal(r.changes, 3);
    assert.equal(r.lastInsertRowid, 2n ** 60n);
    assert.deepEqual(r.columns, v.columns);
    assert.equal(runResult(all).rows.length, v.rows.length);
  });
}

test("encodeStatement refuses what it cannot encode", () => {
  assert.throws(() => encodeStatement({ db: "d", sql: "x", params: [2n ** 63n] }), { code: "SQLITE_RANGE" });
  assert.throws(() => encodeStatement({ db: "d", sql: "x", params: [{}] }), { code: "SQLITE_MISMATCH" });
  assert.throws(() => encodeStatement({ db: "d", sql: "x", params: "nope" }), { code: "LARDER_INVALID_ARGUMENT" });
});

test("decodeRows refuses an unknown rowMode", () => {
  assert.throws(() => decodeRows(bytes("0000000000000000"), { rowMode: "map" }), { code: "LARDER_INVALID_ARGUMENT" });
});
