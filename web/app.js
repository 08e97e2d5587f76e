// The notes app: loading screen, note list, editor and tag filter. The
// database panel is panel.js, the devtools helpers devtools.js, the SQL
// notes.js.
import { openNotes, WASM_URL } from "./db.js";
import * as notes from "./notes.js";
import { Loading } from "./loading.js";
import { Panel } from "./panel.js";
import { installDevtools } from "./devtools.js";
import { Indicator, syncOptions, syncUser } from "./sync.js";

// FIRST_RENDER marks, once per page, when the notes are first on screen
// (devtools' performance panel, the Database panel, make bench).
export const FIRST_RENDER = "larder:demo:first-render";

const $ = (id) => document.getElementById(id);

class App {
  db = null;
  selected = null; // id of the note in the editor, or null for a new one
  search = "";
  tag = "";
  loading = new Loading();
  panel = new Panel(this);
  // user: the sync user the address names (?user=alice), "" without sync.
  user = syncUser();
  indicator = new Indicator();
  // The sync settings, read while the module downloads: { sync } or { error }.
  #syncSetup = this.user
    ? syncOptions(this.user).then((sync) => ({ sync }), (error) => ({ error }))
    : Promise.resolve({});

  async start() {
    this.bind();
    installDevtools(this);
    registerServiceWorker();
    await this.openDatabase();
  }

  // openDatabase opens (and migrates) the database behind the loading
  // screen, then shows the notes.
  async openDatabase() {
    this.setReady(false);
    this.loading.show();
    try {
      this.loading.step("download", "Downloading SQLite (larder-fts5.wasm)");
      // open() starts at once: the worker starts, proves the storage and
      // wins the election while the module downloads and compiles (the one
      // fetch and compile the loading bar follows, docs/startup.md).
      const fetched = this.loading.prefetch(WASM_URL);
      const { sync, error: syncError } = await this.#syncSetup;
      const opening = openNotes({ sync });
      opening.catch(() => {}); // its failure is reported below, once
      await fetched;
      this.loading.step("open", "Starting the database worker, opening storage, applying migrations");
      const db = await opening;
      this.loading.done("open", `Opened on ${db.storage}, schema version ${db.version}`);
      this.db = db;
      this.indicator.attach(db, { user: this.user, error: syncError });
      if (sync && "syncStatus" in db) {
        // Not fatal: the notes stay local and the next open claims them.
        await notes.claimNotes(db, this.user).catch((err) => console.warn("larder demo: claiming local notes:", err));
      }
      db.addEventListener("change", () => this.refresh());
      db.addEventListener("versionchange", (e) => this.onVersionChange(e.detail));
      this.loading.step("notes", "Loading notes");
      await this.refresh();
      this.loading.done("notes");
      this.loading.hide();
      this.setReady(true);
      if (performance.getEntriesByName(FIRST_RENDER, "mark").length === 0) {
        performance.mark(FIRST_RENDER);
      }
      document.body.dataset.ready = "true";
      performance.mark("larder:demo-ready"); // the bench's demo figures end here
    } catch (err) {
      this.loading.fail(err);
      console.error(err);
    }
  }

  // reopen closes the handle and opens the database again, so that pending
  // migrations run (after an import of an older file, or a reset).
  async reopen() {
    const old = this.db;
    this.db = null;
    this.selected = null;
    document.body.dataset.ready = "false";
    this.indicator.attach(null);
    if (old) {
      await old.close().catch(() => {});
    }
    await this.openDatabase();
  }

  async resetDatabase() {
    const db = this.db;
    this.db = null;
    document.body.dataset.ready = "false";
    await db.reset();
    await db.close().catch(() => {}); // reset may have closed it already
    await this.reopen();
  }

  setReady(ready) {
    for (const id of ["search", "new-note"]) $(id).disabled = !ready;
    $("main").hidden = !ready;
  }

  bind() {
    $("new-note").addEventListener("click", () => this.edit(null));
    $("search").addEventListener("input", (e) => {
      this.search = e.target.value;
      this.refresh();
    });
    $("editor").addEventListener("submit", (e) => {
      e.preventDefault();
      this.save();
    });
    $("delete-note").addEventListener("click", () => this.remove());
    $("pin-note").addEventListener("click", () => this.togglePin());
    $("toggle-panel").addEventListener("click", () => this.panel.toggle());
  }

