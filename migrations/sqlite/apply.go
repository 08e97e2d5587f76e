package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/larderdb/larder/migrations"
	"github.com/larderdb/larder/migrations/internal/sqlutil"
)

// ErrDanglingForeignKey reports a migration that left a foreign key
// pointing at a table it renamed or dropped (the "rename aside" pattern:
// ALTER TABLE t RENAME TO t_old moves every child's foreign key to t_old,
// and DROP TABLE t_old leaves them dangling). The migration is rolled back.
var ErrDanglingForeignKey = sqlutil.ErrDanglingForeignKey

// ErrInterrupted is returned for a migration running without a
// transaction (Migration.NoTransaction) that another runner started and
// has not finished: it is still running, or it was interrupted and what
// it did is unknown. Nothing is run or recorded.
var ErrInterrupted = errors.New("migration was started without a transaction by another runner and has not finished")

// runningTableSQL holds the claim of a runner on a migration it runs
// without a transaction. The table exists only while one runs (or after
// one was interrupted).
const runningTableSQL = `CREATE TABLE IF NOT EXISTS _migrations_running (
  version    INTEGER PRIMARY KEY,
  direction  TEXT NOT NULL,
  started_at TEXT NOT NULL
)`

// LastNotices returns the notices of the last Apply: PRAGMA foreign_keys
// statements that were recognised and not run.
func (s *Store) LastNotices() []string { return s.notices }

// Apply runs m up or down with its _migrations row in one BEGIN IMMEDIATE
// transaction, re-reading inside it whether m is applied.
//
// Every SQL part (and a code migration with NoForeignKeys) runs with
// foreign key enforcement switched off outside the transaction, as
// SQLite's table rebuild procedure requires (https://sqlite.org/lang_altertable.html#otheralter).
// Before COMMIT, if enforcement was on, PRAGMA foreign_key_check must
// find no violation, and no foreign key may point at a table that the
// migration renamed or dropped; otherwise it rolls back. A PRAGMA
// foreign_keys statement in the SQL is not run; it is reported in
// LastNotices. Connection settings the migration changes (the pragmas in
// sessionPragmas, case_sensitive_like, temp objects) are put back after
// it, so the next migration starts from the same state.
//
// With m.NoTransaction the SQL part runs statement by statement in
// autocommit mode instead; see applyNoTx.
func (s *Store) Apply(ctx context.Context, m *migrations.Migration, dir migrations.Direction) (rec migrations.Record, err error) {
	s.notices, s.wrapper = nil, nil
	isSQL := (dir == migrations.Up && m.UpFunc == nil) || (dir == migrations.Down && m.DownFunc == nil)
	st, err := saveState(s.conn, isSQL || m.NoForeignKeys)
	if err != nil {
		return rec, s.fail(m, dir, "", 0, err)
	}
	defer func() {
		if e := st.restore(s.conn); e != nil && err == nil {
			err = s.fail(m, dir, "", 0, e)
		}
	}()
	if isSQL && m.NoTransaction {
		return s.applyNoTx(ctx, m, dir, st)
	}
	return s.applyTx(ctx, m, dir, st, isSQL)
}

// fail builds the *migrations.MigrationError for m.
func (s *Store) fail(m *migrations.Migration, dir migrations.Direction, stmt string, line int, cause error) error {
	var se *StatementError
	if errors.As(cause, &se) {
		stmt, line, cause = se.Statement, se.Line, se.Err
	}
	return &migrations.MigrationError{Version: m.Version, Name: m.Name, Direction: dir,
		Statement: stmt, Line: line, Code: CodeName(cause), Err: cause, File: m.PartSource(dir)}
}

func (s *Store) applyTx(ctx context.Context, m *migrations.Migration, dir migrations.Direction, st *connState, isSQL bool) (rec migrations.Record, err error) {
	c := s.conn
	if err := c.Exec("BEGIN IMMEDIATE"); err != nil {
		return rec, s.fail(m, dir, "BEGIN IMMEDIATE", 0, err)
	}
	committed := false
	defer func() {
		if !committed && !c.GetAutocommit() {
			c.Exec("ROLLBACK")
		}
	}()
	if applied, err := isApplied(c, m.Version); err != nil {
		return rec, s.fail(m, dir, "SELECT FROM _migrations", 0, err)
	} else if applied == (dir == migrations.Up) {
		return rec, migrations.ErrAlreadyApplied
	}
	base, err := s.baseline(m, st, isSQL)
	if err != nil {
		return rec, s.fail(m, dir, "", 0, err)
	}

	start := s.now()
	if err := s.runPart(ctx, m, dir); err != nil {
		return rec, s.fail(m, dir, "", 0, err)
	}
	if c.GetAutocommit() {
		return rec, s.fail(m, dir, "", 0, ErrTransactionControl)
	}
	if err := s.check(m, dir, st, base); err != nil {
		return rec, err
	}
	if rec, err = s.track(m, dir, start); err != nil {
		return rec, s.fail(m, dir, "", 0, err)
	}
	if err := c.Exec("COMMIT"); err != nil {
		return rec, s.fail(m, dir, "COMMIT", 0, err)
	}
	committed = true
	return rec, nil
}

