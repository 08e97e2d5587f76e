// connection.js — how the page reaches larder.wasm: a dedicated Worker
// (WorkerConnection) or, where there is no Worker, the worker's Host run
// in the same context (InProcessConnection). Both answer request(msg)
// with a Promise of the result (docs/PROTOCOL.md, "Page ↔ worker").

import { larderError, fromWire, CRASHED, CLOSED, STORAGE_UNAVAILABLE } from "./errors.js";
import { inProcessHost } from "./inprocess.js";
import { toWire } from "./migrations.js";

const compiled = new Map(); // wasm URL → Promise of its WebAssembly.Module
const builds = new Map(); // wasm URL → Promise of its build key (see buildKey)
const progress = new Map(); // wasm URL → {loaded, total, listeners}

// ---- Start-up phases (docs/startup.md) ----
//
// Each phase is a performance.measure named "larder:<phase>" on the page's
// clock (worker-side phases are posted here and converted through
// performance.timeOrigin), and an entry of timings().
const phases = []; // {name, start, duration, db?}, ms since the page's timeOrigin
const pageOrigin = performance.timeOrigin; // read once (host.js, TIME_ORIGIN)

/** phase records phase name from start to end (performance.now() of the
 * context whose timeOrigin is origin; default: this one). */
export function phase(name, start, end, { db, origin, where } = {}) {
  const shift = origin == null ? 0 : origin - pageOrigin;
  start += shift;
  end += shift;
  if (!(start >= 0) || !(end >= start)) return;
  const p = { name: "larder:" + name, start, duration: end - start };
  if (db != null) p.db = db;
  if (where) p.where = where;
  phases.push(p);
  try {
    performance.measure(p.name, { start, end, detail: { db, where } });
  } catch {} // an engine without User Timing L3: timings() still has it
}

/** timings are the start-up phases recorded so far, in the order they ended. */
export function timings() {
  return phases.map((p) => ({ ...p }));
}

/** preload starts fetching and compiling a larder.wasm (url: absolute).
 * Nothing is fetched before preload() or open() is called. onProgress, if
 * given, is called with {loaded, total} as the bytes arrive when it was
 * given before the response came (total: the Content-Length, 0 when unknown
 * or compressed), and with the last count once the module is compiled. */
export function preloadURL(url, onProgress) {
  let pr = progress.get(url);
  if (!pr) progress.set(url, (pr = { loaded: 0, total: 0, done: false, counting: false, listeners: new Set() }));
  if (typeof onProgress === "function") {
    if (pr.done || pr.loaded > 0) onProgress({ loaded: pr.loaded, total: pr.total });
    if (!pr.done) pr.listeners.add(onProgress);
  }
  let p = compiled.get(url);
  if (!p) {
    const t0 = performance.now();
    const resp = fetch(url);
    builds.set(url, resp.then(buildKey, () => null));
    p = resp
      .then((r) => {
        if (!r.ok) throw larderError(STORAGE_UNAVAILABLE, `larder: cannot load ${url}: HTTP ${r.status}`);
        const t1 = performance.now();
        const enc = r.headers.get("content-encoding");
        pr.total = enc ? 0 : Number(r.headers.get("content-length")) || 0;
        if (pr.listeners.size > 0) countBytes(r, pr);
        // compileStreaming gets the fetch's own Response: Chromium keeps and
        // reads V8's wasm code cache only through its cache handle, which a
        // Response built here has not (handed one, Chromium compiled
        // larder.wasm anew on every visit, then SQLite's functions lazily on
        // first call: 1.4 s more in storage-open; docs/startup.md).
        return WebAssembly.compileStreaming(r).then((m) => {
          const t2 = performance.now();
          const entry = performance.getEntriesByName?.(url, "resource").at(-1);
          // The last byte: the response's end in Resource Timing when it
          // falls in this compile, else (no entry yet) the compile's end.
          const end = entry && entry.responseEnd >= t1 && entry.responseEnd <= t2 ? entry.responseEnd : t2;
          phase("fetch", t0, end);
          phase("compile", t1, t2);
          if (!pr.counting) finishProgress(pr, (entry && entry.decodedBodySize) || pr.total);
          return m;
        });
      })
      .catch(async (e) => {
        if (e && e.code === STORAGE_UNAVAILABLE) throw e;
        // A server without application/wasm: compile from the bytes.
        const r = await fetch(url);
        if (!r.ok) throw larderError(STORAGE_UNAVAILABLE, `larder: cannot load ${url}: HTTP ${r.status}`);
        const bytes = await r.arrayBuffer();
        const t1 = performance.now();
        phase("fetch", t0, t1);
        finishProgress(pr, bytes.byteLength);
        const m = await WebAssembly.compile(bytes);
        phase("compile", t1, performance.now());
        return m;
      });
    compiled.set(url, p);
  }
  return p;
}

