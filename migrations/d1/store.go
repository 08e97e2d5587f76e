package d1

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/larderdb/larder/migrations"
)

// Store is a migrations.Store on a D1 database. It keeps no state between
// calls but whether the tracking table still has to be created and the
// notices of the last Apply, and is safe for one goroutine at a time; any
// number of Stores (isolates, Workers) may migrate one database at once.
type Store struct {
	conn Conn
	// initPending: Init was called and its CREATE TABLE IF NOT EXISTS rides
	// on the next batch, so that Init + Applied is one round trip.
	initPending bool
	notices     []string // of the last Apply
}

var _ migrations.NoticeStore = (*Store)(nil)

// LastNotices returns the notices of the last Apply: a transaction wrapper
// around the whole part that was left out (see [migrations.TxWrapper]).
func (s *Store) LastNotices() []string { return s.notices }

// NewStore returns a Store on conn.
func NewStore(conn Conn) *Store { return &Store{conn: conn} }

// Init creates _migrations if it does not exist. To keep the common case (a
// database already current) at one round trip, the CREATE TABLE IF NOT
// EXISTS is sent with the next batch (Applied, Apply or Stamp) instead of
// on its own.
func (s *Store) Init(ctx context.Context) error {
	s.initPending = true
	return ctx.Err()
}

// batch runs stmts, prefixed by the pending Init, and returns the rows of
// stmts only.
func (s *Store) batch(ctx context.Context, stmts []Statement) ([][]Row, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	init := s.initPending
	if init {
		stmts = append([]Statement{{SQL: migrations.TrackingTableSQL}}, stmts...)
	}
	res, err := s.conn.Batch(ctx, stmts)
	if err != nil {
		return nil, err
	}
	if len(res) != len(stmts) {
		return nil, fmt.Errorf("d1: batch of %d statements returned %d results", len(stmts), len(res))
	}
	if init {
		s.initPending = false
		res = res[1:]
	}
	return res, nil
}

const selectRecords = `SELECT version, name, checksum, applied_at, duration_ms, breaking FROM _migrations`

