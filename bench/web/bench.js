// Larder benchmark workloads. One call of run() is one measurement on one
// fresh page: the Go runner (bench/cmd/bench) loads index.html, waits for
// window.bench, calls bench.run(...) and reads the result. The same code runs
// every system through the adapter interface of adapters/*.js:
//   open({system, backend, name, migrations}) -> db
//   db.exec(sql, params) / db.query(sql, params) / db.transaction(fn)
//   db.export() -> Uint8Array / db.memory() -> bytes or null / db.close()

// Ten migrations, valid in SQLite and in Postgres (PGlite).
export const MIGRATIONS = [
  "CREATE TABLE item (id INTEGER PRIMARY KEY, k INTEGER NOT NULL, v TEXT NOT NULL)",
  "CREATE INDEX item_k ON item (k)",
  "CREATE TABLE tag (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
  "CREATE TABLE item_tag (item_id INTEGER NOT NULL REFERENCES item (id), tag_id INTEGER NOT NULL REFERENCES tag (id), PRIMARY KEY (item_id, tag_id))",
  "ALTER TABLE item ADD COLUMN created TEXT",
  "CREATE TABLE note (id INTEGER PRIMARY KEY, item_id INTEGER REFERENCES item (id), body TEXT)",
  "CREATE INDEX note_item ON note (item_id)",
  "CREATE VIEW item_count AS SELECT k, count(*) AS n FROM item GROUP BY k",
  "INSERT INTO tag (id, name) VALUES (1, 'red'), (2, 'green'), (3, 'blue')",
  "CREATE TABLE doc (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
].map((up, i) => ({ version: i + 1, name: `m${String(i + 1).padStart(2, "0")}`, up }));

const DOC_ROWS = 19500; // about 20 MB of SQLite pages at 1,000 bytes a row

const SQL = {
  sqlite: {
    fillItems: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) INSERT INTO item (id, k, v) SELECT x, x % 100, 'value ' || x FROM c",
    fillDocs: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) INSERT INTO doc (id, body) SELECT x, hex(randomblob(500)) FROM c",
  },
  postgres: {
    fillItems: "INSERT INTO item (id, k, v) SELECT x, x % 100, 'value ' || x FROM generate_series(1, ?::int) x",
    fillDocs: "INSERT INTO doc (id, body) SELECT x, (SELECT string_agg(md5(random()::text || g::text), '') FROM generate_series(1, 31 + 0 * x) g) FROM generate_series(1, ?::int) x",
  },
};

const INSERT = "INSERT INTO item (id, k, v) VALUES (?, ?, ?)";
const POINT = "SELECT id, k, v FROM item WHERE id = ?";
const SCAN = "SELECT count(*) AS n, sum(k) AS s, max(length(v)) AS m FROM item";

async function openDb(opts) {
  const mod = await import(opts.system === "larder" ? "./adapters/larder.js" : "./adapters/peer.js");
  // warmup: this page load is Larder's untimed first visit (the caches were
  // cleared): Larder runs its warm-up then, as on a real first visit, and on
  // no other load, whose wiped storage would otherwise read as a first visit.
  return mod.open({ system: opts.system, backend: opts.backend, name: "bench", migrations: MIGRATIONS, warmup: !!opts.warmup });
}

