// @larderdb/larder/drizzle — Drizzle ORM over a Larder database, through
// drizzle-orm's sqlite-proxy driver.
//
//   import { open } from "@larderdb/larder";
//   import { drizzle } from "@larderdb/larder/drizzle";
//   const db = drizzle(await open({ name: "app", migrations }), { schema });
//
// Rows go to Drizzle as arrays in column order (rowMode "array"), which is
// what its proxy driver maps by position: a join with two `id` columns
// keeps both. Writes use db.run, which returns rows (RETURNING) and changes
// in one call. db.transaction runs through Larder's db.transaction, never a
// BEGIN sent as SQL: other calls (and other tabs) wait for it instead of
// being rolled back with it.
import { drizzle as proxyDrizzle, SQLiteRemoteSession, SQLiteProxyTransaction } from "drizzle-orm/sqlite-proxy";

const ARRAY = { rowMode: "array" };
const READ = /^\s*(select|values)\b/i;

// statement runs one of Drizzle's queries on x (the database or a
// transaction handle) and shapes the answer as the proxy driver wants it:
// { rows: [...] } of arrays, and for "get" the first row itself.
async function statement(x, sql, params, method) {
  const res = READ.test(sql) ? await x.query(sql, params, ARRAY) : await x.run(sql, params, ARRAY);
  if (method === "get") return { rows: res.rows[0] };
  if (method === "run") return { rows: res.rows, changes: res.changes, lastInsertRowid: res.lastInsertRowid };
  return { rows: res.rows };
}

function callbacks(x) {
  const one = (sql, params, method) => statement(x, sql, params, method);
  // A batch is atomic: one Larder transaction (or, inside one, its handle).
  const batch = async (queries) => {
    const all = async (t) => {
      const out = [];
      for (const q of queries) out.push(await statement(t, q.sql, q.params, q.method));
      return out;
    };
    return typeof x.transaction === "function" ? x.transaction(all) : all(x);
  };
  return { one, batch };
}

/**
 * drizzle(database, config) is Drizzle's sqlite-proxy database over a
 * Larder database (what open() resolves to). config is Drizzle's
 * ({ schema, logger, casing, … }).
 */
export function drizzle(database, config = {}) {
  if (!database || typeof database.run !== "function" || typeof database.transaction !== "function") {
    throw new TypeError("@larderdb/larder/drizzle: drizzle(db) wants the database open() resolves to");
  }
  const { one, batch } = callbacks(database);
  const d = proxyDrizzle(one, batch, config);
  const session = d.session;
  // Drizzle's own transaction sends BEGIN through the callback; this one
  // runs fn inside Larder's db.transaction with a session bound to its
  // handle (nested tx.transaction() calls become savepoints on it).
  session.transaction = (fn) =>
    database.transaction(async (ltx) => {
      const t = callbacks(ltx);
      const txSession = new SQLiteRemoteSession(t.one, session.dialect, session.schema, t.batch, {
        logger: session.logger,
        cache: session.cache,
      });
      return fn(new SQLiteProxyTransaction("async", session.dialect, txSession, session.schema));
    });
  return d;
}
