// The minimal webpack app: open, migrate, write, read, live list.
import { open } from "@larderdb/larder";

const migrations = [{ version: 1, name: "note", up: "CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)" }];

async function main() {
  const db = await open({ name: "webpack-example", migrations });
  const list = document.getElementById("notes");
  db.watch("SELECT id, body FROM note ORDER BY id", [], (rows) => {
    list.replaceChildren(...rows.map((r) => Object.assign(document.createElement("li"), { textContent: r.body })));
    document.body.dataset.count = String(rows.length);
  });
  window.larderExample = {
    version: db.version,
    storage: db.storage,
    add: async (body) => (await db.run("INSERT INTO note (body) VALUES (?) RETURNING id", [body])).rows[0].id,
  };
  document.body.dataset.ready = "true";
}

main().catch((e) => {
  document.body.dataset.error = `${e?.code ?? ""} ${e?.message ?? e}`;
  throw e;
});