// Applied reads _migrations in version order. It never creates the table
// (unless an Init rides on the same batch): on a database without one it
// has applied nothing. That costs no extra round trip: the SELECT fails
// with D1's "no such table: _migrations".
func (s *Store) Applied(ctx context.Context) ([]migrations.Record, error) {
	res, err := s.batch(ctx, []Statement{{SQL: selectRecords + ` WHERE version > 0 ORDER BY version`}})
	if noTrackingTable(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	recs := make([]migrations.Record, 0, len(res[0]))
	for _, row := range res[0] {
		r, err := record(row)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// noTrackingTable reports whether err is D1's error for a query of a
// database without _migrations.
func noTrackingTable(err error) bool {
	var de *Error
	return errors.As(err, &de) && de.Message == "no such table: _migrations"
}

func record(row Row) (r migrations.Record, err error) {
	bad := func(col string, e error) error {
		return fmt.Errorf("_migrations row %v: %s: %v", row["version"], col, e)
	}
	if r.Version, err = asInt64(row["version"]); err != nil {
		return r, bad("version", err)
	}
	if r.Name, err = asString(row["name"]); err != nil {
		return r, bad("name", err)
	}
	if r.Checksum, err = asString(row["checksum"]); err != nil {
		return r, bad("checksum", err)
	}
	at, err := asString(row["applied_at"])
	if err != nil {
		return r, bad("applied_at", err)
	}
	if r.AppliedAt, err = time.Parse(time.RFC3339Nano, at); err != nil {
		return r, bad("applied_at", fmt.Errorf("%q is not RFC 3339", at))
	}
	if r.DurationMS, err = asInt64(row["duration_ms"]); err != nil {
		return r, bad("duration_ms", err)
	}
	b, err := asInt64(row["breaking"])
	if err != nil {
		return r, bad("breaking", err)
	}
	r.Breaking = b != 0
	return r, nil
}

// nowSQL is applied_at in migrations.TimeFormat, from D1's clock.
const nowSQL = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`

// Apply runs m up or down with its _migrations row in one batch. The row's
// applied_at and duration_ms come from D1's clock, read by the first and
// the last statement of the batch ('now' is fixed per statement in SQLite).
// Foreign key checks are deferred to the end of the batch. Before the
// batch, a part whose DROP TABLE would fire ON DELETE actions on existing
// child rows is refused with ErrDropFiresForeignKeys, and a part marked
// NoTransaction with ErrNoTransaction, unless it has no statements (a
// comment-only part is a no-op, whatever it asks for). A BEGIN … COMMIT
// around the whole part is left out (see [migrations.TxWrapper]) and
// reported in LastNotices.
func (s *Store) Apply(ctx context.Context, m *migrations.Migration, dir migrations.Direction) (migrations.Record, error) {
	var rec migrations.Record
	fail := func(st migrations.Statement, cause error) error {
		me := &migrations.MigrationError{Version: m.Version, Name: m.Name, Direction: dir,
			Statement: st.SQL, Line: st.Line, Err: cause, File: m.PartSource(dir)}
		var de *Error
		if errors.As(cause, &de) {
			me.Code = de.Code
		}
		return me
	}
	if m.IsCode() {
		return rec, fail(migrations.Statement{}, ErrCodeMigration)
	}
	part, stmts := m.Up, m.UpStatements
	if dir == migrations.Down {
		part, stmts = m.Down, m.DownStatements
	}
	// A comment-only part splits into no statements, which a bundle leaves
	// out ("up_statements" is omitted when empty): a no-op, not unsplit.
	if stmts == nil && migrations.HasStatements(part) {
		return rec, fail(migrations.Statement{}, ErrNotSplit)
	}
	if m.NoTransaction && migrations.HasStatements(part) { // nothing to run needs no transaction either
		return rec, fail(migrations.Statement{}, ErrNoTransaction)
	}
	// A wrapper around the whole part (left out by SplitStatements already,
	// unless the bundle was made otherwise) is left out here too.
	s.notices = nil
	wrap := &migrations.TxWrapper{}
	user := make([]Statement, 0, len(stmts))
	kept := make([]migrations.Statement, 0, len(stmts))
	for _, st := range stmts {
		switch wrap.Statement(st.SQL, st.Line) {
		case migrations.TxRefuse:
			return rec, fail(st, fmt.Errorf("%w: %s", ErrTransactionControl, wrap.Why()))
		case migrations.TxSkip:
			continue
		}
		if isTransactionControl(st.SQL) {
			return rec, fail(st, ErrTransactionControl)
		}
		user = append(user, Statement{SQL: st.SQL})
		kept = append(kept, st)
	}
	if !wrap.End() {
		return rec, fail(migrations.Statement{SQL: wrap.Begin, Line: wrap.BeginLine}, fmt.Errorf("%w: %s", ErrTransactionControl, wrap.Why()))
	}
	stmts = kept
	if wrap.Found() {
		file := m.PartSource(dir)
		if file == "" {
			file = m.Label()
		}
		s.notices = append(s.notices, wrap.Notice(file))
	}

	if st, err := s.checkDrops(ctx, stmts); err != nil {
		return rec, fail(st, err)
	}

	var head, tail []Statement
	if dir == migrations.Up {
		head = []Statement{{SQL: `INSERT INTO _migrations (version, name, checksum, applied_at, duration_ms, breaking) VALUES (?1, ?2, ?3, ` + nowSQL + `, 0, ?4)`,
			Args: []any{m.Version, m.Name, m.Checksum, m.Breaking}}}
		tail = []Statement{
			{SQL: `UPDATE _migrations SET duration_ms = max(0, CAST(round((julianday('now') - julianday(applied_at)) * 86400000) AS INTEGER)) WHERE version = ?1`, Args: []any{m.Version}},
			{SQL: selectRecords + ` WHERE version = ?1`, Args: []any{m.Version}},
		}
	} else {
		// A marker row at -version; its name is NOT NULL, so this fails,
		// and the batch with it, when the migration is not applied.
		head = []Statement{{SQL: `INSERT INTO _migrations (version, name, checksum, applied_at, duration_ms) VALUES (-?1, (SELECT name FROM _migrations WHERE version = ?1), '', '', 0)`,
			Args: []any{m.Version}}}
		tail = []Statement{{SQL: `DELETE FROM _migrations WHERE version IN (?1, -?1)`, Args: []any{m.Version}}}
	}
	// Elsewhere every SQL migration runs with foreign keys off and checked
	// before COMMIT. PRAGMA foreign_keys cannot be changed on D1; deferring
	// the checks to the end of the batch is the nearest it has (it does
	// not defer ON DELETE actions: see checkDrops).
	head = append(head, Statement{SQL: "PRAGMA defer_foreign_keys = ON"})
	batch := append(append(append([]Statement{}, head...), user...), tail...)
	res, err := s.batch(ctx, batch)
	if err == nil {
		if dir == migrations.Up {
			rows := res[len(res)-1]
			if len(rows) != 1 {
				return rec, fail(migrations.Statement{}, fmt.Errorf("d1: _migrations row %d not found after its batch", m.Version))
			}
			if rec, err = record(rows[0]); err != nil {
				return rec, fail(migrations.Statement{}, err)
			}
		}
		return rec, nil
	}
	var de *Error
	if !errors.As(err, &de) {
		return rec, fail(migrations.Statement{}, err)
	}
	// Did another runner get there first?
	applied, cerr := s.isApplied(ctx, m.Version)
	if cerr == nil && applied == (dir == migrations.Up) {
		return rec, migrations.ErrAlreadyApplied
	}
	if i := s.locate(ctx, head, user); i >= 0 {
		return rec, fail(stmts[i], err)
	}
	return rec, fail(migrations.Statement{}, err)
}

func (s *Store) isApplied(ctx context.Context, version int64) (bool, error) {
	res, err := s.batch(ctx, []Statement{{SQL: `SELECT 1 AS applied FROM _migrations WHERE version = ?1`, Args: []any{version}}})
	if err != nil {
		return false, err
	}
	return len(res[0]) > 0, nil
}

// probe always fails, with a message that names it, so that a batch ending
// in it is rolled back whatever ran before.
const probe = `SELECT * FROM "larder: probe batch, rolled back"`

// locate finds the first statement of user that fails after head, with
// batches of head + user[:k] + probe, each rolled back: about log2(len(user))
// round trips, only after a failure. It returns -1 when every statement
// runs (the failure was elsewhere, e.g. a deferred foreign key at commit).
func (s *Store) locate(ctx context.Context, head, user []Statement) int {
	runs := func(k int) bool {
		b := append(append(append([]Statement{}, head...), user[:k]...), Statement{SQL: probe})
		_, err := s.batch(ctx, b)
		var de *Error
		return errors.As(err, &de) && strings.Contains(de.Message, "larder: probe batch")
	}
	if !runs(0) {
		return -1
	}
	lo, hi := 0, len(user) // user[:lo] runs; the failure is in user[lo:hi] if anywhere
	if runs(hi) {
		return -1
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if runs(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// Stamp inserts recs, skipping versions already present, in one batch.
func (s *Store) Stamp(ctx context.Context, recs []migrations.Record) error {
	stmts := make([]Statement, len(recs))
	for i, r := range recs {
		stmts[i] = Statement{SQL: `INSERT OR IGNORE INTO _migrations (version, name, checksum, applied_at, duration_ms, breaking) VALUES (?1, ?2, ?3, ?4, ?5, ?6)`,
			Args: []any{r.Version, r.Name, r.Checksum, r.AppliedAt.UTC().Format(migrations.TimeFormat), r.DurationMS, r.Breaking}}
	}
	_, err := s.batch(ctx, stmts)
	return err
}
