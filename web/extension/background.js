// The extension's background service worker. It owns the reading list: a
// Larder database on IndexedDB, opened (and migrated) when the worker
// starts, in this worker itself, since service workers cannot start Web
// Workers and have no OPFS sync access handles. The popup talks to it with
// chrome.runtime.sendMessage.
// Importing larder-worker.js next to larder.js makes open() run larder.wasm
// in this context (there is no Worker constructor here).
import "./larder/larder-worker.js";
import { open } from "./larder/larder.js";

// instance tells one run of this worker from the next, so that a test (or a
// curious person) can see that Chrome stopped and restarted it.
const instance = crypto.randomUUID();
const startedAt = Date.now();

const ready = open({
  name: "reading-list",
  storage: "idb",
  migrations: chrome.runtime.getURL("migrations.json"),
  wasm: chrome.runtime.getURL("larder/larder.wasm"),
});
ready.catch((err) => console.error("reading list: open failed:", err));

const handlers = {
  // save adds the page, or updates its title if the URL is already there.
  async save({ url, title }) {
    if (!url) throw new Error("save: no url");
    const db = await ready;
    await db.exec(`INSERT INTO items (url, title, saved_at) VALUES (:url, :title, :now)
      ON CONFLICT (url) DO UPDATE SET title = excluded.title, saved_at = excluded.saved_at`,
    { url, title: title ?? "", now: Date.now() });
    const [item] = await db.query("SELECT * FROM items WHERE url = :url", { url });
    return { item };
  },

  // list returns the items whose title or URL contains search, newest first.
  async list({ search = "" }) {
    const db = await ready;
    const like = "%" + search.replace(/[\\%_]/g, (c) => "\\" + c) + "%";
    const items = await db.query(`SELECT * FROM items
      WHERE :search = '' OR title LIKE :like ESCAPE '\\' OR url LIKE :like ESCAPE '\\'
      ORDER BY saved_at DESC, id DESC`, { search, like });
    return { items };
  },

  async markRead({ id, read = true }) {
    const db = await ready;
    await db.exec("UPDATE items SET read_at = :at WHERE id = :id", { id, at: read ? Date.now() : null });
    return {};
  },

  async remove({ id }) {
    const db = await ready;
    await db.exec("DELETE FROM items WHERE id = :id", { id });
    return {};
  },

  async status() {
    const db = await ready;
    const [{ n }] = await db.query("SELECT count(*) AS n FROM items");
    return { instance, startedAt, storage: db.storage, version: db.version, items: n, migrations: await db.migrations() };
  },
};

chrome.runtime.onMessage.addListener((msg, _sender, sendResponse) => {
  const handler = handlers[msg?.type];
  if (!handler) return false;
  handler(msg).then(
    (result) => sendResponse({ ok: true, ...result }),
    (err) => sendResponse({ ok: false, error: err.message, code: err.code }),
  );
  return true; // the answer comes asynchronously
});