// countBytes follows a loading bar's bytes (preload's onProgress) as they
// arrive, on a clone of r: reading r itself is compileStreaming's. Without
// a listener when the response arrives nothing is counted or cloned, and
// listeners hear the total once the module is compiled.
function countBytes(r, pr) {
  let reader;
  try {
    reader = r.clone().body.getReader();
  } catch {
    return; // no body or no clone in this engine: the total at the end
  }
  pr.counting = true;
  (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        pr.loaded += value.byteLength;
        tellProgress(pr);
      }
    } catch {
      // the download failed: compileStreaming reports it
    } finally {
      finishProgress(pr, pr.loaded);
    }
  })();
}

function tellProgress(pr) {
  for (const f of pr.listeners) {
    try {
      f({ loaded: pr.loaded, total: pr.total });
    } catch (e) {
      console.error("larder: preload onProgress threw", e);
    }
  }
}

// finishProgress tells the listeners the last count, once.
function finishProgress(pr, loaded) {
  if (pr.done) return;
  pr.done = true;
  pr.loaded = loaded || pr.loaded;
  tellProgress(pr);
  pr.listeners.clear();
}

// buildKey names one build of larder.wasm as the browser's caches know it:
// its URL and validators. The warm-up runs once per build key.
function buildKey(r) {
  const h = (k) => r.headers.get(k) || "";
  return `${r.url} ${h("etag")} ${h("last-modified")} ${h("content-length")}`;
}

// firstQuery records larder:first-query, the first statement on a
// database of conn after its open, from the request to its answer.
function firstQuery(conn, msg, p) {
  const name = msg.db;
  if ((msg.op !== "query" && msg.op !== "exec" && msg.op !== "run") || conn.queried.has(name)) return p;
  conn.queried.add(name);
  const t0 = performance.now();
  const done = () => phase("first-query", t0, performance.now(), { db: name });
  p.then(done, done);
  return p;
}

class WorkerConnection {
  constructor(wasm, startWorker) {
    this.wasm = wasm;
    this.seq = 0;
    this.pending = new Map();
    this.handles = new Set();
    this.dead = null;
    this.prepared = {};
    this.queried = new Set(); // databases whose first query was recorded
    this.hidden = null; // the error of requests made between pagehide and pageshow
    this.started = performance.now();
    this.worker = startWorker();
    this.worker.onmessage = (e) => this.onMessage(e.data);
    this.worker.onerror = (e) => {
      e.preventDefault && e.preventDefault();
      this.kill(`larder worker failed: ${e.message || "script error"} (larder-worker.js)`);
    };
    this.worker.onmessageerror = () => this.kill("larder worker: message could not be deserialized");
    // The module compiled here goes to the worker (one fetch, one compile
    // per visit); where a WebAssembly.Module cannot be posted, the worker
    // fetches and compiles it itself (it says so: "need-wasm").
    preloadURL(wasm).then(
      (module) => {
        try {
          this.worker.postMessage({ type: "init", module, wasm });
        } catch {
          this.worker.postMessage({ type: "init", wasm });
        }
      },
      () => this.worker.postMessage({ type: "init", wasm }),
    );
    if (typeof addEventListener === "function" && typeof window !== "undefined") {
      // The page is going away (or into the back/forward cache): the worker
      // gives up its databases at once, and whatever the page still asks
      // fails with a clear error until it is shown again.
      addEventListener("pagehide", () => {
        if (this.dead) return;
        this.hidden = larderError(CLOSED, "larder: the page is being unloaded (pagehide): no request is served until it is shown again");
        this.worker.postMessage({ type: "pagehide" });
      });
      addEventListener("pageshow", (e) => {
        if (!e.persisted || this.dead || !this.hidden) return;
        this.hidden = null;
        this.worker.postMessage({ type: "pageshow" });
      });
    }
  }

