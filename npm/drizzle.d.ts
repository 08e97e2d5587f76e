// Types of @larderdb/larder/drizzle.
import type { DrizzleConfig } from "drizzle-orm";
import type { SqliteRemoteDatabase } from "drizzle-orm/sqlite-proxy";
import type { Database } from "./larder.js";

/** Drizzle's sqlite-proxy database over a Larder database: rows by position (joins keep duplicate column
 * names), RETURNING and changes in one call, batch as one transaction, and db.transaction run through
 * Larder's db.transaction (isolated from other calls and tabs). */
export function drizzle<TSchema extends Record<string, unknown> = Record<string, never>>(
  database: Database,
  config?: DrizzleConfig<TSchema>,
): SqliteRemoteDatabase<TSchema>;
