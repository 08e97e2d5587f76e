// Error codes and their mapping (docs/PROTOCOL.md, "Error codes"): the
// list in client/errors.js against the Go sources that define codes and
// against every code the JS sources use; wireError/fromWire across
// postMessage; httpError's server codes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { CODES, LarderError, isLarderError, wireError, fromWire, failure, httpError, larderError } from "../client/errors.js";

const root = new URL("../../../", import.meta.url);
const read = (p) => readFileSync(new URL(p, root), "utf8");
const codesIn = (src) => new Set([...src.matchAll(/"(LARDER_[A-Z_]+)"/g)].map((m) => m[1]));

// goSources lists the Go files (not tests) of the engine, the bridge and
// the wasm program: every directory but the edge server's, the CLI's, the
// benchmarks', the sync server's and the test helpers' (whose LARDER_*
// strings are environment variables or HTTP codes of their own).
function goSources(dir = root, out = []) {
  const skip = new Set(["edge", "cmd", "bench", "syncer", "browsertest", "node_modules", "dist", "testdata", ".git"]);
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    if (ent.isDirectory()) {
      if (!skip.has(ent.name)) goSources(new URL(ent.name + "/", dir), out);
    } else if (ent.name.endsWith(".go") && !ent.name.endsWith("_test.go")) out.push(new URL(ent.name, dir));
  }
  return out;
}

// Environment variables, not error codes.
const ENV_NAMES = new Set(["LARDER_HOOK"]);

test("every code the Go engine and bridge produce is in CODES", () => {
  const goCodes = new Set();
  for (const f of goSources()) for (const c of codesIn(readFileSync(f, "utf8"))) if (!ENV_NAMES.has(c)) goCodes.add(c);
  assert.ok(goCodes.size >= 10, `found only ${[...goCodes]}`);
  for (const c of goCodes) assert.ok(CODES.includes(c), `${c} (Go) is missing from client/errors.js CODES`);
  // And the other way: every code of the list is made somewhere.
  const js = ["LARDER_OWNER_GONE", "LARDER_TIMEOUT", "LARDER_HTTP_ERROR"];
  js.push("LARDER_SERVER_BEHIND", "LARDER_FORBIDDEN", "LARDER_UNAUTHORIZED", "LARDER_BUSY"); // sync: syncer's and the edge's
  for (const c of CODES) assert.ok(goCodes.has(c) || js.includes(c), `${c} in CODES is produced nowhere`);
});

test("every code the JS sources use is in CODES", () => {
  const dirs = ["jsbridge/js/", "jsbridge/js/client/"];
  for (const d of dirs) {
    for (const f of readdirSync(new URL(d, root))) {
      if (!f.endsWith(".js")) continue;
      for (const c of codesIn(read(d + f))) assert.ok(CODES.includes(c), `${d}${f} uses ${c}, which is not in CODES`);
    }
  }
});

test("CODES has no duplicates", () => {
  assert.equal(new Set(CODES).size, CODES.length);
});

test("LarderError: instanceof, code, name, extra fields", () => {
  const e = larderError("LARDER_CLOSED", "closed", { status: 3 });
  assert.ok(e instanceof LarderError && e instanceof Error);
  assert.equal(e.code, "LARDER_CLOSED");
  assert.equal(e.name, "Error");
  assert.equal(e.status, 3);
  assert.equal(String(e), "Error: closed");
  assert.ok(isLarderError(e));
  assert.ok(isLarderError({ code: "SQLITE_CONSTRAINT_UNIQUE", message: "x" }));
  assert.ok(!isLarderError(new Error("plain")));
  assert.ok(!isLarderError({ code: "ENOENT" }));
  assert.ok(!isLarderError(null));
});

test("wireError → fromWire keeps code, name, message and migration", () => {
  const thrown = new TypeError("bad");
  thrown.code = "LARDER_MIGRATION_FAILED";
  thrown.migration = { version: 3, name: "add_x", extra: "dropped" };
  const w = wireError(thrown);
  assert.deepEqual(w, { name: "TypeError", message: "bad", code: "LARDER_MIGRATION_FAILED", migration: { version: 3, name: "add_x" } });
  assert.deepEqual(structuredClone(w), w); // crosses postMessage as is
  const back = fromWire(w);
  assert.ok(back instanceof LarderError);
  assert.equal(back.name, "TypeError");
  assert.equal(back.code, "LARDER_MIGRATION_FAILED");
  assert.deepEqual(back.migration, { version: 3, name: "add_x" });
});

test("wireError: anything without a string code is LARDER_INTERNAL", () => {
  assert.equal(wireError(new Error("x")).code, "LARDER_INTERNAL");
  assert.deepEqual(wireError("str"), { name: "Error", message: "str", code: "LARDER_INTERNAL" });
  assert.equal(wireError({ message: "m", code: 7 }).code, "LARDER_INTERNAL");
});

test("failure is an answer with a wired error", () => {
  assert.deepEqual(failure("LARDER_TIMEOUT", "m"), { ok: false, error: { name: "Error", code: "LARDER_TIMEOUT", message: "m" } });
});

test("httpError: the server's code, else LARDER_HTTP_ERROR, and the status", async () => {
  const res = (status, body) => ({ status, statusText: "Nope", json: async () => (body === undefined ? Promise.reject(new Error("no json")) : body) });
  let e = await httpError("backup", "https://x/api", res(413, { error: { code: "LARDER_TOO_LARGE", message: "too big" } }));
  assert.equal(e.code, "LARDER_TOO_LARGE");
  assert.equal(e.status, 413);
  assert.match(e.message, /backup https:\/\/x\/api: HTTP 413: too big/);
  e = await httpError("restore", "u", res(500));
  assert.equal(e.code, "LARDER_HTTP_ERROR");
  assert.match(e.message, /HTTP 500: Nope/);
});
