// larder-worker.js — runs larder.wasm (SQLite + Larder's Go runtime).
//
// Two ways to use it:
//  - larder.js starts it as a dedicated module Worker; it then answers the
//    page's requests over postMessage (docs/PROTOCOL.md, "Page ↔ worker").
//  - In a context without Worker (a service worker, an MV3 extension
//    background), import it next to larder.js — `import "./larder-worker.js"`
//    — and open() runs larder.wasm in the same context (use storage "idb"
//    or "auto", which picks IndexedDB there).
//
// The parts, one role each, are in client/: wasm.js (larder.wasm and the
// Go glue), encoding.js, host.js (one context's requests), owner.js and
// channel.js (many tabs), storage.js (OPFS), warmup.js, migrations.js,
// errors.js.
import "./wasm_exec.js";
import { wireError, CRASHED } from "./client/errors.js";
import { Host, TIME_ORIGIN } from "./client/host.js";
import { Warmer } from "./client/warmup.js";
import { provideHost } from "./client/inprocess.js";

export { Host } from "./client/host.js";
export { wireError } from "./client/errors.js";
export { normalizeOpen } from "./client/migrations.js";
export { checkMessage, checkDetail } from "./client/channel.js";
export { v8WasmCodeCache, Warmer } from "./client/warmup.js";

// The page's messages (see docs/PROTOCOL.md).
const PAGE_MESSAGES = new Set(["init", "req", "pagehide", "pageshow", "warmup"]);

// serveDedicated answers larder.js over postMessage, in the dedicated
// worker it started.
function serveDedicated() {
  const host = new Host((m, transfer) => self.postMessage(m, transfer || []));
  // larder.wasm's OPFS VFS asks for handles prepared before it started
  // (wasm/opfs: the one hook the Go side looks up by name).
  globalThis.__larderOPFSPrepared = (name) => host.takePrepared(name);
  const warmer = new Warmer(host, (state) => self.postMessage({ type: "warmup", ...state }));
  const reply = (id, res) => {
    const r = res.result;
    const transfer = r instanceof Uint8Array ? [r.buffer] : [];
    self.postMessage({ type: "res", id, ok: res.ok, result: r, error: res.error }, transfer);
  };
  self.addEventListener("message", async (e) => {
    const msg = e.data;
    if (msg === null || typeof msg !== "object" || !PAGE_MESSAGES.has(msg.type)) return; // not larder.js's
    switch (msg.type) {
      case "init":
        try {
          await host.init(msg.module || msg.wasm);
          // Whether this worker fetched a .wasm itself (tests: one fetch
          // per visit, the page's).
          const wasmFetches = performance.getEntriesByType("resource").filter((r) => /\.wasm(\?|$)/.test(r.name)).length;
          self.postMessage({ type: "started", wasmFetches });
        } catch (err) {
          const e = wireError(err);
          if (e.code !== CRASHED) {
            e.code = CRASHED;
            e.message = `larder.wasm could not start (${msg.wasm}): ${e.message}`;
          }
          self.postMessage({ type: "exit", error: e });
        }
        return;
      case "pagehide":
        // Give the databases up before the page is gone (the next tab or
        // the reload then finds the lock and the OPFS handles free), and
        // refuse what the dying page still sends.
        host.hidden = true;
        if (host.runtime && !host.runtime.dead) host.releaseAll().catch(() => {});
        return;
      case "pageshow": // back from the back/forward cache: serve again
        host.hidden = false;
        return;
      case "warmup":
        if (host.running) warmer.start(String(msg.key));
        return;
      case "req":
        // Before larder.wasm runs, a request waits for it where it needs
        // it, after the tabs' election: an open on OPFS gets its handles
        // while the module compiles (SharedDb.becomeOwner).
        host.request(msg, (res) => reply(msg.id, res));
    }
  });
  // A WebAssembly.Module this engine cannot receive: ask for the URL.
  self.addEventListener("messageerror", () => self.postMessage({ type: "need-wasm" }));
  self.addEventListener("unhandledrejection", (e) => {
    console.error("larder worker: unhandled rejection", e.reason);
  });
}

const dedicated = typeof DedicatedWorkerGlobalScope !== "undefined" && self instanceof DedicatedWorkerGlobalScope;
if (dedicated) {
  serveDedicated();
  // The page's larder:worker-start ends here (docs/startup.md).
  self.postMessage({ type: "hello", at: performance.now(), origin: TIME_ORIGIN });
}
// Elsewhere (a service worker, an extension background): larder.js runs
// this Host in-process.
else provideHost(Host);

