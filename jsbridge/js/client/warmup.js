// warmup.js — the first-visit warm-up of larder.wasm (see engine.Warmup).
//
// Chrome writes a wasm module's optimised code to its code cache only from
// the visit that compiled the module without that cache, a few seconds
// after the code was optimised; later visits load it and never add to it.
// So on that first visit, once the page has opened a database and the
// worker is idle, the worker runs larder.wasm's hot paths (engine.Warmup:
// inserts, point selects, scans, transactions on a private memory database)
// in slices of a few milliseconds that give way to every request, until V8
// has optimised them. An IndexedDB record per larder.wasm build (URL and
// validators) marks the first visit as done, so that later visits, which
// could not improve the cache, skip it. open({warmup: false}) turns it off.

const WARMUP_ROUNDS = 50; // ~2 s of unoptimised code; what V8's tier-up budget needs
const WARMUP_SLICE_MS = 8; // longest a request waits behind a slice, plus one step
const WARMUP_IDLE_MS = 250; // quiet time before the first slice
const WARMUP_GAP_MS = 20; // quiet time before each further slice
const WARMUP_DB = "larder-warmup"; // IndexedDB database of the records (not "larder/…")

function idbRequest(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

// claimWarmup records that build key is being warmed up here and answers
// true, or false when an earlier visit did.
async function claimWarmup(key) {
  const open = indexedDB.open(WARMUP_DB, 1);
  open.onupgradeneeded = () => open.result.createObjectStore("builds");
  const db = await idbRequest(open);
  try {
    const tx = db.transaction("builds", "readwrite");
    const store = tx.objectStore("builds");
    if ((await idbRequest(store.get(key))) !== undefined) return false;
    await idbRequest(store.put({ startedAt: new Date().toISOString() }, key));
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
    return true;
  } finally {
    db.close();
  }
}

// v8WasmCodeCache reports whether this engine keeps optimised wasm code in
// a code cache that a warm-up can fill: V8's, in Chromium-based browsers
// (Chrome, Edge, Opera, Brave…). Firefox (SpiderMonkey) and Safari
// (JavaScriptCore) have no such cache, so there the warm-up would only burn
// CPU: it does not run (state "off").
export function v8WasmCodeCache(nav = typeof navigator !== "undefined" ? navigator : null) {
  if (!nav) return false;
  const brands = nav.userAgentData && nav.userAgentData.brands;
  if (Array.isArray(brands) && brands.some((b) => b && b.brand === "Chromium")) return true;
  // userAgentData exists only in secure contexts: the user agent string.
  return /\b(Chrome|Chromium|HeadlessChrome)\/\d/.test(String(nav.userAgent || ""));
}

export class Warmer {
  constructor(host, report) {
    this.host = host;
    this.report = report; // ({state, rounds?, ms?, error?}) => void
    this.state = null;
  }

  async start(key) {
    if (this.state) return;
    if (!v8WasmCodeCache()) return this.set("off", { reason: "this engine has no wasm code cache to fill (not V8)" });
    this.state = "claiming";
    try {
      if (!(await claimWarmup(key))) return this.set("skipped");
    } catch (e) {
      // Without the record there is no telling a first visit: do nothing.
      console.warn("larder: warm-up skipped: IndexedDB unavailable:", e && e.message);
      return this.set("skipped", { error: String(e && e.message) });
    }
    this.rounds = 0;
    this.busyMs = 0;
    this.set("running");
    setTimeout(() => this.tick(), WARMUP_IDLE_MS);
  }

  set(state, extra) {
    this.state = state;
    this.report({ state, ...extra });
  }

  tick() {
    const host = this.host;
    const rt = host.runtime;
    if (!rt || rt.dead) return this.set("failed", { rounds: this.rounds, error: "larder.wasm is gone" });
    // Give way: to a request seen lately, to calls still running (ordered
    // tails, calls waiting on JavaScript).
    if (performance.now() - host.lastRequest < WARMUP_GAP_MS || host.tails.size > 0 || rt.waiting.size > 0) {
      setTimeout(() => this.tick(), WARMUP_GAP_MS);
      return;
    }
    const t0 = performance.now();
    const r = rt.tryCall("warmup", { ms: WARMUP_SLICE_MS, rounds: WARMUP_ROUNDS });
    Promise.resolve(r).then((a) => {
      this.busyMs += performance.now() - t0;
      if (!a.ok) return this.finish("failed", a.error);
      this.rounds = a.result;
      if (this.rounds >= WARMUP_ROUNDS) return this.finish("done");
      setTimeout(() => this.tick(), 0);
    });
  }

  finish(state, error) {
    const rt = this.host.runtime;
    if (rt && !rt.dead) rt.tryCall("warmup", { close: true });
    const extra = { rounds: this.rounds, ms: Math.round(this.busyMs) };
    if (error) {
      extra.error = String(error.message || error);
      console.warn("larder: warm-up failed:", extra.error);
    }
    this.set(state, extra);
  }
}

