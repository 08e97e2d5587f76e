// The shapes of the tab ↔ tab messages (client/channel.js, checkMessage):
// well-formed ones pass, anything else is dropped.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkMessage, checkDetail, isLockHolder, CONTEXT_LOCK } from "../client/channel.js";
import { LockManager } from "./fakes.js";

test("well-formed messages pass", () => {
  const ok = [
    { t: "hello", from: "a-1" },
    { t: "owner", owner: "a-1" },
    { t: "req", from: "a-1", id: 1, msg: { op: "exec", db: "db", sql: "x" } },
    { t: "req", from: "a-1", id: 2, msg: { op: "open", name: "db" } },
    { t: "req", from: "a-1", id: 3, msg: { op: "exec", db: "db", tx: 4 } },
    { t: "ack", to: "a-1", id: 1, owner: "b-2" },
    { t: "res", to: "a-1", id: 1, from: "b-2", res: { ok: true, result: 1 } },
    { t: "res", to: "a-1", id: 1, from: "b-2", res: { ok: false, error: { code: "X", message: "m" } } },
    { t: "event", from: "b-2", db: "db", detail: { type: "change", tables: ["note"] } },
    { t: "event", from: "b-2", db: "db", detail: { type: "versionchange", from: 1, to: 2, breaking: false } },
    { t: "beat", from: "b-2" },
  ];
  for (const m of ok) assert.ok(checkMessage(m, "db"), JSON.stringify(m));
});

test("malformed or out-of-place messages are dropped", () => {
  const bad = [
    null,
    [],
    "hello",
    { t: "nope" },
    { t: "hello", from: "" },
    { t: "hello", from: "has space" },
    { t: "hello", from: "x".repeat(65) },
    { t: "req", from: "a", id: 0, msg: { op: "exec", db: "db" } },
    { t: "req", from: "a", id: 1, msg: { op: "exec", db: "other" } },
    { t: "req", from: "a", id: 1, msg: { op: "shutdown", db: "db" } },
    { t: "req", from: "a", id: 1, msg: { op: "warmup", db: "db" } },
    { t: "req", from: "a", id: 1, msg: { op: "__fault", db: "db" } },
    { t: "req", from: "a", id: 1, msg: { op: "exec", db: "db", tx: "1" } },
    { t: "res", to: "a", id: 1, from: "b", res: { ok: false } },
    { t: "event", from: "b", db: "other", detail: { type: "change", tables: [] } },
    { t: "event", from: "b", db: "db", detail: { type: "change", tables: [1] } },
    { t: "event", from: "b", db: "db", detail: { type: "Change!" } },
    { t: "beat" },
  ];
  for (const m of bad) assert.ok(!checkMessage(m, "db"), JSON.stringify(m));
});

test("checkDetail: versions may be BigInts, never negative", () => {
  assert.ok(checkDetail({ type: "versionchange", from: 0n, to: 2n ** 60n, breaking: true }));
  assert.ok(!checkDetail({ type: "versionchange", from: -1, to: 2, breaking: true }));
  assert.ok(!checkDetail({ type: "versionchange", from: 1, to: 2 }));
});

test("isLockHolder: the database lock and the context lock held by one client", async () => {
  const m = new LockManager();
  const a = m.forContext("client-a"), b = m.forContext("client-b");
  a.request("larder:db", () => new Promise(() => {}));
  a.request(CONTEXT_LOCK + "a", () => new Promise(() => {}));
  b.request(CONTEXT_LOCK + "b", () => new Promise(() => {}));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(await isLockHolder(a, "larder:db", "a"), true);
  assert.equal(await isLockHolder(a, "larder:db", "b"), false, "b holds its context lock, not the database's");
  assert.equal(await isLockHolder(a, "larder:db", "nobody"), false);
  m.kill("client-a");
  assert.equal(await isLockHolder(b, "larder:db", "a"), false, "a is gone");
});
