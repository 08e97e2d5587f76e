// Start-up phases on a clock whose performance.timeOrigin moves between
// reads, as a WebKitGTK worker's does: every phase a context reports
// carries the one origin it read first, so phases that meet in that
// context still meet on the page's clock (docs/startup.md).
import { test } from "node:test";
import assert from "node:assert/strict";

test("a context's phases carry one timeOrigin, however its clock's reading moves", async () => {
  const real = performance.timeOrigin;
  let reads = 0;
  Object.defineProperty(performance, "timeOrigin", { configurable: true, get: () => real + 0.02 * ++reads });
  try {
    const { Host } = await import("../client/host.js");
    const sent = [];
    const host = new Host((m) => sent.push(m), { locks: null, Channel: null });
    host.phase("storage-open", 10, 20, "d");
    host.phase("migrate", 20, 30, "d");
    assert.equal(sent.length, 2);
    assert.ok(reads > 0, "host.js read performance.timeOrigin");
    assert.equal(sent[0].origin, sent[1].origin, "both phases carry the same origin");
    assert.equal(sent[0].end + sent[0].origin, sent[1].start + sent[1].origin);
  } finally {
    delete performance.timeOrigin;
  }
});
