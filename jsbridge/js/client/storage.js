// storage.js — the storage a database is on: the OPFS layout (as
// wasm/opfs keeps it), the handles opened ahead for larder.wasm to adopt,
// the proof that OPFS works in this context, and what "auto" resolves to.

import { failure, STORAGE_UNAVAILABLE } from "./errors.js";
import { CONTEXT_ID } from "./channel.js";

// The OPFS layout of a database, as wasm/opfs (opfs.go) keeps it:
// larder/<name>/ holding these files.
export const OPFS_ROOT = "larder";
export const OPFS_FILES = ["LAYOUT", "db", "db-journal", "db-wal"];

// acquireOPFS opens a sync access handle on each file of database name,
// all at once: a Promise of {file name: handle}. On any failure it closes
// what it opened and rejects.
export async function acquireOPFS(name) {
  const root = await navigator.storage.getDirectory();
  const top = await root.getDirectoryHandle(OPFS_ROOT, { create: true });
  const dir = await top.getDirectoryHandle(name, { create: true });
  const got = await Promise.allSettled(
    OPFS_FILES.map(async (f) => (await dir.getFileHandle(f, { create: true })).createSyncAccessHandle()),
  );
  const failed = got.find((g) => g.status === "rejected");
  if (failed) {
    for (const g of got) if (g.status === "fulfilled") g.value.close();
    throw failed.reason;
  }
  return Object.fromEntries(OPFS_FILES.map((f, i) => [f, got[i].value]));
}

// validName mirrors the names larder.wasm accepts (jsbridge's Host.Open,
// vfscore.ValidName): a name it would refuse is never prepared, so its open
// fails there with the proper error and leaves nothing in OPFS.
export function validName(name) {
  if (typeof name !== "string" || name === "" || name === "." || name === "..") return false;
  if (new TextEncoder().encode(name).length > 200) return false;
  return !/[\x00-\x1f\x7f/\\?#]/.test(name);
}

// ---- OPFS, proven before it is used ----
//
// OPFS's API can exist where OPFS does not work: WebKitGTK's
// createSyncAccessHandle throws NotSupportedError (and a retry then throws
// a misleading InvalidStateError), Safari's private windows throw
// UnknownError from getDirectory. So before "auto" picks OPFS, or an
// explicit "opfs" opens anything, this context proves it once: it opens
// the origin's directory, a directory of its own (larder-probe/) and a
// sync access handle on a file there, writes, flushes and closes it. The
// first error of that proof is the one reported: "auto" falls back to
// IndexedDB and says why (db.storageFallback), an explicit "opfs" rejects
// with LARDER_STORAGE_UNAVAILABLE naming it.

export const OPFS_PROBE_DIR = "larder-probe";
let opfsProof = null;

function describe(e) {
  if (e && typeof e === "object" && e.name && e.message != null) return `${e.name}: ${e.message}`;
  return String(e);
}

// proveOPFS settles to null when OPFS works in this context, else to
// {missing: true} (no API here: a page or service worker) or {error} (the
// API is here and failed: the first error, as "Name: message").
function proveOPFS() {
  return (opfsProof ||= (async () => {
    const s = typeof navigator !== "undefined" && navigator.storage;
    if (typeof FileSystemSyncAccessHandle !== "function" || !s || typeof s.getDirectory !== "function") return { missing: true };
    let step = "navigator.storage.getDirectory()";
    try {
      const root = await s.getDirectory();
      step = `directory ${OPFS_PROBE_DIR}`;
      const dir = await root.getDirectoryHandle(OPFS_PROBE_DIR, { create: true });
      step = `file ${OPFS_PROBE_DIR}/${CONTEXT_ID}`;
      const fh = await dir.getFileHandle(CONTEXT_ID, { create: true });
      step = "createSyncAccessHandle()";
      const h = await fh.createSyncAccessHandle();
      try {
        step = "a write through the sync access handle";
        h.write(new Uint8Array([1]), { at: 0 });
        h.flush();
      } finally {
        h.close();
      }
      await dir.removeEntry(CONTEXT_ID).catch(() => {});
      await root.removeEntry(OPFS_PROBE_DIR).catch(() => {}); // others may be probing: then it stays
      return null;
    } catch (e) {
      return { error: `${describe(e)} (at ${step})` };
    }
  })());
}

// resolveStorage settles to {storage, fallback?} or {error} for a request
// naming storage.
export async function resolveStorage(storage, op) {
  if (storage === "opfs" && op === "open") {
    const why = await proveOPFS();
    if (why && why.error) {
      return { error: failure(STORAGE_UNAVAILABLE, `open: storage "opfs" does not work in this context: ${why.error}`) };
    }
    return { storage }; // (missing: larder.wasm reports it)
  }
  if (storage !== "auto") return { storage };
  const why = await proveOPFS();
  if (!why) return { storage: "opfs" };
  if (typeof indexedDB !== "undefined") return { storage: "idb", fallback: why.error || null };
  return { storage: "auto" }; // larder.wasm reports what is missing
}

