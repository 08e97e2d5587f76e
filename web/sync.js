// Sync in the demo: where its settings come from, and the indicator in the
// header. The page syncs only when its address names a user
// (http://127.0.0.1:8080/?user=alice); `make run-sync` writes the edge's
// address and a development token per user to dist/sync-dev.json
// (docs/sync.md#the-demo). Without ?user= nothing here runs: plain
// `make run` is the local-only app. The Larder API used (open({ sync }),
// db.syncStatus, the "syncstatus" event, db.sync()) is feature-detected, so
// a larder.js without sync still runs the app, and the indicator says so.

const SETTINGS_URL = new URL("./dist/sync-dev.json", import.meta.url).href;

// syncUser is the user named by the page's address, or "" (no sync).
export function syncUser(search = location.search) {
  return new URLSearchParams(search).get("user")?.trim() ?? "";
}

// readSettings reads dist/sync-dev.json: { url, tokens: { user: jwt } }.
async function readSettings() {
  const res = await fetch(SETTINGS_URL, { cache: "no-store" });
  if (!res.ok) {
    throw new Error(`no sync settings at ${new URL(SETTINGS_URL).pathname} (HTTP ${res.status}): run \`make run-sync\``);
  }
  return res.json();
}

// syncOptions returns the `sync` option of open() for user: the edge's
// origin and a token function that reads the file again before each round
// (a new `make run-sync` mints fresh tokens without a reload).
export async function syncOptions(user) {
  const settings = await readSettings();
  if (typeof settings.url !== "string" || !settings.tokens?.[user]) {
    throw new Error(`dist/sync-dev.json has no token for user ${JSON.stringify(user)}: ` +
      `users ${Object.keys(settings.tokens ?? {}).join(", ") || "none"} (make run-sync SYNC_USERS="alice bob")`);
  }
  return {
    url: settings.url,
    token: async () => (await readSettings()).tokens[user],
  };
}

// describe turns a db.syncStatus into what the indicator shows:
// { state, text, title }. state is one of off, unsupported, error,
// outdated, syncing, offline, synced, waiting (connected, nothing synced yet).
export function describe(status, { user = "", now = Date.now() } = {}) {
  if (status === undefined) {
    return { state: "unsupported", text: "Sync unavailable", title: "this larder.js has no sync (db.syncStatus is missing)" };
  }
  if (status === null) return { state: "off", text: "", title: "" };
  const who = user ? ` as ${user}` : "";
  const pending = status.pending > 0 ? ` · ${status.pending} to send` : "";
  if (status.outdated) {
    return { state: "outdated", text: "Sync paused: reload", title: "the edge has a newer breaking migration (LARDER_OUTDATED): reload to get the new code" };
  }
  if (status.uploading || status.downloading) {
    const what = status.uploading && status.downloading ? "Syncing" : status.uploading ? "Sending" : "Receiving";
    return { state: "syncing", text: `${what}…${pending}`, title: `syncing${who}` };
  }
  if (status.lastError) {
    const { code, message } = status.lastError;
    return { state: "error", text: `Sync error: ${code ?? "unknown"}${pending}`, title: message ?? "" };
  }
  if (!status.connected) {
    return { state: "offline", text: `Offline${pending}`, title: `changes are kept and sent when the edge is reachable${who}` };
  }
  if (!status.lastSyncedAt) {
    return { state: "waiting", text: `Online${pending}`, title: `connected${who}, not synced yet` };
  }
  return { state: "synced", text: `Synced ${ago(new Date(status.lastSyncedAt), now)}${pending}`, title: `last synced${who} at ${status.lastSyncedAt}` };
}

function ago(t, now) {
  const s = Math.round((now - t.getTime()) / 1000);
  if (Number.isNaN(s)) return "";
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return t.toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
}

// Indicator keeps #sync-status in step with a handle's sync status.
export class Indicator {
  #el = document.getElementById("sync-status");
  #button = document.getElementById("sync-now");
  #db = null;
  #user = "";
  #error = null;
  #timer = 0;
  #listener = () => this.render();

  constructor() {
    this.#button.addEventListener("click", () => this.syncNow());
  }

  // attach follows db (null: sync is off). error: sync was asked for but
  // could not be set up (no settings file); it is shown until a reopen.
  attach(db, { user = "", error = null } = {}) {
    this.#db?.removeEventListener?.("syncstatus", this.#listener);
    clearInterval(this.#timer);
    this.#db = db;
    this.#user = user;
    this.#error = error;
    if (db && user && "syncStatus" in db) {
      db.addEventListener("syncstatus", this.#listener);
      this.#timer = setInterval(this.#listener, 15_000); // "Synced 2 min ago" ages
    }
    this.render();
  }

  // status is the handle's sync status, null when sync is off, undefined
  // when this larder.js has no sync.
  status() {
    const db = this.#db;
    if (!db || !this.#user) return null;
    return "syncStatus" in db ? db.syncStatus : undefined;
  }

  render() {
    const d = this.#error
      ? { state: "error", text: "Sync error: not set up", title: this.#error.message }
      : describe(this.status(), { user: this.#user });
    this.#el.hidden = d.state === "off";
    this.#el.dataset.state = d.state;
    this.#el.textContent = d.text;
    this.#el.title = d.title;
    this.#button.hidden = d.state === "off" || d.state === "unsupported" || typeof this.#db?.sync !== "function" || this.#error != null;
  }

  async syncNow() {
    try {
      await this.#db.sync();
    } catch (err) {
      console.warn("larder demo: sync:", err.code ?? "", err.message);
    }
    this.render();
  }
}
