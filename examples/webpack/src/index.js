// The minimal webpack app: open, migrate, write, read, live list.
import { open } from "@larderdb/larder";

/** @type {import("@larderdb/larder").Migration[]} */
const migrations = [{ version: 1, name: "note", up: "CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)" }];

async function main() {
  const db = await open({ name: "webpack-example", migrations });
  const list = /** @type {HTMLUListElement} */ (document.getElementById("notes"));
  /** @type {(rows: { id: number, body: string }[]) => void} */
  const show = (rows) => {
    list.replaceChildren(...rows.map((r) => Object.assign(document.createElement("li"), { textContent: r.body })));
    document.body.dataset.count = String(rows.length);
  };
  db.watch("SELECT id, body FROM note ORDER BY id", [], show);
  /** @type {any} */ (window).larderExample = {
    version: db.version,
    storage: db.storage,
    /** @param {string} body */
    add: async (body) => (await db.run("INSERT INTO note (body) VALUES (?) RETURNING id", [body])).rows[0].id,
  };
  document.body.dataset.ready = "true";
}

main().catch((e) => {
  document.body.dataset.error = `${e?.code ?? ""} ${e?.message ?? e}`;
  throw e;
});
