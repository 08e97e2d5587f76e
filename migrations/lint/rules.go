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
	// breaking migration passes. They are not applied to down parts.
	Incompatible bool   `json:"incompatible"`
	Summary      string `json:"summary"`
	Hint         string `json:"hint"`
	// Targets are the targets the rule is about; it runs only when one of
	// them is linted for (Options.Targets). Empty: every target.
	Targets []Target `json:"targets,omitempty"`
}

var (
	d1Only    = []Target{D1}
	notOnD1   = []Target{Native, Browser}
	rebuildFK = "rebuild with a -- migrate:rebuild directive above the new CREATE TABLE (with -- migrate:map lines for changed columns): it keeps the table's name, indexes, triggers and views, and the children's foreign keys"
)

var rules = []Rule{
	{Code: "L000", Name: "migration-fails", Severity: Error,
		Summary: "the migration (up or down part) fails when applied to the schema built from the migrations before it",
		Hint:    "fix the statement; lint applies every migration to an empty database in order"},
	{Code: "L001", Name: "dropped-table", Severity: Warning, Incompatible: true,
		Summary: "a table is dropped",
		Hint:    "contract in two releases: stop using the table first, then drop it in a migration marked -- migrate:breaking"},
	{Code: "L002", Name: "dropped-column", Severity: Warning, Incompatible: true,
		Summary: "a column is dropped",
		Hint:    "contract in two releases: stop reading and writing the column first, then drop it in a migration marked -- migrate:breaking"},
	{Code: "L003", Name: "renamed-table", Severity: Warning, Incompatible: true,
		Summary: "a table is renamed",
		Hint:    "expand/contract: create the new table (or a view with the old name), move readers and writers, then drop the old one (marked -- migrate:breaking)"},
	{Code: "L004", Name: "renamed-column", Severity: Warning, Incompatible: true,
		Summary: "a column is renamed",
		Hint:    "expand/contract: add the new column, write both, backfill, move readers, then drop the old one (marked -- migrate:breaking)"},
	{Code: "L005", Name: "not-null-without-default", Severity: Warning, Incompatible: true,
		Summary: "a NOT NULL column without a DEFAULT is added to an existing table",
		Hint:    "give the column a DEFAULT, or add it nullable and make it NOT NULL in a later release"},
	{Code: "L006", Name: "made-not-null", Severity: Error, Incompatible: true,
		Summary: "a nullable column becomes NOT NULL without a backfill in the migration (a warning when backfilled)",
		Hint:    "backfill in the same migration: UPDATE t SET c = … WHERE c IS NULL, or -- migrate:map c = coalesce(c, …)"},
	{Code: "L007", Name: "unique-index-on-existing-table", Severity: Warning,
		Summary: "a UNIQUE index or constraint is added to a table that existed before (not reported when it contains the INTEGER PRIMARY KEY, all the columns of a unique index or primary key the table had, in any order, or a column the migration just added by ALTER TABLE without a DEFAULT: those cannot repeat)",
		Hint:    "check for duplicates first (SELECT c, count(*) FROM t GROUP BY c HAVING count(*) > 1) and that the code running now cannot write any"},
	{Code: "L008", Name: "drop-fires-cascade", Severity: Error,
		Summary: "a table is dropped while foreign keys are enforced (always on D1, where lint runs the part with them enforced and sees each drop in the schema of that moment; natively and in the browser only in a Go migration without NoForeignKeys) and tables reference it with ON DELETE CASCADE, SET NULL or SET DEFAULT: the drop deletes or rewrites their rows",
		Hint:    "drop the children's foreign keys first (rebuild them with -- migrate:rebuild), or set NoForeignKeys on the Go migration"},
	{Code: "L009", Name: "pragma-foreign-keys", Severity: Warning, Targets: notOnD1,
		Summary: "PRAGMA foreign_keys = … in a migration: unnecessary, because Larder already runs every SQL migration with foreign key enforcement off (switched outside the transaction) and runs PRAGMA foreign_key_check before commit; inside the transaction the statement itself does nothing (an error in a Go migration without NoForeignKeys, where enforcement then stays on)",
		Hint:    "remove the statement; in a Go migration set NoForeignKeys instead"},
	{Code: "L010", Name: "breaking-unmarked", Severity: Error,
		Summary: "the migration changes the schema incompatibly (L001–L006) but is not marked -- migrate:breaking",
		Hint:    "add -- migrate:breaking to the up part (older tabs then stop with LARDER_OUTDATED), or make the change compatible with expand/contract"},
	{Code: "L011", Name: "d1-transaction", Severity: Warning, Targets: d1Only,
		Summary: "BEGIN, SAVEPOINT, RELEASE or ROLLBACK TO inside a migration: the runner owns the transaction, and D1 refuses them",
		Hint:    "remove it: every migration already runs in its own transaction (one batch() on D1)"},
	{Code: "L012", Name: "d1-pragma", Severity: Warning, Targets: d1Only,
		Summary: "a PRAGMA that Cloudflare D1 refuses",
		Hint:    "remove it from the migration, or keep the migration off D1"},
	{Code: "L013", Name: "d1-sqlite-version", Severity: Warning, Targets: d1Only,
		Summary: "sqlite_version(), which Cloudflare D1 refuses",
		Hint:    "do not branch on the SQLite version inside a migration"},
	{Code: "L014", Name: "d1-rebuild-cascade", Severity: Error, Targets: d1Only,
		Summary: "a -- migrate:rebuild of a parent whose child tables have ON DELETE CASCADE, SET NULL or SET DEFAULT: safe natively and in the browser, where foreign keys are off during the rebuild, but D1 cannot switch them off, so its DROP TABLE would fire those actions there (PRAGMA defer_foreign_keys defers checks, not actions); the D1 runner refuses such a migration when the children have rows",
		Hint:    "keep the migration off D1, or use ALTER TABLE (ADD, RENAME, DROP COLUMN) there instead of a rebuild"},
	{Code: "L015", Name: "hand-written-rebuild", Severity: Error,
		Summary: "a table that other tables reference through foreign keys is rebuilt by hand (CREATE a new table, copy the rows, DROP TABLE the old one, RENAME the new one): wherever foreign keys are enforced during the migration (always on D1, and under any runner that does not switch them off) the DROP TABLE fires the children's ON DELETE CASCADE or SET NULL, or fails on their rows",
		Hint:    rebuildFK},
	{Code: "L016", Name: "dangling-foreign-key", Severity: Error,
		Summary: "after the migration a foreign key references a table that no longer exists: typically a rename-aside (ALTER TABLE t RENAME TO t_old repoints the children's foreign keys to t_old, which the migration then drops) or a dropped parent; every later write to the child fails with \"no such table\"",
		Hint:    rebuildFK + "; a dropped parent needs its children rebuilt without the foreign key first"},
	{Code: "L017", Name: "d1-pragma-foreign-keys", Severity: Error, Targets: d1Only,
		Summary: "PRAGMA foreign_keys = … in a migration cannot work on D1: D1 enforces foreign keys in every query and migration and does not let a migration switch them off",
		Hint:    "remove it; PRAGMA defer_foreign_keys = ON is what D1 allows (checks move to the end of the migration's batch; ON DELETE actions still fire)"},
	{Code: "L018", Name: "down-does-not-revert", Severity: Warning,
		Summary: "the down part does not restore the schema the up part started from (an error when the up part then fails to apply again)",
		Hint:    "make the down part undo exactly what the up part does (drop what it creates, recreate what it drops), so that migrate down and migrate redo work"},
	{Code: "L019", Name: "stale-ignore", Severity: Warning,
		Summary: "an ignore (--ignore CODE:MIGRATION, or the [lint] ignore list) matched no finding",
		Hint:    "remove the ignore: the finding it acknowledged is gone"},
	{Code: "L020", Name: "d1-migration-fails", Severity: Error, Targets: d1Only,
		Summary: "the part fails when run the way D1 runs it, with foreign keys enforced (a rename-aside or a drop can leave foreign keys that SQLite then cannot resolve)",
		Hint:    "keep every foreign key pointing at a table that exists: rebuild referenced tables with -- migrate:rebuild, not by renaming them aside"},
	{Code: "L021", Name: "transaction-wrapper", Severity: Warning,
		Summary: "the part wraps itself in BEGIN … COMMIT (as golang-migrate files do, often between PRAGMA foreign_keys = OFF and ON): Larder recognises a wrapper around the whole part, leaves its BEGIN and COMMIT out and runs the part in its own transaction, everywhere; any other BEGIN, COMMIT or ROLLBACK is refused",
		Hint:    "nothing to do for an applied migration (editing it would change its checksum); in new migrations leave the wrapper out"},
}

// Rules returns every rule, in code order.
func Rules() []Rule {
	out := make([]Rule, len(rules))
	for i, r := range rules {
		r.Targets = append([]Target(nil), r.Targets...)
		out[i] = r
	}
	return out
}

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
