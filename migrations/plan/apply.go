package plan

import (
	"context"
	"fmt"
	"strings"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations/internal/sqlutil"
	"github.com/larderdb/larder/migrations/sqlite"
)

// UpSQL is the text of the plan's up steps alone (no markers, no down):
// what Apply runs.
func (p *Plan) UpSQL() string {
	var b strings.Builder
	writeSteps(&b, p.Up)
	return b.String()
}

// Apply carries out the plan's up steps on conn in one transaction, as
// the migration engine runs a migration: foreign key enforcement off
// outside the transaction (so that a table rebuild or a DROP TABLE fires
// no ON DELETE action), PRAGMA foreign_key_check before COMMIT, and
// nothing changed when any step fails. It writes no _migrations row: it
// is for development databases (`larder schema apply`), whose schema then
// follows the schema file rather than the migrations.
func Apply(ctx context.Context, conn *sqlite3.Conn, p *Plan) (err error) {
	if p.Empty() {
		return nil
	}
	fail := func(step string, err error) error { return fmt.Errorf("schema apply: %s: %w", step, err) }
	on, err := sqlutil.PragmaInt(conn, "foreign_keys")
	if err != nil {
		return fail("PRAGMA foreign_keys", err)
	}
	if on == 1 {
		if err := conn.Exec("PRAGMA foreign_keys=OFF"); err != nil {
			return fail("PRAGMA foreign_keys=OFF", err)
		}
		defer func() {
			if e := conn.Exec("PRAGMA foreign_keys=ON"); e != nil && err == nil {
				err = fail("PRAGMA foreign_keys=ON", e)
			}
		}()
	}
	if err := conn.Exec("BEGIN IMMEDIATE"); err != nil {
		return fail("BEGIN IMMEDIATE", err)
	}
	defer func() {
		if err != nil && !conn.GetAutocommit() {
			conn.Exec("ROLLBACK")
		}
	}()
	if err := sqlite.Exec(ctx, conn, p.UpSQL(), 1); err != nil {
		return fail("apply", err)
	}
	if err := sqlutil.ForeignKeyCheck(conn, ""); err != nil {
		return fail("PRAGMA foreign_key_check", err)
	}
	if err := conn.Exec("COMMIT"); err != nil {
		return fail("COMMIT", err)
	}
	return nil
}
