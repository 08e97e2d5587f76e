// Page-side adapter for the peers: starts peer-worker.js and forwards each
// call to it with one postMessage, the same hop Larder's client makes.
export async function open({ system, backend, name, migrations }) {
  const worker = new Worker(new URL("../peer-worker.js", import.meta.url), { type: "module" });
  let seq = 0;
  const pending = new Map();
  worker.onmessage = (e) => {
    const { id, result, error } = e.data;
    const p = pending.get(id);
    pending.delete(id);
    if (error) {
      const err = new Error(error.message);
      err.code = error.code;
      p.reject(err);
    } else {
      p.resolve(result);
    }
  };
  worker.onerror = (e) => {
    const err = new Error(`peer worker: ${e.message || "failed to load"}`);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  const call = (op, args) =>
    new Promise((resolve, reject) => {
      const id = ++seq;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, op, args });
    });

  const { dialect, version } = await call("open", { system, backend, name, migrations });
  const db = {
    dialect,
    version,
    exec: (sql, params) => call("exec", { sql, params }),
    query: (sql, params) => call("query", { sql, params }),
    async transaction(fn) {
      await call("exec", { sql: "BEGIN" });
      try {
        const r = await fn(db);
        await call("exec", { sql: "COMMIT" });
        return r;
      } catch (e) {
        await call("exec", { sql: "ROLLBACK" });
        throw e;
      }
    },
    export: () => call("export"),
    memory: () => call("memory"),
    async close() {
      await call("close");
      worker.terminate();
    },
  };
  return db;
}
