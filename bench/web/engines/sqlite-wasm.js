// Engine for the official SQLite WASM build (@sqlite.org/sqlite-wasm), run
// inside peer-worker.js. Backends: "memory" (:memory:), "opfs" (the "opfs" VFS,
// needs SharedArrayBuffer, so its page is served cross-origin isolated) and
// "opfs-sahpool" (the SyncAccessHandle pool VFS, no isolation needed).
import sqlite3InitModule from "../../node_modules/@sqlite.org/sqlite-wasm/dist/index.mjs";

export const dialect = "sqlite";

export async function open({ backend, name }) {
  const sqlite3 = await sqlite3InitModule({ print: () => {}, printErr: () => {} });
  let db;
  const file = `/${name}.sqlite3`;
  switch (backend) {
    case "memory":
      db = new sqlite3.oo1.DB(":memory:", "c");
      break;
    case "opfs":
      if (!sqlite3.oo1.OpfsDb) throw new Error("sqlite-wasm: opfs VFS unavailable (no SharedArrayBuffer / cross-origin isolation?)");
      db = new sqlite3.oo1.OpfsDb(file, "c");
      break;
    case "opfs-sahpool": {
      const pool = await sqlite3.installOpfsSAHPoolVfs({ name: "bench-sahpool" });
      db = new pool.OpfsSAHPoolDb(file);
      break;
    }
    default:
      throw new Error(`sqlite-wasm: unknown backend ${backend}`);
  }
  return {
    exec(sql, params) {
      db.exec({ sql, bind: params && params.length ? params : undefined });
      return { changes: db.changes() };
    },
    query(sql, params) {
      return db.exec({ sql, bind: params && params.length ? params : undefined, rowMode: "object", returnValue: "resultRows" });
    },
    execScript(sql) {
      db.exec(sql);
    },
    export() {
      return sqlite3.capi.sqlite3_js_db_export(db.pointer);
    },
    memory() {
      return sqlite3.wasm.heap8u().byteLength;
    },
    close() {
      db.close();
    },
  };
}
