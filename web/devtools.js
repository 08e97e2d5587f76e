// window.larder: the devtools console workflow.
//
//   await larder.migrations("notes")  // applied migrations, also printed as a table
//   await larder.export("notes")      // downloads notes.sqlite, returns its bytes
//   await larder.reset("notes")       // deletes the database; the app migrates a new one
//   await larder.reset("other")       // deletes another database of this origin, unopened
//   await larder.query("notes", "SELECT count(*) FROM notes")
//   larder.timings()                  // where this page's start-up went (docs/startup.md)
//
// It is a development aid of this demo, not part of dist/larder.js.
import { reset as resetUnopened, timings } from "./dist/larder.js";
import { DB_NAME, WASM_URL, download } from "./db.js";

export function installDevtools(app) {
  const handle = (name) => {
    if (name !== DB_NAME) {
      throw new Error(`larder: no database named ${JSON.stringify(name)} is open in this page (open: "${DB_NAME}")`);
    }
    if (!app.db) {
      throw new Error(`larder: "${name}" is not open yet (still loading, or failed: see the page)`);
    }
    return app.db;
  };
  window.larder = {
    async migrations(name = DB_NAME) {
      const rows = await handle(name).migrations();
      console.table(rows);
      return rows;
    },
    async export(name = DB_NAME) {
      const bytes = await handle(name).export();
      download(bytes, `${name}.sqlite`);
      return bytes;
    },
    async reset(name = DB_NAME) {
      if (name !== DB_NAME) {
        // Not open in this page: delete its storage without opening it.
        await resetUnopened(name, { wasm: WASM_URL });
        return `${name}: deleted`;
      }
      handle(name);
      await app.resetDatabase();
      return `${name}: deleted and migrated anew to version ${app.db?.version}`;
    },
    async query(name, sql, params) {
      const rows = await handle(name).query(sql, params);
      console.table(rows);
      return rows;
    },
    timings() {
      const rows = timings();
      console.table(rows);
      return rows;
    },
    get db() {
      return app.db;
    },
  };
}
