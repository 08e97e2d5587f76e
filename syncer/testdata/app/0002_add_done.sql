-- A non-breaking migration: a device that has it syncs with a server that
-- does not yet (items.done is kept in _sync_extra until then).
-- migrate:up
ALTER TABLE items ADD COLUMN done INTEGER NOT NULL DEFAULT 0;
