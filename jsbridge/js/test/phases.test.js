// Start-up phases on a clock whose performance.timeOrigin moves between
// reads, as a WebKitGTK worker's does: every phase a context reports
// carries the one origin it read first, so phases that meet in that
// context still meet on the page's clock (docs/startup.md).
import { test } from "node:test";
import assert from "node:assert/strict";

test("a context's phases carry one timeOrigin, however its clock's reading moves", async () => {
  const real = performance.timeOrigin;
  let reads = 0;
  Object.defineProperty(performance, "timeOrigin", { configurable: true, get: () => real + 0.02 * ++reads });
  try {
    const { Host } = await import("../client/host.js");
    const sent = [];
    const host = new Host((m) => sent.push(m), { locks: null, Channel: null });
    host.phase("storage-open", 10, 20, "d");
    host.phase("migrate", 20, 30, "d");
    assert.equal(sent.length, 2);
    assert.ok(reads > 0, "host.js read performance.timeOrigin");
    assert.equal(sent[0].origin, sent[1].origin, "both phases carry the same origin");
    assert.equal(sent[0].end + sent[0].origin, sent[1].start + sent[1].origin);
  } finally {
    delete performance.timeOrigin;
  }
});

// Chromium reads and writes V8's wasm code cache only through the cache
// handle of the Response fetch() returned: a Response built by the client
// (as a progress-counting wrapper once was) has none, so every warm start
// compiled larder.wasm anew (docs/startup.md, "One fetch, one compile").
test("compileStreaming gets fetch's own Response, and onProgress still counts its bytes", async () => {
  const wasm = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]); // the empty module
  const realFetch = globalThis.fetch;
  const realCompile = WebAssembly.compileStreaming;
  let fetched = null;
  let given = null;
  globalThis.fetch = async () => {
    const body = new ReadableStream({
      start(c) {
        c.enqueue(wasm.slice(0, 4));
        c.enqueue(wasm.slice(4));
        c.close();
      },
    });
    fetched = new Response(body, { headers: { "content-type": "application/wasm", "content-length": "8" } });
    return fetched;
  };
  WebAssembly.compileStreaming = async (r) => {
    given = await r;
    return WebAssembly.compile(await given.arrayBuffer());
  };
  try {
    const { preloadURL, timings } = await import("../client/connection.js");
    const seen = [];
    const m = await preloadURL("http://127.0.0.1:1/phases-test/larder.wasm", (p) => seen.push(p));
    assert.ok(m instanceof WebAssembly.Module);
    assert.equal(given, fetched, "compileStreaming was handed the fetched Response itself");
    for (let i = 0; i < 100 && !timings().some((t) => t.name === "larder:fetch"); i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(seen.at(-1), { loaded: 8, total: 8 });
    assert.ok(timings().some((t) => t.name === "larder:fetch"), "the fetch phase ended");
  } finally {
    globalThis.fetch = realFetch;
    WebAssembly.compileStreaming = realCompile;
  }
});

// With nobody following the bytes, nothing is cloned or read twice on the
// page: the fetch phase still ends, and a late listener hears the total.
test("without an onProgress listener the response is not cloned", async () => {
  const wasm = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  const realFetch = globalThis.fetch;
  const realCompile = WebAssembly.compileStreaming;
  let clones = 0;
  globalThis.fetch = async () => {
    const r = new Response(wasm, { headers: { "content-type": "application/wasm", "content-length": "8" } });
    const clone = r.clone.bind(r);
    r.clone = () => (clones++, clone());
    return r;
  };
  WebAssembly.compileStreaming = async (r) => WebAssembly.compile(await (await r).arrayBuffer());
  try {
    const { preloadURL, timings } = await import("../client/connection.js");
    const url = "http://127.0.0.1:1/phases-test/no-listener/larder.wasm";
    assert.ok((await preloadURL(url)) instanceof WebAssembly.Module);
    assert.equal(clones, 0, "no clone without a listener");
    assert.ok(timings().some((t) => t.name === "larder:fetch"), "the fetch phase ended");
    const seen = [];
    await preloadURL(url, (p) => seen.push(p));
    assert.equal(seen.length, 1, "a listener after the end hears the last count once");
  } finally {
    globalThis.fetch = realFetch;
    WebAssembly.compileStreaming = realCompile;
  }
});
