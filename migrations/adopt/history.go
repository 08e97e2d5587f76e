package adopt

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations/internal/sqlutil"
	"github.com/larderdb/larder/migrations/sqlite"
)

// An entry is one version the other tool records as applied.
type entry struct {
	version   int64
	appliedAt time.Time     // zero when the tool keeps no time
	duration  time.Duration // sqlx only
	checksum  []byte        // sqlx only: SHA-384 of the file it ran
}

// history is what a tool's table says: the applied versions in version
// order, or (golang-migrate) one version that stands for every file up to
// it.
type history struct {
	entries []entry
	// upTo is golang-migrate's single version: every file numbered up to
	// and including it is applied. -1 when the tool records versions one by
	// one.
	upTo int64
}

// readHistory reads tool's table on conn.
func readHistory(conn *sqlite3.Conn, tool Tool, table string) (history, error) {
	h := history{upTo: -1}
	ok, err := sqlite.HasTable(conn, table)
	if err != nil {
		return h, err
	}
	if !ok {
		return h, &Error{Err: ErrNoHistory, Problems: []string{noHistory(conn, tool, table)}}
	}
	cols, err := columns(conn, table)
	if err != nil {
		return h, err
	}
	if err := checkShape(tool, table, cols); err != nil {
		return h, err
	}
	q := sqlutil.Quote(table)
	switch tool {
	case Goose:
		// Every up appends a row; a down deletes it (goose 3) or appends
		// one with is_applied = 0 (older goose). The newest row of a
		// version (highest id) says whether it is applied now.
		err = query(conn, `SELECT version_id, is_applied, CAST(tstamp AS TEXT) FROM `+q+` AS g
			WHERE id = (SELECT max(id) FROM `+q+` WHERE version_id = g.version_id) AND version_id > 0
			ORDER BY version_id`, func(st *sqlite3.Stmt) error {
			if st.ColumnInt64(1) == 0 {
				return nil
			}
			e := entry{version: st.ColumnInt64(0)}
			e.appliedAt = parseTime(st.ColumnText(2))
			h.entries = append(h.entries, e)
			return nil
		})
	case GolangMigrate:
		var rows int
		err = query(conn, `SELECT version, dirty FROM `+q, func(st *sqlite3.Stmt) error {
			rows++
			if st.ColumnBool(1) {
				return &Error{Err: ErrDirty, Problems: []string{fmt.Sprintf(
					"%s says version %d is dirty: golang-migrate failed in the middle of it and the schema may be half-changed; "+
						"check the schema by hand, then run golang-migrate's `force VERSION` with the version that is really complete, and adopt again",
					table, st.ColumnInt64(0))}}
			}
			h.upTo = st.ColumnInt64(0)
			return nil
		})
		if err == nil && rows > 1 {
			return h, fmt.Errorf("%s has %d rows; golang-migrate keeps exactly one", table, rows)
		}
	case Dbmate:
		err = query(conn, `SELECT CAST(version AS TEXT) FROM `+q+` ORDER BY CAST(version AS INTEGER)`, func(st *sqlite3.Stmt) error {
			text := st.ColumnText(0)
			v, perr := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
			if perr != nil || v <= 0 {
				return fmt.Errorf("%s has version %q, which is not a positive integer", table, text)
			}
			h.entries = append(h.entries, entry{version: v})
			return nil
		})
	case Sqlx:
		var failed []string
		err = query(conn, `SELECT version, success, CAST(installed_on AS TEXT), execution_time, checksum, description FROM `+q+
			` ORDER BY version`, func(st *sqlite3.Stmt) error {
			if !st.ColumnBool(1) {
				failed = append(failed, fmt.Sprintf("%d (%s)", st.ColumnInt64(0), st.ColumnText(5)))
				return nil
			}
			h.entries = append(h.entries, entry{version: st.ColumnInt64(0), appliedAt: parseTime(st.ColumnText(2)),
				duration: time.Duration(st.ColumnInt64(3)), checksum: st.ColumnBlob(4, nil)})
			return nil
		})
		if err == nil && len(failed) > 0 {
			return h, &Error{Err: ErrDirty, Problems: []string{fmt.Sprintf(
				"%s records %s with success = false: sqlx failed in the middle and the schema may be half-changed; "+
					"check the schema by hand, then fix or delete that row with sqlx (`sqlx migrate revert` or by hand) and adopt again",
				table, strings.Join(failed, ", "))}}
		}
	default:
		return h, fmt.Errorf("unknown tool %q", tool)
	}
	return h, err
}

