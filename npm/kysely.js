// @larderdb/larder/kysely — a Kysely dialect for a Larder database.
//
//   import { Kysely } from "kysely";
//   import { LarderDialect } from "@larderdb/larder/kysely";
//   const k = new Kysely({ dialect: new LarderDialect({ database: await open({ name: "app" }) }) });
//
// Statements go through db.run, which answers rows (RETURNING) and changes
// in one call; SELECTs through db.query. A Kysely transaction is one
// Larder db.transaction (never a BEGIN sent as SQL): its statements run on
// the transaction handle, other calls wait for it. Savepoints (Kysely's
// savepoint(), rollbackToSavepoint(), releaseSavepoint()) run inside it.
import { SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, SelectQueryNode, CompiledQuery } from "kysely";

export class LarderDialect {
  /** config.database: the database open() resolves to, or a function returning it (or a Promise of it). */
  constructor(config) {
    if (!config || config.database == null) throw new TypeError("@larderdb/larder/kysely: new LarderDialect({ database }) wants the database open() resolves to");
    this.config = config;
  }
  createDriver() {
    return new LarderDriver(this.config);
  }
  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }
  createAdapter() {
    return new SqliteAdapter();
  }
  createIntrospector(db) {
    return new SqliteIntrospector(db);
  }
}

class LarderDriver {
  constructor(config) {
    this.config = config;
    this.db = null;
  }

  async init() {
    const d = this.config.database;
    this.db = typeof d === "function" ? await d() : await d;
    if (!this.db || typeof this.db.run !== "function" || typeof this.db.transaction !== "function") {
      throw new TypeError("@larderdb/larder/kysely: database is not what open() resolves to");
    }
  }

  // Every acquisition gets its own connection: outside a transaction it
  // runs on the database (Larder serialises the calls), inside one on the
  // transaction's handle.
  async acquireConnection() {
    return new LarderConnection(this.db);
  }

  async beginTransaction(conn) {
    await conn.begin();
  }

  async commitTransaction(conn) {
    await conn.end(true);
  }

  async rollbackTransaction(conn) {
    await conn.end(false);
  }

  async savepoint(conn, name) {
    await conn.executeQuery(savepoint("savepoint", name));
  }

  async rollbackToSavepoint(conn, name) {
    await conn.executeQuery(savepoint("rollback to", name));
  }

  async releaseSavepoint(conn, name) {
    await conn.executeQuery(savepoint("release", name));
  }

  async releaseConnection() {}

  async destroy() {}
}

// savepoint is `<command> "<name>"` as Kysely's SQLite driver sends it.
function savepoint(command, name) {
  return CompiledQuery.raw(`${command} "${String(name).replace(/"/g, '""')}"`);
}

// Thrown inside db.transaction to roll it back; never seen by the app.
const ROLLBACK = Symbol("rollback");

class LarderConnection {
  constructor(db) {
    this.db = db;
    this.tx = null; // the Larder transaction handle while one is open
    this.done = null; // settles the transaction's function: resolve commits, reject rolls back
    this.finished = null; // db.transaction's promise
  }

  // begin starts db.transaction and waits until its handle is there; the
  // transaction's function then waits for end().
  begin() {
    return new Promise((ready, failed) => {
      this.finished = this.db.transaction(
        (tx) =>
          new Promise((resolve, reject) => {
            this.tx = tx;
            this.done = { resolve, reject };
            ready();
          }),
      );
      this.finished.catch((e) => {
        if (!this.tx) failed(e); // BEGIN itself failed
      });
    });
  }

  async end(commit) {
    const { done, finished } = this;
    this.tx = this.done = this.finished = null;
    if (commit) {
      done.resolve();
      await finished;
      return;
    }
    done.reject(ROLLBACK);
    try {
      await finished;
    } catch (e) {
      if (e !== ROLLBACK) throw e;
    }
  }

  async executeQuery(compiled) {
    const x = this.tx ?? this.db;
    const { sql, parameters, query } = compiled;
    if (SelectQueryNode.is(query)) return { rows: await x.query(sql, parameters) };
    const r = await x.run(sql, parameters);
    return {
      rows: r.rows,
      numAffectedRows: BigInt(r.changes),
      insertId: r.lastInsertRowid != null ? BigInt(r.lastInsertRowid) : undefined,
    };
  }

  async *streamQuery(compiled, chunkSize = 100) {
    const { rows } = await this.executeQuery(compiled);
    for (let i = 0; i < rows.length; i += chunkSize) yield { rows: rows.slice(i, i + chunkSize) };
  }
}
