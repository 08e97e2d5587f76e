package lint

// Severity of a finding: an error fails `larder migrate lint` (exit 1), a
// warning is reported only.
type Severity string

const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// A Rule is one lint check. Codes are stable: they do not change meaning
// between releases, and retired codes are not reused.
type Rule struct {
	Code     string   `json:"code"`
	Name     string   `json:"name"`
	Severity Severity `json:"severity"`
	// Incompatible rules find changes that break code written for the
	// schema before the migration (an old tab, the previous deploy): a
	// migration with one of them must be marked "-- migrate:breaking"
	// (L010). Their own severity is warning, so that a correctly marked
	// breaking migration passes.
	Incompatible bool   `json:"incompatible"`
	Summary      string `json:"summary"`
	Hint         string `json:"hint"`
}

var rules = []Rule{
	{"L000", "migration-fails", Error, false,
		"the migration fails when applied to the schema built from the migrations before it",
		"fix the statement; lint applies every migration to an empty database in order"},
	{"L001", "dropped-table", Warning, true,
		"a table is dropped",
		"contract in two releases: stop using the table first, then drop it in a migration marked -- migrate:breaking"},
	{"L002", "dropped-column", Warning, true,
		"a column is dropped",
		"contract in two releases: stop reading and writing the column first, then drop it in a migration marked -- migrate:breaking"},
	{"L003", "renamed-table", Warning, true,
		"a table is renamed",
		"expand/contract: create the new table (or a view with the old name), move readers and writers, then drop the old one (marked -- migrate:breaking)"},
	{"L004", "renamed-column", Warning, true,
		"a column is renamed",
		"expand/contract: add the new column, write both, backfill, move readers, then drop the old one (marked -- migrate:breaking)"},
	{"L005", "not-null-without-default", Warning, true,
		"a NOT NULL column without a DEFAULT is added to an existing table",
		"give the column a DEFAULT, or add it nullable and make it NOT NULL in a later release"},
	{"L006", "made-not-null", Error, true,
		"a nullable column becomes NOT NULL without a backfill in the migration (a warning when backfilled)",
		"backfill in the same migration: UPDATE t SET c = … WHERE c IS NULL, or -- migrate:map c = coalesce(c, …)"},
	{"L007", "unique-index-on-existing-table", Warning, false,
		"a UNIQUE index or constraint is added to a table that existed before",
		"check for duplicates first (SELECT c, count(*) FROM t GROUP BY c HAVING count(*) > 1) and that the code running now cannot write any"},
	{"L008", "drop-fires-cascade", Error, false,
		"a table is dropped with foreign keys on while child tables reference it with ON DELETE CASCADE, SET NULL or SET DEFAULT: the drop deletes or rewrites their rows",
		"rebuild with -- migrate:rebuild (a Go migration: rebuild.Table with NoForeignKeys), which turns foreign keys off outside the transaction"},
	{"L009", "pragma-foreign-keys", Error, false,
		"PRAGMA foreign_keys is set inside a migration, where it does nothing (it cannot change inside a transaction)",
		"remove it; use -- migrate:rebuild, or NoForeignKeys on a Go migration"},
	{"L010", "breaking-unmarked", Error, false,
		"the migration changes the schema incompatibly (L001–L006) but is not marked -- migrate:breaking",
		"add -- migrate:breaking to the up part (older tabs then stop with LARDER_OUTDATED), or make the change compatible with expand/contract"},
	{"L011", "d1-transaction", Warning, false,
		"BEGIN, SAVEPOINT, RELEASE or ROLLBACK TO inside a migration: the runner owns the transaction, and D1 refuses them",
		"remove it: every migration already runs in its own transaction (one batch() on D1)"},
	{"L012", "d1-pragma", Warning, false,
		"a PRAGMA that Cloudflare D1 refuses",
		"remove it from the migration, or keep the migration off D1"},
	{"L013", "d1-sqlite-version", Warning, false,
		"sqlite_version(), which Cloudflare D1 refuses",
		"do not branch on the SQLite version inside a migration"},
	{"L014", "d1-rebuild-cascade", Warning, false,
		"a table rebuild of a parent whose child tables have ON DELETE CASCADE, SET NULL or SET DEFAULT: safe where foreign keys can be turned off (native, browser), but D1 cannot turn them off, and the rebuild's DROP TABLE fires those actions there (PRAGMA defer_foreign_keys defers checks, not actions)",
		"keep the migration off D1, or use ALTER TABLE (ADD, RENAME, DROP COLUMN) there instead of a rebuild"},
}

// Rules returns every rule, in code order.
func Rules() []Rule { return append([]Rule(nil), rules...) }

func rule(code string) Rule {
	for _, r := range rules {
		if r.Code == code {
			return r
		}
	}
	panic("lint: unknown rule " + code)
}

// d1Pragmas are the PRAGMAs Cloudflare D1 accepts
// (https://developers.cloudflare.com/d1/sql-api/sql-statements/#compatible-pragma-statements).
var d1Pragmas = map[string]bool{
	"table_list": true, "table_info": true, "table_xinfo": true, "index_list": true, "index_info": true,
	"index_xinfo": true, "foreign_key_list": true, "foreign_key_check": true, "defer_foreign_keys": true,
	"legacy_alter_table": true, "case_sensitive_like": true, "ignore_check_constraints": true,
	"recursive_triggers": true, "reverse_unordered_selects": true, "quick_check": true, "optimize": true,
}
