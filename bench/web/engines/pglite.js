// Engine for PGlite (@electric-sql/pglite), run inside peer-worker.js.
// Backends: "memory" and "idb" (idb://NAME). The SQL dialect is Postgres:
// the page's workloads pick dialect-specific statements where SQLite and
// Postgres differ, and "?" placeholders are rewritten to "$n" here.
import { PGlite } from "../../node_modules/@electric-sql/pglite/dist/index.js";

export const dialect = "postgres";

function pgParams(sql) {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export async function open({ backend, name }) {
  let pg;
  switch (backend) {
    case "memory":
      pg = await PGlite.create();
      break;
    case "idb":
      pg = await PGlite.create(`idb://${name}`);
      break;
    default:
      throw new Error(`pglite: unknown backend ${backend}`);
  }
  return {
    async exec(sql, params) {
      const r = await pg.query(pgParams(sql), params || []);
      return { changes: r.affectedRows ?? 0 };
    },
    async query(sql, params) {
      return (await pg.query(pgParams(sql), params || [])).rows;
    },
    async execScript(sql) {
      await pg.exec(sql);
    },
    // PGlite's export is a tarball of its data directory.
    async export() {
      const blob = await pg.dumpDataDir("none");
      return new Uint8Array(await blob.arrayBuffer());
    },
    memory() {
      return pg.Module.HEAPU8.byteLength;
    },
    async close() {
      await pg.close();
    },
  };
}
