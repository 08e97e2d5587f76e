package sqlutil

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ncruces/go-sqlite3"
)

// ErrDanglingForeignKey reports a foreign key whose parent table a
// migration renamed or dropped: every later write to the child fails with
// "no such table".
var ErrDanglingForeignKey = errors.New("foreign key references a table that no longer exists")

// A Reference is one foreign key of a table in the main schema.
type Reference struct {
	Child   string // the table that holds the foreign key
	Columns string // its columns, comma-separated
	Parent  string // the table it references
}

// DanglingReferences returns the foreign keys in the main schema whose
// parent table does not exist (https://sqlite.org/pragma.html#pragma_foreign_key_list).
func DanglingReferences(conn *sqlite3.Conn) ([]Reference, error) {
	stmt, _, err := conn.Prepare(`SELECT m.name, f.id, f."from", f."table"
FROM main.sqlite_schema AS m, pragma_foreign_key_list(m.name, 'main') AS f
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\' AND m.sql NOT LIKE 'CREATE VIRTUAL %'
  AND NOT EXISTS (SELECT 1 FROM main.sqlite_schema AS p WHERE p.type = 'table' AND p.name = f."table" COLLATE NOCASE)
ORDER BY m.name, f.id, f.seq`)
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	var refs []Reference
	lastChild, lastID := "", int64(-1)
	for stmt.Step() {
		child, id := stmt.ColumnText(0), stmt.ColumnInt64(1)
		if child == lastChild && id == lastID {
			refs[len(refs)-1].Columns += ", " + stmt.ColumnText(2)
			continue
		}
		lastChild, lastID = child, id
		refs = append(refs, Reference{Child: child, Columns: stmt.ColumnText(2), Parent: stmt.ColumnText(3)})
	}
	return refs, stmt.Err()
}

// TableNames returns the names of the tables in the main schema, lower
// case, each mapped to its CREATE statement.
func TableNames(conn *sqlite3.Conn) (map[string]string, error) {
	stmt, _, err := conn.Prepare(`SELECT name, sql FROM main.sqlite_schema WHERE type = 'table'`)
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	out := map[string]string{}
	for stmt.Step() {
		out[strings.ToLower(stmt.ColumnText(0))] = stmt.ColumnText(1)
	}
	return out, stmt.Err()
}

// A ForeignKeyBaseline is what CheckNewDangling compares against: the
// tables and the dangling references before a migration ran.
type ForeignKeyBaseline struct {
	tables   map[string]string
	dangling map[Reference]bool
}

// SnapshotForeignKeys records the baseline for CheckNewDangling.
func SnapshotForeignKeys(conn *sqlite3.Conn) (*ForeignKeyBaseline, error) {
	tables, err := TableNames(conn)
	if err != nil {
		return nil, err
	}
	refs, err := DanglingReferences(conn)
	if err != nil {
		return nil, err
	}
	b := &ForeignKeyBaseline{tables: tables, dangling: map[Reference]bool{}}
	for _, r := range refs {
		b.dangling[r] = true
	}
	return b, nil
}

// CheckNewDangling returns an error wrapping ErrDanglingForeignKey that
// names each foreign key left pointing at a missing table since b was
// taken: the child, its columns and the missing parent. A reference that
// dangled before is not reported, nor one from a table created since b
// to a table that did not exist at b either (a forward reference to a
// table a later migration creates).
func (b *ForeignKeyBaseline) CheckNewDangling(conn *sqlite3.Conn) error {
	refs, err := DanglingReferences(conn)
	if err != nil {
		return err
	}
	var bad []string
	for _, r := range refs {
		if b.dangling[r] {
			continue
		}
		_, childBefore := b.tables[strings.ToLower(r.Child)]
		_, parentBefore := b.tables[strings.ToLower(r.Parent)]
		if !childBefore && !parentBefore {
			continue
		}
		how := "dropped"
		if !parentBefore {
			how = "created, pointed to (ALTER TABLE … RENAME TO moves child foreign keys to the new name) and dropped"
		}
		bad = append(bad, fmt.Sprintf("%s(%s) references %s, which this migration %s", r.Child, r.Columns, r.Parent, how))
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s; rebuild the table with -- migrate:rebuild (or create the new table under another name, copy the rows, drop the old table, then rename the new one to the old name)",
		ErrDanglingForeignKey, strings.Join(bad, "; "))
}
