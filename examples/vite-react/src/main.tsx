// The example app: one Larder database, written through Drizzle and
// Kysely, listed live with useQuery. window.larderExample is what the
// browser test (examples/examples_browser_test.go) drives.
import { open, isLarderError, type Database } from "@larderdb/larder";
import { drizzle } from "@larderdb/larder/drizzle";
import { LarderDialect } from "@larderdb/larder/kysely";
import { LarderProvider, useQuery } from "@larderdb/larder/react";
import { eq, TransactionRollbackError } from "drizzle-orm";
import { Kysely } from "kysely";
import { StrictMode, useState } from "react";
import { createRoot } from "react-dom/client";
import { author, migrations, note, schema, type KyselyDB } from "./schema";

function Notes({ minId }: { minId: number }) {
  const { data, error, loading } = useQuery<{ id: number; body: string; via: string }>(
    "SELECT id, body, via FROM note WHERE id > ? ORDER BY id",
    [minId],
  );
  if (error) return <p id="error">{error.code}: {error.message}</p>;
  if (loading || !data) return <p id="loading">loading…</p>;
  return (
    <>
      <p id="count">{data.length}</p>
      <ul id="notes">
        {data.map((n) => (
          <li key={n.id} data-via={n.via}>
            {n.body}
          </li>
        ))}
      </ul>
    </>
  );
}

// The page's controls: hide the list (unmounting useQuery stops its watch)
// and re-render it with new, equal parameters (which must not re-subscribe).
function App() {
  const [shown, setShown] = useState(true);
  const [renders, setRenders] = useState(0);
  return (
    <>
      <button id="toggle" onClick={() => setShown((v) => !v)}>
        {shown ? "hide" : "show"}
      </button>
      <button id="rerender" onClick={() => setRenders((n) => n + 1)}>
        re-render ({renders})
      </button>
      {shown && <Notes minId={0} />}
    </>
  );
}

// counting wraps db.watch to count the watches started and still active.
function counting(db: Database) {
  const stats = { started: 0, active: 0 };
  const watch = db.watch.bind(db) as (...a: unknown[]) => () => void;
  (db as { watch: unknown }).watch = (...args: unknown[]) => {
    stats.started++;
    stats.active++;
    const stop = watch(...args);
    let stopped = false;
    return () => {
      if (!stopped) stats.active--;
      stopped = true;
      stop();
    };
  };
  return stats;
}

async function main() {
  const db: Database = await open({ name: "vite-react-example", migrations });
  const watches = counting(db);
  const orm = drizzle(db, { schema });
  const k = new Kysely<KyselyDB>({ dialect: new LarderDialect({ database: db }) });

  let release: (() => void) | null = null;
  const api = {
    db,
    watches,
    version: db.version,
    storage: db.storage,
    addDrizzle: async (body: string) =>
      (await orm.insert(note).values({ body, via: "drizzle", authorId: 7 }).returning({ id: note.id }))[0].id,
    addKysely: async (body: string) =>
      Number(
        (await k.insertInto("note").values({ body, via: "kysely", author_id: 7 }).returning("id").executeTakeFirstOrThrow())
          .id,
      ),
    // A join whose two tables both have `id`: Drizzle gets rows by position.
    joined: () =>
      orm
        .select({ noteId: note.id, authorId: author.id, body: note.body, name: author.name })
        .from(note)
        .innerJoin(author, eq(note.authorId, author.id))
        .orderBy(note.id),
    joinedFull: () => orm.select().from(note).innerJoin(author, eq(note.authorId, author.id)).orderBy(note.id),
    relational: () => orm.query.author.findMany({ with: { notes: true } }),
    batch: (a: string, b: string) =>
      orm.batch([
        orm.insert(note).values({ body: a, via: "drizzle", authorId: 7 }).returning({ id: note.id }),
        orm.insert(note).values({ body: b, via: "drizzle", authorId: 7 }).returning({ id: note.id }),
      ]),
    tables: async () => (await k.introspection.getTables()).map((t) => t.name).sort(),
    kyselyTx: (body: string, fail: boolean) =>
      k
        .transaction()
        .execute(async (tx) => {
          await tx.insertInto("note").values({ body, via: "kysely", author_id: 7 }).execute();
          if (fail) throw new Error("kysely rollback");
        })
        .then(
          () => "committed",
          (e: Error) => e.message,
        ),
    // A Drizzle transaction that inserts, then waits for release() and
    // rolls back: another tab's writes meanwhile must commit and stay.
    holdDrizzleTx: (body: string) =>
      orm
        .transaction(async (tx) => {
          await tx.insert(note).values({ body, via: "drizzle-tx", authorId: 7 });
          await new Promise<void>((r) => (release = r));
          tx.rollback();
        })
        .then(
          () => "committed",
          (e: unknown) => (e instanceof TransactionRollbackError ? "rolled back" : String(e)),
        ),
    // Savepoints inside a transaction: the inner part rolls back, the
    // outer commits (Drizzle's nested transaction, Kysely's savepoint()).
    drizzleNested: (kept: string, dropped: string) =>
      orm.transaction(async (tx) => {
        await tx.insert(note).values({ body: kept, via: "drizzle", authorId: 7 });
        await tx
          .transaction(async (inner) => {
            await inner.insert(note).values({ body: dropped, via: "drizzle", authorId: 7 });
            inner.rollback();
          })
          .catch((e: unknown) => {
            if (!(e instanceof TransactionRollbackError)) throw e;
          });
      }),
    kyselySavepoint: async (kept: string, dropped: string) => {
      const trx = await k.startTransaction().execute();
      await trx.insertInto("note").values({ body: kept, via: "kysely", author_id: 7 }).execute();
      const sp = await trx.savepoint("sp1").execute();
      await sp.insertInto("note").values({ body: dropped, via: "kysely", author_id: 7 }).execute();
      await sp.rollbackToSavepoint("sp1").execute();
      await trx.commit().execute();
    },
    inTx: () => release !== null,
    release: () => {
      release?.();
      release = null;
    },
    rawBegin: () =>
      db.exec("BEGIN").then(
        () => ({ code: "", message: "BEGIN was accepted" }),
        (e: unknown) => (isLarderError(e) ? { code: e.code, message: e.message } : { code: "?", message: String(e) }),
      ),
  };
  (window as unknown as { larderExample: typeof api }).larderExample = api;

  createRoot(document.getElementById("root")!).render(
    <StrictMode>
      <LarderProvider database={db}>
        <App />
      </LarderProvider>
    </StrictMode>,
  );
  document.body.dataset.ready = "true";
}

main().catch((e) => {
  document.body.dataset.error = `${e?.code ?? ""} ${e?.message ?? e}`;
  throw e;
});
