// The notes data layer: every SQL statement of the demo, on a Larder handle
// (the public JS API of dist/larder.js). The schema is web/migrations/.

// Marks that snippet() puts around matches; they cannot occur in typed text,
// so the UI can escape the text and then turn them into <mark> elements.
export const MARK_OPEN = "\u0002";
export const MARK_CLOSE = "\u0003";

const NOTE_COLUMNS = `
  notes.id, notes.title, notes.body, notes.pinned, notes.created_at, notes.updated_at,
  coalesce((SELECT group_concat(name, ', ') FROM (
    SELECT tags.name FROM note_tags JOIN tags ON tags.id = note_tags.tag_id
    WHERE note_tags.note_id = notes.id ORDER BY tags.name)), '') AS tags`;

// ftsQuery turns what a person types into an FTS5 query: every word must
// match as a prefix ("lard sql" finds "Larder" and "SQLite"); quotes keep
// FTS5 syntax characters literal.
export function ftsQuery(text) {
  const words = text.split(/\s+/).map((w) => w.replace(/"/g, "")).filter(Boolean);
  return words.map((w) => `"${w}"*`).join(" ");
}

// parseTags splits "work, Ideas ,work" into ["work", "Ideas"].
export function parseTags(text) {
  const seen = new Set();
  const out = [];
  for (const raw of text.split(",")) {
    const t = raw.trim();
    if (t && !seen.has(t.toLowerCase())) {
      seen.add(t.toLowerCase());
      out.push(t);
    }
  }
  return out;
}

// newId makes a note id on the device: a UUIDv7 (RFC 9562), 48 bits of
// milliseconds then random bits, so ids sort by creation time and two
// devices never make the same one (notes sync, web/migrations/sync.toml).
export function newId(now = Date.now()) {
  const b = crypto.getRandomValues(new Uint8Array(16));
  for (let i = 5, t = now; i >= 0; i--, t = Math.floor(t / 256)) b[i] = t % 256;
  b[6] = (b[6] & 0x0f) | 0x70; // version 7
  b[8] = (b[8] & 0x3f) | 0x80; // variant 10
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// listNotes returns the notes matching search (full text) and tag, pinned
// first, then most recently updated, or best match first when searching.
export async function listNotes(db, { search = "", tag = "" } = {}) {
  const where = [];
  const params = {};
  let from = "notes";
  let order = "notes.pinned DESC, notes.updated_at DESC, notes.id DESC";
  let snippet = "NULL";
  const q = ftsQuery(search);
  if (q) {
    from = "notes_fts JOIN notes ON notes.id = notes_fts.id";
    where.push("notes_fts MATCH :q");
    params.q = q;
    order = "notes_fts.rank, notes.updated_at DESC";
    snippet = `snippet(notes_fts, -1, '${MARK_OPEN}', '${MARK_CLOSE}', '…', 12)`;
  }
  if (tag) {
    where.push(`EXISTS (SELECT 1 FROM note_tags JOIN tags ON tags.id = note_tags.tag_id
                WHERE note_tags.note_id = notes.id AND tags.name = :tag)`);
    params.tag = tag;
  }
  const sql = `SELECT ${NOTE_COLUMNS}, ${snippet} AS snippet FROM ${from}
    ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY ${order}`;
  return db.query(sql, params);
}

export async function getNote(db, id) {
  const rows = await db.query(`SELECT ${NOTE_COLUMNS} FROM notes WHERE notes.id = :id`, { id });
  return rows[0] ?? null;
}

// listTags returns every tag with its number of notes.
export async function listTags(db) {
  return db.query(`SELECT tags.name, count(*) AS notes FROM tags
    JOIN note_tags ON note_tags.tag_id = tags.id GROUP BY tags.id ORDER BY tags.name COLLATE NOCASE`);
}

// saveNote inserts (no id) or updates a note, and returns its id. Its tags
// are stored as a JSON array in notes.tags; triggers keep the tags and
// note_tags tables and the search index (web/migrations/0006_text_ids.sql).
// owner is the user a new note belongs to when the demo syncs ('' if not).
export async function saveNote(db, { id = null, title, body, tags, owner = "" }) {
  const names = JSON.stringify(parseTags(tags ?? ""));
  const now = Date.now();
  if (id == null) {
    id = newId(now);
    await db.exec(`INSERT INTO notes (id, owner_id, title, body, tags, created_at, updated_at)
      VALUES (:id, :owner, :title, :body, :names, :now, :now)`, { id, owner, title, body, names, now });
    return id;
  }
  const r = await db.exec(
    "UPDATE notes SET title = :title, body = :body, tags = :names, updated_at = :now WHERE id = :id",
    { id, title, body, names, now });
  if (r.changes === 0) {
    throw new Error(`note ${id} no longer exists`);
  }
  return id;
}

// claimNotes gives the notes that belong to no one (written before this
// profile synced, or before migration 0006) to owner, so that they sync.
// Each is written anew under owner with a new id and the ownerless row
// deleted: sync may already have queued that row with no owner, which the
// edge refuses (LARDER_FORBIDDEN), and a new id keeps the copy clear of it.
export async function claimNotes(db, owner) {
  const [{ n }] = await db.query("SELECT count(*) AS n FROM notes WHERE owner_id = ''");
  if (Number(n) === 0) return 0; // the usual case: no transaction
  return db.transaction(async (tx) => {
    const rows = await tx.query("SELECT id, created_at FROM notes WHERE owner_id = ''");
    for (const { id, created_at } of rows) {
      await tx.exec(`INSERT INTO notes (id, owner_id, title, body, tags, pinned, created_at, updated_at)
        SELECT :fresh, :owner, title, body, tags, pinned, created_at, updated_at FROM notes WHERE id = :id`,
        { id, owner, fresh: newId(Number(created_at)) });
      await tx.exec("DELETE FROM notes WHERE id = :id", { id });
    }
    return rows.length;
  });
}

export async function setPinned(db, id, pinned) {
  await db.exec("UPDATE notes SET pinned = :pinned WHERE id = :id", { id, pinned: pinned ? 1 : 0 });
}

export async function deleteNote(db, id) {
  await db.exec("DELETE FROM notes WHERE id = :id", { id });
}

// databaseSize is the size of the SQLite file in bytes.
export async function databaseSize(db) {
  const [row] = await db.query(
    "SELECT page_count * page_size AS size FROM pragma_page_count(), pragma_page_size()");
  return Number(row.size);
}
