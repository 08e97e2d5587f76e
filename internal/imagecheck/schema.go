package imagecheck

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	msqlite "github.com/larderdb/larder/migrations/sqlite"
	"github.com/larderdb/larder/seed"
)

// An object is one row of sqlite_schema.
type object struct {
	Type, Name, Table, SQL string
	HasSQL                 bool
}

func (o object) String() string {
	if o.Type == "table" || o.Type == "view" || strings.EqualFold(o.Name, o.Table) {
		return o.Type + " " + o.Name
	}
	return o.Type + " " + o.Name + " on " + o.Table
}

// readSchema reads sqlite_schema, keyed by lower-case name.
func readSchema(conn *sqlite3.Conn) (map[string]object, error) {
	stmt, _, err := conn.Prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema")
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	objs := map[string]object{}
	for stmt.Step() {
		o := object{Type: stmt.ColumnText(0), Name: stmt.ColumnText(1), Table: stmt.ColumnText(2),
			SQL: stmt.ColumnText(3), HasSQL: stmt.ColumnType(3) != sqlite3.NULL}
		key := strings.ToLower(o.Name)
		if prev, dup := objs[key]; dup {
			return nil, fmt.Errorf("two schema objects named %s (%s and %s)", o.Name, prev.Type, o.Type)
		}
		objs[key] = o
	}
	return objs, stmt.Err()
}

// internal are SQLite's own tables, with the SQL SQLite gives them.
var internal = map[string]string{
	"sqlite_sequence": "CREATE TABLE sqlite_sequence(name,seq)",
	"sqlite_stat1":    "CREATE TABLE sqlite_stat1(tbl,idx,stat)",
	"sqlite_stat4":    "CREATE TABLE sqlite_stat4(tbl,idx,neq,nlt,ndlt,sample)",
}

// sqliteNames refuses objects named sqlite_* that SQLite did not make
// (only writable_schema puts them there).
func sqliteNames(objs map[string]object) error {
	for _, key := range sortedKeys(objs) {
		o := objs[key]
		if !strings.HasPrefix(key, "sqlite_") {
			continue
		}
		if want, ok := internal[key]; ok && o.Type == "table" && o.SQL == want {
			continue
		}
		if strings.HasPrefix(key, "sqlite_autoindex_") && o.Type == "index" && !o.HasSQL {
			continue
		}
		return refuse("schema: %s is not one of SQLite's own objects (reserved sqlite_ name, written through writable_schema)", o)
	}
	for _, key := range sortedKeys(objs) {
		if o := objs[key]; o.Type == "index" && !o.HasSQL && !strings.HasPrefix(key, "sqlite_autoindex_") {
			return refuse("schema: %s has no SQL (only SQLite's automatic indexes may)", o)
		}
	}
	return nil
}

// trackingColumns are the columns of migrations.TrackingTableSQL as
// PRAGMA table_info reports them: name, type, not null, primary key.
var trackingColumns = []string{
	"version INTEGER pk", "name TEXT notnull", "checksum TEXT notnull",
	"applied_at TEXT notnull", "duration_ms INTEGER notnull", "breaking INTEGER notnull",
}

// checkMigrations checks that _migrations is a table of the right shape
// whose rows match known, and returns the rows.
func checkMigrations(ctx context.Context, conn *sqlite3.Conn, objs map[string]object, known []*migrations.Migration) ([]migrations.Record, error) {
	o, ok := objs["_migrations"]
	switch {
	case !ok:
		return nil, refuse("no _migrations table (not a Larder database)")
	case o.Type != "table":
		return nil, refuse("_migrations is a %s, not a table", o.Type)
	}
	cols, err := tableColumns(conn, o.Name)
	if err != nil {
		return nil, &Error{Reason: "_migrations: " + err.Error(), Err: err}
	}
	if !slices.Equal(cols, trackingColumns) {
		return nil, refuse("_migrations has columns (%s), want (%s)", strings.Join(cols, ", "), strings.Join(trackingColumns, ", "))
	}
	recs, err := msqlite.NewStore(conn).Applied(ctx)
	if err != nil {
		return nil, &Error{Reason: "_migrations is not readable: " + err.Error(), Err: err}
	}
	if len(known) == 0 {
		return recs, nil
	}
	byVersion := map[int64]*migrations.Migration{}
	newest := int64(0)
	for _, m := range known {
		byVersion[m.Version] = m
		newest = max(newest, m.Version)
	}
	for _, r := range recs {
		m := byVersion[r.Version]
		switch {
		case m == nil && r.Version > newest && r.Breaking:
			return nil, &Error{Outdated: true, Reason: fmt.Sprintf(
				"written by newer code: its migration %04d_%s is breaking and this code knows migrations up to %d only; load the new version of the app, then import", r.Version, r.Name, newest)}
		case m == nil && r.Version > newest:
			// Checked with the schema: this code cannot know what it built.
		case m == nil:
			return nil, refuse("_migrations row %04d_%s is a migration this code does not have", r.Version, r.Name)
		case r.Name != m.Name || r.Checksum != m.Checksum:
			return nil, refuse("_migrations row %04d_%s (checksum %s) does not match this code's migration %04d_%s (checksum %s)",
				r.Version, r.Name, short(r.Checksum), m.Version, m.Name, short(m.Checksum))
		}
	}
	return recs, nil
}

