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
// registered.
//
// Each up part runs as Store.Apply runs it: foreign keys off outside its
// transaction (or without one, for NoTransaction), the same foreign key
// checks before COMMIT, PRAGMA foreign_keys statements left out, and the
// connection state put back afterwards. So the statements are exactly
// those `up` runs, and an up part that `up` refuses is an error here too.
// Each down part is run inside a savepoint right after its up part and
// rolled back; a down part that fails there is left unsplit (nil) rather
// than failing the bundle.
func SplitStatements(ctx context.Context, conn *sqlite3.Conn, migs []*migrations.Migration) error {
	sorted, err := migrations.Sort(migs)
	if err != nil {
		return err
	}
	for _, m := range sorted {
		if m.IsCode() {
			continue
		}
		up, err := splitPart(ctx, conn, m.Up, m.UpLine, !m.NoTransaction)
		if err != nil {
			return fmt.Errorf("migrate: split %s: %w", m.Label(), err)
		}
		m.UpStatements = up
		m.DownStatements = nil
		if !m.HasDown {
			continue
		}
		st, err := saveState(conn, true)
		if err != nil {
			return err
		}
		if err := conn.Exec("SAVEPOINT larder_split"); err != nil {
			return err
		}
		down, err := splitExec(ctx, conn, m.Down, m.DownLine)
		if err := conn.Exec("ROLLBACK TO larder_split; RELEASE larder_split"); err != nil {
			return err
		}
		if err := st.restore(conn); err != nil {
			return err
		}
		if err == nil {
			m.DownStatements = down
		}
	}
	return nil
}

// splitPart runs one up part on the scratch database the way Store.Apply
// does (see SplitStatements) and returns its statements.
func splitPart(ctx context.Context, conn *sqlite3.Conn, src string, firstLine int, inTx bool) (stmts []migrations.Statement, err error) {
	st, err := saveState(conn, true)
	if err != nil {
		return nil, err
	}
	defer func() {
		if e := st.restore(conn); e != nil && err == nil {
			err = e
		}
	}()
	if inTx {
		if err := conn.Exec("BEGIN IMMEDIATE"); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil && !conn.GetAutocommit() {
				conn.Exec("ROLLBACK")
			}
		}()
	}
	base, err := sqlutil.SnapshotForeignKeys(conn)
	if err != nil {
		return nil, err
	}
	if stmts, err = splitExec(ctx, conn, src, firstLine); err != nil {
		return nil, err
	}
	if inTx && conn.GetAutocommit() {
		return nil, ErrTransactionControl
	}
	if err := checkForeignKeys(conn, base, st.fkOff); err != nil {
		return nil, err
	}
	if inTx {
		if err := conn.Exec("COMMIT"); err != nil {
			return nil, err
		}
	}
	return stmts, nil
}

// splitExec runs src like Exec and returns its statements with the file
// line each starts on. The BEGIN and COMMIT of a wrapper around the whole
// part are left out, as the stores leave them out; other transaction
// control statements are refused, as the stores refuse them.
func splitExec(ctx context.Context, conn *sqlite3.Conn, src string, firstLine int) ([]migrations.Statement, error) {
	old := conn.SetInterrupt(ctx)
	defer conn.SetInterrupt(old)
	out := []migrations.Statement{}
	err := walk(conn, src, firstLine, visitor{
		wrap: &migrations.TxWrapper{},
		// "-- migrate:rebuild": split into the rebuild's own statements.
		rebuild: func(d *migrations.RebuildDirective, text string, line int) (int, error) {
			stmts, n, err := rebuild.PlanStatement(ctx, conn, d, text)
			for _, s := range stmts {
				if err == nil {
					err = conn.Exec(s)
				}
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
			if _, ok := setsForeignKeys(text); ok {
				return nil // not run by the stores either
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
