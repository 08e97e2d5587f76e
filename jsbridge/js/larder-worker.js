// larder-worker.js — runs larder.wasm (SQLite + Larder's Go runtime).
//
// Two ways to use it:
//  - larder.js starts it as a dedicated module Worker named "larder…"; it
//    then answers the page's requests over postMessage.
//  - In a context without Worker (a service worker, an MV3 extension
//    background), import it next to larder.js — `import "./larder-worker.js"`
//    — and open() runs larder.wasm in the same context (use storage "idb"
//    or "auto", which picks IndexedDB there).
//
// Protocol (page → worker): {type: "init", wasm, module?},
// {type: "req", id, op, ...request}, {type: "pagehide"}.
// Worker → page: {type: "ready"}, {type: "res", id, ok, result | error},
// {type: "event", db, detail}, {type: "exit", error}.
import "./wasm_exec.js";

const CRASHED = "LARDER_CRASHED";

// Keep the tail of what Go writes to stdout/stderr: a fatal error's message
// is printed there just before the program exits.
let outputTail = "";
if (globalThis.fs && globalThis.fs.writeSync && !globalThis.fs.__larderTail) {
  const write = globalThis.fs.writeSync.bind(globalThis.fs);
  const dec = new TextDecoder();
  globalThis.fs.writeSync = (fd, buf) => {
    outputTail = (outputTail + dec.decode(buf)).slice(-2000);
    return write(fd, buf);
  };
  globalThis.fs.__larderTail = true;
}

let hookSeq = 0;

export function wireError(e) {
  if (e && typeof e === "object") {
    const out = {
      name: String(e.name || "Error"),
      message: String(e.message ?? e),
      code: typeof e.code === "string" ? e.code : "LARDER_INTERNAL",
    };
    if (e.migration) out.migration = { version: e.migration.version, name: e.migration.name };
    return out;
  }
  return { name: "Error", message: String(e), code: "LARDER_INTERNAL" };
}

// Runtime is one larder.wasm instance. call(op, req) returns a Promise that
// always settles: if the Go program exits (a fatal error) every pending and
// later call rejects with LARDER_CRASHED.
export class Runtime {
  constructor(onevent, onexit) {
    this.onevent = onevent;
    this.onexit = onexit;
    this.dead = null;
    this.pending = new Set();
  }

  async start(source) {
    const go = new Go();
    const hook = `__larder_${++hookSeq}_${Math.random().toString(36).slice(2)}`;
    go.env = { LARDER_HOOK: hook };
    let instance;
    if (source instanceof WebAssembly.Module) {
      instance = await WebAssembly.instantiate(source, go.importObject);
    } else {
      const resp = fetch(source);
      try {
        ({ instance } = await WebAssembly.instantiateStreaming(resp, go.importObject));
      } catch (e) {
        // A server without application/wasm: fall back to bytes.
        const bytes = await (await fetch(source)).arrayBuffer();
        ({ instance } = await WebAssembly.instantiate(bytes, go.importObject));
      }
    }
    // run() executes main synchronously until it blocks, by which time it
    // has published its API under the hook name.
    const exited = go.run(instance);
    this.api = globalThis[hook];
    delete globalThis[hook];
    exited.then(() => this.kill(`larder.wasm exited${outputTail ? ": " + lastLines(outputTail) : ""}`));
    if (!this.api) {
      this.kill("larder.wasm did not start");
      throw this.dead;
    }
    this.api.onevent = (db, detail) => this.onevent && this.onevent(db, detail);
  }

  kill(message) {
    if (this.dead) return;
    const err = new Error(`${message}; this database handle is dead, open it again`);
    err.code = CRASHED;
    this.dead = err;
    for (const reject of this.pending) reject(err);
    this.pending.clear();
    if (this.onexit) this.onexit(err);
  }

