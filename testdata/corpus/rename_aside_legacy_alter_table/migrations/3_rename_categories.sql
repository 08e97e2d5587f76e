-- An ordinary rename: the children's foreign keys must follow it.
ALTER TABLE categories RENAME TO collections;
