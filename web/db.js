// Opening the demo's database, and the few things the app does with the
// handle as a whole (reopen after reset or import). Only the public API of
// dist/larder.js is used.
import { open, preload } from "./dist/larder.js";

export const DB_NAME = "notes";

// The demo searches with FTS5, which the default larder.wasm leaves out to
// stay small: it runs larder-fts5.wasm (`make build EXT=fts5`).
export const WASM_URL = new URL("./dist/larder-fts5.wasm", import.meta.url).href;

// Importing larder.js downloads nothing: start fetching and compiling the
// module now, while the page sets itself up (errors come again from open).
preload(WASM_URL).catch(() => {});

// The `larder migrate bundle` of web/migrations; `larder serve` builds it
// from the migration files when it starts.
export const MIGRATIONS_URL = new URL("./migrations.json", import.meta.url).href;

// openNotes opens (creating and migrating as needed) the notes database;
// sync: the sync option of open() (web/sync.js), or undefined for none.
export function openNotes({ sync } = {}) {
  return open({
    name: DB_NAME,
    storage: "auto",
    migrations: MIGRATIONS_URL,
    wasm: WASM_URL,
    ...(sync ? { sync } : {}),
  });
}

// download saves bytes as a file through a temporary link.
export function download(bytes, filename, type = "application/vnd.sqlite3") {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// formatBytes renders 1536 as "1.5 KiB".
export function formatBytes(n) {
  if (n == null || Number.isNaN(n)) return "?";
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}