  // refresh re-reads the list, the tags and the panel. Runs of it overlap
  // when a person types fast; only the newest one renders.
  #generation = 0;
  async refresh() {
    const db = this.db;
    if (!db) return;
    const gen = ++this.#generation;
    try {
      const [list, tags] = await Promise.all([
        notes.listNotes(db, { search: this.search, tag: this.tag }),
        notes.listTags(db),
      ]);
      if (gen !== this.#generation) return;
      this.renderList(list);
      this.renderTags(tags);
      await this.panel.refresh();
    } catch (err) {
      if (gen === this.#generation) this.status(`Error: ${err.message}`);
    }
  }

  // The renders replace the DOM only when what they show changed: a
  // refresh runs after every write (from any tab), and replacing an
  // unchanged list under the pointer could swallow a click.
  #shown = { list: "", tags: "" };

  renderList(list) {
    const key = JSON.stringify([list, this.selected], (_, v) => (typeof v === "bigint" ? String(v) : v));
    if (key !== this.#shown.list) {
      this.#shown.list = key;
      $("notes").replaceChildren(...list.map((n) => this.noteItem(n)));
    }
    const what = this.search ? `matching “${this.search}”` : "";
    const inTag = this.tag ? `tagged ${this.tag}` : "";
    if (list.length === 0 && !what && !inTag) {
      this.status("No notes yet: “New note” creates one.");
      return;
    }
    this.status(`${list.length} note${list.length === 1 ? "" : "s"} ${what} ${inTag}`.trim());
  }

  noteItem(n) {
    const li = document.createElement("li");
    li.className = "note" + (n.id === this.selected ? " selected" : "") + (n.pinned ? " pinned" : "");
    li.dataset.id = n.id;
    li.tabIndex = 0;
    const title = document.createElement("strong");
    title.className = "note-title";
    title.textContent = (n.pinned ? "📌 " : "") + (n.title || "Untitled");
    const text = document.createElement("p");
    text.className = "note-snippet";
    if (n.snippet != null) {
      text.append(...marked(n.snippet));
    } else {
      text.textContent = n.body.slice(0, 140);
    }
    const meta = document.createElement("small");
    meta.className = "muted";
    meta.textContent = [n.tags, `edited ${when(n.updated_at)}`].filter(Boolean).join(" · ");
    li.append(title, text, meta);
    li.addEventListener("click", () => this.edit(n.id));
    li.addEventListener("keydown", (e) => e.key === "Enter" && this.edit(n.id));
    return li;
  }

  renderTags(tags) {
    const key = JSON.stringify([tags, this.tag], (_, v) => (typeof v === "bigint" ? String(v) : v));
    if (key === this.#shown.tags) return;
    this.#shown.tags = key;
    const items = [{ name: "", notes: null }, ...tags].map((t) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "tag" + (t.name === this.tag ? " active" : "");
      b.textContent = t.name ? `${t.name} (${t.notes})` : "All notes";
      b.dataset.tag = t.name;
      b.addEventListener("click", () => {
        this.tag = t.name;
        this.refresh();
      });
      li.append(b);
      return li;
    });
    $("tags").replaceChildren(...items);
  }

  // edit shows a note (null: a new one) in the editor. focus moves the
  // caret to its title: when a person opens a note, not after a save,
  // when they may already be typing elsewhere.
  async edit(id, { focus = true } = {}) {
    this.selected = id;
    const n = id == null ? null : await notes.getNote(this.db, id);
    $("editor").hidden = false;
    $("editor-empty").hidden = true;
    $("note-title").value = n?.title ?? "";
    $("note-tags").value = n?.tags ?? "";
    $("note-body").value = n?.body ?? "";
    $("delete-note").disabled = n == null;
    $("pin-note").disabled = n == null;
    $("pin-note").textContent = n?.pinned ? "Unpin" : "Pin";
    $("note-times").textContent = n
      ? `created ${when(n.created_at)}, edited ${when(n.updated_at)}`
      : "new note";
    for (const li of $("notes").children) {
      li.classList.toggle("selected", li.dataset.id === id);
    }
    $("editor-status").textContent = "";
    if (focus) $("note-title").focus();
  }

  async save() {
    const note = {
      id: this.selected,
      title: $("note-title").value.trim(),
      body: $("note-body").value,
      tags: $("note-tags").value,
      owner: this.user,
    };
    try {
      this.selected = await notes.saveNote(this.db, note);
      await this.refresh();
      await this.edit(this.selected, { focus: false });
      $("editor-status").textContent = "Saved";
    } catch (err) {
      $("editor-status").textContent = `Not saved: ${err.message}` + (err.code ? ` (${err.code})` : "");
    }
  }

  async remove() {
    if (this.selected == null) return;
    await notes.deleteNote(this.db, this.selected);
    this.selected = null;
    $("editor").hidden = true;
    $("editor-empty").hidden = false;
    await this.refresh();
  }

  async togglePin() {
    const n = await notes.getNote(this.db, this.selected);
    await notes.setPinned(this.db, n.id, !n.pinned);
    await this.refresh();
    await this.edit(n.id, { focus: false });
  }

  onVersionChange({ from, to, breaking }) {
    const b = $("banner");
    b.hidden = false;
    b.textContent = breaking
      ? `Another tab upgraded the database from version ${from} to ${to} with a breaking change: reload this tab.`
      : `Another tab upgraded the database from version ${from} to ${to}.`;
    if (breaking) {
      const reload = document.createElement("button");
      reload.textContent = "Reload";
      reload.addEventListener("click", () => location.reload());
      b.append(" ", reload);
    }
  }

  status(text) {
    $("list-status").textContent = text;
  }
}

// marked turns snippet text with MARK_OPEN/MARK_CLOSE into text nodes and
// <mark> elements, never HTML from the note itself.
function marked(s) {
  const out = [];
  const re = new RegExp(`${notes.MARK_OPEN}(.*?)${notes.MARK_CLOSE}`, "gs");
  let last = 0;
  for (const m of s.matchAll(re)) {
    out.push(document.createTextNode(s.slice(last, m.index)));
    const mark = document.createElement("mark");
    mark.textContent = m[1];
    out.push(mark);
    last = m.index + m[0].length;
  }
  out.push(document.createTextNode(s.slice(last)));
  return out;
}

function when(ms) {
  return new Date(Number(ms)).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

// registerServiceWorker makes the app work offline from the second load on
// (the worker caches the shell, the runtime and the wasm when it installs).
function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("sw.js").catch((err) => {
    console.warn("larder demo: service worker not registered:", err);
  });
}

const app = new App();
app.start();