  onMessage(m) {
    switch (m.type) {
      case "res": {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.result);
        else {
          if (m.error.code === CRASHED) this.kill(m.error.message);
          p.reject(fromWire(m.error));
        }
        break;
      }
      case "event":
        for (const h of this.handles) h._event(m.db, m.detail);
        break;
      case "exit":
        this.kill(m.error.message, m.error.code);
        break;
      case "warmup":
        this.warmup = { state: m.state, rounds: m.rounds, ms: m.ms, error: m.error };
        break;
      case "hello":
        phase("worker-start", this.started, m.at + m.origin - pageOrigin);
        break;
      case "phase":
        phase(m.name, m.start, m.end, { origin: m.origin, db: m.db, where: m.where });
        break;
      case "need-wasm":
        this.worker.postMessage({ type: "init", wasm: this.wasm });
        break;
      case "started":
        // How many times the worker itself fetched a .wasm (its resource
        // entries): 0 when it got the page's compiled module.
        this.workerWasmFetches = m.wasmFetches;
        break;
      case "prepared":
        // What became of the OPFS handles the worker opened for an open
        // (client/host.js, prepareFiles), for tests and devtools.
        this.prepared[m.db] = m.error ? { state: m.state, error: m.error } : { state: m.state };
        break;
    }
  }

  // warm asks the worker to warm larder.wasm up (client/warmup.js), once;
  // it does so only on the first visit of this build.
  warm() {
    if (this.warmAsked) return;
    this.warmAsked = true;
    const key = builds.get(this.wasm);
    if (!key) return;
    key.then((k) => {
      if (k && !this.dead) this.worker.postMessage({ type: "warmup", key: k });
    });
  }

  kill(message, code = CRASHED) {
    if (this.dead) return;
    this.dead = larderError(code, message);
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
    connections.delete(this.wasm);
    this.worker.terminate();
  }

  // request posts at once, also before larder.wasm has started: the worker
  // holds what needs it, and does what does not (the tabs' election, the
  // storage's handles) meanwhile. No await on the way: statements are the
  // calls that matter for speed.
  request(msg) {
    if (this.dead || this.hidden) return Promise.reject(this.dead || this.hidden);
    const id = ++this.seq;
    return firstQuery(
      this,
      msg,
      new Promise((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        this.worker.postMessage({ type: "req", id, ...msg });
      }),
    );
  }

  wireMigrations(migs) {
    return toWire(migs);
  }
}

class InProcessConnection {
  constructor(wasm, Host) {
    this.wasm = wasm;
    this.handles = new Set();
    this.dead = null;
    this.queried = new Set();
    this.host = new Host((m) => {
      if (m.type === "event") for (const h of this.handles) h._event(m.db, m.detail);
      if (m.type === "phase") phase(m.name, m.start, m.end, { db: m.db, where: m.where });
      if (m.type === "exit" && !this.dead) {
        this.dead = fromWire(m.error);
        connections.delete(this.wasm);
      }
    });
    this.ready = this.host.init(wasm).catch((e) => {
      this.dead = larderError(CRASHED, `larder.wasm could not start (${wasm}): ${e && e.message}`);
      connections.delete(this.wasm);
      throw this.dead;
    });
    this.ready.catch(() => {});
  }

  request(msg) {
    return firstQuery(this, msg, this.call(msg));
  }

  async call(msg) {
    if (this.dead) throw this.dead;
    await this.ready;
    const res = await new Promise((resolve) => this.host.request(msg, resolve));
    if (!res.ok) throw fromWire(res.error);
    return res.result;
  }

  // In the same context functions need no source text.
  wireMigrations(migs) {
    return migs;
  }
}

const connections = new Map(); // wasm URL → connection

/** connectionFor is the connection running the larder.wasm at url,
 * started with startWorker() where Workers exist. */
export function connectionFor(wasm, startWorker) {
  let c = connections.get(wasm);
  if (!c) {
    const Host = inProcessHost();
    if (typeof Worker === "function") {
      c = new WorkerConnection(wasm, startWorker);
    } else if (Host) {
      c = new InProcessConnection(wasm, Host);
    } else if (typeof window === "undefined" && typeof self === "undefined") {
      // Node, Deno or Bun rendering on a server: importing is inert, opening is not possible.
      throw larderError(
        STORAGE_UNAVAILABLE,
        "larder: open() needs a browser (a page, a worker, a service worker or an extension): this looks like a server (no window, no self); call it from client-side code only",
      );
    } else {
      throw larderError(
        STORAGE_UNAVAILABLE,
        'larder: this context cannot start a Worker (service worker, extension background): add `import "./larder-worker.js"` next to larder.js to run Larder in-process',
      );
    }
    connections.set(wasm, c);
  }
  return c;
}

/** connections are the live connections, for tests and devtools (their
 * kill() is the fault-injection seam of the kill-loop tests). */
export function liveConnections() {
  return connections.values();
}
