// The demo's service worker: the app works offline after its first load.
//
// On install it caches the app shell, the Larder runtime, the FTS5 wasm and
// the migrations bundle. Requests go to the network first (so a rebuilt app
// is picked up on the next load, and `larder serve` answers a warm reload
// with 304s) and fall back to the cache when the network fails.
const CACHE = "larder-notes-v1";
const SHELL = [
  "./",
  "index.html",
  "style.css",
  "app.js",
  "db.js",
  "notes.js",
  "loading.js",
  "panel.js",
  "devtools.js",
  "sync.js",
  "manifest.webmanifest",
  "icon.svg",
  "migrations.json",
  "dist/larder.js",
  "dist/larder-worker.js",
  "dist/client/channel.js",
  "dist/client/connection.js",
  "dist/client/database.js",
  "dist/client/encoding.js",
  "dist/client/errors.js",
  "dist/client/host.js",
  "dist/client/inprocess.js",
  "dist/client/liveness.js",
  "dist/client/migrations.js",
  "dist/client/owner.js",
  "dist/client/storage.js",
  "dist/client/warmup.js",
  "dist/client/wasm.js",
  "dist/client/watch.js",
  "dist/client/sync.js",
  "dist/wasm_exec.js",
  "dist/larder-fts5.wasm",
];

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const results = await Promise.allSettled(SHELL.map((url) => cache.add(url)));
    results.forEach((r, i) => {
      if (r.status === "rejected") console.warn(`sw: not cached: ${SHELL[i]}: ${r.reason}`);
    });
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  // dist/sync-dev.json (make run-sync's dev tokens) is never cached.
  if (req.method !== "GET" || url.origin !== location.origin || url.pathname.endsWith("/sync-dev.json")) return;
  event.respondWith(networkFirst(req));
});

async function networkFirst(req) {
  const cache = await caches.open(CACHE);
  try {
    const res = await fetch(req);
    if (res.ok && res.type === "basic") {
      const cached = await cache.match(req);
      const same = cached && res.headers.get("ETag") && cached.headers.get("ETag") === res.headers.get("ETag");
      if (same) {
        // Unchanged: answer from the cache, not with the network's copy.
        // Chromium keeps V8's code cache (the compiled larder-fts5.wasm,
        // the scripts) beside responses that come from the HTTP cache or
        // from Cache Storage; a response this worker fetched and passed on
        // has none, so every load compiled the 18 MB module anew
        // (docs/startup.md, "A service worker in front of the module").
        res.body?.cancel().catch(() => {});
        return cached;
      }
      await cache.put(req, res.clone());
    }
    return res;
  } catch (err) {
    const cached = (await cache.match(req, { ignoreSearch: true })) ??
      (req.mode === "navigate" ? await cache.match("index.html") : undefined);
    if (cached) return cached;
    throw err;
  }
}
