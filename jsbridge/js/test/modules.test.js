// The client's modules: each under ~400 lines, every one imported by
// something (no dead module), and every one precached by the demo's
// service worker (web/sw.js), which otherwise breaks offline.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";

const js = new URL("../", import.meta.url);
const modules = readdirSync(new URL("client/", js)).filter((f) => f.endsWith(".js"));
const sources = ["larder.js", "larder-worker.js", ...modules.map((m) => "client/" + m)].map((f) => [f, readFileSync(new URL(f, js), "utf8")]);

test("no module over 410 lines", () => {
  for (const [f, src] of sources) assert.ok(src.split("\n").length <= 410, `${f}: ${src.split("\n").length} lines`);
});

test("every client module is imported", () => {
  for (const m of modules) {
    const importers = sources.filter(([f, src]) => f !== "client/" + m && src.includes(`/${m}"`) ).map(([f]) => f);
    assert.ok(importers.length > 0, `client/${m} is imported by nothing`);
  }
});

test("the demo's service worker precaches every module", () => {
  const sw = readFileSync(new URL("../../../web/sw.js", import.meta.url), "utf8");
  for (const m of modules) assert.ok(sw.includes(`"dist/client/${m}"`), `web/sw.js does not precache dist/client/${m}`);
});

test("the worker is started the way bundlers recognise", () => {
  const larder = sources.find(([f]) => f === "larder.js")[1];
  assert.ok(larder.includes(`new Worker(new URL("./larder-worker.js", import.meta.url), { type: "module" })`));
  const worker = sources.find(([f]) => f === "larder-worker.js")[1];
  assert.match(worker, /^import "\.\/wasm_exec\.js";$/m);
});

test("no globals of the old seams", () => {
  for (const [f, src] of sources) {
    for (const g of ["LARDER_NO_PRELOAD", "__larderInProcess", "MAX_SAFE"]) assert.ok(!src.includes(g), `${f} mentions ${g}`);
  }
});
