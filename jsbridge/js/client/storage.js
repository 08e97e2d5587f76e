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
// explicit "opfs" opens anything, OPFS is proven: the first context of an
// origin opens the origin's directory, a directory of its own
// (larder-probe/) and a sync access handle on a file there named after the
// context (two contexts probing at once never share a file), closes it,
// and leaves the marker larder-probe/ok. Every later context (a reload, a
// new tab) opens the origin's directory and finds the marker: a few
// milliseconds instead of a sync access handle (~10 ms in Chromium, ~80 in
// Firefox). The first error of a proof is the one reported: "auto" falls
// back to IndexedDB and says why (db.storageFallback), an explicit "opfs"
// rejects with LARDER_STORAGE_UNAVAILABLE naming it.

export const OPFS_PROBE_DIR = "larder-probe";
export const OPFS_PROBE_OK = "ok";
let opfsProof = null;
let probed = null; // {start, end}: performance.now() around the proof

/** opfsProbeTime is when this context proved OPFS (docs/startup.md,
 * larder:opfs-probe), or null before it did. */
export function opfsProbeTime() {
  return probed;
}

function describe(e) {
  if (e && typeof e === "object" && e.name && e.message != null) return `${e.name}: ${e.message}`;
  return String(e);
}

// proveOPFS settles to null when OPFS works in this context, else to
// {missing: true} (no API here: a page or service worker) or {error} (the
// API is here and failed: the first error, as "Name: message").
function proveOPFS() {
  if (!opfsProof) {
    const start = performance.now();
    opfsProof = probeOPFS();
    opfsProof.then(() => (probed = { start, end: performance.now() }));
  }
  return opfsProof;
}

async function probeOPFS() {
  const s = typeof navigator !== "undefined" && navigator.storage;
  if (typeof FileSystemSyncAccessHandle !== "function" || !s || typeof s.getDirectory !== "function") return { missing: true };
  let step = "navigator.storage.getDirectory()";
  try {
    const root = await s.getDirectory();
    step = `directory ${OPFS_PROBE_DIR}`;
    const dir = await root.getDirectoryHandle(OPFS_PROBE_DIR, { create: true });
    // An earlier context of this origin proved it.
    if (await dir.getFileHandle(OPFS_PROBE_OK).then(() => true, () => false)) return null;
    step = `file ${OPFS_PROBE_DIR}/${CONTEXT_ID}`;
    const fh = await dir.getFileHandle(CONTEXT_ID, { create: true });
    step = "createSyncAccessHandle()";
    (await fh.createSyncAccessHandle()).close();
    await dir.getFileHandle(OPFS_PROBE_OK, { create: true }).catch(() => {});
    await dir.removeEntry(CONTEXT_ID).catch(() => {});
    return null;
  } catch (e) {
    return { error: `${describe(e)} (at ${step})` };
  }
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

