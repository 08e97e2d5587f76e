// connection.js — how the page reaches larder.wasm: a dedicated Worker
// (WorkerConnection) or, where there is no Worker, the worker's Host run
// in the same context (InProcessConnection). Both answer request(msg)
// with a Promise of the result (docs/PROTOCOL.md, "Page ↔ worker").

import { larderError, fromWire, CRASHED, STORAGE_UNAVAILABLE } from "./errors.js";
import { inProcessHost } from "./inprocess.js";
import { toWire } from "./migrations.js";

const compiled = new Map(); // wasm URL → Promise of its WebAssembly.Module
const builds = new Map(); // wasm URL → Promise of its build key (see buildKey)

/** preload starts fetching and compiling a larder.wasm (url: absolute).
 * Nothing is fetched before preload() or open() is called. */
export function preloadURL(url) {
  let p = compiled.get(url);
  if (!p) {
    const resp = fetch(url);
    builds.set(url, resp.then(buildKey, () => null));
    p = WebAssembly.compileStreaming(resp).catch(async () => {
      const r = await fetch(url);
      if (!r.ok) throw larderError(STORAGE_UNAVAILABLE, `larder: cannot load ${url}: HTTP ${r.status}`);
      return WebAssembly.compile(await r.arrayBuffer());
    });
    compiled.set(url, p);
  }
  return p;
}

// buildKey names one build of larder.wasm as the browser's caches know it:
// its URL and validators. The warm-up runs once per build key.
function buildKey(r) {
  const h = (k) => r.headers.get(k) || "";
  return `${r.url} ${h("etag")} ${h("last-modified")} ${h("content-length")}`;
}

class WorkerConnection {
  constructor(wasm, startWorker) {
    this.wasm = wasm;
    this.seq = 0;
    this.pending = new Map();
    this.handles = new Set();
    this.dead = null;
    this.prepared = {};
    this.worker = startWorker();
    this.worker.onmessage = (e) => this.onMessage(e.data);
    this.worker.onerror = (e) => {
      e.preventDefault && e.preventDefault();
      this.kill(`larder worker failed: ${e.message || "script error"} (larder-worker.js)`);
    };
    this.worker.onmessageerror = () => this.kill("larder worker: message could not be deserialized");
    preloadURL(wasm).then(
      (module) => this.worker.postMessage({ type: "init", module, wasm }),
      () => this.worker.postMessage({ type: "init", wasm }),
    );
    if (typeof addEventListener === "function" && typeof window !== "undefined") {
      addEventListener("pagehide", () => {
        if (!this.dead) this.worker.postMessage({ type: "pagehide" });
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
    if (this.dead) return Promise.reject(this.dead);
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: "req", id, ...msg });
    });
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
    this.host = new Host((m) => {
      if (m.type === "event") for (const h of this.handles) h._event(m.db, m.detail);
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

  async request(msg) {
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
