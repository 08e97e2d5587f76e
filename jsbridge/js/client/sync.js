// sync.js — the browser side of sync (docs/sync.md, "In the browser"):
// open({ sync: { url, token, config? } }), db.sync(), db.syncStatus and
// the "syncstatus" event.
//
// One tab per database schedules rounds: the holder of the Web Lock
// "larder-sync:NAME" (the first tab to open it with sync; when it goes,
// the lock and the scheduling pass to the next). It runs a round a
// debounce after a local commit that captured changes (a change event
// naming _sync_outbox, from any tab), every period, and on "online"; after
// a failure it waits a backoff that doubles up to a ceiling and is reset
// by a success. A round is the op "sync" ({db, url, token, config}): like
// every request it runs in the database's owner worker, which installs
// sync there if it has not (a takeover) and runs syncer's round with the
// gate given back while on the network. Every tab that runs a round (the
// scheduler, or any tab's db.sync()) posts the status on the
// BroadcastChannel "larder-sync:NAME", so db.syncStatus and "syncstatus"
// are the same in every tab.

import { larderError, INVALID_ARGUMENT, INVALID_MIGRATIONS, CLOSED, OUTDATED, HTTP_ERROR } from "./errors.js";

export const SYNC_LOCK = "larder-sync:";
const UNAUTHORIZED = "LARDER_UNAUTHORIZED";

/** The scheduler's clock (tests shorten them). */
export const timing = { debounceMs: 300, periodMs: 30000, backoffMs: 1000, backoffMaxMs: 60000 };

// backoff is the wait after the nth failure in a row: backoffMs doubling,
// at most backoffMaxMs.
export function backoff(n) {
  return Math.min(timing.backoffMs * 2 ** Math.max(0, n - 1), timing.backoffMaxMs);
}

// syncOptions checks open's sync option and finds its declaration: the
// config given, else the one a migrations bundle carries (migs.sync).
export function syncOptions(s, migs) {
  if (s === null || typeof s !== "object") throw larderError(INVALID_ARGUMENT, "open: sync must be an object { url, token, config? }");
  if (typeof s.url !== "string" && !(s.url instanceof URL)) throw larderError(INVALID_ARGUMENT, "open: sync.url must be the edge Worker's URL (a string)");
  if (typeof s.token !== "function") throw larderError(INVALID_ARGUMENT, "open: sync.token must be a function returning the JWT (or a Promise of it)");
  const config = s.config ?? (migs && migs.sync);
  if (typeof config !== "string" || config.trim() === "") {
    throw larderError(
      INVALID_MIGRATIONS,
      "open: sync needs its declaration: sync.config (the text of sync.toml), or a migrations bundle that `larder migrate bundle` made with sync.toml beside the migrations",
    );
  }
  const base = typeof location !== "undefined" ? location.href : undefined;
  return { url: new URL(String(s.url), base).href.replace(/\/$/, ""), token: s.token, config };
}

function freshStatus() {
  return { connected: false, uploading: false, downloading: false, pending: 0, lastSyncedAt: null, lastError: null, outdated: false };
}

function platform() {
  const g = globalThis;
  return {
    locks: typeof navigator !== "undefined" && navigator.locks ? navigator.locks : null,
    Channel: typeof BroadcastChannel === "function" ? BroadcastChannel : null,
    setTimeout: (f, ms) => setTimeout(f, ms),
    clearTimeout: (t) => clearTimeout(t),
    now: () => new Date(),
    listen: (type, f) => {
      if (typeof g.addEventListener !== "function") return () => {};
      g.addEventListener(type, f);
      return () => g.removeEventListener(type, f);
    },
  };
}

// Syncer is one handle's sync: db is the Database (its _rt, name, storage,
// _known, query, dispatchEvent), opts what syncOptions returned, env the
// platform (tests pass fakes).
export class Syncer {
  constructor(db, opts, env = platform()) {
    this.db = db;
    this.opts = opts;
    this.env = env;
    this.status = freshStatus();
    this.leader = false;
    this.failures = 0;
    this.timer = null;
    this.queue = Promise.resolve();
    this.closed = false;
    this.outdatedError = null;
    this.channel = env.Channel ? new env.Channel(SYNC_LOCK + db.name) : null;
    if (this.channel) this.channel.onmessage = (e) => this.onMessage(e.data);
    this.unlisten = [
      env.listen("online", () => this.leader && this.schedule(0)),
      env.listen("offline", () => this.set({ connected: false })),
    ];
  }

  // start queues for the scheduling lock (held until close) and asks the
  // other tabs for the status they know.
  start() {
    if (this.channel) this.channel.postMessage({ t: "ask" });
    if (!this.env.locks) return this.lead(); // no Web Locks: this tab schedules
    this.env.locks
      .request(SYNC_LOCK + this.db.name, () => {
        if (this.closed) return;
        this.lead();
        return new Promise((r) => (this.unlock = r));
      })
      .catch(() => {});
  }

