// The database panel: what a person needs to see and do with the local
// database without opening devtools.
import * as larder from "./dist/larder.js";
import { DB_NAME, WASM_URL, download, formatBytes } from "./db.js";
import { databaseSize } from "./notes.js";

const $ = (id) => document.getElementById(id);

export class Panel {
  constructor(app) {
    this.app = app;
    $("export-db").addEventListener("click", () => this.export());
    $("import-file").addEventListener("change", (e) => this.import(e.target));
    $("reset-db").addEventListener("click", () => $("confirm-reset").showModal());
    $("confirm-reset").addEventListener("close", () => {
      if ($("confirm-reset").returnValue === "reset") this.reset();
    });
  }

  get open() {
    return !$("panel").hidden;
  }

  toggle() {
    $("panel").hidden = !$("panel").hidden;
    $("toggle-panel").setAttribute("aria-expanded", String(this.open));
    if (this.open) this.refresh();
  }

  async refresh() {
    const db = this.app.db;
    if (!db || !this.open) return;
    $("db-name").textContent = DB_NAME;
    $("db-storage").textContent = db.storage;
    $("db-persisted").textContent = await persistedText(db);
    $("db-version").textContent = String(db.version);
    $("db-wasm").textContent = new URL(WASM_URL).pathname;
    const [size, history, estimate] = await Promise.all([
      databaseSize(db),
      db.migrations(),
      navigator.storage?.estimate?.() ?? Promise.resolve(null),
    ]);
    $("db-size").textContent = formatBytes(size);
    $("db-usage").textContent = estimate
      ? `${formatBytes(estimate.usage)} of ${formatBytes(estimate.quota)} quota`
      : "unknown";
    $("db-migrations").replaceChildren(...history.map((m) => {
      const tr = document.createElement("tr");
      const applied = new Date(m.appliedAt);
      for (const v of [m.version, m.name + (m.breaking ? " (breaking)" : ""),
        isNaN(applied) ? m.appliedAt : applied.toLocaleString(), `${m.durationMs} ms`]) {
        const td = document.createElement("td");
        td.textContent = v;
        tr.append(td);
      }
      return tr;
    }));
    this.renderTimings(await startupFigures(db));
    $("panel").dataset.version = String(db.version);
  }

  renderTimings(rows) {
    $("db-timings-section").hidden = rows.length === 0;
    $("db-timings").replaceChildren(...rows.map(({ name, ms, note }) => {
      const tr = document.createElement("tr");
      for (const v of [name, `${Math.round(ms)} ms${note ? ` ${note}` : ""}`]) {
        const td = document.createElement("td");
        td.textContent = v;
        tr.append(td);
      }
      return tr;
    }));
  }

  async export() {
    try {
      const bytes = await this.app.db.export();
      download(bytes, "app.sqlite");
      this.status(`Exported ${formatBytes(bytes.byteLength)} as app.sqlite`);
    } catch (err) {
      this.status(`Export failed: ${err.message}`);
    }
  }

  async import(input) {
    const file = input.files[0];
    input.value = "";
    if (!file) return;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      await this.app.db.import(bytes); // validates: rejects a file that is not a SQLite database
      await this.app.reopen(); // applies the migrations an older export lacks
      this.status(`Imported ${file.name} (${formatBytes(bytes.byteLength)})`);
    } catch (err) {
      this.status(`Import failed: ${err.message}` + (err.code ? ` (${err.code})` : ""));
    }
  }

  async reset() {
    try {
      await this.app.resetDatabase();
      this.status("Reset: the database was deleted and migrated anew");
    } catch (err) {
      this.status(`Reset failed: ${err.message}`);
    }
  }

  status(text) {
    $("panel-status").textContent = text;
    $("panel").dataset.status = text;
  }
}

// startupFigures is where this page's start-up time went: the phases the
// client reports (larder.timings() or db.timings(), when this larder.js
// has them: feature-detected), then the "larder:" performance marks of the
// page (the demo's first render among them), as ms since navigation.
async function startupFigures(db) {
  const rows = [];
  const timings = typeof larder.timings === "function" ? () => larder.timings(DB_NAME)
    : typeof db.timings === "function" ? () => db.timings() : null;
  if (timings) {
    try {
      rows.push(...phaseRows(await timings()));
    } catch (err) {
      console.warn("larder demo: timings:", err);
    }
  }
  for (const m of performance.getEntriesByType("mark")) {
    if (m.name.startsWith("larder:") && !rows.some((r) => r.name === m.name)) {
      rows.push({ name: m.name, ms: m.startTime, note: "after navigation" });
    }
  }
  return rows;
}

// phaseRows reads the figures whatever their shape: [{ name|phase, ms|duration }]
// or { phase: ms | { ms|duration } }.
function phaseRows(t) {
  const ms = (v) => (typeof v === "number" ? v : v?.ms ?? v?.duration);
  const entries = Array.isArray(t) ? t.map((p) => [p?.name ?? p?.phase, p]) : Object.entries(t ?? {});
  return entries
    .filter(([name, v]) => name && Number.isFinite(ms(v)))
    .map(([name, v]) => ({ name: String(name), ms: ms(v) }));
}

async function persistedText(db) {
  const answer = db.persisted ?? (await navigator.storage?.persisted?.());
  if (answer === true) return "yes (the browser will not evict it)";
  if (answer === false) return "no (best effort: the browser may evict it under pressure)";
  return "unknown";
}
