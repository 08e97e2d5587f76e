package lint

import (
	"context"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/internal/sqlutil"
	"github.com/larderdb/larder/migrations/schema"
	"github.com/larderdb/larder/migrations/sqlite"
)

// explain runs a part that the engine refused once more, in a transaction
// that it rolls back, with foreign keys off as the engine runs SQL
// migrations. When every statement succeeds (so the engine refused the
// part in its checks before commit, e.g. a foreign key left referencing a
// dropped table), it checks the schema the part leaves inside the
// transaction: those findings say what to fix. Otherwise it returns
// nothing, and L000 alone names the failing statement.
func (r *runner) explain(ctx context.Context, m *migrations.Migration, dir migrations.Direction, before *schema.Schema, d1 *d1Run) []Finding {
	c := r.conn
	if m.IsCode() || !c.GetAutocommit() {
		return nil
	}
	text, line, part := m.Up, m.UpLine, "up"
	if dir == migrations.Down {
		text, line, part = m.Down, m.DownLine, "down"
	}
	if on, err := sqlutil.PragmaInt(c, "foreign_keys"); err != nil {
		return nil
	} else if on == 1 {
		if c.Exec("PRAGMA foreign_keys=OFF") != nil {
			return nil
		}
		defer c.Exec("PRAGMA foreign_keys=ON")
	}
	r.rec.reset()
	if c.Exec("BEGIN IMMEDIATE") != nil {
		return nil
	}
	defer func() {
		if !c.GetAutocommit() {
			c.Exec("ROLLBACK")
		}
	}()
	if err := sqlite.ExecPart(ctx, c, text, line); err != nil || c.GetAutocommit() {
		return nil
	}
	after, err := schema.Read(ctx, c)
	if err != nil {
		return nil
	}
	return r.step(m, part, before, after, d1)
}
