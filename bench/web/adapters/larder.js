// Page-side adapter for Larder: the public JS API of dist/larder.js, nothing
// else. open() starts Larder's own worker.
import { open as larderOpen, timings } from "../../../dist/larder.js";

export async function open({ backend, name, migrations, warmup }) {
  const db = await larderOpen({ name, storage: backend, migrations, warmup });
  if (db.storage !== backend) {
    throw new Error(`larder: asked for storage ${backend}, got ${db.storage}`);
  }
  const wrap = (h) => ({
    exec: (sql, params) => h.exec(sql, params),
    query: (sql, params) => h.query(sql, params),
  });
  return {
    dialect: "sqlite",
    version: db.version,
    ...wrap(db),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    export: () => db.export(),
    memory: () => larderMemory(db),
    timings, // the page's start-up phases (larder.timings())
    close: () => db.close(),
  };
}

// larderMemory reports the worker's wasm memory in bytes, or null when the
// runtime exposes no way to read it (see bench/README.md).
async function larderMemory(db) {
  if (typeof db.memoryUsage === "function") {
    const m = await db.memoryUsage();
    return typeof m === "number" ? m : m && m.wasmMemory != null ? m.wasmMemory : null;
  }
  return null;
}
