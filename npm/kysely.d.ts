// Types of @larderdb/larder/kysely.
import type { DatabaseIntrospector, Dialect, DialectAdapter, Driver, Kysely, QueryCompiler } from "kysely";
import type { Database } from "./larder.js";

export interface LarderDialectConfig {
  /** The database open() resolves to, a Promise of it, or a function returning either (called on first use). */
  database: Database | Promise<Database> | (() => Database | Promise<Database>);
}

/** Kysely's dialect for Larder: SQLite's query compiler, adapter and introspector; statements through db.run
 * (rows and changes in one call); transactions through Larder's db.transaction. */
export declare class LarderDialect implements Dialect {
  constructor(config: LarderDialectConfig);
  createDriver(): Driver;
  createQueryCompiler(): QueryCompiler;
  createAdapter(): DialectAdapter;
  createIntrospector(db: Kysely<any>): DatabaseIntrospector;
}
