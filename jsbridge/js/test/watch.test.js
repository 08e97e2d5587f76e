// db.watch (client/watch.js) over a fake handle: re-runs only for commits
// that wrote a table the query reads, coalesces changes that come during a
// re-run, stops on unwatch, reports errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { watch } from "../client/watch.js";
import { until } from "./fakes.js";

// fakeDb answers readset with reads and each query with the number of
// queries so far; release() lets held queries finish.
function fakeDb(reads, { hold = false } = {}) {
  const db = new EventTarget();
  db.queries = 0;
  db.held = [];
  db._call = async (op, fields) => {
    assert.equal(op, "readset");
    assert.equal(typeof fields.sql, "string");
    return reads;
  };
  db.query = async () => {
    const n = ++db.queries;
    if (db.hold) await new Promise((r) => db.held.push(r));
    return [{ n }];
  };
  db.hold = hold;
  db.release = () => db.held.splice(0).forEach((r) => r());
  db.commit = (...tables) => db.dispatchEvent(Object.assign(new Event("change"), { detail: { tables } }));
  return db;
}

test("re-runs for a commit to a table it reads, in any case, and not for others", async () => {
  const db = fakeDb(["note"]);
  const seen = [];
  const stop = watch(db, "SELECT * FROM note", [], (rows) => seen.push(rows[0].n));
  await until(() => seen.length === 1, "the first run");
  db.commit("other");
  db.commit("NOTE", "other");
  await until(() => seen.length === 2, "the re-run");
  db.commit("audit");
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(seen, [1, 2]);
  assert.equal(db.queries, 2, "no query for unrelated tables");
  stop();
});

test("changes during a re-run make one more re-run, not one each", async () => {
  const db = fakeDb(["note"]);
  const seen = [];
  watch(db, "SELECT * FROM note", [], (rows) => seen.push(rows[0].n));
  await until(() => seen.length === 1, "the first run");
  db.hold = true;
  db.commit("note");
  await until(() => db.held.length === 1, "the re-run to start");
  db.commit("note");
  db.commit("note");
  db.commit("note");
  db.hold = false;
  db.release();
  await until(() => seen.length === 3, "the coalesced re-run");
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(seen, [1, 2, 3]);
});

test("unwatch stops re-runs and callbacks", async () => {
  const db = fakeDb(["note"]);
  const seen = [];
  const stop = watch(db, "SELECT * FROM note", [], (rows) => seen.push(rows[0].n));
  await until(() => seen.length === 1, "the first run");
  stop();
  db.commit("note");
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(seen, [1]);
  assert.equal(db.queries, 1);
});

test("errors go to onError", async () => {
  const db = fakeDb(["note"]);
  db._call = async () => {
    throw Object.assign(new Error("no such table: nope"), { code: "SQLITE_ERROR" });
  };
  const errors = [];
  watch(db, "SELECT * FROM nope", [], () => assert.fail("no callback"), { onError: (e) => errors.push(e.code) });
  await until(() => errors.length === 1, "the error");
  assert.deepEqual(errors, ["SQLITE_ERROR"]);
});
