// channel.js — what tabs say to each other about database NAME
// (docs/PROTOCOL.md, "Tab ↔ tab"): the message shapes on the
// BroadcastChannel "larder:NAME" and checks of them, and the Web Locks that
// tell who is alive and who owns a database. Pure functions of their
// arguments: the Node tests drive them with a fake channel and lock.

// This context's id, on the channel and in its context lock.
export const CONTEXT_ID = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
// Every context holds the Web Lock CONTEXT_LOCK + its id for as long as it
// lives; the owner of database NAME holds DB_LOCK + NAME.
export const CONTEXT_LOCK = "larder-context:";
export const DB_LOCK = "larder:";

// Message types (the field t).
export const MSG = Object.freeze({
  hello: "hello", // a new client asks who owns the database
  owner: "owner", // the owner announces itself
  req: "req", // a client forwards a request
  ack: "ack", // the owner has handed the request to SQLite
  res: "res", // the owner's answer
  event: "event", // the owner's event (change, versionchange)
  beat: "beat", // the owner is alive and serving
  bye: "bye", // the owner gave up: it answers nothing more
});

// ---- What the channel may carry, and whom to believe ----
//
// Any script of the origin can post on the BroadcastChannel "larder:NAME",
// so every message is checked before it is used: its shape (checkMessage;
// malformed ones are dropped, never thrown on), and for what only the
// owner may say (owner claims, acks, answers, events) its sender. The
// owner is the context holding the Web Lock "larder:NAME"; a sender's id
// is believed to be the owner when navigator.locks.query() shows that lock
// and the sender's own lock ("larder-context:ID") held by the same client
// (isLockHolder). A script that only posts messages holds neither.

export const VERIFIED_MS = 1000; // how long a sender's check is reused
// Ops only a context runs on itself, never for another tab.
export const LOCAL_OPS = new Set(["shutdown", "warmup"]);
const EVENT_TYPE = /^[a-z]{1,32}$/;

export function isId(x) {
  return typeof x === "string" && x.length > 0 && x.length <= 64 && /^[0-9A-Za-z_-]+$/.test(x);
}

function isSeq(x) {
  return Number.isSafeInteger(x) && x > 0;
}

function isVersion(x) {
  return (typeof x === "number" && Number.isSafeInteger(x) && x >= 0) || (typeof x === "bigint" && x >= 0n);
}

function isPlain(x) {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

// checkDetail checks an event's detail, as larder.wasm makes them
// (jsbridge's server.event).
export function checkDetail(d) {
  if (!isPlain(d) || typeof d.type !== "string" || !EVENT_TYPE.test(d.type)) return false;
  if (d.type === "change") return Array.isArray(d.tables) && d.tables.every((t) => typeof t === "string");
  if (d.type === "versionchange") return isVersion(d.from) && isVersion(d.to) && typeof d.breaking === "boolean";
  return true;
}

// checkRequest checks a forwarded request for database name.
function checkRequest(msg, name) {
  if (!isPlain(msg) || typeof msg.op !== "string" || LOCAL_OPS.has(msg.op) || msg.op.startsWith("__")) return false;
  if ((msg.op === "open" ? msg.name : msg.db) !== name) return false;
  return msg.tx == null || isSeq(msg.tx);
}

// checkMessage reports whether m is a well-formed message of the channel
// of database name.
export function checkMessage(m, name) {
  if (!isPlain(m)) return false;
  switch (m.t) {
    case "hello":
      return isId(m.from);
    case "owner":
      return isId(m.owner);
    case "req":
      return isId(m.from) && isSeq(m.id) && (m.to == null || isId(m.to)) && checkRequest(m.msg, name);
    case "ack":
      return isId(m.to) && isSeq(m.id) && isId(m.owner);
    case "res":
      return isId(m.to) && isSeq(m.id) && isId(m.from) && isPlain(m.res) && typeof m.res.ok === "boolean" && (m.res.ok || isPlain(m.res.error));
    case "event":
      return isId(m.from) && m.db === name && checkDetail(m.detail);
    case "beat":
    case "bye":
      return isId(m.from);
  }
  return false;
}

// contextLocked settles once this context holds its own context lock
// in locks: an owner announces itself only then, so that others can check
// its claim.
const contextLocks = new Map(); // context id → Promise
export function contextLocked(locks, id = CONTEXT_ID) {
  if (!locks) return Promise.resolve();
  let p = contextLocks.get(id);
  if (!p) {
    p = new Promise((resolve) => {
      locks
        .request(CONTEXT_LOCK + id, () => {
          resolve();
          return new Promise(() => {});
        })
        .catch(resolve);
    });
    contextLocks.set(id, p);
  }
  return p;
}

// contextGone reports whether context id is gone: its lock is free.
export function contextGone(locks, id) {
  return locks.request(CONTEXT_LOCK + id, { ifAvailable: true }, (lock) => !!lock);
}

// isLockHolder reports whether context id holds the Web Lock lockName:
// both locks are held by one client. Where the browser does not report
// clientId, the check is weaker: id's context lock and lockName held.
export async function isLockHolder(locks, lockName, id) {
  const { held = [] } = await locks.query();
  const owner = held.find((l) => l.name === lockName);
  const ctx = held.find((l) => l.name === CONTEXT_LOCK + id);
  return !!owner && !!ctx && owner.clientId === ctx.clientId;
}

// isHeld reports whether some context holds the Web Lock lockName.
export async function isHeld(locks, lockName) {
  const { held = [] } = await locks.query();
  return held.some((l) => l.name === lockName);
}
