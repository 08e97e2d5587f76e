// wasm.js — one larder.wasm instance and its Go glue: starting the Go
// program (wasm_exec.js's Go, imported by larder-worker.js), its calls
// (the syscall/js API under a one-off hook name, and the direct exports
// larder_buf/larder_run for statements), and its death (docs/PROTOCOL.md,
// "Worker ↔ larder.wasm").

import { larderError, CRASHED, INVALID_ARGUMENT } from "./errors.js";
import { encodeStatement, statementBytes, execResult, KIND } from "./encoding.js";

// larder_features bits (wasm/main_js.go): the OPFS VFS adopts handles
// opened by this script; the build has the fault-injection hooks of the
// tests (built with -tags larder_test_hooks by `make build-testhooks`,
// never by `make build`).
export const FEATURE_OPFS_ADOPT = 1;
export const FEATURE_TEST_HOOKS = 2;

// Keep the tail of what Go writes to stdout/stderr: a fatal error's message
// is printed there just before the program exits.
let outputTail = "";
function keepOutputTail() {
  const fs = globalThis.fs;
  if (!fs || !fs.writeSync || fs.__larderTail) return;
  const write = fs.writeSync.bind(fs);
  const dec = new TextDecoder();
  fs.writeSync = (fd, buf) => {
    outputTail = (outputTail + dec.decode(buf)).slice(-2000);
    return write(fd, buf);
  };
  fs.__larderTail = true;
}

let hookSeq = 0;

// Runtime is one larder.wasm instance. call(op, req) returns a Promise that
// always settles: if the Go program exits (a fatal error) every pending and
// later call rejects with LARDER_CRASHED.
export class Runtime {
  constructor(onevent, onexit) {
    this.onevent = onevent;
    this.onexit = onexit;
    this.dead = null;
    this.waiting = new Map(); // call id → {op, resolve} of calls answered later
    this.early = new Map(); // call id → {failed, v} settled before call returned
  }

  async start(source) {
    keepOutputTail();
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
    // The direct entry of exec and query (jsbridge.DirectRun): wasm
    // exports called without syscall/js.
    const ex = instance.exports;
    if (typeof ex.larder_run !== "function" || !(ex.mem instanceof WebAssembly.Memory)) {
      throw new Error("this larder.wasm has no larder_run export: it is older than larder-worker.js (rebuild both with make build)");
    }
    this.direct = ex;
    const exited = go.run(instance);
    // What this build does (wasm/main_js.go, larder_features); an older
    // build has no such export.
    this.features = typeof ex.larder_features === "function" ? ex.larder_features() : 0;
    this.api = globalThis[hook];
    delete globalThis[hook];
    exited.then(() => this.kill(`larder.wasm exited${outputTail ? ": " + lastLines(outputTail) : ""}`));
    if (!this.api) {
      this.kill("larder.wasm did not start");
      throw this.dead;
    }
    this.api.onevent = (db, detail) => this.onevent && this.onevent(db, detail);
    this.api.settle = (id, failed, v) => this.settle(id, failed, v);
  }

  kill(message) {
    if (this.dead) return;
    const err = larderError(CRASHED, `${message}; this database handle is dead, open it again`);
    this.dead = err;
    for (const w of this.waiting.values()) w.resolve({ ok: false, error: err });
    this.waiting.clear();
    if (this.onexit) this.onexit(err);
  }

  // call runs one request: a Promise of its result.
  call(op, req) {
    const r = this.tryCall(op, req);
    if (r instanceof Promise) return r.then(unwrap);
    return unwrap(r);
  }

  // tryCall runs one request and answers {ok, result} or {ok: false,
  // error} at once when larder.wasm did, else a Promise of that answer
  // (never rejected). exec and query go through larder.wasm's exports with
  // the statement encoded in one buffer (runDirect); the rest to its call.
  tryCall(op, req) {
    if (this.dead) return { ok: false, error: this.dead };
    if (typeof op !== "string" || (op.startsWith("__") && !(this.features & FEATURE_TEST_HOOKS))) {
      // Fault-injection ops exist only in test builds of larder.wasm.
      return { ok: false, error: larderError(INVALID_ARGUMENT, `unknown request ${JSON.stringify(String(op))}`) };
    }
    let v;
    try {
      if (op === "exec" || op === "query" || op === "run") {
        const n = encodeStatement(req);
        const kind = KIND[op];
        const tx = typeof req.tx === "number" ? req.tx : 0;
        const known = typeof req.known === "number" ? req.known : -1;
        return this.runDirect(op, kind, n, tx, known);
      }
      v = this.api.call(op, req);
    } catch (e) {
      // "Go program has already exited", a throw while converting, or a
      // parameter encodeStatement refused.
      if (!this.dead && /exited/.test(String(e && e.message))) this.kill(String(e.message));
      return { ok: false, error: this.dead || e };
    }
    const st = this.api.st;
    if (!st) return { ok: true, result: v };
    this.api.st = 0;
    if (st === 1) return { ok: false, error: this.failed(v) };
    return this.pending(op, v);
  }

  // pending answers call id, answered "pending": larder.wasm calls
  // settle(id, …) later, or already did while the call was returning.
  pending(op, id) {
    const early = this.early.get(id);
    if (early) {
      this.early.delete(id);
      return this.answer(op, early.failed, early.v);
    }
    return new Promise((resolve) => this.waiting.set(id, { op, resolve }));
  }

  // runDirect runs the statement encodeStatement wrote (n bytes) through the wasm
  // exports (see jsbridge.DirectRun for the buffer's header).
  runDirect(op, kind, n, tx, known) {
    const ex = this.direct;
    const base = ex.larder_buf(n);
    new Uint8Array(ex.mem.buffer, base + 8, n).set(statementBytes().subarray(0, n));
    new DataView(ex.mem.buffer).setUint32(base, 1, true);
    const r = ex.larder_run(kind, n, tx, known);
    const dv = new DataView(ex.mem.buffer); // memory may have grown
    if (dv.getUint32(base, true) !== 0) {
      this.kill("larder.wasm: a call returned before it finished (it waited on JavaScript without announcing it)");
      return { ok: false, error: this.dead };
    }
    if (r >= 0) {
      const at = dv.getUint32(base + 4, true);
      return { ok: true, result: this.result(op, new Uint8Array(ex.mem.buffer, at, r).slice()) };
    }
    if (r === -1) {
      const err = this.api.err;
      this.api.err = undefined;
      return { ok: false, error: this.failed(err) };
    }
    return this.pending(op, dv.getUint32(base + 4, true));
  }

  settle(id, failed, v) {
    const w = this.waiting.get(id);
    if (!w) {
      this.early.set(id, { failed, v });
      return;
    }
    this.waiting.delete(id);
    w.resolve(this.answer(w.op, failed, v));
  }

  answer(op, failed, v) {
    return failed ? { ok: false, error: this.failed(v) } : { ok: true, result: this.result(op, v) };
  }

  result(op, v) {
    return op === "exec" ? execResult(v) : v;
  }

  failed(e) {
    if (e && e.code === CRASHED) this.kill(e.message.replace(/; this database handle is dead.*$/, ""));
    return e;
  }
}

// unwrap turns an answer into a Promise of its result.
function unwrap(r) {
  return r.ok ? Promise.resolve(r.result) : Promise.reject(r.error);
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


