// watch.js — live queries (db.watch): a query re-run after every committed
// write, from any tab, to a table it reads (docs/PROTOCOL.md, "Live
// queries").
//
// The read set comes from SQLite: the op "readset" prepares the statement
// in larder.wasm and collects the authorizer's read events (never stepping
// it). Each commit's "change" event names the tables it wrote; a watcher
// whose read set meets them re-runs its query. Changes that come while a
// re-run is in flight make one more re-run after it, never one each, and
// the callback sees results in the order the runs were made.

function lower(a) {
  return new Set(a.map((t) => String(t).toLowerCase()));
}

/** watch runs sql on db and calls callback(rows) with the result, then
 * after every commit that wrote a table sql reads. It returns the function
 * that stops watching. Errors go to onError (else console.error). */
export function watch(db, sql, params, callback, { onError, rowMode } = {}) {
  if (typeof callback !== "function") throw new TypeError("watch: callback must be a function");
  const fail = (e) => {
    if (stopped) return;
    if (onError) onError(e);
    else console.error("larder: watch:", e);
  };
  let stopped = false;
  let reads = null; // Set of lower-case table names
  let running = false;
  let again = false;

  const run = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        const rows = await db.query(sql, params, rowMode ? { rowMode } : undefined);
        if (stopped) return;
        callback(rows);
      } while (again && !stopped);
    } catch (e) {
      fail(e);
    } finally {
      running = false;
    }
  };

  const onChange = (e) => {
    if (!reads || stopped) return;
    const tables = e.detail && e.detail.tables;
    if (Array.isArray(tables) && tables.some((t) => reads.has(String(t).toLowerCase()))) run();
  };
  db.addEventListener("change", onChange);

  db._call("readset", { sql }).then(
    (tables) => {
      if (stopped) return;
      reads = lower(tables);
      run();
    },
    (e) => fail(e),
  );

  return function unwatch() {
    stopped = true;
    db.removeEventListener("change", onChange);
  };
}