func short(sum string) string {
	if sum == "" {
		return "''"
	}
	return sum[:min(len(sum), 12)]
}

func tableColumns(conn *sqlite3.Conn, table string) ([]string, error) {
	stmt, _, err := conn.Prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?)")
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	stmt.BindText(1, table)
	var cols []string
	for stmt.Step() {
		c := stmt.ColumnText(0) + " " + stmt.ColumnText(1)
		if stmt.ColumnInt(2) != 0 {
			c += " notnull"
		}
		if stmt.ColumnInt(3) != 0 {
			c += " pk"
		}
		cols = append(cols, c)
	}
	return cols, stmt.Err()
}

// compareSchema refuses a schema other than the one the known migrations
// applied in the file (recs) build.
func compareSchema(ctx context.Context, objs map[string]object, recs []migrations.Record, known []*migrations.Migration) error {
	if len(known) == 0 {
		return refuse("its schema cannot be checked: no migrations are known here (open the database with its migrations, or allow extra schema to accept the file as it is)")
	}
	byVersion := map[int64]*migrations.Migration{}
	for _, m := range known {
		byVersion[m.Version] = m
	}
	var subset []*migrations.Migration
	for _, r := range recs {
		m := byVersion[r.Version]
		if m == nil {
			return refuse("written by newer code: its migration %04d_%s is unknown here, so its schema cannot be checked; load the new version of the app, or allow extra schema", r.Version, r.Name)
		}
		subset = append(subset, m)
	}
	want, err := expected(ctx, subset, objs["_seeds"].Name != "")
	if err != nil {
		return err
	}
	for _, key := range sortedKeys(objs) {
		got := objs[key]
		w, ok := want[key]
		if _, isInternal := internal[key]; isInternal && !ok {
			continue // SQLite's statistics tables: ANALYZE makes them
		}
		switch {
		case !ok:
			return refuse("schema: %s is not made by the migrations (extra schema objects are refused unless allowed)", got)
		case got.Type != w.Type:
			return refuse("schema: %s is a %s where the migrations make a %s", got.Name, got.Type, w.Type)
		case !strings.EqualFold(got.Table, w.Table) || normSQL(got.SQL) != normSQL(w.SQL):
			return refuse("schema: %s differs from what the migrations make", got)
		}
	}
	for _, key := range sortedKeys(want) {
		if _, ok := objs[key]; !ok {
			return refuse("schema: %s is missing (the migrations make it)", want[key])
		}
	}
	return nil
}

// expected applies migs to a scratch in-memory database and reads its
// schema.
func expected(ctx context.Context, migs []*migrations.Migration, seeds bool) (map[string]object, error) {
	conn, err := msqlite.Open(":memory:")
	if err != nil {
		return nil, fmt.Errorf("scratch database: %w", err)
	}
	defer conn.Close()
	if err := msqlite.NewStore(conn).Init(ctx); err != nil {
		return nil, fmt.Errorf("scratch database: %w", err)
	}
	if len(migs) > 0 {
		if _, err := msqlite.Migrate(ctx, conn, migs, migrations.Options{AllowOutOfOrder: true}); err != nil {
			return nil, fmt.Errorf("scratch database: applying the known migrations: %w", err)
		}
	}
	if seeds {
		if err := conn.Exec(seed.TrackingTableSQL); err != nil {
			return nil, fmt.Errorf("scratch database: %w", err)
		}
	}
	return readSchema(conn)
}

// normSQL collapses runs of white space, which ALTER TABLE may rewrite.
func normSQL(s string) string { return strings.Join(strings.Fields(s), " ") }

func sortedKeys(m map[string]object) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