  call(op, req) {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.pending.add(reject);
      const done = () => this.pending.delete(reject);
      let p;
      try {
        p = this.api.call(op, req);
      } catch (e) {
        // "Go program has already exited", or a throw while converting.
        done();
        if (!this.dead && /exited/.test(String(e && e.message))) this.kill(String(e.message));
        reject(this.dead || e);
        return;
      }
      p.then(
        (v) => {
          done();
          resolve(v);
        },
        (e) => {
          done();
          if (e && e.code === CRASHED) this.kill(e.message.replace(/; this database handle is dead.*$/, ""));
          reject(e);
        },
      );
    });
  }
}

// lastLines keeps the Go runtime's own words about a crash: from the last
// "panic:" or "fatal error:" line, at most a few lines.
function lastLines(s) {
  const lines = s.trim().split("\n");
  let start = Math.max(0, lines.length - 6);
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^(panic|fatal error):/.test(lines[i])) {
      start = i;
      break;
    }
  }
  return lines.slice(start, start + 6).join("\n");
}

// Rebuild functions of JS-function migrations sent as source text.
function reviveFunction(src) {
  if (typeof src !== "string") return src;
  try {
    return (0, eval)(`(${src})`);
  } catch (e) {
    // Method shorthand: "up(tx) { ... }" or "async up(tx) { ... }".
    const obj = (0, eval)(`({${src}})`);
    return obj[Object.keys(obj)[0]];
  }
}

export function normalizeOpen(req) {
  const migrations = (req.migrations || []).map((m) => ({
    version: Number(m.version),
    name: String(m.name ?? ""),
    up: m.upSource !== undefined ? reviveFunction(m.upSource) : m.up,
    down: m.downSource !== undefined ? reviveFunction(m.downSource) : m.down,
    checksum: m.checksum == null ? "" : String(m.checksum),
    breaking: !!m.breaking,
  }));
  return { ...req, migrations };
}

// Host serves requests for one context: it owns the Runtime. (Many tabs:
// the owner election and forwarding live here, above the Runtime.)
export class Host {
  constructor(emit) {
    this.emit = emit; // (message, transfer?) => void
    this.runtime = null;
  }

  async init(source) {
    this.runtime = new Runtime(
      (db, detail) => this.emit({ type: "event", db, detail }),
      (err) => this.emit({ type: "exit", error: wireError(err) }),
    );
    await this.runtime.start(source);
  }

  // handle answers one request: {ok, result} or {ok: false, error}.
  async handle(msg) {
    const { op } = msg;
    try {
      const req = op === "open" ? normalizeOpen(msg) : msg;
      const result = await this.runtime.call(op, req);
      return { ok: true, result };
    } catch (e) {
      return { ok: false, error: wireError(e) };
    }
  }
}

// Dedicated worker mode.
const isLarderWorker =
  typeof DedicatedWorkerGlobalScope !== "undefined" &&
  self instanceof DedicatedWorkerGlobalScope &&
  String(self.name).startsWith("larder");

if (isLarderWorker) {
  const host = new Host((m, transfer) => self.postMessage(m, transfer || []));
  let ready = null;
  self.onmessage = async (e) => {
    const msg = e.data;
    if (msg.type === "init") {
      ready = host.init(msg.module || msg.wasm);
      try {
        await ready;
        self.postMessage({ type: "ready" });
      } catch (err) {
        self.postMessage({ type: "exit", error: wireError(err) });
      }
      return;
    }
    if (msg.type === "pagehide") {
      if (host.runtime && !host.runtime.dead) host.runtime.call("closeAll", {}).catch(() => {});
      return;
    }
    if (msg.type !== "req") return;
    try {
      await ready;
    } catch (err) {
      self.postMessage({ type: "res", id: msg.id, ok: false, error: wireError(err) });
      return;
    }
    const res = await host.handle(msg);
    const r = res.result;
    const transfer = r instanceof Uint8Array ? [r.buffer] : [];
    self.postMessage({ type: "res", id: msg.id, ...res }, transfer);
  };
  self.addEventListener("unhandledrejection", (e) => {
    console.error("larder worker: unhandled rejection", e.reason);
  });
} else {
  // In-process mode for contexts without Worker: larder.js looks for this.
  globalThis.__larderInProcess = Host;
}
