// types.test.ts — compiled by `tsc -p npm/test` (make test) against the
// packed @larderdb/larder: what must type-check does, and every line after
// a @ts-expect-error must fail (tsc reports an unused @ts-expect-error).
import { open, reset, preload, decodeRows, LarderError, isLarderError } from "@larderdb/larder";
import type { ArrayRows, ChangeEvent, Database, ErrorCode, LarderCode, Row, RunResult, VersionChangeEvent } from "@larderdb/larder";
import { drizzle } from "@larderdb/larder/drizzle";
import { LarderDialect } from "@larderdb/larder/kysely";
import { LarderProvider, useDatabase, useQuery } from "@larderdb/larder/react";
import { Kysely } from "kysely";
import { sqliteTable, integer, text } from "drizzle-orm/sqlite-core";
import { createElement } from "react";

declare const db: Database;

export async function statements() {
  const objects: Row[] = await db.query("SELECT 1 AS a");
  const typed = await db.query<{ id: number }>("SELECT 1 AS id");
  const id: number = typed[0].id;
  const arrays: ArrayRows = await db.query("SELECT 1 AS a, 2 AS a", [], { rowMode: "array" });
  const cols: string[] = arrays.columns;
  const first: unknown[] = arrays.rows[0];
  const run: RunResult = await db.run("INSERT INTO t(x) VALUES (?) RETURNING id", [1]);
  const n: number = run.changes;
  const last: number | bigint = run.lastInsertRowid;
  const runArrays = await db.run("DELETE FROM t RETURNING id", undefined, { rowMode: "array" });
  const both: [string[], number] = [runArrays.columns, runArrays.changes];
  await db.transaction(async (tx) => {
    await tx.run("UPDATE t SET x = 1");
    const r = await tx.query("SELECT * FROM t", [], { rowMode: "array" });
    return r.columns;
  });
  // @ts-expect-error rowMode is "object" or "array"
  await db.query("SELECT 1", [], { rowMode: "tuple" });
  // @ts-expect-error options without rowMode "array" give objects
  const notArrays: ArrayRows = await db.query("SELECT 1", [], {});
  // @ts-expect-error object rows have no columns
  (await db.query("SELECT 1")).columns;
  // @ts-expect-error params are SQL values
  await db.exec("SELECT ?", [{}]);
  return [objects, id, cols, first, n, last, both, notArrays];
}

export function watching() {
  const stop: () => void = db.watch("SELECT * FROM t WHERE x = ?", [1], (rows) => {
    const r: Row[] = rows;
    return r;
  });
  stop();
  db.watch("SELECT a, a FROM t", [], (res) => res.rows.length + res.columns.length, {
    rowMode: "array",
    onError: (e) => e.code,
  });
  db.watch("SELECT 1", [], (rows) => rows.length, { onError: (e) => e.message });
  // @ts-expect-error without rowMode "array" the callback gets objects
  db.watch("SELECT 1", [], (res: ArrayRows) => res.columns, { onError: () => {} });
  // @ts-expect-error the callback is required
  db.watch("SELECT 1", []);
  // @ts-expect-error watch returns a function, not a Promise
  db.watch("SELECT 1", [], () => {}).then(() => {});
}

export function events() {
  const onChange = (e: ChangeEvent) => e.detail.tables.join(",");
  const onVersion = (e: VersionChangeEvent) => e.detail.to;
  db.addEventListener("change", onChange);
  db.removeEventListener("change", onChange);
  db.addEventListener("versionchange", onVersion);
  db.removeEventListener("versionchange", onVersion);
  db.addEventListener("change", (e) => e.detail.tables);
  // @ts-expect-error a change event has tables, not to
  db.addEventListener("change", (e) => e.detail.to);
  // @ts-expect-error a versionchange listener is not a change listener
  db.removeEventListener("change", onVersion);
}

export async function errors() {
  try {
    await open({ name: "x" });
  } catch (e) {
    if (e instanceof LarderError) {
      const c: ErrorCode = e.code;
      if (e.code === "LARDER_OWNER_GONE" || e.code === "LARDER_TIMEOUT" || e.code === "LARDER_HTTP_ERROR") return c;
      if (e.code === "SQLITE_CONSTRAINT_UNIQUE") return e.status;
      // @ts-expect-error not a code the library throws
      if (e.code === "LARDER_NO_SUCH_CODE") return 0;
    }
    if (isLarderError(e) && (e.code === "LARDER_CLOSED" || e.code === "LARDER_CRASHED")) return e.migration?.name;
  }
  const code: LarderCode = "LARDER_INVALID_ARGUMENT";
  // @ts-expect-error SQLite codes are not LarderCode
  const notLarder: LarderCode = "SQLITE_BUSY";
  const made = new LarderError("LARDER_INTERNAL", "made here");
  await preload();
  await reset("x", { storage: "idb" });
  const rows: Row[] = decodeRows(new Uint8Array());
  const arr: ArrayRows = decodeRows(new Uint8Array(), { rowMode: "array" });
  return [code, notLarder, made, rows, arr];
}

const note = sqliteTable("note", { id: integer("id").primaryKey(), body: text("body").notNull() });

export async function adapters() {
  const d = drizzle(db, { schema: { note } });
  const inserted: { id: number }[] = await d.insert(note).values({ body: "hi" }).returning({ id: note.id });
  const found = await d.query.note.findMany();
  const body: string = found[0].body;
  await d.transaction(async (tx) => {
    await tx.insert(note).values({ body: "in tx" });
    tx.rollback();
  });
  // @ts-expect-error drizzle() wants a Larder database
  drizzle("not a database");

  interface DB {
    note: { id: number; body: string };
  }
  const k = new Kysely<DB>({ dialect: new LarderDialect({ database: db }) });
  new LarderDialect({ database: () => open({ name: "y" }) });
  const kr = await k.selectFrom("note").select(["id", "body"]).execute();
  const kid: number = kr[0].id;
  // @ts-expect-error no such column
  await k.selectFrom("note").select("nope").execute();
  return [inserted, body, kid];
}

export function Component() {
  const same: Database = useDatabase();
  const q = useQuery<{ id: number }>("SELECT id FROM note WHERE body = ?", ["x"]);
  const ids: number[] | undefined = q.data?.map((r) => r.id);
  const loading: boolean = q.loading;
  const err: LarderError | null = q.error;
  const a = useQuery("SELECT 1 AS a, 2 AS a", [], { rowMode: "array" });
  const cols: string[] | undefined = a.data?.columns;
  // @ts-expect-error data is read-only
  q.data = [];
  return createElement(LarderProvider, { database: same }, String([ids, loading, err, cols]));
}
