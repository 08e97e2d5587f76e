// The schema twice: as migrations Larder applies on open, and as Drizzle
// tables and Kysely types that describe the result.
import type { Migration } from "@larderdb/larder";
import { relations } from "drizzle-orm";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const migrations: Migration[] = [
  {
    version: 1,
    name: "author",
    up: `CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         INSERT INTO author (id, name) VALUES (7, 'Ada');`,
  },
  {
    version: 2,
    name: "note",
    up: `CREATE TABLE note (
           id INTEGER PRIMARY KEY,
           body TEXT NOT NULL,
           via TEXT NOT NULL,
           author_id INTEGER NOT NULL REFERENCES author (id)
         );`,
  },
];

export const author = sqliteTable("author", {
  id: integer("id").primaryKey(),
  name: text("name").notNull(),
});

export const note = sqliteTable("note", {
  id: integer("id").primaryKey(),
  body: text("body").notNull(),
  via: text("via").notNull(),
  authorId: integer("author_id")
    .notNull()
    .references(() => author.id),
});

export const authorRelations = relations(author, ({ many }) => ({ notes: many(note) }));
export const noteRelations = relations(note, ({ one }) => ({
  author: one(author, { fields: [note.authorId], references: [author.id] }),
}));

export const schema = { author, note, authorRelations, noteRelations };

/** The same tables for Kysely. */
export interface KyselyDB {
  author: { id: number; name: string };
  note: { id: number | null; body: string; via: string; author_id: number };
}
