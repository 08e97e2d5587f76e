// Package schema reads an SQLite database's schema from SQLite's own
// catalog (the sqlite_schema table, https://sqlite.org/schematab.html, and
// the pragma table-valued functions pragma_table_xinfo, pragma_index_list,
// pragma_index_info and pragma_foreign_key_list,
// https://sqlite.org/pragma.html#pragfunc), writes it out in a canonical
// order ([Schema.Dump], `larder schema dump`), compares two schemas
// ([Diff], `larder schema diff`) and builds the schema a set of migrations
// produces in an in-memory database ([Build]).
//
// Objects whose names start with "sqlite_" (sqlite_sequence, sqlite_stat1,
// automatic indexes) are SQLite's own and left out. The _migrations
// tracking table is part of the schema: every database migrated by Larder
// has it, and a database without it is not managed by Larder.
package schema

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/sqlite"
)

// A Schema is the tables and views of a database's main schema, in name
// order.
type Schema struct {
	Tables []*Table `json:"tables"`
	Views  []Object `json:"views"`
}

// A Table is one table with what belongs to it.
type Table struct {
	Name         string       `json:"name"`
	SQL          string       `json:"sql"`
	WithoutRowid bool         `json:"without_rowid,omitempty"`
	Strict       bool         `json:"strict,omitempty"`
	Columns      []Column     `json:"columns"`
	Indexes      []Index      `json:"indexes,omitempty"`  // by name; automatic ones included
	Triggers     []Object     `json:"triggers,omitempty"` // by name
	ForeignKeys  []ForeignKey `json:"foreign_keys,omitempty"`
}

// A Column is a row of pragma_table_xinfo.
type Column struct {
	Name    string  `json:"name"`
	Type    string  `json:"type"`
	NotNull bool    `json:"not_null,omitempty"`
	Default *string `json:"default,omitempty"` // the DEFAULT expression's text; nil when none
	PK      int     `json:"pk,omitempty"`      // 1-based position in the primary key; 0 when not part of it
	Hidden  int     `json:"hidden,omitempty"`  // 2: generated VIRTUAL, 3: generated STORED
}

// Generated reports whether the column is a generated column.
func (c Column) Generated() bool { return c.Hidden >= 2 }

// An Index is a row of pragma_index_list with its columns.
type Index struct {
	Name    string   `json:"name"`
	SQL     string   `json:"sql,omitempty"` // "" for indexes SQLite made for UNIQUE and PRIMARY KEY constraints
	Unique  bool     `json:"unique,omitempty"`
	Origin  string   `json:"origin"` // "c" CREATE INDEX, "u" UNIQUE constraint, "pk" PRIMARY KEY
	Partial bool     `json:"partial,omitempty"`
	Columns []string `json:"columns"` // "<expr>" for an expression
}

// A ForeignKey is one constraint of pragma_foreign_key_list.
type ForeignKey struct {
	Parent   string   `json:"parent"`
	From     []string `json:"from"`
	To       []string `json:"to"` // empty entries: the parent's primary key
	OnUpdate string   `json:"on_update"`
	OnDelete string   `json:"on_delete"`
}

// An Object is a view or a trigger.
type Object struct {
	Name  string `json:"name"`
	Table string `json:"table,omitempty"` // a trigger's table
	SQL   string `json:"sql"`
}

// Table returns the table named name (case-insensitively), or nil.
func (s *Schema) Table(name string) *Table {
	for _, t := range s.Tables {
		if strings.EqualFold(t.Name, name) {
			return t
		}
	}
	return nil
}

// Column returns the column named name (case-insensitively), or nil.
func (t *Table) Column(name string) *Column {
	for i := range t.Columns {
		if strings.EqualFold(t.Columns[i].Name, name) {
			return &t.Columns[i]
		}
	}
	return nil
}

// Read reads the main schema of conn.
func Read(ctx context.Context, conn *sqlite3.Conn) (*Schema, error) {
	old := conn.SetInterrupt(ctx)
	defer conn.SetInterrupt(old)
	s := &Schema{}
	type row struct{ typ, name, table, sql string }
	var objs []row
	err := query(conn, `SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema
		WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`, func(st *sqlite3.Stmt) {
		objs = append(objs, row{st.ColumnText(0), st.ColumnText(1), st.ColumnText(2), st.ColumnText(3)})
	})
	if err != nil {
		return nil, fmt.Errorf("schema: read sqlite_schema: %w", err)
	}
	for _, o := range objs {
		switch o.typ {
		case "table":
			t := &Table{Name: o.name, SQL: o.sql}
			if err := readTable(conn, t); err != nil {
				return nil, fmt.Errorf("schema: read table %s: %w", o.name, err)
			}
			s.Tables = append(s.Tables, t)
		case "view":
			s.Views = append(s.Views, Object{Name: o.name, SQL: o.sql})
		}
	}
	for _, o := range objs {
		if o.typ == "trigger" {
			if t := s.Table(o.table); t != nil {
				t.Triggers = append(t.Triggers, Object{Name: o.name, Table: o.table, SQL: o.sql})
			} else {
				// A trigger on a view (INSTEAD OF) belongs with the views.
				s.Views = append(s.Views, Object{Name: o.name, Table: o.table, SQL: o.sql})
			}
		}
	}
	return s, nil
}

