// Type declarations for larder.js (Larder's JS API).

/** A value SQLite stores: NULL, INTEGER (number, or bigint beyond ±(2^53−1)), REAL, TEXT, BLOB. */
export type SQLValue = null | number | bigint | string | Uint8Array;

/** Parameters: an array binds ? and ?NNN; an object binds :name, @name, $name (keys without the prefix).
 * booleans bind as 0/1, Dates as ISO-8601 text, undefined as NULL. */
export type Params = ReadonlyArray<SQLValue | boolean | Date | undefined> | Record<string, SQLValue | boolean | Date | undefined>;

export type Row = Record<string, SQLValue>;

export interface ExecResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

/** Options of query() and run(): rowMode "array" gives `{ columns, rows }` with the values of each row in
 * column order and duplicate column names kept (joins); "object" (the default) gives one object per row. */
export interface QueryOptions {
  rowMode?: RowMode;
}
export type RowMode = "object" | "array";
/** The options that ask for array rows. */
export type ArrayMode = { rowMode: "array" };
/** The options that ask for object rows (the default). */
export type ObjectMode = { rowMode?: "object" };

/** Rows in column order: `columns[i]` names `rows[r][i]`; a name may repeat. */
export interface ArrayRows<V extends unknown[] = SQLValue[]> {
  columns: string[];
  rows: V[];
}

/** What run() returns: the rows (RETURNING) and the changes, in one call. */
export interface RunResult<R = Row> extends ExecResult {
  rows: R[];
}
export interface ArrayRunResult<V extends unknown[] = SQLValue[]> extends ArrayRows<V>, ExecResult {}

/** The statements of exec(), query() and run(), on the database and on a transaction handle. BEGIN, COMMIT,
 * END and ROLLBACK (and, outside db.transaction, SAVEPOINT and RELEASE) reject with LARDER_INVALID_ARGUMENT
 * naming db.transaction. */
export interface Statements {
  exec(sql: string, params?: Params): Promise<ExecResult>;
  query<V extends unknown[] = SQLValue[]>(sql: string, params: Params | undefined, options: ArrayMode): Promise<ArrayRows<V>>;
  query<R = Row>(sql: string, params?: Params, options?: ObjectMode): Promise<R[]>;
  run<V extends unknown[] = SQLValue[]>(sql: string, params: Params | undefined, options: ArrayMode): Promise<ArrayRunResult<V>>;
  run<R = Row>(sql: string, params?: Params, options?: ObjectMode): Promise<RunResult<R>>;
}

export interface Tx extends Statements {}

/** One migration: SQL (as in a `larder migrate bundle` file) or a JS function run inside the worker.
 * JS functions are sent to the worker as source text: they must not use closures, and they need
 * 'unsafe-eval' in the Content-Security-Policy of larder-worker.js (docs/security.md). Only
 * functions passed in this array run: a bundle fetched from a URL carries data, never code. */
export interface Migration {
  version: number;
  name: string;
  up: string | ((tx: Tx) => Promise<void> | void);
  down?: string | null | ((tx: Tx) => Promise<void> | void);
  checksum?: string;
  breaking?: boolean;
  /** Run the SQL up part outside a transaction (dbmate's `transaction:false`, goose's NO TRANSACTION): for
   * statements SQLite refuses inside one, such as VACUUM. Not atomic; recorded only after its last statement. */
  noTransaction?: boolean;
  /** The same for the SQL down part. */
  downNoTransaction?: boolean;
}

export type Storage = "auto" | "opfs" | "idb" | "memory";