// baseline is what check compares against, taken before the part runs:
// nil when foreign keys stay as they are (a code migration without
// NoForeignKeys).
func (s *Store) baseline(m *migrations.Migration, st *connState, isSQL bool) (*sqlutil.ForeignKeyBaseline, error) {
	if !isSQL && !m.NoForeignKeys {
		return nil, nil
	}
	return sqlutil.SnapshotForeignKeys(s.conn)
}

// runPart runs the up or down part of m, SQL or code.
func (s *Store) runPart(ctx context.Context, m *migrations.Migration, dir migrations.Direction) error {
	switch {
	case dir == migrations.Up && m.UpFunc != nil:
		return m.UpFunc(ctx, &Tx{conn: s.conn})
	case dir == migrations.Down && m.DownFunc != nil:
		return m.DownFunc(ctx, &Tx{conn: s.conn})
	}
	part, line := m.Up, m.UpLine
	if dir == migrations.Down {
		part, line = m.Down, m.DownLine
	}
	wrap := &migrations.TxWrapper{}
	err := execScript(ctx, s.conn, part, line, func(line int, text string) {
		s.notices = append(s.notices, fmt.Sprintf("%s:%d: %s was not run: the engine already runs every SQL migration with foreign key enforcement off (switched off outside its transaction) and checks foreign keys before COMMIT",
			sourceName(m, dir), line, strings.TrimSpace(strings.TrimSuffix(text, ";"))))
	}, wrap)
	if err == nil && wrap.Found() {
		s.wrapper = wrap
		s.notices = append(s.notices, wrap.Notice(sourceName(m, dir)))
	}
	return err
}

// LastWrapper returns the transaction wrapper around the whole part that
// the last Apply recognised and left out (see [migrations.TxWrapper]), or
// nil.
func (s *Store) LastWrapper() *migrations.TxWrapper { return s.wrapper }

// sourceName is the file the part of m for dir came from, for notices.
func sourceName(m *migrations.Migration, dir migrations.Direction) string {
	if f := m.PartSource(dir); f != "" {
		return f
	}
	return m.Label()
}

// check runs, inside the migration's transaction, the foreign key checks
// that stand in for enforcement while it was off.
func (s *Store) check(m *migrations.Migration, dir migrations.Direction, st *connState, base *sqlutil.ForeignKeyBaseline) error {
	if base == nil {
		return nil
	}
	err := checkForeignKeys(s.conn, base, st.fkOff || m.NoForeignKeys)
	if errors.Is(err, sqlutil.ErrForeignKeyViolation) {
		err := s.fail(m, dir, "PRAGMA foreign_key_check", 0, err)
		if me := (*migrations.MigrationError)(nil); errors.As(err, &me) && me.Code == "" {
			me.Code = "SQLITE_CONSTRAINT_FOREIGNKEY" // what enforcement would have said
		}
		return err
	}
	if err != nil {
		return s.fail(m, dir, "", 0, err)
	}
	return nil
}

// checkForeignKeys returns an error wrapping ErrDanglingForeignKey when a
// foreign key points at a table dropped or renamed since base, else, with
// violations, one wrapping ErrForeignKeyViolation when PRAGMA
// foreign_key_check finds rows without a parent.
func checkForeignKeys(c *sqlite3.Conn, base *sqlutil.ForeignKeyBaseline, violations bool) error {
	if err := base.CheckNewDangling(c); err != nil {
		return err
	}
	if violations {
		return sqlutil.ForeignKeyCheck(c, "")
	}
	return nil
}

// track writes (up) or deletes (down) the _migrations row of m.
func (s *Store) track(m *migrations.Migration, dir migrations.Direction, start time.Time) (migrations.Record, error) {
	if dir == migrations.Up {
		rec := migrations.NewRecord(m, start, s.now().Sub(start))
		return rec, insertRecord(s.conn, rec)
	}
	return migrations.Record{}, Exec(context.Background(), s.conn, "DELETE FROM _migrations WHERE version = ?", 0, m.Version)
}
