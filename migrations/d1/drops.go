package d1

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/larderdb/larder/migrations"
)

// ErrDropFiresForeignKeys is returned, before anything runs, for a
// migration whose DROP TABLE would change or refuse existing child rows
// through their foreign key's ON DELETE action. Elsewhere the engine runs
// SQL migrations with foreign keys off, as SQLite's table rebuild needs;
// D1 cannot switch them off, and PRAGMA defer_foreign_keys defers the
// checks but not the ON DELETE actions (CASCADE, SET NULL, SET DEFAULT)
// nor RESTRICT.
var ErrDropFiresForeignKeys = errors.New("DROP TABLE would fire ON DELETE actions on existing child rows (D1 enforces foreign keys during migrations and cannot switch them off)")

// ErrNoTransaction is returned for a migration part marked to run without
// a transaction (dbmate's transaction:false, goose's NO TRANSACTION): D1
// applies every migration as one batch, which is a transaction.
var ErrNoTransaction = errors.New("migration asks to run without a transaction, which D1 cannot do (every migration is one batch(), a transaction); the statements such parts exist for (VACUUM, PRAGMA journal_mode) are refused by D1 anyway")

const ident = "(\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`|\\[[^\\]]*\\]|[A-Za-z_\\x80-\\x{10FFFF}][\\w$\\x80-\\x{10FFFF}]*)"

var dropTableRE = regexp.MustCompile(`(?is)^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:` + ident + `\s*\.\s*)?` + ident)

// droppedTable returns the table a DROP TABLE statement drops.
func droppedTable(sql string) (string, bool) {
	m := dropTableRE.FindStringSubmatch(strings.TrimSpace(sql))
	if m == nil {
		return "", false
	}
	return unquote(m[2]), true
}

func unquote(s string) string {
	switch {
	case len(s) >= 2 && s[0] == '"':
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	case len(s) >= 2 && s[0] == '`':
		return strings.ReplaceAll(s[1:len(s)-1], "``", "`")
	case len(s) >= 2 && s[0] == '[':
		return s[1 : len(s)-1]
	}
	return s
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// childrenSQL lists the foreign keys that reference table ?1 with an
// ON DELETE action that changes or refuses child rows. D1's own tables
// (_cf_KV) are skipped: reading their foreign keys is not authorized
// (SQLITE_AUTH), which failed every migration that drops a table.
const childrenSQL = `SELECT m.name AS child, f.id AS id, f."from" AS col, upper(f.on_delete) AS action
FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS f
WHERE m.type = 'table' AND m.name NOT LIKE '\_cf\_%' ESCAPE '\' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND f."table" = ?1 COLLATE NOCASE
  AND upper(f.on_delete) IN ('CASCADE', 'SET NULL', 'SET DEFAULT', 'RESTRICT')
ORDER BY m.name, f.id, f.seq`

// checkDrops refuses, before the batch runs, a DROP TABLE among stmts of a
// parent whose existing child rows its ON DELETE action would touch,
// naming the child table. A child dropped by an earlier statement of the
// same part, and a table referencing itself, do not count. It costs two
// extra round trips, only for parts that drop tables.
func (s *Store) checkDrops(ctx context.Context, stmts []migrations.Statement) (migrations.Statement, error) {
	type drop struct {
		table string
		st    migrations.Statement
		prior map[string]bool // tables dropped before it
	}
	var drops []drop
	gone := map[string]bool{}
	for _, st := range stmts {
		if t, ok := droppedTable(st.SQL); ok {
			prior := make(map[string]bool, len(gone))
			for k := range gone {
				prior[k] = true
			}
			drops = append(drops, drop{table: t, st: st, prior: prior})
			gone[strings.ToLower(t)] = true
		}
	}
	if len(drops) == 0 {
		return migrations.Statement{}, nil
	}
	q := make([]Statement, len(drops))
	for i, d := range drops {
		q[i] = Statement{SQL: childrenSQL, Args: []any{d.table}}
	}
	res, err := s.batch(ctx, q)
	if err != nil {
		return migrations.Statement{}, fmt.Errorf("read foreign keys: %w", err)
	}
	type fk struct {
		drop         int
		child        string
		cols, action string
		where        []string
	}
	var fks []*fk
	for i, rows := range res {
		var last *fk
		lastID := int64(-1)
		for _, r := range rows {
			child, _ := asString(r["child"])
			id, _ := asInt64(r["id"])
			col, _ := asString(r["col"])
			action, _ := asString(r["action"])
			if strings.EqualFold(child, drops[i].table) || drops[i].prior[strings.ToLower(child)] {
				continue
			}
			if last == nil || last.child != child || id != lastID {
				last = &fk{drop: i, child: child, action: action}
				fks = append(fks, last)
				lastID = id
			} else {
				last.cols += ", "
			}
			last.cols += col
			last.where = append(last.where, quote(col)+" IS NOT NULL")
		}
	}
	if len(fks) == 0 {
		return migrations.Statement{}, nil
	}
	counts := make([]Statement, len(fks))
	for i, f := range fks {
		counts[i] = Statement{SQL: "SELECT count(*) AS n FROM " + quote(f.child) + " WHERE " + strings.Join(f.where, " AND ")}
	}
	if res, err = s.batch(ctx, counts); err != nil {
		return migrations.Statement{}, fmt.Errorf("count child rows: %w", err)
	}
	var bad []string
	first := -1
	for i, f := range fks {
		n, _ := asInt64(res[i][0]["n"])
		if n == 0 {
			continue
		}
		if first < 0 || f.drop < first {
			first = f.drop
		}
		bad = append(bad, fmt.Sprintf("DROP TABLE %s: %d rows of %s(%s) ON DELETE %s", drops[f.drop].table, n, f.child, f.cols, f.action))
	}
	if len(bad) == 0 {
		return migrations.Statement{}, nil
	}
	return drops[first].st, fmt.Errorf("%w: %s; nothing was run. On D1, copy the child rows aside and back around the rebuild, or rebuild the child tables in the same migration (drop them first)",
		ErrDropFiresForeignKeys, strings.Join(bad, "; "))
}