func readTable(conn *sqlite3.Conn, t *Table) error {
	err := query(conn, `SELECT wr, strict FROM pragma_table_list WHERE schema = 'main' AND name = ?`, func(st *sqlite3.Stmt) {
		t.WithoutRowid, t.Strict = st.ColumnBool(0), st.ColumnBool(1)
	}, t.Name)
	if err != nil {
		return err
	}
	err = query(conn, `SELECT name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid`, func(st *sqlite3.Stmt) {
		c := Column{Name: st.ColumnText(0), Type: st.ColumnText(1), NotNull: st.ColumnBool(2),
			PK: st.ColumnInt(4), Hidden: st.ColumnInt(5)}
		if st.ColumnType(3) != sqlite3.NULL {
			d := st.ColumnText(3)
			c.Default = &d
		}
		t.Columns = append(t.Columns, c)
	}, t.Name)
	if err != nil {
		return err
	}
	err = query(conn, `SELECT il.name, il."unique", il.origin, il.partial, coalesce(m.sql, '')
		FROM pragma_index_list(?) AS il LEFT JOIN sqlite_schema AS m ON m.type = 'index' AND m.name = il.name
		ORDER BY il.name`, func(st *sqlite3.Stmt) {
		t.Indexes = append(t.Indexes, Index{Name: st.ColumnText(0), Unique: st.ColumnBool(1),
			Origin: st.ColumnText(2), Partial: st.ColumnBool(3), SQL: st.ColumnText(4)})
	}, t.Name)
	if err != nil {
		return err
	}
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		err = query(conn, `SELECT coalesce(name, '<expr>') FROM pragma_index_info(?) ORDER BY seqno`, func(st *sqlite3.Stmt) {
			ix.Columns = append(ix.Columns, st.ColumnText(0))
		}, ix.Name)
		if err != nil {
			return err
		}
	}
	// Foreign keys: rows of one constraint share an id, ordered by seq.
	byID := map[int]*ForeignKey{}
	var ids []int
	err = query(conn, `SELECT id, "table", "from", coalesce("to", ''), on_update, on_delete
		FROM pragma_foreign_key_list(?) ORDER BY id, seq`, func(st *sqlite3.Stmt) {
		id := st.ColumnInt(0)
		fk := byID[id]
		if fk == nil {
			fk = &ForeignKey{Parent: st.ColumnText(1), OnUpdate: st.ColumnText(4), OnDelete: st.ColumnText(5)}
			byID[id] = fk
			ids = append(ids, id)
		}
		fk.From = append(fk.From, st.ColumnText(2))
		fk.To = append(fk.To, st.ColumnText(3))
	}, t.Name)
	if err != nil {
		return err
	}
	for _, id := range ids {
		t.ForeignKeys = append(t.ForeignKeys, *byID[id])
	}
	slices.SortStableFunc(t.ForeignKeys, func(a, b ForeignKey) int {
		return strings.Compare(fkKey(a), fkKey(b))
	})
	return nil
}

func fkKey(f ForeignKey) string {
	return strings.ToLower(strings.Join(f.From, ",") + "->" + f.Parent + "(" + strings.Join(f.To, ",") + ")")
}

// Dump is the canonical text of the schema: every table in name order, each
// followed by its indexes and its triggers in name order, then the views
// (and INSTEAD OF triggers) in name order; one statement per object as
// SQLite stores it, ending in ";". Automatic indexes are part of their
// table's statement. The text replays into an empty database.
func (s *Schema) Dump() string {
	var b strings.Builder
	stmt := func(sql string) {
		b.WriteString(strings.TrimSpace(sql))
		b.WriteString(";\n")
	}
	for _, t := range s.Tables {
		stmt(t.SQL)
		for _, ix := range t.Indexes {
			if ix.SQL != "" {
				stmt(ix.SQL)
			}
		}
		for _, tr := range t.Triggers {
			stmt(tr.SQL)
		}
		b.WriteByte('\n')
	}
	for _, v := range s.Views {
		stmt(v.SQL)
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// Build returns the schema that migs produce up to and including version to
// (all of them when to is 0), applied to a new in-memory database.
func Build(ctx context.Context, migs []*migrations.Migration, to int64) (*Schema, error) {
	conn, err := sqlite.Open(":memory:")
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	p, err := migrations.NewProvider(sqlite.NewStore(conn), migs, migrations.Options{})
	if err != nil {
		return nil, err
	}
	if _, err := p.Up(ctx, to); err != nil {
		return nil, err
	}
	return Read(ctx, conn)
}

func query(conn *sqlite3.Conn, sql string, row func(*sqlite3.Stmt), args ...any) error {
	stmt, _, err := conn.Prepare(sql)
	if err != nil {
		return err
	}
	defer stmt.Close()
	if err := sqlite.Bind(stmt, args...); err != nil {
		return err
	}
	for stmt.Step() {
		row(stmt)
	}
	return stmt.Err()
}