// A fixed permutation of 1..n, so every system reads the same keys.
function permutation(n) {
  const a = Array.from({ length: n }, (_, i) => i + 1);
  let s = 42;
  for (let i = n - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const num = (v) => Number(v);

// Each workload: optional setup phase (on an earlier page load), then the
// timed part. It returns { ms, db, info } and leaves db open for memory().
const workloads = {
  // new Worker / library init to the first query result.
  async start(opts) {
    const t0 = performance.now();
    const db = await openDb(opts);
    const rows = await db.query("SELECT count(*) AS n FROM tag");
    const ms = performance.now() - t0;
    if (num(rows[0].n) !== 3) throw new Error(`start: expected 3 tags, got ${rows[0].n}`);
    return { ms, db };
  },
  // A first visit over the throttled link: from navigation (performance
  // timeOrigin) to the first query result, so the page's own download,
  // the library's and the module's are all in it.
  async "first-visit"(opts) {
    const { ms, db } = await workloads.start(opts);
    return { ms: performance.now(), db, info: { openQuery: ms } };
  },
  async "insert-1k"(opts) {
    const db = await openDb(opts);
    const t0 = performance.now();
    for (let i = 1; i <= 1000; i++) await db.exec(INSERT, [i, i % 100, `value ${i}`]);
    return { ms: performance.now() - t0, db };
  },
  async "tx-10k"(opts) {
    const db = await openDb(opts);
    const t0 = performance.now();
    await db.transaction(async (tx) => {
      for (let i = 1; i <= 10000; i++) await tx.exec(INSERT, [i, i % 100, `value ${i}`]);
    });
    return { ms: performance.now() - t0, db };
  },
  async "select-10k"(opts) {
    const db = await openDb(opts);
    await db.exec(SQL[db.dialect].fillItems, [10000]);
    const keys = permutation(10000);
    const t0 = performance.now();
    for (const id of keys) {
      const rows = await db.query(POINT, [id]);
      if (rows.length !== 1) throw new Error(`select: id ${id} gave ${rows.length} rows`);
    }
    return { ms: performance.now() - t0, db };
  },
  async "scan-100k"(opts) {
    const db = await openDb(opts);
    await db.exec(SQL[db.dialect].fillItems, [100000]);
    const t0 = performance.now();
    const rows = await db.query(SCAN);
    const ms = performance.now() - t0;
    if (num(rows[0].n) !== 100000) throw new Error(`scan: count ${rows[0].n}`);
    return { ms, db };
  },
  async "export-20mb"(opts) {
    const db = await openDb(opts);
    await db.exec(SQL[db.dialect].fillDocs, [DOC_ROWS]);
    const t0 = performance.now();
    const bytes = await db.export();
    const ms = performance.now() - t0;
    if (!(bytes instanceof Uint8Array) || bytes.length < 1e6) throw new Error(`export: got ${bytes && bytes.length} bytes`);
    return { ms, db, info: { bytes: bytes.length } };
  },
  // Open + first query of the 20 MB database written by the setup phase.
  async "reopen-20mb"(opts) {
    const t0 = performance.now();
    const db = await openDb(opts);
    const rows = await db.query("SELECT count(*) AS n FROM doc");
    const ms = performance.now() - t0;
    if (num(rows[0].n) !== DOC_ROWS) throw new Error(`reopen: ${rows[0].n} docs`);
    return { ms, db };
  },
};

const setups = {
  // An already-migrated database for the warm start.
  async start(opts) {
    const db = await openDb(opts);
    await db.close();
  },
  async "reopen-20mb"(opts) {
    const db = await openDb(opts);
    await db.exec(SQL[db.dialect].fillDocs, [DOC_ROWS]);
    await db.close();
  },
};

// run({system, backend, workload, phase, warmup}) -> {ms, memory, info}
// phase "setup" prepares persistent state for the next page load.
export async function run(opts) {
  if (opts.phase === "setup") {
    await setups[opts.workload](opts);
    return { ms: 0, memory: null };
  }
  const r = await measure(opts);
  await finish();
  return r;
}

let current = null;

// measure runs the timed part and leaves the database open, so that the
// runner can read the worker's wasm memory through DevTools before finish().
export async function measure(opts) {
  const { ms, db, info } = await workloads[opts.workload](opts);
  current = db;
  let memory = null;
  try {
    memory = await db.memory();
  } catch (e) {
    memory = null;
  }
  return { ms, memory, info: info || null };
}

export async function finish() {
  if (current) await current.close();
  current = null;
  return true;
}
