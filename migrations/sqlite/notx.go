package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/internal/sqlutil"
)

// applyNoTx runs the SQL part of m statement by statement in autocommit
// mode, for statements that cannot run inside a transaction (VACUUM,
// PRAGMA journal_mode). What holds then:
//
//   - No atomicity: when a statement fails, the statements before it stay
//     applied, and the error says so.
//   - The _migrations row is written (or deleted, down) only after the
//     last statement succeeded, in its own BEGIN IMMEDIATE transaction
//     that re-reads it and runs the foreign key checks first.
//   - Exactly once across processes: before running anything, a BEGIN
//     IMMEDIATE transaction re-reads _migrations and claims the migration
//     with a row in _migrations_running. Another runner that finds the
//     claim gets ErrInterrupted and runs nothing. The claim is removed
//     with the _migrations row, or when a statement fails; only a runner
//     that dies mid-way leaves it, and then a person has to look at what
//     ran before deleting the row (or the table).
func (s *Store) applyNoTx(ctx context.Context, m *migrations.Migration, dir migrations.Direction, st *connState) (rec migrations.Record, err error) {
	c := s.conn
	base, err := s.claim(m, dir)
	if err != nil {
		return rec, err
	}
	start := s.now()
	runErr := s.runPart(ctx, m, dir)
	if runErr == nil && !c.GetAutocommit() {
		runErr = errors.New("the part left a transaction open (a BEGIN without COMMIT); it was rolled back")
	}
	if runErr != nil {
		if !c.GetAutocommit() {
			c.Exec("ROLLBACK")
		}
		err := s.fail(m, dir, "", 0, runErr)
		if e := s.unclaim(m.Version); e != nil {
			return rec, errors.Join(err, s.fail(m, dir, "DELETE FROM _migrations_running", 0, e))
		}
		var me *migrations.MigrationError
		if errors.As(err, &me) {
			me.Err = fmt.Errorf("%w (the part runs without a transaction: the statements before this one stay applied)", me.Err)
		}
		return rec, err
	}

	if err := c.Exec("BEGIN IMMEDIATE"); err != nil {
		return rec, s.fail(m, dir, "BEGIN IMMEDIATE", 0, err)
	}
	committed := false
	defer func() {
		if !committed && !c.GetAutocommit() {
			c.Exec("ROLLBACK")
		}
		if !committed {
			if e := s.unclaim(m.Version); e != nil && err == nil {
				err = s.fail(m, dir, "DELETE FROM _migrations_running", 0, e)
			}
		}
	}()
	if applied, err := isApplied(c, m.Version); err != nil {
		return rec, s.fail(m, dir, "SELECT FROM _migrations", 0, err)
	} else if applied == (dir == migrations.Up) {
		// Cannot happen while the claim holds; never record twice.
		return rec, migrations.ErrAlreadyApplied
	}
	if err := s.check(m, dir, st, base); err != nil {
		return rec, err
	}
	if rec, err = s.track(m, dir, start); err != nil {
		return rec, s.fail(m, dir, "", 0, err)
	}
	if err := dropClaim(c, m.Version); err != nil {
		return rec, s.fail(m, dir, "DELETE FROM _migrations_running", 0, err)
	}
	if err := c.Exec("COMMIT"); err != nil {
		return rec, s.fail(m, dir, "COMMIT", 0, err)
	}
	committed = true
	return rec, nil
}

// claim re-reads _migrations and _migrations_running in a BEGIN IMMEDIATE
// transaction and, when m is still to run and nobody else runs it, records
// the claim. It returns the foreign key baseline taken inside that
// transaction.
func (s *Store) claim(m *migrations.Migration, dir migrations.Direction) (base *sqlutil.ForeignKeyBaseline, err error) {
	c := s.conn
	if err := c.Exec("BEGIN IMMEDIATE"); err != nil {
		return nil, s.fail(m, dir, "BEGIN IMMEDIATE", 0, err)
	}
	defer func() {
		if err != nil && !c.GetAutocommit() {
			c.Exec("ROLLBACK")
		}
	}()
	if applied, err := isApplied(c, m.Version); err != nil {
		return nil, s.fail(m, dir, "SELECT FROM _migrations", 0, err)
	} else if applied == (dir == migrations.Up) {
		return nil, migrations.ErrAlreadyApplied
	}
	if since, err := claimedAt(c, m.Version); err != nil {
		return nil, s.fail(m, dir, "SELECT FROM _migrations_running", 0, err)
	} else if since != "" {
		return nil, s.fail(m, dir, "", 0, fmt.Errorf("%w: it was claimed at %s; if no runner is at work on it, check what its statements did, then DELETE FROM _migrations_running WHERE version = %d",
			ErrInterrupted, since, m.Version))
	}
	if base, err = sqlutil.SnapshotForeignKeys(c); err != nil {
		return nil, s.fail(m, dir, "", 0, err)
	}
	if err := Exec(context.Background(), c, runningTableSQL, 0); err != nil {
		return nil, s.fail(m, dir, "CREATE TABLE _migrations_running", 0, err)
	}
	if err := Exec(context.Background(), c, `INSERT INTO _migrations_running (version, direction, started_at) VALUES (?, ?, ?)`, 0,
		m.Version, dir.String(), s.now().UTC().Format(migrations.TimeFormat)); err != nil {
		return nil, s.fail(m, dir, "INSERT INTO _migrations_running", 0, err)
	}
	if err := c.Exec("COMMIT"); err != nil {
		return nil, s.fail(m, dir, "COMMIT", 0, err)
	}
	return base, nil
}

// claimedAt returns when version was claimed, or "" when it is not.
func claimedAt(c *sqlite3.Conn, version int64) (string, error) {
	if ok, err := HasTable(c, "_migrations_running"); err != nil || !ok {
		return "", err
	}
	stmt, _, err := c.Prepare("SELECT started_at FROM _migrations_running WHERE version = ?")
	if err != nil {
		return "", err
	}
	defer stmt.Close()
	if err := stmt.BindInt64(1, version); err != nil {
		return "", err
	}
	if !stmt.Step() {
		return "", stmt.Err()
	}
	return stmt.ColumnText(0), nil
}

// dropClaim deletes the claim on version, and the table when no claim is
// left, inside the caller's transaction.
func dropClaim(c *sqlite3.Conn, version int64) error {
	if ok, err := HasTable(c, "_migrations_running"); err != nil || !ok {
		return err
	}
	if err := Exec(context.Background(), c, "DELETE FROM _migrations_running WHERE version = ?", 0, version); err != nil {
		return err
	}
	stmt, _, err := c.Prepare("SELECT count(*) FROM _migrations_running")
	if err != nil {
		return err
	}
	stmt.Step()
	left := stmt.ColumnInt64(0)
	if err := stmt.Close(); err != nil || left > 0 {
		return err
	}
	return c.Exec("DROP TABLE _migrations_running")
}

// unclaim removes the claim on version in its own transaction.
func (s *Store) unclaim(version int64) (err error) {
	c := s.conn
	if err := c.Exec("BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil && !c.GetAutocommit() {
			c.Exec("ROLLBACK")
		}
	}()
	if err := dropClaim(c, version); err != nil {
		return err
	}
	return c.Exec("COMMIT")
}
