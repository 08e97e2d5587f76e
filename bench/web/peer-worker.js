// The dedicated Worker that hosts one peer engine. The page talks to it with
// one postMessage per call (see adapters/peer.js), as Larder's page talks to
// its own worker, so round trips cost the same kind of hop for every system.
const engines = {
  "sqlite-wasm": () => import("./engines/sqlite-wasm.js"),
  "wa-sqlite": () => import("./engines/wa-sqlite.js"),
  pglite: () => import("./engines/pglite.js"),
};

let db = null;

// migrate applies the migrations the way a small app-side runner would: a
// tracking table, then one transaction per pending migration with its row.
async function migrate(migrations) {
  await db.execScript("CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)");
  const applied = new Set((await db.query("SELECT version FROM _migrations")).map((r) => Number(r.version)));
  let version = 0;
  for (const m of migrations) {
    version = Math.max(version, m.version);
    if (applied.has(m.version)) continue;
    await db.execScript("BEGIN");
    try {
      await db.execScript(m.up);
      await db.exec("INSERT INTO _migrations (version, name) VALUES (?, ?)", [m.version, m.name]);
      await db.execScript("COMMIT");
    } catch (e) {
      await db.execScript("ROLLBACK");
      throw e;
    }
  }
  return version;
}

const ops = {
  async open({ system, backend, name, migrations }) {
    const engine = await engines[system]();
    db = await engine.open({ backend, name });
    const version = migrations ? await migrate(migrations) : 0;
    return { dialect: engine.dialect, version };
  },
  exec: ({ sql, params }) => db.exec(sql, params),
  query: ({ sql, params }) => db.query(sql, params),
  export: () => db.export(),
  memory: () => db.memory(),
  async close() {
    if (db) await db.close();
    db = null;
  },
};

self.onmessage = async (e) => {
  const { id, op, args } = e.data;
  try {
    const result = await ops[op](args || {});
    const transfer = result instanceof Uint8Array ? [result.buffer] : [];
    self.postMessage({ id, result }, transfer);
  } catch (err) {
    self.postMessage({ id, error: { message: String((err && err.message) || err), code: err && err.code } });
  }
};