// need is the columns each tool's table has, as its SQLite driver creates it.
var need = map[Tool][]string{
	Goose:         {"id", "version_id", "is_applied", "tstamp"},
	GolangMigrate: {"version", "dirty"},
	Dbmate:        {"version"},
	Sqlx:          {"version", "description", "installed_on", "success", "checksum", "execution_time"},
}

// checkShape refuses a table that is not the tool's, naming the tool it
// looks like when it can (dbmate and golang-migrate share a table name).
func checkShape(tool Tool, table string, cols []string) error {
	var missing []string
	for _, c := range need[tool] {
		if !slices.Contains(cols, c) {
			missing = append(missing, c)
		}
	}
	hint := ""
	switch {
	case tool == Dbmate && slices.Contains(cols, "dirty"):
		return &Error{Err: ErrWrongTool, Problems: []string{fmt.Sprintf(
			"%s has a dirty column: golang-migrate wrote it, not dbmate; adopt with --from golang-migrate", table)}}
	case tool == GolangMigrate && !slices.Contains(cols, "dirty") && slices.Contains(cols, "version"):
		hint = "; a schema_migrations table with only a version column is dbmate's: adopt with --from dbmate"
	}
	if len(missing) > 0 {
		return &Error{Err: ErrWrongTool, Problems: []string{fmt.Sprintf(
			"%s lacks column(s) %s that %s's table has (it has %s)%s",
			table, strings.Join(missing, ", "), tool, strings.Join(cols, ", "), hint)}}
	}
	return nil
}

// noHistory explains a missing history table, naming the tables of other
// tools the database does have.
func noHistory(conn *sqlite3.Conn, tool Tool, table string) string {
	msg := fmt.Sprintf("the database has no %s table, so %s never migrated it", table, tool)
	var found []string
	for _, t := range []Tool{Goose, GolangMigrate, Sqlx} {
		if ok, _ := sqlite.HasTable(conn, DefaultTable(t)); ok && t != tool {
			found = append(found, DefaultTable(t))
		}
	}
	if len(found) > 0 {
		msg += fmt.Sprintf(" (it has %s: another --from?)", strings.Join(found, ", "))
	}
	return msg + "; a database no tool migrated needs `larder migrate stamp N` instead"
}

func columns(conn *sqlite3.Conn, table string) ([]string, error) {
	var cols []string
	err := query(conn, `SELECT name FROM pragma_table_info(?)`, func(st *sqlite3.Stmt) error {
		cols = append(cols, strings.ToLower(st.ColumnText(0)))
		return nil
	}, table)
	return cols, err
}

// timeLayouts are the ways the tools' SQLite drivers store a time:
// datetime('now') and CURRENT_TIMESTAMP defaults, and Go's and Rust's
// encodings of a time value.
var timeLayouts = []string{
	"2006-01-02 15:04:05",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999 -0700 MST",
}

// parseTime reads a tool's timestamp as UTC (times without a zone are
// UTC, as SQLite's datetime() writes them); the zero time when it cannot.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func query(conn *sqlite3.Conn, sql string, row func(*sqlite3.Stmt) error, args ...any) error {
	stmt, _, err := conn.Prepare(sql)
	if err != nil {
		return err
	}
	defer stmt.Close()
	if err := sqlite.Bind(stmt, args...); err != nil {
		return err
	}
	for stmt.Step() {
		if err := row(stmt); err != nil {
			return err
		}
	}
	return stmt.Err()
}
