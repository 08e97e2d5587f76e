// Engine for wa-sqlite (npm "wa-sqlite"), run inside peer-worker.js.
// Backends: "memory" (:memory: on the synchronous build), "ahp" (the
// AccessHandlePoolVFS example on the synchronous build) and "idb" (the
// IDBBatchAtomicVFS example on the Asyncify build), as wa-sqlite's own
// benchmarks pair them.
import * as SQLite from "../../node_modules/wa-sqlite/src/sqlite-api.js";

export const dialect = "sqlite";

const base = "../../node_modules/wa-sqlite/";

export async function open({ backend, name }) {
  const asyncBuild = backend === "idb";
  const { default: factory } = await import(base + (asyncBuild ? "dist/wa-sqlite-async.mjs" : "dist/wa-sqlite.mjs"));
  const module = await factory();
  const sqlite3 = SQLite.Factory(module);
  let vfs = null;
  let file = `${name}.sqlite3`;
  switch (backend) {
    case "memory":
      file = ":memory:";
      break;
    case "ahp": {
      const { AccessHandlePoolVFS } = await import(base + "src/examples/AccessHandlePoolVFS.js");
      vfs = new AccessHandlePoolVFS(`/bench-ahp`);
      await vfs.isReady;
      sqlite3.vfs_register(vfs, true);
      break;
    }
    case "idb": {
      const { IDBBatchAtomicVFS } = await import(base + "src/examples/IDBBatchAtomicVFS.js");
      vfs = new IDBBatchAtomicVFS(`bench-idb`);
      sqlite3.vfs_register(vfs, true);
      break;
    }
    default:
      throw new Error(`wa-sqlite: unknown backend ${backend}`);
  }
  const db = await sqlite3.open_v2(file);

  async function run(sql, params, collect) {
    const rows = [];
    for await (const stmt of sqlite3.statements(db, sql)) {
      if (params && params.length) sqlite3.bind_collection(stmt, params);
      let columns = null;
      while ((await sqlite3.step(stmt)) === SQLite.SQLITE_ROW) {
        if (!collect) continue;
        columns = columns || sqlite3.column_names(stmt);
        const row = sqlite3.row(stmt);
        const obj = {};
        for (let i = 0; i < columns.length; i++) obj[columns[i]] = row[i];
        rows.push(obj);
      }
    }
    return rows;
  }

  return {
    async exec(sql, params) {
      await run(sql, params, false);
      return { changes: sqlite3.changes(db) };
    },
    query(sql, params) {
      return run(sql, params, true);
    },
    async execScript(sql) {
      await sqlite3.exec(db, sql);
    },
    // wa-sqlite has no serialize: export reads the database file back
    // through its VFS, as an app would. The AccessHandlePool VFS is
    // synchronous and owns the OPFS handles, so the registered instance is
    // used; the IndexedDB VFS is read through a second, unregistered
    // instance (its methods then return Promises instead of suspending
    // the Asyncify build).
    async export() {
      if (!vfs) throw new Error("wa-sqlite: export of :memory: is not supported");
      const value = async (sql) => Object.values((await run(sql, null, true))[0])[0];
      const size = (await value("PRAGMA page_size")) * (await value("PRAGMA page_count"));
      const out = new Uint8Array(size);
      let reader = vfs;
      if (backend === "idb") {
        const { IDBBatchAtomicVFS } = await import(base + "src/examples/IDBBatchAtomicVFS.js");
        reader = new IDBBatchAtomicVFS("bench-idb");
      }
      const fileId = 0x7ff00001;
      const outFlags = new DataView(new ArrayBuffer(4));
      let rc = await reader.xOpen(file, fileId, SQLite.SQLITE_OPEN_MAIN_DB | SQLite.SQLITE_OPEN_READONLY, outFlags);
      if (rc !== SQLite.SQLITE_OK) throw new Error(`wa-sqlite: export xOpen rc=${rc}`);
      try {
        const chunk = 1 << 20;
        for (let off = 0; off < size; off += chunk) {
          rc = await reader.xRead(fileId, out.subarray(off, Math.min(size, off + chunk)), off);
          if (rc !== SQLite.SQLITE_OK) throw new Error(`wa-sqlite: export xRead rc=${rc}`);
        }
      } finally {
        await reader.xClose(fileId);
        if (reader !== vfs) await reader.close();
      }
      return out;
    },
    memory() {
      return module.HEAPU8.byteLength;
    },
    async close() {
      await sqlite3.close(db);
      if (vfs && vfs.close) await vfs.close();
    },
  };
}
