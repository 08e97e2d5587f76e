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
    from = "notes_fts JOIN notes ON notes.id = notes_fts.rowid";
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

// saveNote inserts (no id) or updates a note and its tags in one
// transaction, and returns its id.
export async function saveNote(db, { id = null, title, body, tags }) {
  const names = parseTags(tags ?? "");
  const now = Date.now();
  return db.transaction(async (tx) => {
    if (id == null) {
      const r = await tx.exec(
        "INSERT INTO notes (title, body, created_at, updated_at) VALUES (:title, :body, :now, :now)",
        { title, body, now });
      id = Number(r.lastInsertRowid);
    } else {
      const r = await tx.exec(
        "UPDATE notes SET title = :title, body = :body, updated_at = :now WHERE id = :id",
        { id, title, body, now });
      if (r.changes === 0) {
        throw new Error(`note ${id} no longer exists`);
      }
    }
    await tx.exec("DELETE FROM note_tags WHERE note_id = :id", { id });
    for (const name of names) {
      await tx.exec("INSERT INTO tags (name) VALUES (:name) ON CONFLICT (name) DO NOTHING", { name });
      await tx.exec(`INSERT INTO note_tags (note_id, tag_id)
        SELECT :id, id FROM tags WHERE name = :name`, { id, name });
    }
    await tx.exec("DELETE FROM tags WHERE id NOT IN (SELECT tag_id FROM note_tags)");
    return id;
  });
}

export async function setPinned(db, id, pinned) {
  await db.exec("UPDATE notes SET pinned = :pinned WHERE id = :id", { id, pinned: pinned ? 1 : 0 });
}

export async function deleteNote(db, id) {
  await db.transaction(async (tx) => {
    await tx.exec("DELETE FROM notes WHERE id = :id", { id });
    await tx.exec("DELETE FROM tags WHERE id NOT IN (SELECT tag_id FROM note_tags)");
  });
}

// databaseSize is the size of the SQLite file in bytes.
export async function databaseSize(db) {
  const [row] = await db.query(
    "SELECT page_count * page_size AS size FROM pragma_page_count(), pragma_page_size()");
  return Number(row.size);
}