export interface OpenOptions {
  /** Database name, one per origin. */
  name: string;
  /** "auto" (default) picks OPFS where it works in this context (a probe opens a directory and a sync access
   * handle), else IndexedDB: db.storageFallback then says why OPFS was not used. Never falls back to memory.
   * An explicit "opfs" that cannot work rejects with LARDER_STORAGE_UNAVAILABLE naming the first error. */
  storage?: Storage;
  /** An array of migrations, or the URL of a `larder migrate bundle` JSON file. A bundle's entries may hold only
   * version, name, up, down, checksum (required, the hex SHA-256 of up), breaking, up_line, down_line, up_statements,
   * down_statements, no_transaction and down_no_transaction: any other field rejects open() with LARDER_INVALID_MIGRATIONS naming it. */
  migrations?: Migration[] | string | URL;
  /** Apply unapplied migrations numbered below the newest applied one instead of rejecting. */
  allowOutOfOrder?: boolean;
  /** URL of the larder.wasm to run (e.g. "./larder-fts5.wasm"); default: larder.wasm next to larder.js. */
  wasm?: string | URL;
  /**
   * Warm larder.wasm up on the first visit of each build (default true):
   * while the worker is idle it runs Larder's hot paths on a private
   * in-memory database, in slices of a few milliseconds that give way to
   * every call, so that the optimised code Chrome caches from that visit
   * covers them (about 2.5 s of worker CPU, once). With `false` this open
   * does not ask for it; the first open that does not pass `false` starts
   * it. See docs/browser-api.md, "Crashes, other builds, warm-up, start-up".
   */
  warmup?: boolean;
  /**
   * Ask for persistent storage (navigator.storage.persist()) in parallel
   * with opening (default false). The open never waits for the answer
   * (Firefox prompts the user and answers when they do); db.persisted
   * takes it when it comes. Without it Larder never asks: call
   * db.persist() when the app wants to.
   */
  persist?: boolean;
}

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
  appliedAt: string;
  durationMs: number;
  breaking: boolean;
}

/** The LARDER_* codes the library throws (a test compares this list with the sources: jsbridge, the engine,
 * larder.js and larder-worker.js, and the edge Worker's codes that backup() and restore() pass on). */
export type LarderCode =
  | "LARDER_AUTH_MISCONFIGURED"
  | "LARDER_BAD_REQUEST"
  | "LARDER_BUSY"
  | "LARDER_CHECKSUM_MISMATCH"
  | "LARDER_CLOSED"
  | "LARDER_CRASHED"
  | "LARDER_DATABASE_NEWER"
  | "LARDER_ERROR"
  | "LARDER_FORBIDDEN"
  | "LARDER_HTTP_ERROR"
  | "LARDER_INTERNAL"
  | "LARDER_INVALID_ARGUMENT"
  | "LARDER_INVALID_DATABASE"
  | "LARDER_INVALID_MIGRATIONS"
  | "LARDER_INVALID_NAME"
  | "LARDER_MIGRATION_FAILED"
  | "LARDER_MISSING_MIGRATION"
  | "LARDER_NOT_FOUND"
  | "LARDER_NO_DOWN"
  | "LARDER_OUTDATED"
  | "LARDER_OUT_OF_ORDER"
  | "LARDER_OWNER_GONE"
  | "LARDER_PRECONDITION_FAILED"
  | "LARDER_PRECONDITION_REQUIRED"
  | "LARDER_SERVER_BEHIND"
  | "LARDER_STORAGE_UNAVAILABLE"
  | "LARDER_SYNC_MISCONFIGURED"
  | "LARDER_SYNC_OFF"
  | "LARDER_SYNC_SCHEMA"
  | "LARDER_TIMEOUT"
  | "LARDER_TOO_LARGE"
  | "LARDER_UNAUTHORIZED"
  | "LARDER_UNKNOWN_VERSION";

/** An error code: one of Larder's, or SQLite's extended code name ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_FULL", …). */
export type ErrorCode = LarderCode | `SQLITE_${string}`;

/** Every error the library rejects with is a LarderError (`instanceof` works; across copies of the module use
 * isLarderError). */
export declare class LarderError extends Error {
  constructor(code: ErrorCode, message: string, extra?: { migration?: { version: number; name: string }; status?: number });
  readonly code: ErrorCode;
  /** Set on LARDER_MIGRATION_FAILED. */
  migration?: { version: number; name: string };
  /** Set on LARDER_HTTP_ERROR and the server's codes (backup, restore): the HTTP status. */
  status?: number;
}

/** The LARDER_* codes the browser library itself produces (the edge Worker's codes, which backup() and restore()
 * pass on, are in LarderCode too). */
export declare const CODES: readonly LarderCode[];

/** Whether e is an error of the library: a LarderError, or any object with a LARDER_* or SQLITE_* code (an
 * error from another copy of the module, another realm, or one that crossed postMessage). */
export declare function isLarderError(e: unknown): e is LarderError;