  lead() {
    this.leader = true;
    this.refreshPending();
    this.schedule(0);
  }

  onMessage(m) {
    if (this.closed || !m || typeof m !== "object") return;
    if (m.t === "ask" && this.leader) this.channel.postMessage({ t: "status", status: this.status });
    if (m.t === "status" && m.status && typeof m.status === "object") {
      const s = { ...freshStatus(), ...m.status };
      if (s.outdated) this.markOutdated(s.lastError);
      this.adopt(s);
    }
  }

  // onChange sees every change event of the database: a commit that
  // captured changes (the outbox was written) is pushed after the debounce.
  onChange(tables) {
    if (this.closed || !Array.isArray(tables) || !tables.includes("_sync_outbox")) return;
    this.refreshPending();
    if (this.leader && this.failures === 0) this.schedule(timing.debounceMs);
  }

  schedule(ms) {
    if (this.closed || this.outdatedError) return;
    if (this.timer !== null) this.env.clearTimeout(this.timer);
    this.timer = this.env.setTimeout(() => {
      this.timer = null;
      this.sync().catch(() => {});
    }, ms);
  }

  // sync runs a round after any already running: {pushed, pulled, rejected}.
  sync() {
    const run = this.queue.then(() => this.round());
    this.queue = run.catch(() => {});
    return run;
  }

  async round() {
    if (this.outdatedError) throw this.outdatedError;
    if (this.closed || this.db._closed) throw this.db._closed || larderError(CLOSED, `database "${this.db.name}" is closed`);
    this.set({ uploading: this.status.pending > 0, downloading: true });
    try {
      let token;
      try {
        token = await this.opts.token();
      } catch (e) {
        throw larderError(UNAUTHORIZED, `sync: the token function failed: ${(e && e.message) || e}`);
      }
      if (typeof token !== "string") throw larderError(UNAUTHORIZED, "sync: the token function must return the JWT as a string");
      const req = { op: "sync", db: this.db.name, storage: this.db.storage, url: this.opts.url, token, config: this.opts.config };
      if (this.db._known > 0) req.known = this.db._known;
      if (this.db._rt.dead) throw this.db._rt.dead;
      const res = await this.db._rt.request(req);
      this.failures = 0;
      const pending = await this.countPending();
      this.set({ connected: true, uploading: false, downloading: false, pending, lastSyncedAt: this.env.now().toISOString(), lastError: null });
      if (this.leader) this.schedule(pending > 0 ? timing.debounceMs : timing.periodMs); // written meanwhile: go on
      return { pushed: res.pushed, pulled: res.pulled, rejected: res.rejected };
    } catch (e) {
      this.failed(e);
      throw e;
    }
  }

  failed(e) {
    if (this.db._rt.dead || this.db._closed) return this.close(); // the handle is gone: so is its scheduling
    const code = (e && e.code) || HTTP_ERROR;
    const lastError = { code, message: String((e && e.message) || e) };
    this.failures++;
    if (code === OUTDATED) {
      this.markOutdated(lastError);
      this.set({ uploading: false, downloading: false, lastError, outdated: true });
      return;
    }
    this.set({ connected: code !== HTTP_ERROR && this.status.connected, uploading: false, downloading: false, lastError });
    if (this.leader) this.schedule(backoff(this.failures));
  }

  // markOutdated stops uploads until the page reloads with new code.
  markOutdated(lastError) {
    if (this.outdatedError) return;
    const msg = (lastError && lastError.message) || "this code is behind a breaking migration of the server";
    this.outdatedError = larderError(OUTDATED, `sync stopped: ${msg}; load the new version of the app`);
    if (this.timer !== null) this.env.clearTimeout(this.timer);
    this.timer = null;
  }

  async countPending() {
    try {
      const rows = await this.db.query("SELECT count(DISTINCT hlc) FROM _sync_outbox", [], { rowMode: "array" });
      const n = rows && rows.rows ? rows.rows[0][0] : rows[0][0];
      return Number(n) || 0;
    } catch {
      return this.status.pending;
    }
  }

  async refreshPending() {
    const pending = await this.countPending();
    if (pending !== this.status.pending) this.set({ pending });
  }

  // set changes the status here and in every other tab.
  set(patch) {
    const next = { ...this.status, ...patch };
    if (JSON.stringify(next) === JSON.stringify(this.status)) return;
    this.adopt(next);
    if (this.channel && !this.closed) this.channel.postMessage({ t: "status", status: next });
  }

  adopt(s) {
    if (this.closed || JSON.stringify(s) === JSON.stringify(this.status)) return;
    this.status = s;
    this.db.dispatchEvent(new CustomEvent("syncstatus", { detail: { ...s } }));
  }

  close() {
    this.closed = true;
    if (this.timer !== null) this.env.clearTimeout(this.timer);
    this.timer = null;
    if (this.unlock) this.unlock();
    if (this.channel) this.channel.close();
    for (const u of this.unlisten) u();
  }
}
