// ssr.test.mjs — `node --test` (make typecheck): the packed package on a
// server (Node, no Worker, no OPFS). Importing it and its adapters is inert
// (no fetch, nothing global set), open() rejects with
// LARDER_STORAGE_UNAVAILABLE saying open() needs a browser,
// and useQuery renders its loading state in renderToString.
import { test } from "node:test";
import assert from "node:assert/strict";

const fetched = [];
globalThis.fetch = async (url) => {
  fetched.push(String(url));
  throw new Error("no network in this test");
};
const before = new Set(Object.getOwnPropertyNames(globalThis));

const larder = await import("@larderdb/larder");
const { drizzle } = await import("@larderdb/larder/drizzle");
const { LarderDialect } = await import("@larderdb/larder/kysely");
const { LarderProvider, useQuery } = await import("@larderdb/larder/react");

test("importing the package and its adapters is inert", async () => {
  await new Promise((r) => setTimeout(r, 50)); // let any import-time promise run
  assert.deepEqual(fetched, [], "importing fetched something");
  const added = Object.getOwnPropertyNames(globalThis).filter((k) => !before.has(k));
  assert.deepEqual(added, [], "importing set globals");
  for (const name of ["open", "reset", "preload", "decodeRows", "LarderError", "isLarderError"]) {
    assert.equal(typeof larder[name], "function", `@larderdb/larder exports ${name}`);
  }
  assert.equal(typeof drizzle, "function");
  assert.equal(typeof LarderDialect, "function");
});

test("open() on a server rejects saying it needs a browser", async () => {
  await assert.rejects(larder.open({ name: "ssr" }), (e) => {
    assert.ok(larder.isLarderError(e), `not a LarderError: ${e}`);
    assert.ok(e instanceof larder.LarderError);
    assert.equal(e.code, "LARDER_STORAGE_UNAVAILABLE");
    assert.match(e.message, /open\(\) needs a browser/);
    return true;
  });
});

test("LarderError and isLarderError", () => {
  const e = new larder.LarderError("LARDER_CLOSED", "closed");
  assert.ok(e instanceof Error);
  assert.equal(e.code, "LARDER_CLOSED");
  assert.ok(larder.isLarderError(e));
  assert.ok(larder.isLarderError({ code: "SQLITE_BUSY", message: "from another realm" }));
  assert.ok(!larder.isLarderError(new Error("x")));
  assert.ok(!larder.isLarderError(null));
});

test("useQuery renders loading on the server", async () => {
  const { createElement } = await import("react");
  const { renderToString } = await import("react-dom/server");
  const fake = { watch: () => assert.fail("watch called during server rendering") };
  function Notes() {
    const q = useQuery("SELECT 1", []);
    return createElement("p", null, q.loading ? "loading" : "done");
  }
  const html = renderToString(createElement(LarderProvider, { database: fake }, createElement(Notes)));
  assert.equal(html, "<p>loading</p>");
});