export interface ChangeEvent extends CustomEvent<{ tables: string[] }> {}
export interface VersionChangeEvent extends CustomEvent<{ from: number; to: number; breaking: boolean }> {}

export interface DatabaseEventMap {
  change: ChangeEvent;
  versionchange: VersionChangeEvent;
}

export type WatchCallback<R> = (rows: R) => void;
export interface WatchOptions extends QueryOptions {
  /** Called when a run of the query fails (the watch stays: the next commit runs it again). */
  onError?: (error: LarderError) => void;
}

export interface Database extends EventTarget, Statements {
  readonly name: string;
  /** The backend in use. */
  readonly storage: Exclude<Storage, "auto">;
  /** Newest applied migration version. */
  readonly version: number;
  /** Whether the origin's storage is persistent: navigator.storage.persisted() (which never prompts),
   * then the answer of persist() once asked for (open({ persist: true }) or db.persist()); null where
   * the browser has no such API. */
  readonly persisted: boolean | null;
  /** Set when storage "auto" found OPFS's API here but OPFS failed in this context (e.g. WebKit's
   * createSyncAccessHandle NotSupportedError, Safari private windows' getDirectory UnknownError): the reason
   * (that first error), and the database is on IndexedDB ("idb") instead. null otherwise. */
  readonly storageFallback: string | null;
  /** Asks for persistent storage (navigator.storage.persist(); may prompt the user). Resolves to the
   * answer, also kept in db.persisted, or null where the browser has no such API. */
  persist(): Promise<boolean | null>;
  /** Runs fn inside BEGIN IMMEDIATE … COMMIT (ROLLBACK if it throws). Calls on db meanwhile wait: use tx inside fn. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  migrations(): Promise<AppliedMigration[]>;
  /** A standard SQLite database file. */
  export(): Promise<Uint8Array>;
  /** Checks bytes on a private copy (header, _migrations against this code's migrations, schema, integrity, under a time budget), then replaces the database atomically; refusals reject with LARDER_INVALID_DATABASE and change nothing. */
  import(bytes: Uint8Array | ArrayBuffer, options?: ImportOptions): Promise<void>;
  /** PUTs export() to url (e.g. an edge Worker's /api/backup/NAME); resolves to the server's JSON answer. Rejects with the server's code (LARDER_INVALID_DATABASE, LARDER_TOO_LARGE, …) or LARDER_HTTP_ERROR, and `status`. */
  backup(url: string | URL, init?: RequestInit): Promise<{ name?: string; size?: number; uploaded?: string; etag?: string }>;
  /** GETs url and import()s it: the database is replaced atomically, or left as it was. */
  restore(url: string | URL, init?: RequestInit, options?: ImportOptions): Promise<void>;
  /** Deletes this database's storage and closes the handle; the next open migrates anew. */
  reset(): Promise<void>;
  close(): Promise<void>;
  /** Live query: calls callback with the result now, then again after every committed write (from any tab) to
   * a table the statement reads (SQLite says which), once per commit. Returns the function that stops it. */
  watch<V extends unknown[] = SQLValue[]>(sql: string, params: Params | undefined, callback: WatchCallback<ArrayRows<V>>, options: WatchOptions & ArrayMode): () => void;
  watch<R = Row>(sql: string, params: Params | undefined, callback: WatchCallback<R[]>, options?: WatchOptions & ObjectMode): () => void;
  addEventListener<K extends keyof DatabaseEventMap>(type: K, listener: (this: Database, e: DatabaseEventMap[K]) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof DatabaseEventMap>(type: K, listener: (this: Database, e: DatabaseEventMap[K]) => void, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

export function open(options: OpenOptions): Promise<Database>;

/** Deletes the storage of a database without opening it (e.g. from devtools). */
export function reset(name: string, options?: { storage?: Storage; wasm?: string | URL }): Promise<void>;

/** Starts fetching and compiling a larder.wasm ahead of open() (default: the larder.wasm next to larder.js).
 * Importing larder.js downloads nothing: open() or preload() starts it. preload() and open() share one fetch
 * and one compile; onProgress, given before the response arrives, follows the download (total: Content-Length, 0 when unknown or compressed); given later, it hears the total once compiled. */
export function preload(wasm?: string | URL, options?: { onProgress?: (p: { loaded: number; total: number }) => void }): Promise<WebAssembly.Module>;

/** One start-up phase (docs/startup.md): name is "larder:<phase>" (fetch, compile, worker-start, instantiate,
 * go-start, opfs-probe, election, opfs-handles, migrations-read, storage-open, migrate, open, first-query). */
export interface StartupPhase {
  name: string;
  /** ms since the page's navigation (performance.timeOrigin), on the page's clock also for worker-side phases. */
  start: number;
  duration: number;
  /** The database of a per-database phase. */
  db?: string;
}

/** The start-up phases recorded so far on this page, in the order they ended; each is also a
 * performance.measure of the same name (devtools' performance panel). */
export function timings(): StartupPhase[];

/** Decodes the row encoding of the worker (exposed for tools). */
export function decodeRows(bytes: Uint8Array): Row[];
export function decodeRows(bytes: Uint8Array, options: { rowMode: "object" }): Row[];
export function decodeRows(bytes: Uint8Array, options: { rowMode: "array" }): ArrayRows;

/** Options of import() and restore() (docs/imports.md). Refusals reject with LARDER_INVALID_DATABASE. */
export interface ImportOptions {
  /** Time budget of the checks in milliseconds (default 5000); a file too expensive to check is refused. */
  timeoutMs?: number;
  /** Accept schema objects the migrations do not build (triggers, views, tables, objects that differ). */
  allowExtraSchema?: boolean;
}

// ---- Sync (docs/sync.md, "In the browser"); merged into OpenOptions and Database above. ----
export interface SyncOptions {
  /** The edge Worker's origin: its routes /sync/hello, /sync/push and /sync/pull are under it. */
  url: string | URL;
  /** Returns the user's JWT; called before each round, in the tab that runs it. */
  token: () => string | Promise<string>;
  /** The text of sync.toml; optional when the migrations bundle carries it (`larder migrate bundle` with sync.toml beside the migrations). */
  config?: string;
}
export interface SyncStatus {
  connected: boolean;
  uploading: boolean;
  downloading: boolean;
  /** Local changes not yet on the server. */
  pending: number;
  /** ISO time of the last successful round. */
  lastSyncedAt: string | null;
  lastError: { code: string; message: string } | null;
  /** A breaking migration of the server is newer than this code: uploads stopped until the page reloads. */
  outdated: boolean;
}
export interface SyncStatusEvent extends CustomEvent<SyncStatus> {}
/** A change the server refused (docs/sync.md, "Refused changes"): it left the outbox, and the device came back to
 * the server's state: its version of the row was pulled again, or (dropped) the device's copy was removed. */
export interface SyncRejection {
  table: string;
  pk: string;
  /** LARDER_FORBIDDEN (another user's row, or a write giving the row away) or LARDER_INVALID_ARGUMENT (the server's schema refused it). */
  code: string;
  message: string;
  /** The server keeps no version of the row this user may see: the device removed its copy. */
  dropped: boolean;
}
export interface SyncRejectEvent extends CustomEvent<{ rejections: SyncRejection[] }> {}
export interface OpenOptions {
  /** Sync this database through the edge: the tab holding the Web Lock "larder-sync:NAME" pushes and pulls on commit
   * (debounced), every 30 s and on "online", with backoff after failures. */
  sync?: SyncOptions;
}
export interface Database {
  /** Runs a round now (after any running): rejects with its code (LARDER_OUTDATED, LARDER_SERVER_BEHIND,
   * LARDER_UNAUTHORIZED, LARDER_FORBIDDEN, LARDER_BUSY, LARDER_HTTP_ERROR, LARDER_SYNC_OFF without open({sync})). */
  sync(): Promise<{ pushed: number; pulled: number; rejected: number; rejections: SyncRejection[] }>;
  /** The same in every tab; null without open({sync}). */
  readonly syncStatus: SyncStatus | null;
  addEventListener(type: "syncstatus", listener: (e: SyncStatusEvent) => void, options?: boolean | AddEventListenerOptions): void;
  /** Changes a round's push had refused, in every tab. */
  addEventListener(type: "syncreject", listener: (e: SyncRejectEvent) => void, options?: boolean | AddEventListenerOptions): void;
}
