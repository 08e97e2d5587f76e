package sqlite

import (
	"context"
	"fmt"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/internal/sqlutil"
	"github.com/larderdb/larder/migrations/rebuild"
)

// SplitStatements fills UpStatements and DownStatements of every SQL
// migration in migs, so that runners without SQLite's parser (the D1
// Worker) get statements split by SQLite itself rather than by a guess at
// semicolons. SQLite can only prepare a statement against the schema it
// refers to, so the migrations are run, in version order, on conn: a fresh,
// empty scratch database (":memory:") with whatever extensions they need
// registered. Each down part is run inside a savepoint right after its up
// part and rolled back; a down part that fails there is left unsplit (nil)
// rather than failing the bundle. An up part that fails is an error, as it
// would be on every runner.
func SplitStatements(ctx context.Context, conn *sqlite3.Conn, migs []*migrations.Migration) error {
	sorted, err := migrations.Sort(migs)
	if err != nil {
		return err
	}
	for _, m := range sorted {
		if m.IsCode() {
			continue
		}
		if m.NoForeignKeys {
			// As the Store does for a rebuild (outside any transaction).
			if err := conn.Exec("PRAGMA foreign_keys=OFF"); err != nil {
				return err
			}
		}
		up, err := splitExec(ctx, conn, m.Up, m.UpLine)
		if m.NoForeignKeys {
			if err := conn.Exec("PRAGMA foreign_keys=ON"); err != nil {
				return err
			}
		}
		if err != nil {
			return fmt.Errorf("migrate: split %s: %w", m.Label(), err)
		}
		m.UpStatements = up
		m.DownStatements = nil
		if !m.HasDown {
			continue
		}
		if err := conn.Exec("SAVEPOINT larder_split"); err != nil {
			return err
		}
		down, err := splitExec(ctx, conn, m.Down, m.DownLine)
		if err := conn.Exec("ROLLBACK TO larder_split; RELEASE larder_split"); err != nil {
			return err
		}
		if err == nil {
			m.DownStatements = down
		}
	}
	return nil
}

// splitExec runs src like Exec and returns its statements with the file
// line each starts on. Transaction control statements are refused, as the
// stores refuse them inside a migration.
func splitExec(ctx context.Context, conn *sqlite3.Conn, src string, firstLine int) ([]migrations.Statement, error) {
	old := conn.SetInterrupt(ctx)
	defer conn.SetInterrupt(old)
	out := []migrations.Statement{}
	err := walk(conn, src, firstLine, visitor{
		// "-- migrate:rebuild": split into the rebuild's own statements.
		rebuild: func(d *migrations.RebuildDirective, text string, line int) (int, error) {
			stmts, n, err := rebuild.PlanStatement(ctx, conn, d, text)
			if err == nil {
				err = execWithoutForeignKeys(conn, stmts)
			}
			for _, s := range stmts {
				out = append(out, migrations.Statement{SQL: s, Line: line})
			}
			return n, err
		},
		statement: func(stmt *sqlite3.Stmt, text string, line int) error {
			if isTransactionControl(text) {
				return ErrTransactionControl
			}
			for stmt.Step() {
			}
			if err := stmt.Err(); err != nil {
				return err
			}
			out = append(out, migrations.Statement{SQL: text, Line: line})
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// execWithoutForeignKeys runs a rebuild's statements on the scratch
// database, with foreign keys off when it can turn them off (outside a
// transaction), as the stores do.
func execWithoutForeignKeys(conn *sqlite3.Conn, stmts []string) (err error) {
	if conn.GetAutocommit() {
		if on, err := sqlutil.PragmaInt(conn, "foreign_keys"); err == nil && on == 1 {
			if err := conn.Exec("PRAGMA foreign_keys=OFF"); err != nil {
				return err
			}
			defer func() {
				if e := conn.Exec("PRAGMA foreign_keys=ON"); e != nil && err == nil {
					err = e
				}
			}()
		}
	}
	for _, s := range stmts {
		if err := conn.Exec(s); err != nil {
			return err
		}
	}
	return nil
}
